"""The model-card dialog shows textsort.presentation.card's Markdown: one page, no broken picture, no raw manifest."""
from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QTabWidget

from textsort.core.bundle import load_bundle, write_bundle
from textsort.gui.model_card import ModelCardDialog
from textsort.presentation.card import bundle_card, human_size

REPO = Path(__file__).resolve().parents[2]
SMS = REPO / "assets" / "models" / "sms_spam-en.textsort"


def shown(dialog: ModelCardDialog) -> str:
    return dialog.browser.toPlainText()


def images(dialog: ModelCardDialog) -> list[str]:
    """Every image the page refers to (a missing file would show as a broken picture)."""
    doc = dialog.browser.document()
    found, block = [], doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                found.append(fmt.toImageFormat().name())
            it += 1
        block = block.next()
    return found


def test_the_bundled_model_card(qtbot):
    b = load_bundle(SMS)
    dialog = ModelCardDialog(b)
    qtbot.addWidget(dialog)
    assert dialog.markdown == bundle_card(b)
    assert not dialog.findChildren(QTabWidget)  # one page: no "Summary" / "Full report" tabs
    text = shown(dialog)
    shipped = b.manifest["metrics"]["student_int8_test"]
    for needle in ("sms_spam-en", "What it classifies", "How well it does", "Student, int8 (shipped)",
                   f"test ({shipped['n']} texts)", f"{100 * shipped['accuracy']:.1f}%",
                   f"{100 * shipped['macro_f1']:.1f}%", "Per class", "Confusion matrix",
                   human_size(SMS.stat().st_size), human_size(len(b.model_bytes)), "all-MiniLM-L6-v2",
                   "Training data licence: not recorded", "Limits", "Details", "dropout"):
        assert needle in text, needle
    assert images(dialog) == []
    for bad in ("—", "{", "vocab_size", "as the training data's own licence", "**", "| ---"):
        assert bad not in text, bad  # no placeholder, no raw JSON, Markdown rendered (not shown as source)
    # the confusion matrix is a real table, row = true label
    doc = QTextDocument()
    doc.setMarkdown(dialog.markdown)
    assert "<table" in doc.toHtml()
    ham_ok, ham_bad = shipped["confusion_matrix"][0]
    assert f"ham\n{ham_ok}\n{ham_bad}" in text


def test_an_accurate_bundle_shows_the_int8_teacher_as_shipped(qtbot, tmp_path):
    sms = load_bundle(SMS)
    m = copy.deepcopy(sms.manifest)
    del m["files"]
    m["metrics"]["bert_int8_test"] = {"split": "test", "n": 1032, "accuracy": 0.9456, "macro_f1": 0.9123,
                                      "confusion_matrix": [[879, 25], [31, 97]]}
    m["candidates"] = [{"role": "small", "bytes": 3_429_191, "ms_per_text": 0.08, "guard_passed": True,
                        "validation": {"accuracy": 0.9951, "macro_f1": 0.9888, "n": 412}},
                       {"role": "accurate", "bytes": 17_645_367, "ms_per_text": 7.44, "guard_passed": True,
                        "validation": {"accuracy": 0.9333, "macro_f1": 0.9011, "n": 412}}]
    m["shipped"] = "accurate"
    path = write_bundle(tmp_path / "accurate.textsort", model_bytes=sms.model_bytes,
                        tokenizer_json=sms.tokenizer_json, manifest=m)
    dialog = ModelCardDialog(load_bundle(path))
    qtbot.addWidget(dialog)
    text = shown(dialog)
    assert "the shipped model labels 94.6% correctly (macro-F1 91.2%)" in text
    assert "all-MiniLM-L6-v2 fine-tuned, int8 (shipped)\ntest (1032 texts)\n94.6%\n91.2%" in text
    assert "accurate: the fine-tuned teacher, int8 (shipped)" in text and "7.44" in text
    assert "ham\n879\n25" in text and images(dialog) == []


def test_the_window_opens_the_card_of_its_model(window, monkeypatch):
    opened = []
    monkeypatch.setattr(ModelCardDialog, "exec", lambda self: opened.append(self) or 0)
    window.show_model_card()
    assert len(opened) == 1
    text = shown(opened[0])
    assert window.classifier.bundle.name in text and "How well it does" in text
    assert "Student, int8 (shipped)" in text and "100.0%" in text  # the tiny model's recorded numbers
