"""Regressions from an attack round on the readers (textsort.files.reading, textsort.files.labelled) and
on what the CLI prints: every hostile input is a DataError naming the file (and line) or a
per-file problem, never a traceback, a hang, a read of an endless device, or raw control
characters on the terminal."""
from __future__ import annotations

import base64
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest

from textsort.appstate.evaluation import Evaluation, Judged
from textsort.files.labelled import DataError, load_examples
from textsort.files.reading import NO_TEXT, iter_paths, read_file
from textsort.frontends.cli import main as cli
from textsort.presentation.printable import printable

from test_textsort_command import textsort

POSIX = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and non-UTF-8 names are POSIX")


def _deep_tree(top: Path, levels: int, name: str = "x") -> Path:
    """A chain of `levels` folders below `top`, made relative to an open folder (dir_fd), so the
    path may be longer than the system's limit; returns the deepest folder's path."""
    top.mkdir(parents=True, exist_ok=True)
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            fd, old = os.open(name, os.O_RDONLY, dir_fd=fd), fd
            os.close(old)
        leaf = os.open("f.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        os.write(leaf, b"lunch with mom")
        os.close(leaf)
    finally:
        os.close(fd)
    return top.joinpath(*[name] * levels)


def _remove_chain(top: Path, name: str = "x") -> None:
    """Remove what _deep_tree made, one level at a time (shutil.rmtree would recurse)."""
    while (top / name).exists():
        if (top / name / name).exists():
            os.rename(top / name / name, top / "up")
            os.rmdir(top / name)
            os.rename(top / "up", top / name)
        else:
            (top / name / "f.txt").unlink()
            os.rmdir(top / name)


@pytest.fixture
def chains():
    made: list[tuple[Path, str]] = []
    yield made
    for top, name in made:
        _remove_chain(top, name)


def _error(path, **kw) -> str:
    with pytest.raises(DataError) as e:
        load_examples(path, **kw)
    return str(e.value)


# -- JSONL -------------------------------------------------------------------------
def test_jsonl_nested_100k_deep_is_a_data_error_naming_file_and_line(tmp_path):
    p = tmp_path / "deep.jsonl"
    p.write_text('{"text": "fine", "label": "a"}\n' + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert _error(p) == f"{p}:2: JSON nested too deeply"
    p.write_text('{"text": "x", "label": ' + "[" * 500 + "]" * 500 + "}\n", encoding="utf-8")
    assert _error(p) == f"{p}:1: label must be a string or an integer, got an array"  # never dumped back


def test_jsonl_label_of_5000_digits_is_a_data_error(tmp_path):
    p = tmp_path / "big.jsonl"
    p.write_text('{"text": "fine", "label": "a"}\n{"text": "x", "label": ' + "9" * 5000 + "}\n", encoding="utf-8")
    assert _error(p) == f"{p}:2: bad JSON (a number with too many digits)"


# -- FIFOs and devices: refused, never waited on or read ----------------------------
def _returns_within(fn, seconds=10.0, unblock: Path | None = None):
    """fn()'s exception or result; fails (and frees a FIFO reader) if it blocks."""
    box = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    blocked = t.is_alive()
    if blocked and unblock is not None:
        os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))  # a writer lets the blocked open return
        t.join(seconds)
    assert not blocked, "blocked"
    return box.get("error", box.get("result"))


@POSIX
def test_a_fifo_named_as_labelled_data_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    e = _returns_within(lambda: load_examples(fifo), unblock=fifo)
    assert isinstance(e, DataError) and str(e) == f"{fifo}: not a regular file (a device, pipe or socket)"


@POSIX
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_named_as_labelled_data_is_refused_not_read(tmp_path):
    assert _error("/dev/zero") == "/dev/zero: not a regular file (a device, pipe or socket)"
    link = tmp_path / "zeros.jsonl"
    link.symlink_to("/dev/zero")
    assert "not a regular file" in _error(link)


@POSIX
def test_a_fifo_or_device_in_a_label_folder_is_a_data_error_naming_it(tmp_path):
    (tmp_path / "ham").mkdir()
    (tmp_path / "ham" / "ok.txt").write_text("lunch with mom")
    os.mkfifo(tmp_path / "ham" / "pipe.txt")
    msg = _returns_within(lambda: _error(tmp_path), unblock=tmp_path / "ham" / "pipe.txt")
    assert msg == f"{tmp_path / 'ham' / 'pipe.txt'}: not a regular file (a device, pipe or socket)"
    (tmp_path / "ham" / "pipe.txt").unlink()
    if os.path.exists("/dev/zero"):
        (tmp_path / "ham" / "zeros.txt").symlink_to("/dev/zero")
        assert _error(tmp_path) == f"{tmp_path / 'ham' / 'zeros.txt'}: not a regular file (a device, pipe or socket)"


@POSIX
def test_the_file_reader_never_opens_a_fifo_swapped_in_after_the_check(tmp_path, monkeypatch):
    """read_file checks with stat, then opens: the opened file is checked again (fstat), and
    the open cannot block (O_NONBLOCK), so a FIFO put there in between is refused too."""
    import textsort.files.reading as reading

    fifo = tmp_path / "a.txt"
    os.mkfifo(fifo)
    regular = os.stat(__file__)
    monkeypatch.setattr(reading.os, "stat", lambda p, *a, **k: regular)  # the check saw a regular file
    ft = _returns_within(lambda: read_file(fifo), unblock=fifo)
    assert ft.text is None and ft.problem == "not a regular file (a device, pipe or socket)"


# -- folder trees deeper than the recursion limit -----------------------------------
@POSIX
def test_a_label_folder_1000_levels_deep_is_read(tmp_path, chains):
    chains.append((tmp_path / "data" / "ham", "x"))
    deepest = _deep_tree(tmp_path / "data" / "ham", 1000)
    (tmp_path / "data" / "spam").mkdir()
    (tmp_path / "data" / "spam" / "a.txt").write_text("free prize")
    got = sorted((e.label, e.text, e.source) for e in load_examples(tmp_path / "data"))
    assert got == [("ham", "lunch with mom", str(deepest / "f.txt")),
                   ("spam", "free prize", str(tmp_path / "data" / "spam" / "a.txt"))]


@POSIX
def test_a_tree_deeper_than_the_path_limit_is_one_folder_problem_and_the_walk_goes_on(tmp_path, chains):
    chains.append((tmp_path / "in" / "a", "x" * 10))
    _deep_tree(tmp_path / "in" / "a", 1100, name="x" * 10)  # ~12 kB path: longer than PATH_MAX
    (tmp_path / "in" / "b.txt").write_text("after the deep folder")
    got = list(iter_paths([tmp_path / "in"]))
    problems = [item for item in got if isinstance(item, tuple)]
    assert len(problems) == 1 and "cannot be read" in problems[0][1]
    assert got[-1] == tmp_path / "in" / "b.txt"


@POSIX
def test_classify_walks_a_tree_1000_levels_deep_and_goes_on(tiny_bundle, tmp_path, capsys, chains):
    chains.append((tmp_path / "deep", "x"))
    deepest = _deep_tree(tmp_path / "deep", 1000)
    (tmp_path / "other.txt").write_text("claim your free prize now")
    assert cli(["classify", "--model", str(tiny_bundle), "--no-progress",
                str(tmp_path / "deep"), str(tmp_path / "other.txt")]) == 0
    out = capsys.readouterr()
    assert str(deepest / "f.txt") in out.out and str(tmp_path / "other.txt") in out.out
    assert "2 file(s) classified, 0 with problems" in out.err


# -- text with no letters or digits, NULs from a wrong charset -----------------------
@pytest.mark.parametrize("text", ["😀🎉👍", "👍🏽❤️‍🔥", "!!! ??? ...", "★ → ©", "\u200b\u200d\ufe0f", "- – — •",
                                  "(｡◕‿◕｡)"])
def test_text_without_letters_or_digits_is_no_text(tmp_path, text):
    p = tmp_path / "f.txt"
    p.write_text(text, encoding="utf-8")
    ft = read_file(p)
    assert ft.problem == NO_TEXT and ft.text == text


@pytest.mark.parametrize("text", ["ok 👍", "$100", "好", "٣", "Ⅻ", "½"])
def test_one_letter_or_digit_is_text(tmp_path, text):
    p = tmp_path / "f.txt"
    p.write_text(text, encoding="utf-8")
    assert read_file(p).problem is None


def test_emoji_only_files_in_a_label_folder_are_empty_texts(tmp_path):
    (tmp_path / "ham").mkdir()
    (tmp_path / "ham" / "a.txt").write_text("😀🎉", encoding="utf-8")
    (tmp_path / "ham" / "b.txt").write_text("lunch", encoding="utf-8")
    assert sorted(e.text for e in load_examples(tmp_path)) == ["", "lunch"]  # "": cleaning drops and counts it


BODY = "Hello, are we still meeting for lunch tomorrow?"


@pytest.mark.parametrize("utf16", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("transfer", ["base64", "8bit"])
def test_an_email_body_in_utf16_declared_latin1_is_detected_never_nul(tmp_path, utf16, transfer):
    raw = BODY.encode(utf16)
    body = base64.encodebytes(raw) if transfer == "base64" else raw
    p = tmp_path / "m.eml"
    p.write_bytes(b"From: a@example.com\r\nSubject: lunch\r\nMIME-Version: 1.0\r\n"
                  b"Content-Type: text/plain; charset=latin-1\r\n"
                  + f"Content-Transfer-Encoding: {transfer}\r\n\r\n".encode() + body)
    ft = read_file(p)
    assert (ft.problem, ft.text) == (None, f"lunch\n\n{BODY}")


def test_no_nul_reaches_the_text(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(("a stray NUL\x00 in otherwise fine UTF-16 text. " + "More text. " * 20).encode("utf-16"))
    ft = read_file(p)
    assert ft.problem is None and "\x00" not in ft.text and ft.text.startswith("a stray NUL in")
    q = tmp_path / "s.eml"
    q.write_bytes(b"From: a@b\r\nSubject: =?latin-1?q?free=00prize?=\r\n\r\n")
    assert read_file(q).text == "freeprize"


# -- what the CLI prints: no raw controls, names that are not UTF-8 escaped --------
def test_printable_escapes_controls_and_keeps_cjk():
    assert printable("垃圾邮件 ham ünïcode") == "垃圾邮件 ham ünïcode"
    assert printable("a\x1b[2Jb") == r"'a\x1b[2Jb'"
    assert printable("line\nfake") == r"'line\nfake'"
    assert printable("c1\x9bcsi") == r"'c1\x9bcsi'"
    assert printable(os.fsdecode(b"\xffname")) == r"'\udcffname'"
    assert printable(Path("/tmp/a b")) == "/tmp/a b"


def test_the_evaluate_table_never_prints_raw_controls():
    labels = ["ham\x1b]0;pwned\x07", "垃圾\nfake line", "spam"]
    items = [Judged("f", "t", labels[0], labels[1], 0.9), Judged("g", "t", labels[2], labels[2], 0.8)]
    ev = Evaluation("model\x1b[2J", "data\x1b[31m\r", labels, items, {"skip\x9b": 1, os.fsdecode(b"\xff"): 2})
    table = ev.table()
    assert not any(c in table for c in "\x1b\x07\r\x9b") and len(table.splitlines()) == 15
    assert table.startswith(r"2 texts from 'data\x1b[31m\r', model 'model\x1b[2J'")
    assert r"'垃圾\nfake line'" in table
    table.encode("utf-8")  # no lone surrogates either


def _forged(tiny_bundle, dest: Path, **fields) -> Path:
    with zipfile.ZipFile(tiny_bundle) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json":
                data = json.dumps({**json.loads(data), **fields}).encode()
            zout.writestr(info.filename, data)
    return dest


def test_classify_summary_escapes_the_model_name(tiny_bundle, tmp_path, capsys):
    model = _forged(tiny_bundle, tmp_path / "m.textsort", name="evil\x1b[2J\nfake: 0 problems")
    (tmp_path / "a.txt").write_text("claim your free prize")
    assert cli(["classify", "--model", str(model), "--no-progress", str(tmp_path / "a.txt")]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and r"model 'evil\x1b[2J\nfake: 0 problems'" in err


@POSIX
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_evaluate_prints_names_that_are_not_utf8_and_controls_safely(tiny_bundle, tmp_path, fmt):
    root = Path(os.fsdecode(bytes(tmp_path) + b"/data\xff\x1b[2J"))
    for label, name, text in [("ham", b"a.txt", "lunch with mom"), ("spam", b"\xfe.txt", "free prize"),
                              (b"\xff", b"c.txt", "an unknown label"), ("x\x1b[31m", b"d.txt", "another")]:
        folder = root / (os.fsdecode(label) if isinstance(label, bytes) else label)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / os.fsdecode(name)).write_text(text)
    r = textsort("evaluate", root, "--model", tiny_bundle, "--format", fmt, env_extra={"PYTHONIOENCODING": "utf-8"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "\x1b" not in (r.stderr if fmt == "csv" else r.stdout + r.stderr)  # CSV: the data as it is, quoted
    if fmt == "json":
        out = json.loads(r.stdout)
        assert out["skipped_labels"] == {"\udcff": 1, "x\x1b[31m": 1} and out["n"] == 2
    if fmt == "table":
        assert r.stdout.startswith(r"2 texts from '") and r"data\udcff\x1b[2J'" in r.stdout.splitlines()[0]
