"""The Label view, walked as a user would (issue 20): drop an unsorted folder, label 24
texts by keyboard with an undo and a skip, kill the window, reopen it: the labels are
there; train with the rest as unlabelled (the tiny teacher); the model is picked and
classifies. TensorFlow runs only in textsort-prep subprocesses."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from conftest import drop_paths

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "modelprep"))

from tiny_bert_teacher import synthetic_rows, write_teacher  # noqa: E402

pytest.importorskip("tensorflow")  # the subprocesses embed and train: the training extra is needed

TINY = {"teacher": {"max_length": 16, "max_eval_texts": 20,
                    "hparams": {"batch_size": 16, "learning_rate": 2e-3, "epochs": 4, "patience": 2, "time_budget_s": 60}},
        "transfer": {"augment_copies": 1},
        "student": {"embed_dim": 16, "filters": 16, "ngram_buckets": 64, "ngram_dim": 4},
        "distill": {"hparams": {"epochs": 4, "batch_size": 32, "learning_rate": 5e-3, "time_budget_s": 60}}}


def _snapshot(root: Path) -> dict:
    return {p.name: p.read_bytes() for p in root.iterdir()}


def test_label_by_keyboard_resume_and_train(qtbot, window, tmp_path, monkeypatch, messages):
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    teacher = write_teacher(tmp_path / "teacher")
    rows = synthetic_rows(150)
    inbox = tmp_path / "unsorted"
    inbox.mkdir()
    truth = {}
    for i, (text, label) in enumerate(rows):
        (inbox / f"{i:03d}.txt").write_text(text, encoding="utf-8")
        truth[f"{i:03d}.txt"] = label
    before = _snapshot(inbox)

    lw = window.show_label_window()
    lw.teacher = str(teacher)
    drop_paths(lw, [inbox])
    s = lw.session
    assert s is not None and len(s.texts) == 150 and s.labels_path == tmp_path / "unsorted.labels.csv"
    names = iter(["sport", "tech", "food"])
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (next(names), True)))
    for _ in range(3):
        qtbot.keyClick(lw, Qt.Key.Key_N)
    assert s.label_names == ["sport", "tech", "food"]
    qtbot.waitUntil(lambda: lw.suggestion is not None, timeout=180000)  # a varied first batch, from a subprocess
    assert lw.suggestion["method"] == "typical" and s.ids[s.current] in lw.suggestion["picks"]

    def key_for_current() -> str:
        return str(s.label_names.index(truth[s.ids[s.current]]) + 1)

    qtbot.keyClick(lw, "1" if key_for_current() != "1" else "2")  # a wrong label...
    qtbot.keyClick(lw, Qt.Key.Key_Backspace)                       # ...undone
    skipped = s.ids[s.current]
    qtbot.keyClick(lw, Qt.Key.Key_S)
    assert s.ids[s.current] != skipped and s.done == 0
    counts = {n: 0 for n in s.label_names}
    while s.done < 24:
        name = truth[s.ids[s.current]]
        if counts[name] >= 8:  # 8 of each label, as a user with a few examples per class
            qtbot.keyClick(lw, Qt.Key.Key_S)
            continue
        qtbot.keyClick(lw, key_for_current())
        counts[name] += 1
    assert s.counts() == {"sport": 8, "tech": 8, "food": 8}
    assert "24 of 150 labelled" in lw.status.text()
    labelled = dict((s.ids[i], lab) for i, lab in s.labels.items())

    # the app is killed: the window goes, a new one reads the labels file
    lw.close()
    window.label_window = None
    lw = window.show_label_window()
    lw.teacher = str(teacher)
    assert lw.open_source(inbox)
    assert {lw.session.ids[i]: lab for i, lab in lw.session.labels.items()} == labelled
    assert all(truth[k] == v for k, v in labelled.items())

    # train from the labels, the rest of the folder as unlabelled texts
    lw.train()
    tw = window.train_window
    assert tw.unlabelled_edit.text() == str(inbox) and tw.data_edit.text().endswith("unsorted-labelled.csv")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY), "utf-8")
    tw.config = config
    tw.set_teacher(str(teacher))
    out = tmp_path / "models" / "unsorted.textsort"
    out.parent.mkdir()
    tw.out_edit.setText(str(out))
    tw.start_preview()
    qtbot.waitUntil(lambda: tw.preview_state.finished, timeout=120000)
    assert tw.preview_state.ok, tw.preview_view.toPlainText()
    assert tw.preview_state.unlabelled["used"] >= 100
    with qtbot.waitSignal(window.modelLoaded, timeout=400000):
        tw.start_training()
    assert window.classifier.bundle.path == out and str(out) in window.settings.user_models
    assert any(window.model_combo.itemText(i).startswith("unsorted (") for i in range(window.model_combo.count()))
    assert window.classifier.predict("goal match team score").label in ("sport", "tech", "food")
    assert _snapshot(inbox) == before  # not one file moved, changed or added
    lw.close()
    tw.close()
