"""`textsort` end to end in a subprocess: every format, exit codes, sorting, models, self-test."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def textsort(*args, env_extra=None, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), os.environ.get("PYTHONPATH", "")]))
    env.pop("TEXTSORT_MODEL", None)
    env.pop("TEXTSORT_MODELS", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "textsort.cli", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=cwd, timeout=120)


@pytest.fixture
def files(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    (d / "spam.txt").write_text("claim your free prize now")
    (d / "ham.txt").write_text("see you at lunch tonight")
    (d / "zh-gbk.txt").write_bytes("这个饭店的东西很差".encode("gbk"))
    return d


def test_table_default(tiny_bundle, files):
    r = textsort("classify", files, "--model", tiny_bundle, "--no-progress")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["LABEL", "CONF", "FILE"]
    assert lines[1].split()[0] == "ham" and lines[1].endswith("ham.txt")
    assert lines[2].split()[0] == "spam" and "%" in lines[2]
    assert "INFO" not in r.stderr and "3 file(s) classified" in r.stderr


def test_table_chinese_alignment_and_explain(tiny_zh_bundle, files):
    r = textsort("classify", files / "zh-gbk.txt", "--model", tiny_zh_bundle, "--explain")
    assert r.returncode == 0, r.stderr
    header, row, words = r.stdout.splitlines()
    from textsort.cli import display_width

    assert display_width(header[: header.index("FILE")]) == display_width(row[: row.index("%") + 3])
    assert row.startswith("负面") and "words: 差" in words


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_machine_formats(tiny_bundle, files, fmt):
    (files / "empty.txt").write_text("")
    r = textsort("classify", files, "--model", tiny_bundle, "--format", fmt, "--explain", "--top-k", "1")
    assert r.returncode == 1  # one file had a problem
    if fmt == "json":
        rows = json.loads(r.stdout)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in r.stdout.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
    by_name = {Path(x["path"]).name: x for x in rows}
    assert set(by_name) == {"empty.txt", "ham.txt", "spam.txt", "zh-gbk.txt"}
    assert by_name["spam.txt"]["label"] == "spam" and by_name["ham.txt"]["label"] == "ham"
    assert by_name["empty.txt"]["problem"] == "empty file"
    if fmt == "csv":
        assert float(by_name["spam.txt"]["score_spam"]) > 0.5 and by_name["spam.txt"]["top_words"]
    else:
        assert by_name["spam.txt"]["top"] == [["spam", by_name["spam.txt"]["confidence"]]]
        assert by_name["spam.txt"]["top_words"][0]["text"] in ("claim", "free", "prize")


def test_sort_into_cli(tiny_bundle, files, tmp_path):
    before = {p.name: p.read_bytes() for p in files.iterdir()}
    dest = tmp_path / "out"
    for _ in range(2):
        r = textsort("classify", files, "--model", tiny_bundle, "--sort-into", dest, "--format", "jsonl")
        assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (dest / "spam").iterdir()) == ["spam (1).txt", "spam.txt"]
    assert {p.name: p.read_bytes() for p in files.iterdir()} == before


def test_exit_codes_and_messages(tiny_bundle, files, tmp_path):
    r = textsort("classify", files, "--model", tmp_path / "missing.textsort")
    assert r.returncode == 3 and "no such model file" in r.stderr and "Traceback" not in r.stderr
    r = textsort("classify", files, env_extra={"TEXTSORT_MODELS": str(tmp_path)})
    assert r.returncode == 3 and "sms_spam-en.textsort is missing" in r.stderr
    r = textsort("classify", files, "--model", tiny_bundle, "--threshold", "7")
    assert r.returncode == 2 and "between 0 and 1" in r.stderr
    r = textsort("classify", files, "--move")
    assert r.returncode == 2
    r = textsort("classify", tmp_path / "nothing-here", "--model", tiny_bundle)
    assert r.returncode == 1 and "not found" in r.stdout
    r = textsort("--version")
    assert r.returncode == 0 and r.stdout.strip() == "textsort 0.1.0"


def test_models_and_self_test(tiny_bundle, tiny_zh_bundle, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "sms_spam-en.textsort").write_bytes(tiny_bundle.read_bytes())
    (models / "zh.textsort").write_bytes(tiny_zh_bundle.read_bytes())
    env = {"TEXTSORT_MODELS": str(models)}
    r = textsort("models", env_extra=env)
    assert r.returncode == 0, r.stderr
    assert "sms_spam-en.textsort  (default)" in r.stdout and "labels: 正面, 负面, neutral" in r.stdout
    assert "accuracy 1.000" in r.stdout
    r = textsort("self-test", env_extra=env)
    assert r.returncode == 0 and "self-test passed" in r.stdout and "ai-edge-litert 2.3.0" in r.stdout
    r = textsort("classify", tmp_path / "x.txt", env_extra=env)  # default model found via $TEXTSORT_MODELS
    assert r.returncode == 1 and "not found" in r.stdout
    (models / "broken.textsort").write_text("nope")
    r = textsort("models", env_extra=env)
    assert r.returncode == 1 and "unusable" in r.stdout
