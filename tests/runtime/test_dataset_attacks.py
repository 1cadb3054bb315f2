"""`textsort classify-dataset` attacked: a file name that is not UTF-8, tables with a missing
or mixed column, a glob with no match, a cluster address where nothing listens, an --out
folder that already holds files. A bad file is one row; every usage error is one line and
exit 2, found before Ray starts where it can be."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from textsort.frontends.cli import main as cli

ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "assets" / "models" / "sms_spam-en.textsort"



@pytest.fixture
def no_ray(monkeypatch):
    """Ray must not be reached: the error is found before a cluster is started or joined."""
    def reached(*args, **kwargs):
        raise AssertionError("classify-dataset reached Ray")

    monkeypatch.setattr(ray, "is_initialized", reached)
    monkeypatch.setattr(ray, "init", reached)


def _dataset(source, out, *extra) -> int:
    return cli(["classify-dataset", str(source), "--out", str(out), "--model", str(MODEL), "--format", "jsonl",
                "--workers", "1", *map(str, extra)])


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.glob("*.json")) for line in f.read_text("utf-8").splitlines()]


def _one_line_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("textsort:")]
    assert len(err) == 1, err
    return err[0]


@pytest.mark.cluster
def test_a_non_utf8_file_name_is_one_row_and_a_second_run_into_the_same_out_is_refused(local_ray, tmp_path,
                                                                                       capsys):
    files = tmp_path / "in"
    files.mkdir()
    (files / "lunch.txt").write_text("see you at lunch", encoding="utf-8")
    (files / "binary.dat").write_bytes(bytes(range(256)) * 4)
    try:
        (files / os.fsdecode(b"bad\xff.txt")).write_bytes(b"claim your free prize now")
    except (OSError, UnicodeError):
        pytest.skip("this file system takes no file name that is not UTF-8")
    out = tmp_path / "out"
    assert _dataset(files, out) == 0
    rows = {Path(r["id"]).name: r for r in _rows(out)}
    assert set(rows) == {"lunch.txt", "binary.dat", "bad\\udcff.txt"}  # as `classify --format csv` writes it
    assert rows["bad\\udcff.txt"]["label"] == "spam" and rows["bad\\udcff.txt"]["problem"] is None
    assert rows["binary.dat"]["label"] is None and rows["binary.dat"]["problem"]
    written = sorted(p.name for p in out.iterdir())

    capsys.readouterr()
    assert _dataset(files, out) == 2  # no second set of rows beside the first
    assert "not empty" in _one_line_error(capsys)
    assert sorted(p.name for p in out.iterdir()) == written and len(_rows(out)) == 3


@pytest.mark.cluster
def test_columns_mixing_numbers_and_words_are_read_as_text(local_ray, tmp_path):
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text('{"id": 1, "text": "see you at lunch"}\n{"id": "a", "text": 5}\n'
                     '{"id": null, "text": "claim your free prize now"}\n', encoding="utf-8")
    assert _dataset(jsonl, tmp_path / "j", "--id-column", "id") == 0
    rows = {r["id"]: r for r in _rows(tmp_path / "j")}
    assert set(rows) == {"1", "a", next(k for k in rows if k.startswith(f"{jsonl}#"))}  # no id: FILE#hash
    assert all(r["label"] and r["problem"] is None for r in rows.values())

    # pyarrow guesses a CSV column's type from its first 1 MiB block: ids 0..11, then "a"
    csv = tmp_path / "mixed.csv"
    csv.write_text("id,text,note\n" + "".join(f"{i},hello {i},{'x' * 100_000}\n" for i in range(12))
                   + "a,claim your free prize now,\n", encoding="utf-8")
    assert _dataset(csv, tmp_path / "c", "--id-column", "id") == 0
    rows = {r["id"]: r for r in _rows(tmp_path / "c")}
    assert set(rows) == {*map(str, range(12)), "a"} and rows["a"]["label"] == "spam"


def test_tables_without_the_columns_or_with_clashing_types_are_one_line_before_ray(no_ray, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv = tmp_path / "t.csv"
    csv.write_text("ticket,body\nT1,hello\n", encoding="utf-8")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"text": "hello"}\n', encoding="utf-8")
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"id": [1], "text": ["hello"]}), folder / "a.parquet")
    pq.write_table(pa.table({"id": ["x"], "text": ["lunch"]}), folder / "b.parquet")
    cases = [((csv,), "no column 'text' (--text-column); its columns: ticket, body"),
             ((jsonl, "--id-column", "ticket"), "no column 'ticket' (--id-column); its columns: text"),
             ((folder, "--id-column", "id"), "cannot be read as PARQUET: Unable to merge: Field id"),
             ((tmp_path / "gone.csv",), "gone.csv: no such file or folder")]
    for (source, *extra), message in cases:
        started = time.monotonic()
        assert _dataset(source, tmp_path / "out", *extra) == 2, source
        assert message in _one_line_error(capsys) and time.monotonic() - started < 10
        assert not (tmp_path / "out").exists()


def test_a_glob_with_no_match_or_an_empty_folder_is_a_usage_error(no_ray, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for source, message in ((tmp_path / "*.nothing", "no file matches"), (tmp_path / "empty", "no input file in"),
                            (tmp_path / "missing", "no such file or folder")):
        assert _dataset(source, tmp_path / "out") == 2
        assert message in _one_line_error(capsys)


def test_an_out_folder_holding_other_files_is_refused_and_left_alone(no_ray, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("see you at lunch", encoding="utf-8")
    out = tmp_path / "labelled"
    out.mkdir()
    (out / "notes.json").write_text('{"mine": true}', encoding="utf-8")
    assert _dataset(tmp_path / "in.txt", out) == 2
    assert "not empty" in _one_line_error(capsys)
    assert [p.name for p in out.iterdir()] == ["notes.json"] and (out / "notes.json").read_text() == '{"mine": true}'
    (tmp_path / "a-file").write_text("x")
    assert _dataset(tmp_path / "in.txt", tmp_path / "a-file") == 2
    assert "is not a folder" in _one_line_error(capsys)


def test_an_address_where_nothing_listens_fails_within_seconds(tmp_path):
    (tmp_path / "in.txt").write_text("see you at lunch", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), os.environ.get("PYTHONPATH", "")]))
    started = time.monotonic()
    try:
        r = subprocess.run([sys.executable, "-m", "textsort.frontends.cli", "classify-dataset", str(tmp_path / "in.txt"),
                            "--out", str(tmp_path / "out"), "--model", str(MODEL), "--address", "127.0.0.1:1"],
                           capture_output=True, text=True, env=env, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("still trying to reach 127.0.0.1:1 after 60 s")
    assert time.monotonic() - started < 30
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        next(line for line in r.stderr.splitlines() if "no Ray cluster answers at 127.0.0.1:1" in line)]
