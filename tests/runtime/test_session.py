"""Session streaming, cancel, exports and sort_into (never overwrites, originals untouched)."""
from __future__ import annotations

import csv
import os
import json
from pathlib import Path

import pytest

from textsort.appstate.session import UNCERTAIN_FOLDER, Session, export_csv, export_json, folder_name, label_folders, sort_into
from textsort.core.engine import Classifier

TEXTS = {
    "a-spam.txt": "claim your free prize now",
    "b-ham.txt": "see you at lunch tonight",
    "c-spam.txt": "urgent cash winner",
    "d-ham.txt": "thanks mom see you at home",
}


@pytest.fixture
def inbox(tmp_path) -> Path:
    d = tmp_path / "inbox"
    d.mkdir()
    for name, text in TEXTS.items():
        (d / name).write_text(text, encoding="utf-8")
    (d / "e-empty.txt").write_bytes(b"")
    (d / "f-binary.bin").write_bytes(bytes(range(256)) * 4)
    return d


@pytest.fixture
def two_results(tiny_classifier, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("claim your free prize")
    (d / "b.txt").write_text("see you at lunch")
    return list(Session(tiny_classifier).run([d]))


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_run_streams_results_in_order(tiny_classifier, inbox):
    results = list(Session(tiny_classifier, batch_files=2).run([inbox]))
    assert [r.path.name for r in results] == sorted(TEXTS) + ["e-empty.txt", "f-binary.bin"]
    assert [r.label for r in results[:4]] == ["spam", "ham", "spam", "ham"]
    assert results[4].problem == "empty file" and results[4].prediction is None
    assert "binary" in results[5].problem


def test_cancel_stops_early(tiny_classifier, inbox):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    results = list(Session(tiny_classifier, batch_files=1).run([inbox], cancel=cancel))
    assert 0 < len(results) < 6


def test_batches_bounded_by_characters(tiny_classifier, tmp_path, monkeypatch):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("see you at lunch")
    (d / "b.txt").write_text("free prize " * 120_000)  # 1.3 M characters
    (d / "c.txt").write_text("claim your cash")
    batches = []
    real = tiny_classifier.predict_batch
    monkeypatch.setattr(tiny_classifier, "predict_batch", lambda texts: batches.append(len(texts)) or real(texts))
    results = list(Session(tiny_classifier).run([d]))
    assert [r.label for r in results] == ["ham", "spam", "spam"]
    assert batches == [1, 1, 1]  # the huge file went alone; nothing waited beside it


def test_explain_and_exports(tiny_classifier, inbox, tmp_path):
    results = list(Session(tiny_classifier, explain=True, top_words=3).run([inbox]))
    assert results[0].explanation.words[0].text in ("free", "prize", "claim")
    out_csv = export_csv(results, tmp_path / "r.csv")
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig")))
    assert len(rows) == 6 and rows[0]["label"] == "spam" and float(rows[0]["score_spam"]) > 0.5
    assert rows[0]["top_words"] and rows[4]["problem"] == "empty file" and rows[4]["label"] == ""
    data = json.loads(export_json(results, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data[0]["top_words"][0]["text"] in ("free", "prize", "claim")
    assert set(data[0]["scores"]) == {"ham", "spam"} and data[0]["windows"] == 1 and data[0]["truncated"] is False


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_exports_are_atomic_and_never_over_an_input(two_results, tmp_path, monkeypatch, kind):
    from textsort.appstate import session as S

    export = S.export_csv if kind == "csv" else S.export_json
    with pytest.raises(OSError, match="one of the classified files"):
        export(two_results, two_results[0].path)
    assert two_results[0].path.read_text() == "claim your free prize"

    out = tmp_path / f"out.{kind}"
    out.write_text("old")
    monkeypatch.setattr(S.FileResult, "to_dict", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        export(two_results, out)
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir() if p.is_file()] == [out.name]
    monkeypatch.undo()
    export(two_results, out)
    assert "a.txt" in out.read_text(encoding="utf-8-sig")


def test_truncated_file_is_reported(tiny_classifier, tmp_path):
    (tmp_path / "long.txt").write_text("free prize " * 500)
    r = next(Session(tiny_classifier, max_bytes=100).run([tmp_path / "long.txt"]))
    assert r.file.truncated and r.problem is None and "size limit" in r.note and r.to_dict()["truncated"]


def test_sort_into_copies_never_overwrites(tiny_classifier, inbox, tmp_path):
    before = snapshot(inbox)
    dest = tmp_path / "sorted"
    (dest / "spam").mkdir(parents=True)
    (dest / "spam" / "a-spam.txt").write_text("an older file that must survive")
    results = list(Session(tiny_classifier).run([inbox]))
    s = sort_into(results, dest)
    assert (s.copied, s.moved, s.renamed, s.skipped) == (4, 0, 1, 2)
    assert (dest / "spam" / "a-spam.txt").read_text() == "an older file that must survive"
    assert (dest / "spam" / "a-spam (1).txt").read_text() == TEXTS["a-spam.txt"]
    assert sorted(p.name for p in (dest / "ham").iterdir()) == ["b-ham.txt", "d-ham.txt"]
    assert {p.name for p, _ in s.problems} == {"e-empty.txt", "f-binary.bin"}
    assert snapshot(inbox) == before  # originals untouched
    s2 = sort_into(results, dest)  # again: everything renamed, nothing lost
    assert s2.renamed == 4 and (dest / "spam" / "a-spam (2).txt").exists()


def test_sort_into_keeps_subfolders_and_defaults_beside_the_source(tiny_classifier, tmp_path):
    """Issue 20: the GUI proposed the source folder and flattened subfolders."""
    from textsort.appstate.session import default_sort_folder

    inbox = tmp_path / "inbox"
    for rel, text in {"2023/a.txt": "claim your free prize now", "2024/q1/b.txt": "lunch with mom tomorrow",
                      "c.txt": "free prize claim", "2023/c.txt": "free prize claim again"}.items():
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_text(text, encoding="utf-8")
    before = snapshot(inbox)
    results = list(Session(tiny_classifier).run([inbox]))
    dest = default_sort_folder(results)
    assert dest == tmp_path / "inbox-sorted"
    (tmp_path / "inbox-sorted").mkdir()
    assert default_sort_folder(results) == tmp_path / "inbox-sorted-2"  # never an existing folder
    s = sort_into(results, dest)
    placed = {str(p.relative_to(dest)) for p in dest.rglob("*.txt")}
    labels = {r.path.name if r.path.parent == inbox else f"{r.path.parent.relative_to(inbox)}/{r.path.name}": r.label
              for r in results}
    assert placed == {f"{lab}/{rel}" for rel, lab in labels.items()}, placed
    assert s.copied == 4 and s.renamed == 0  # the two c.txt keep their names in their own subfolders
    assert snapshot(inbox) == before
    one = [r for r in results if r.path.name == "b.txt"]
    assert default_sort_folder(one) == inbox / "2024" / "q1-sorted"
    sort_into(one, tmp_path / "single")
    assert (tmp_path / "single" / one[0].label / "b.txt").is_file()  # one file: no subfolders


def test_sort_into_move_and_uncertain(tiny_bundle, inbox, tmp_path):
    clf = Classifier(tiny_bundle, threshold=0.9999999)
    results = list(Session(clf).run([inbox / "a-spam.txt", inbox / "b-ham.txt"]))
    results[1].prediction.uncertain = True  # force one uncertain regardless of the model
    results[0].prediction.uncertain = False
    s = sort_into(results, tmp_path / "out", move=True)
    assert s.moved == 2 and s.uncertain == 1
    assert not (inbox / "a-spam.txt").exists() and (tmp_path / "out" / "spam" / "a-spam.txt").exists()
    assert (tmp_path / "out" / UNCERTAIN_FOLDER / "b-ham.txt").read_text() == TEXTS["b-ham.txt"]


@pytest.mark.parametrize("where", ["copyfileobj", "copystat"])
def test_failed_copy_leaves_nothing(two_results, tmp_path, monkeypatch, where):
    import shutil

    def half_copy(fin, fout, length=0):
        fout.write(fin.read(3))
        raise OSError(28, "No space left on device")

    def bad_stat(src, dst, **kw):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(shutil, where, half_copy if where == "copyfileobj" else bad_stat)
    s = sort_into(two_results, tmp_path / "out")
    assert s.copied == 0 and len(s.problems) == 2
    assert all(why.startswith("could not copy") for _, why in s.problems)
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_move_across_file_systems_original_not_removed(two_results, tmp_path, monkeypatch):
    import errno

    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    real_unlink = os.unlink

    def unlink(p, *a, **k):
        if Path(p).parent.name == "in":
            raise PermissionError(13, "Permission denied")
        return real_unlink(p, *a, **k)

    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(os, "unlink", unlink)
    s = sort_into(two_results, tmp_path / "out", move=True)
    assert s.moved == 0 and s.copied == 2
    assert [why for _, why in s.problems] == ["copied but the original could not be removed: Permission denied"] * 2
    for src, dest in s.placed:
        assert src.is_file() and dest.read_bytes() == src.read_bytes()


def test_folder_name_is_safe():
    assert folder_name("a/b:c?") == "a_b_c_" and folder_name("..") == "_" and folder_name("正面") == "正面"


def test_label_folders_unique_and_safe():
    f = label_folders(["a/b", "a_b", "_uncertain", "CON", "nul.txt", "A_B", "好" * 200, "ok"])
    assert f["a/b"] == "a_b" and f["a_b"] == "a_b_2" and f["A_B"] == "A_B_3"
    assert f["_uncertain"] == "_uncertain_2"
    assert f["CON"] == "_CON" and f["nul.txt"] == "_nul.txt"
    assert len(f["好" * 200].encode()) <= 200 and f["ok"] == "ok"
    assert len({v.casefold() for v in f.values()}) == len(f)
    assert folder_name("com1") == "_com1" and folder_name("console") == "console"


def test_sort_into_keeps_clashing_labels_apart(two_results, tmp_path):
    import dataclasses

    a, b = two_results
    # the same model labels, renamed to clash: "_uncertain" and "a/b" vs "a_b"
    def relabel(r, mapping):
        p = r.prediction
        scores = {mapping[k]: v for k, v in p.scores.items()}
        return dataclasses.replace(r, prediction=dataclasses.replace(p, label=mapping[p.label], scores=scores))

    m = {"ham": "_uncertain", "spam": "a/b"}
    s = sort_into([relabel(a, m), relabel(b, m)], tmp_path / "out")
    assert sorted(str(d.relative_to(tmp_path / "out")) for _, d in s.placed) == ["_uncertain_2/b.txt", "a_b/a.txt"]
    m2 = {"ham": "a_b", "spam": "a/b"}
    s = sort_into([relabel(a, m2), relabel(b, m2)], tmp_path / "out2")
    assert sorted(str(d.relative_to(tmp_path / "out2")) for _, d in s.placed) == ["a_b/b.txt", "a_b_2/a.txt"]


def test_hostile_folder_does_not_stop_the_run(tiny_classifier, inbox):
    os.mkfifo(inbox / "pipe.txt")
    (inbox / "loop1.txt").symlink_to(inbox / "loop2.txt")
    (inbox / "loop2.txt").symlink_to(inbox / "loop1.txt")
    (inbox / "folder.txt").mkdir()
    (inbox / "folder.txt" / "z-spam.txt").write_text("free cash")
    results = {r.path.name: r for r in Session(tiny_classifier).run([inbox])}
    assert "not a regular file" in results["pipe.txt"].problem
    assert results["loop1.txt"].problem == "symbolic link loop"
    assert results["z-spam.txt"].label == "spam" and results["a-spam.txt"].label == "spam"


def test_language_mismatch_is_reported_per_file(tmp_path, tiny_classifier):
    from textsort.appstate.session import Session, csv_header

    (tmp_path / "en.txt").write_text("win a free prize now", encoding="utf-8")
    (tmp_path / "zh.txt").write_text("房间干净整洁，前台服务热情，早餐种类也多。", encoding="utf-8")
    got = {r.path.name: r for r in Session(tiny_classifier).run([tmp_path])}
    assert got["en.txt"].warning is None and got["en.txt"].note == ""
    assert tiny_classifier.bundle.manifest["language"] == "en"
    assert "English" in got["zh.txt"].warning and got["zh.txt"].to_dict()["warning"] == got["zh.txt"].note
    assert "warning" in csv_header(["ham", "spam"])


@pytest.mark.parametrize("move", [False, True])
def test_an_interrupted_copy_leaves_no_file_under_any_name(tiny_classifier, tmp_path, monkeypatch, move):
    """A stop in the middle of copying (Ctrl-C, or SIGTERM, which the CLI turns into the
    same thing) leaves neither a truncated file under the real name nor a temporary one."""
    import errno
    import shutil

    import textsort.appstate.session as session_mod

    src = tmp_path / "in"
    src.mkdir()
    big = src / "big.txt"
    big.write_text("claim your free prize now " * 200_000)
    results = list(Session(tiny_classifier).run([src]))
    real_copy = shutil.copyfileobj

    def stop_half_way(fin, fout, length=0):
        fout.write(fin.read(1 << 20))
        raise KeyboardInterrupt

    def no_links(*a, **k):  # a move across file systems copies too
        raise OSError(errno.EXDEV, "cross-device link")

    monkeypatch.setattr(session_mod.shutil, "copyfileobj", stop_half_way)
    if move:
        monkeypatch.setattr(session_mod.os, "link", no_links)
    with pytest.raises(KeyboardInterrupt):
        sort_into(results, tmp_path / "out", move=move)
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []
    assert big.stat().st_size == len("claim your free prize now " * 200_000)  # the original is untouched
    monkeypatch.setattr(session_mod.shutil, "copyfileobj", real_copy)
    summary = sort_into(results, tmp_path / "out", move=move)
    (placed,) = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert placed.name == "big.txt" and placed.read_text() == "claim your free prize now " * 200_000
    assert (summary.moved, summary.copied) == ((1, 0) if move else (0, 1)) and big.exists() is not move


def test_sigterm_stops_the_cli_like_ctrl_c():
    import subprocess
    import sys

    code = ("import os, signal, sys; sys.path.insert(0, 'desktop'); from textsort.frontends import cli\n"
            "cli._terminate_like_interrupt()\n"
            "try:\n    os.kill(os.getpid(), signal.SIGTERM)\nexcept KeyboardInterrupt:\n    print('clean stop')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.stdout.strip() == "clean stop", r.stderr
