"""`textsort classify-dataset` on Ray's local mode (marker `cluster`; needs the ray extra,
which ./dev setup all installs). On the same 2,000 files the rows equal `textsort classify --format jsonl`,
label for label, scores within 1e-6; bad files are rows with a problem."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from textsort.frontends.cli import main as cli

pytestmark = pytest.mark.cluster
ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
MODEL = REPO / "assets" / "models" / "sms_spam-en.textsort"



def _texts(n: int) -> list[str]:
    path = DATA / "sms_spam" / "test.csv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            base = [r["text"] for r in csv.DictReader(fh)]
    else:
        base = ["claim your free prize now", "see you at lunch", "URGENT call 0800 now", "ok thanks mom"]
    return [f"{base[i % len(base)]} ({i})" for i in range(n)]


def _rows(folder: Path) -> dict[str, dict]:
    rows = {}
    for f in sorted(folder.glob("*.json")):
        for line in f.read_text("utf-8").splitlines():
            r = json.loads(line)
            rows[r["id"]] = r
    return rows


def test_2000_files_equal_the_cli(local_ray, tmp_path, capsys):
    files = tmp_path / "files"
    files.mkdir()
    for i, text in enumerate(_texts(1996)):
        (files / f"{i:05d}.txt").write_text(text, encoding="utf-8")
    (files / "binary.dat").write_bytes(bytes(range(256)) * 4)
    (files / "empty.txt").write_bytes(b"")
    (files / "gbk.txt").write_bytes("免费领取大奖，请回复".encode("gbk"))
    (files / "spaces.txt").write_text("   \n\t ", encoding="utf-8")
    assert cli(["classify", str(files), "--model", str(MODEL), "--format", "jsonl", "--no-progress"]) == 1
    want = {json.loads(line)["path"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    assert len(want) == 2000

    assert cli(["classify-dataset", str(files), "--out", str(tmp_path / "out"), "--model", str(MODEL),
                "--format", "jsonl", "--workers", "2"]) == 0
    got = _rows(tmp_path / "out")
    assert set(got) == set(want)
    sha = __import__("hashlib").sha256(MODEL.read_bytes()).hexdigest()
    for path, w in want.items():
        g = got[path]
        assert g["label"] == w["label"] and g["problem"] == w["problem"], path
        assert g["model"] == "sms_spam-en" and g["model_sha256"] == sha
        if w["label"] is not None:
            assert all(abs(g["scores"][k] - v) <= 1e-6 for k, v in w["scores"].items()), path
            assert abs(g["confidence"] - w["confidence"]) <= 1e-6
    assert got[str(files / "binary.dat")]["problem"] and got[str(files / "binary.dat")]["label"] is None


def test_a_csv_text_column_to_parquet(local_ray, tmp_path):
    import pyarrow.parquet as pq

    from textsort.core.engine import Classifier

    texts = _texts(300) + [""]
    data = tmp_path / "tickets.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket", "body"])
        w.writerows([[f"T{i}", t] for i, t in enumerate(texts)])
    assert cli(["classify-dataset", str(data), "--out", str(tmp_path / "pq"), "--model", str(MODEL),
                "--text-column", "body", "--id-column", "ticket", "--workers", "1"]) == 0
    table = pq.read_table(tmp_path / "pq").to_pylist()
    by_id = {r["id"]: r for r in table}
    assert len(by_id) == len(texts)
    probs = Classifier(MODEL).predict_proba(texts[:-1])
    labels = Classifier(MODEL).labels
    for i, p in enumerate(probs):
        r = by_id[f"T{i}"]
        assert r["label"] == labels[int(p.argmax())] and abs(r["confidence"] - float(p.max())) <= 1e-6
    assert by_id[f"T{len(texts) - 1}"]["problem"] == "empty text"


def test_a_batch_of_problems_only_still_writes_readable_parquet(local_ray, tmp_path):
    """Every row a problem (all label/score columns empty): the schema stays fixed."""
    import pyarrow.parquet as pq

    files = tmp_path / "bad"
    files.mkdir()
    for i in range(5):
        (files / f"{i}.bin").write_bytes(bytes(range(256)) * 4)
    assert cli(["classify-dataset", str(files), "--out", str(tmp_path / "pq"), "--model", str(MODEL),
                "--workers", "1"]) == 0
    rows = pq.read_table(tmp_path / "pq").to_pylist()
    assert len(rows) == 5 and all(r["label"] is None and r["problem"] for r in rows)
