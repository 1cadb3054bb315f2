"""Labelling (textsort.appstate.labelling): labels go into a CSV the user can see, line by line;
a new session resumes; undo and skip; bad labels, changed files and a labels file made for
other texts each get a clear message; the labelled files are never touched."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from textsort.appstate.labelling import LabelSession, LabelsError, check_label, labels_path_for, read_labels


def _folder(root: Path, n: int = 12) -> Path:
    (root / "sub").mkdir(parents=True)
    for i in range(n):
        where = root / "sub" if i % 3 == 0 else root
        (where / f"t{i:02d}.txt").write_text(f"text number {i} " + ("free prize" if i % 2 else "lunch mom"),
                                            encoding="utf-8")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 4)
    return root


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_label_undo_skip_and_resume(tmp_path):
    inbox = _folder(tmp_path / "inbox")
    before = _snapshot(inbox)
    s = LabelSession.open(inbox)
    assert s.labels_path == tmp_path / "inbox.labels.csv" and len(s.texts) == 12 and s.skipped_files
    s.add_label("spam")
    s.add_label("ham")
    first = s.current
    assert s.assign_key(1) == first and s.labels[first] == "spam"
    second = s.current
    s.assign_key(2)
    assert s.undo() == second and s.current == second and second not in s.labels  # back on screen
    skipped = s.skip()
    assert skipped == second and s.current != second
    s.assign_key(2)
    s.assign("new label")  # a label added on the way: key 3
    assert s.counts() == {"spam": 1, "ham": 1, "new label": 1} and s.assign_key(9) is None
    rows = list(csv.reader(s.labels_path.open(encoding="utf-8")))
    assert rows[0] == ["path", "sha256", "label", "time"] and len(rows) == 1 + 5  # the undo is a row too
    assert any(r[0].startswith("sub/") for r in rows[1:]) or all("/" not in r[0] for r in rows[1:])
    # the app is killed; a new session resumes where the user stopped
    again = LabelSession.open(inbox)
    assert again.labels == s.labels and again.label_names == ["spam", "ham", "new label"]
    assert again.current not in again.labels and set(again.order).isdisjoint(again.labels)
    assert _snapshot(inbox) == before  # nothing in the folder was changed, moved or added


def test_a_line_cut_short_by_a_kill_loses_only_that_label(tmp_path):
    inbox = _folder(tmp_path / "inbox")
    s = LabelSession.open(inbox)
    s.assign("spam")
    s.assign("ham")
    with s.labels_path.open("ab") as fh:
        fh.write(b"t99.txt,abc,sp")  # the last write, interrupted
    assert len(LabelSession.open(inbox).labels) == 2


def test_label_names_with_path_or_control_characters_are_refused():
    assert check_label("  spam ") == "spam" and check_label("正面") == "正面"
    for bad in ("a/b", "..", "a\\b", "x\ty", "", " ", "C:", "a" * 65):
        with pytest.raises(LabelsError) as e:
            check_label(bad)
        assert "label" in str(e.value)


def test_a_changed_file_is_offered_again_and_a_foreign_labels_file_is_refused(tmp_path):
    inbox = _folder(tmp_path / "inbox")
    s = LabelSession.open(inbox)
    i = s.assign("spam")
    s.assign("ham")
    (inbox / s.ids[i]).write_text("completely different now", encoding="utf-8")
    again = LabelSession.open(inbox)
    assert i in again.changed and i not in again.labels and i in again.order
    assert any("changed since they were labelled" in n for n in again.notes)
    other = _folder(tmp_path / "other", n=3)
    for p in other.rglob("*.txt"):
        p.rename(p.with_name("x" + p.name))
    with pytest.raises(LabelsError) as e:
        LabelSession.open(other, labels_path=s.labels_path)
    assert "belongs to other texts" in str(e.value)
    (tmp_path / "bad.labels.csv").write_text("text,label\nhello,spam\n", encoding="utf-8")
    with pytest.raises(LabelsError, match="not a Textsort labels file"):
        read_labels(tmp_path / "bad.labels.csv")
    (tmp_path / "slash.labels.csv").write_text("path,sha256,label,time\na.txt,x,../etc,t\n", encoding="utf-8")
    with pytest.raises(LabelsError, match="line 2"):
        read_labels(tmp_path / "slash.labels.csv")


def test_a_table_of_texts_and_the_training_table(tmp_path):
    table = tmp_path / "texts.csv"
    table.write_text("text\nfree prize now\nlunch with mom\n\nclaim the prize\n", encoding="utf-8")
    s = LabelSession.open(table)
    assert s.ids == ["row 1", "row 2", "row 3"] and s.labels_path == tmp_path / "texts.labels.csv"
    s.assign("spam")
    with pytest.raises(LabelsError, match="two different labels"):
        s.write_training_table(tmp_path / "work")
    s.assign("ham")
    out = s.write_training_table(tmp_path / "work")
    again = s.write_training_table(tmp_path / "work")
    assert out != again and list(csv.DictReader(out.open(encoding="utf-8"))) == [
        {"text": "free prize now", "label": "spam"}, {"text": "lunch with mom", "label": "ham"}]


def test_a_folder_that_cannot_be_written_keeps_its_labels_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    inbox = _folder(tmp_path / "ro" / "inbox")
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a user without write access
    where = labels_path_for(inbox)
    assert where.is_relative_to(tmp_path / "data") and where.name.startswith("inbox-")


def test_a_correction_from_the_results_or_evaluate_resumes_in_the_label_view(tmp_path):
    from textsort.appstate.labelling import correct, label_names_in

    inbox = _folder(tmp_path / "inbox")
    before = _snapshot(inbox)
    target = inbox / "sub" / "t03.txt"
    written = correct(inbox, str(target), target.read_text("utf-8"), "spam")
    assert written == tmp_path / "inbox.labels.csv" and label_names_in(written) == ["spam"]
    s = LabelSession.open(inbox)
    assert {s.ids[i]: lab for i, lab in s.labels.items()} == {"sub/t03.txt": "spam"}
    with pytest.raises(LabelsError):
        correct(inbox, str(target), "x", "a/b")
    assert _snapshot(inbox) == before
