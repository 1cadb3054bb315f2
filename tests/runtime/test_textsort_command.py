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
    return subprocess.run([sys.executable, "-m", "textsort.frontends.cli", *map(str, args)], capture_output=True,
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
    from textsort.frontends.cli import display_width

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


def test_cli_model_failure_is_one_line_exit_3(tiny_bundle, monkeypatch, capsys):
    from textsort.core.engine import Classifier
    from textsort.frontends import cli

    def boom(self, text):
        raise RuntimeError("tensorflow/lite/kernels/reshape.cc:92 num_input_elements != num_output_elements\nNode 3 failed")

    monkeypatch.setattr(Classifier, "predict", boom)
    rc = cli.main(["classify", str(tiny_bundle), "--model", str(tiny_bundle)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_MODEL
    assert err.count("\n") == 1 and "model error" in err and "Traceback" not in err


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


def test_non_utf8_file_names_never_break_machine_readable_output(tiny_bundle, tmp_path):
    """A name that is not UTF-8 (surrogateescape) under a strict UTF-8 stdout: every format
    finishes, JSON stays valid and gives back the exact name."""
    d = tmp_path / "names"
    d.mkdir()
    raw = os.fsencode(d) + b"/caf\xe9-\xff.txt"
    with open(raw, "wb") as fh:
        fh.write(b"claim your free prize now")
    for fmt in ("jsonl", "json", "csv"):
        r = textsort("classify", d, "--model", tiny_bundle, "--format", fmt, "--no-progress",
                     env_extra={"PYTHONIOENCODING": "utf-8:strict"})
        assert r.returncode == 0, (fmt, r.stderr)
        if fmt == "csv":
            (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
            assert row["path"].endswith("caf\\udce9-\\udcff.txt")
        else:
            rows = [json.loads(line) for line in r.stdout.splitlines()] if fmt == "jsonl" else json.loads(r.stdout)
            assert os.fsencode(rows[0]["path"]) == raw


def test_csv_records_cannot_be_faked_or_run_as_formulas(tiny_bundle, tmp_path):
    d = tmp_path / "tricky"
    d.mkdir()
    (d / "a\rfake,row.txt").write_text("claim your free prize now")
    (d / "=HYPERLINK(1).txt").write_text("see you at lunch")
    r = textsort("classify", d, "--model", tiny_bundle, "--format", "csv", "--no-progress")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout, newline="")))
    names = sorted(Path(row["path"]).name for row in rows)
    # one record per file (the CR stays inside its quoted field; text-mode pipes show it as \n)
    assert len(rows) == 2 and names[0] == "=HYPERLINK(1).txt" and names[1] in ("a\rfake,row.txt", "a\nfake,row.txt")
    assert all(not row["path"].startswith("=") for row in rows)
    assert all(not row["path"].startswith("'") for row in rows)  # an absolute path needs no guard
    # the file-name column does start with "=": guarded, so a spreadsheet shows it and runs nothing
    assert sorted(row["file"] for row in rows)[0] == "'=HYPERLINK(1).txt"
    r = textsort("classify", "=HYPERLINK(1).txt", "--model", tiny_bundle, "--format", "csv", "--no-progress",
                 cwd=d)
    (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
    assert row["path"] == "'=HYPERLINK(1).txt"  # a relative name that would run as a formula is guarded


def test_labels_with_control_characters_cannot_fake_lines_or_clear_the_screen(tiny_bundle, files, tmp_path):
    from textsort.core.bundle import load_bundle, write_bundle

    b = load_bundle(tiny_bundle)
    manifest = dict(b.manifest, labels=["ham\nspam  99.9%  fake.txt", "sp\x1b[2Jam"])
    evil = write_bundle(tmp_path / "evil.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                        manifest=manifest)
    r = textsort("classify", files, "--model", evil, "--no-progress", "--explain", "--top-k", "2")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and len(r.stdout.splitlines()) == 1 + 2 * 3  # header + (row, words) per file
    assert "'sp\\x1b[2Jam'" in r.stdout


def test_control_characters_in_names_are_escaped(tiny_bundle, tmp_path, monkeypatch, capsys):
    from textsort.frontends import cli

    d = tmp_path / "in"
    d.mkdir()
    evil = "x\nspam     99.9%  fake.txt\x1b[2K"
    (d / evil).write_text("see you at lunch")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["classify", "in"]  + ["--model", str(tiny_bundle)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2 and "\x1b" not in out
    assert repr(str(Path("in") / evil)) in out

    # the "not sorted" lines too
    from textsort.appstate.session import SortSummary

    monkeypatch.setattr("textsort.appstate.session.sort_into",
                        lambda results, dest, move=False: SortSummary(problems=[(d / evil, "could not copy:\nboom")]))
    cli.main(["classify", "in", "--model", str(tiny_bundle), "--sort-into", str(tmp_path / "out")])
    err = capsys.readouterr().err
    line = [x for x in err.splitlines() if x.startswith("  not sorted:")]
    assert len(line) == 1 and "\x1b" not in err and "boom" in line[0]


def test_sigterm_during_sort_leaves_only_complete_files(tiny_bundle, tmp_path):
    """kill(1)'s SIGTERM in the middle of `--sort-into`: every file under its real name in
    the destination is complete, no temporary copy is left, the originals are untouched."""
    import signal
    import time

    src = tmp_path / "in"
    src.mkdir()
    body = ("claim your free prize now " * 40_000).encode()  # 1 MB
    for i in range(40):
        (src / f"f{i:02d}.txt").write_bytes(body * 8)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO / "desktop"))
    proc = subprocess.Popen([sys.executable, "-m", "textsort.frontends.cli", "classify", src, "--model", tiny_bundle,
                             "--sort-into", out, "--max-bytes", "4096", "--no-progress", "--format", "jsonl"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while not any(out.rglob("*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 143), err
    placed = [p for p in out.rglob("*") if p.is_file()]
    assert all(p.stat().st_size == len(body) * 8 for p in placed)
    assert not [p for p in placed if p.name.startswith(".")]
    assert len(list(src.iterdir())) == 40 and all(p.stat().st_size == len(body) * 8 for p in src.iterdir())


def test_cli_drops_text_and_keeps_results_only_when_needed(tiny_bundle, tmp_path, monkeypatch, capsys):
    from textsort.appstate.session import Session
    from textsort.frontends import cli

    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):
        (d / f"{i}.txt").write_text("claim your free prize")
    seen = []
    real = Session.run_items

    def spy(self, items, cancel=lambda: False):
        for r in real(self, items, cancel):
            seen.append(r)
            yield r

    monkeypatch.setattr(Session, "run_items", spy)
    for fmt in ("csv", "json", "jsonl", "table"):
        seen.clear()
        assert cli.main(["classify", str(d), "--model", str(tiny_bundle), "--format", fmt]) == 0
        assert len(seen) == 3 and all(r.file.text is None for r in seen)
    out = capsys.readouterr().out
    # only a one-line snippet of each text (at most SNIPPET_CHARS) is carried, by the three export formats
    assert out.count("claim your free prize") == 9


def test_max_bytes_has_an_upper_limit(tiny_bundle, files):
    r = textsort("classify", files, "--model", tiny_bundle, "--max-bytes", str(10**10))
    assert r.returncode == 2 and "16 MiB" in r.stderr
