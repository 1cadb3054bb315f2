"""The real main window, driven offscreen with real drop events, the tiny real models
and real files (English, Chinese in UTF-8 and GBK, binary, empty)."""
from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QPalette, QTextCursor

from textsort.presentation.colours import label_colours
from textsort.gui.results_model import (COL_CONFIDENCE, COL_FILE, COL_FOLDER, COL_LABEL, COL_PROBLEM, PROBLEMS, SORT_ROLE,
                                        UNCERTAIN)

SPAM_TEXT = "you won a prize, call now"  # one keyword: its removal changes the prediction
HAM_TEXT = "thanks mom see you at lunch tonight at home"


@pytest.fixture
def inbox(tmp_path) -> Path:
    """A folder of mixed files, with a subfolder (drops are recursive)."""
    d = tmp_path / "inbox"
    (d / "sub").mkdir(parents=True)
    (d / "offer.txt").write_text(SPAM_TEXT, encoding="utf-8")
    (d / "sub" / "note.txt").write_text(HAM_TEXT, encoding="utf-8")
    (d / "review_utf8.txt").write_text("这个东西很好，我很爱", encoding="utf-8")
    (d / "review_gbk.txt").write_bytes("这个东西很差，太慢了".encode("gbk"))
    (d / "image.bin").write_bytes(bytes(range(256)) * 40)
    (d / "empty.txt").write_bytes(b"")
    return d


def rows(w) -> dict[str, dict[str, str]]:
    """Shown rows by file name: {column title: text}."""
    out = {}
    for r in range(w.proxy.rowCount()):
        name = w.proxy.index(r, COL_FILE).data()
        out[name] = {"label": w.proxy.index(r, COL_LABEL).data(), "problem": w.proxy.index(r, COL_PROBLEM).data(),
                     "confidence": w.proxy.index(r, COL_CONFIDENCE).data()}
    return out


def classify_by_drop(qtbot, w, drop, paths) -> None:
    with qtbot.waitSignal(w.runFinished, timeout=20000):
        drop(w.drop_zone, paths)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_drop_folder_fills_table_with_labels_and_problems(qtbot, window, drop, inbox):
    classify_by_drop(qtbot, window, drop, [inbox])
    shown = rows(window)
    assert set(shown) == {"offer.txt", "note.txt", "review_utf8.txt", "review_gbk.txt", "image.bin", "empty.txt"}
    assert shown["offer.txt"]["label"] == "spam"
    assert shown["note.txt"]["label"] == "ham"
    assert "binary" in shown["image.bin"]["problem"]
    assert "empty" in shown["empty.txt"]["problem"]
    assert shown["image.bin"]["label"] == ""
    # GBK was decoded, so it was classified; the English tiny model says the text is not English
    assert shown["review_gbk.txt"]["label"] != ""
    assert shown["review_gbk.txt"]["problem"] == "⚠ wrong language"  # fits the column; the tooltip says more
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, COL_FILE).data() == "review_gbk.txt")
    assert "the model reads English" in window.proxy.index(row, COL_PROBLEM).data(Qt.ItemDataRole.ToolTipRole)
    assert shown["review_gbk.txt"]["label"].startswith(UNCERTAIN) and shown["review_gbk.txt"]["confidence"].startswith("⚠")
    assert shown["offer.txt"]["problem"] == ""
    assert window.count_label.text() == "6 files"


def test_dropping_the_same_folder_again_does_not_duplicate_rows(qtbot, window, drop, inbox):
    classify_by_drop(qtbot, window, drop, [inbox])
    classify_by_drop(qtbot, window, drop, [inbox / "offer.txt"])
    assert window.results.rowCount() == 6


def test_threshold_filter_and_search_work_without_rerunning(qtbot, window, drop, inbox):
    for i, text in enumerate(["cash home thanks", "free lunch with mom", "prize mom", "free lunch"]):
        (inbox / f"mixed{i}.txt").write_text(text, encoding="utf-8")  # mixed keywords: less sure
    classify_by_drop(qtbot, window, drop, [inbox])
    calls = []
    window.classifier.predict_batch = lambda *a, **k: calls.append(a)  # any re-run would show here
    scores = {window.proxy.index(r, COL_FILE).data(): window.proxy.index(r, COL_CONFIDENCE).data(SORT_ROLE)
              for r in range(window.proxy.rowCount())}
    wrong_language = {"review_utf8.txt", "review_gbk.txt"}  # Chinese for an English model: always uncertain
    labelled = {n: s for n, s in scores.items() if s >= 0 and n not in wrong_language}
    percent = next(p for p in range(100, 0, -1) if any(s < p / 100 for s in labelled.values()))
    unsure = {n for n, s in labelled.items() if s < percent / 100}
    assert unsure and len(unsure) < len(labelled)
    window.threshold_spin.setValue(percent)
    shown = rows(window)
    for name in labelled:
        assert shown[name]["label"].startswith(UNCERTAIN) == (name in unsure)
    window.label_filter.setCurrentIndex(window.label_filter.findData(UNCERTAIN))
    assert set(rows(window)) == unsure | wrong_language
    window.threshold_spin.setValue(0)
    assert set(rows(window)) == wrong_language
    window.label_filter.setCurrentIndex(window.label_filter.findData("spam"))
    assert "offer.txt" in rows(window) and "note.txt" not in rows(window)
    window.label_filter.setCurrentIndex(window.label_filter.findData(PROBLEMS))
    assert set(rows(window)) == {"image.bin", "empty.txt"}
    window.label_filter.setCurrentIndex(0)
    window.search.setText("REVIEW")
    assert set(rows(window)) == {"review_utf8.txt", "review_gbk.txt"}
    assert calls == []


def test_exports_carry_what_a_spreadsheet_user_needs(qtbot, window, drop, inbox, tmp_path, monkeypatch):
    """Issue 20: file name, a snippet, the confidence as shown, the model's name, and the
    deciding words of the rows explained in the window; CSV and JSON alike; by default
    beside the classified folder, never in it."""
    from PySide6.QtWidgets import QFileDialog

    from textsort.appstate.session import EXPORT_FIELDS

    classify_by_drop(qtbot, window, drop, [inbox])
    explained = "offer.txt"
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, COL_FILE).data() == explained)
    with qtbot.waitSignal(window.explanationShown, timeout=10000) as shown:  # its words go into the export
        window.table.selectRow(row)
    assert shown.args[0] > 0
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, title, start, *a: offered.append(start) or ("", "")))
    window.export_dialog()
    assert Path(offered[0]) == inbox.parent / f"{inbox.name}-results.csv"
    out = tmp_path / "x"
    out.mkdir()
    for name in ("r.csv", "r.json"):
        with qtbot.waitSignal(window.exported, timeout=10000):
            window.export_results(out / name)
    with open(out / "r.csv", newline="", encoding="utf-8-sig") as fh:
        table = {r["file"]: r for r in csv.DictReader(fh)}
    data = {r["file"]: r for r in json.loads((out / "r.json").read_text("utf-8"))}
    assert set(table) == set(data) and len(data) == 6
    for name, row in data.items():
        assert list(row)[: len(EXPORT_FIELDS)] == list(EXPORT_FIELDS)
        assert {c for c in table[name] if not c.startswith("score_")} == set(EXPORT_FIELDS) - {"scores"}
    offer = data["offer.txt"]
    assert offer["model"] == table["offer.txt"]["model"] == window.classifier.bundle.name
    assert offer["confidence_percent"] == table["offer.txt"]["confidence_percent"] == f"{offer['confidence']:.0%}"
    assert offer["snippet"] and offer["snippet"] == table["offer.txt"]["snippet"]
    assert offer["snippet"] in " ".join((inbox / "offer.txt").read_text("utf-8").split())
    assert data[explained]["top_words"] and table[explained]["top_words"]
    assert all(not r["top_words"] for n, r in data.items() if n != explained)  # only what was worked out


def test_confidence_sorts_numerically(qtbot, window, drop, inbox):
    classify_by_drop(qtbot, window, drop, [inbox])
    window.table.sortByColumn(COL_CONFIDENCE, Qt.SortOrder.DescendingOrder)

    values = [window.proxy.index(r, COL_CONFIDENCE).data(SORT_ROLE) for r in range(window.proxy.rowCount())]
    assert values == sorted(values, reverse=True)


def test_export_csv_and_json_round_trip(qtbot, window, drop, inbox, tmp_path):
    classify_by_drop(qtbot, window, drop, [inbox])
    before = digests(inbox)
    out = tmp_path / "out" / "results.csv"
    out.parent.mkdir()
    with qtbot.waitSignal(window.exported, timeout=10000):
        window.export_results(out)
    with open(out, newline="", encoding="utf-8-sig") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 6
    by_name = {Path(r["path"]).name: r for r in table}
    assert by_name["offer.txt"]["label"] == "spam"
    assert by_name["note.txt"]["label"] == "ham"
    assert "binary" in by_name["image.bin"]["problem"]
    with qtbot.waitSignal(window.exported, timeout=10000):
        window.export_results(tmp_path / "out" / "results.json")
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert len(data["results"] if isinstance(data, dict) else data) == 6
    assert digests(inbox) == before


def test_sort_into_folders_copies_and_leaves_originals(qtbot, window, drop, inbox, tmp_path, messages):
    classify_by_drop(qtbot, window, drop, [inbox])
    before = digests(inbox)
    dest = tmp_path / "sorted"
    with qtbot.waitSignal(window.sorted, timeout=10000):
        window.sort_results(dest)
    assert (dest / "spam" / "offer.txt").read_text(encoding="utf-8") == SPAM_TEXT
    assert (dest / "ham" / "sub" / "note.txt").read_text(encoding="utf-8") == HAM_TEXT  # its subfolder kept
    assert not list(dest.rglob("image.bin"))
    assert digests(inbox) == before
    kind, title, text = messages[-1]
    assert kind == "information" and "Copied" in text
    # again: nothing is overwritten, the second copy gets a new name
    with qtbot.waitSignal(window.sorted, timeout=10000):
        window.sort_results(dest)
    assert len(list((dest / "spam").iterdir())) == 2
    assert (dest / "spam" / "offer.txt").read_text(encoding="utf-8") == SPAM_TEXT


@pytest.fixture
def slow_reading(monkeypatch):
    """1 ms more per file read: a 3000-file run takes >= 3 s, so what the test does while it
    runs lands mid-run however fast the machine is."""
    import time

    import textsort.appstate.session as session

    read = session.read_file

    def slow_read(*args, **kwargs):
        time.sleep(0.001)
        return read(*args, **kwargs)

    monkeypatch.setattr(session, "read_file", slow_read)


def test_cancel_stops_a_large_run(qtbot, window, tmp_path, slow_reading):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(3000):
        (big / f"m{i:04d}.txt").write_text(f"{SPAM_TEXT} {i}" if i % 2 else f"{HAM_TEXT} {i}", encoding="utf-8")
    with qtbot.waitSignal(window.runFinished, timeout=30000) as finished:
        window.classify_paths([big])
        qtbot.waitUntil(lambda: window.results.rowCount() > 0, timeout=20000)
        assert window.cancel_button.isVisible() and window.progress.isVisible()
        window.cancel_button.click()
    done, cancelled = finished.args
    assert cancelled
    assert 0 < done < 3000
    assert window.results.rowCount() == done
    assert not window.cancel_button.isVisible()


def test_clearing_stops_a_run_and_no_late_rows_arrive(qtbot, window, drop, inbox, tmp_path, slow_reading):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(3000):
        (big / f"m{i:04d}.txt").write_text(f"{SPAM_TEXT} {i}" if i % 2 else f"{HAM_TEXT} {i}", encoding="utf-8")
    window.classify_paths([big])
    qtbot.waitUntil(lambda: window.results.rowCount() > 0, timeout=20000)
    (run,) = window.lanes["run"].running
    with qtbot.waitSignal(window.runFinished, timeout=1000) as finished:
        window.clear_results()  # the window is done with the run at once
    assert finished.args[1] is True
    assert window.results.rowCount() == 0 and not window.progress.isVisible()
    qtbot.waitUntil(lambda: run not in window.lanes["run"].running, timeout=20000)  # its late batches came
    assert run.cancelled() and window.results.rowCount() == 0
    classify_by_drop(qtbot, window, drop, [inbox])
    assert set(rows(window)) == {"offer.txt", "note.txt", "review_utf8.txt", "review_gbk.txt", "image.bin",
                                 "empty.txt"}


def test_corrupt_model_shows_a_message_and_keeps_the_old_model(qtbot, window, drop, messages, tmp_path):
    bad = tmp_path / "broken.textsort"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    old = window.classifier
    with qtbot.waitSignal(window.modelFailed, timeout=10000):
        drop(window.drop_zone, [bad])  # dropping a model file switches models
    kind, title, text = messages[-1]
    assert kind == "critical"
    assert "broken.textsort" in text and "tiny-spam" in text
    assert window.classifier is old
    assert window.model_status.text() == "Model: tiny-spam (ham, spam)"  # the labels stay in the status bar


def test_dropping_a_model_file_switches_model_and_reclassifies(qtbot, window, drop, inbox, tiny_zh_bundle):
    classify_by_drop(qtbot, window, drop, [inbox])
    with qtbot.waitSignal(window.runFinished, timeout=20000):
        drop(window.drop_zone, [tiny_zh_bundle])
    assert window.classifier.labels == ["正面", "负面", "neutral"]
    shown = rows(window)
    assert shown["review_utf8.txt"]["label"] == "正面"
    assert shown["review_gbk.txt"]["label"] == "负面"
    assert window.label_filter.findData("负面") > 0


def tinted_with(colour, base, hex_colour: str) -> bool:
    """`colour` lies between the base colour and the label's colour (it was blended towards it)."""
    target = QColor(hex_colour)
    pairs = [(c - b, t - b) for c, b, t in zip(colour.getRgb()[:3], base.getRgb()[:3], target.getRgb()[:3])]
    return any(d for d, _ in pairs) and all(d * t >= 0 and abs(d) <= abs(t) for d, t in pairs)


def _background_at(view, pos: int):
    cursor = QTextCursor(view.document())
    cursor.setPosition(pos + 1)
    return cursor.charFormat().background().color()


def select_first_row_and_wait(qtbot, window) -> None:
    """Select row 0 and wait until its explanation is painted (some words coloured)."""
    window.table.clearSelection()
    with qtbot.waitSignal(window.explanationShown, timeout=10000) as shown:
        window.table.selectRow(0)
    assert shown.args[0] > 0


def test_selecting_a_row_highlights_the_keyword(qtbot, window, drop, inbox):
    classify_by_drop(qtbot, window, drop, [inbox / "offer.txt"])
    select_first_row_and_wait(qtbot, window)
    text = window.file_view.text.toPlainText()
    assert text == SPAM_TEXT
    base = window.file_view.text.palette().color(QPalette.ColorRole.Base)
    colour = _background_at(window.file_view.text, text.index("prize"))
    assert colour != base and tinted_with(colour, base, label_colours(["ham", "spam"])["spam"])
    assert "spam" in window.file_view.header.text()
    words = [window.file_view.words.item(r, 0).text() for r in range(window.file_view.words.rowCount())]
    assert words[0] == "prize"


def test_chinese_gbk_file_explanation_highlights_characters(qtbot, window, drop, inbox, tiny_zh_bundle):
    with qtbot.waitSignal(window.modelLoaded, timeout=10000):
        window.load_model(tiny_zh_bundle)
    classify_by_drop(qtbot, window, drop, [inbox / "review_gbk.txt"])
    select_first_row_and_wait(qtbot, window)
    text = window.file_view.text.toPlainText()
    assert text == "这个东西很差，太慢了"
    colour = _background_at(window.file_view.text, text.index("慢"))  # the tiny model's strongest 负面 character
    base = window.file_view.text.palette().color(QPalette.ColorRole.Base)
    assert tinted_with(colour, base, label_colours(window.classifier.labels)["负面"])


def test_typed_text_is_classified_as_you_type(qtbot, window):
    window.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(window.typedShown, timeout=10000):
        window.typed_input.setPlainText("claim your free prize")
    assert window.typed_view.header.text().startswith("spam")
    with qtbot.waitSignal(window.typedShown, timeout=10000):
        window.typed_input.setPlainText("see you at lunch mom")
    assert window.typed_view.header.text().startswith("ham")


def test_copy_selected_rows_as_tsv(qtbot, window, drop, inbox):
    classify_by_drop(qtbot, window, drop, [inbox])
    window.table.selectAll()
    text = window.copy_selected_rows()
    lines = text.splitlines()
    assert lines[0].split("\t")[:3] == ["File", "Label", "Confidence"]
    assert len(lines) == 7
    assert QGuiApplication.clipboard().text() == text


def test_settings_persist_threshold_model_and_geometry(qtbot, window, gui_settings, tiny_bundle):
    from textsort.gui.main_window import MainWindow

    window.threshold_spin.setValue(73)
    window.resize(760, 650)
    window.close()
    assert gui_settings.threshold == pytest.approx(0.73)
    assert Path(gui_settings.last_model) == tiny_bundle
    again = MainWindow(gui_settings)
    qtbot.addWidget(again)
    assert again.threshold_spin.value() == 73
    assert (again.size().width(), again.size().height()) == (760, 650)
    with qtbot.waitSignal(again.modelLoaded, timeout=10000):
        pass
    assert again.classifier.bundle.path == tiny_bundle


def test_switching_model_during_a_run_leaves_no_rows_from_the_old_model(qtbot, window, tmp_path, tiny_zh_bundle):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(600):
        (folder / f"r{i:03d}.txt").write_text("这个东西很好" if i % 2 else "东西太差了", encoding="utf-8")
    window.classify_paths([folder])
    qtbot.waitUntil(lambda: window.results.rowCount() > 0, timeout=20000)
    finished = []
    window.runFinished.connect(lambda done, cancelled: finished.append(cancelled))
    with qtbot.waitSignal(window.modelLoaded, timeout=10000):
        window.load_model(tiny_zh_bundle)
    finished.clear()  # from here: the old run ends (cancelled, if still going), the new one runs
    qtbot.waitUntil(lambda: bool(finished) and finished[-1] is False, timeout=30000)
    labels = {window.results.result_at(r).prediction.label for r in range(window.results.rowCount())}
    assert window.results.rowCount() == 600
    assert labels <= {"正面", "负面", "neutral"}


def action_for(window, keys: str):
    from PySide6.QtGui import QKeySequence

    wanted = QKeySequence(keys)
    found = [a for a in window.findChildren(QAction) if a.shortcut() == wanted]
    assert found, f"no action for {keys}"
    return found[0]


def test_ctrl_e_exports_and_ctrl_m_opens_a_model(qtbot, window, drop, inbox, tmp_path, monkeypatch, tiny_zh_bundle):
    from PySide6.QtWidgets import QFileDialog

    classify_by_drop(qtbot, window, drop, [inbox])
    out = tmp_path / "export"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "JSON (*.json)")))
    with qtbot.waitSignal(window.exported, timeout=10000) as got:
        action_for(window, "Ctrl+E").trigger()
    assert got.args[0].endswith("export.json") and len(json.loads(Path(got.args[0]).read_text("utf-8"))) == 6
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(tiny_zh_bundle), "")))
    with qtbot.waitSignal(window.modelLoaded, timeout=10000):
        action_for(window, "Ctrl+M").trigger()
    assert window.model_combo.currentText().startswith("tiny-reviews-zh")
    for keys in ("Ctrl+O", "Ctrl+Shift+O"):
        action_for(window, keys)


def test_about_shows_versions(window, messages):
    window.show_about()
    kind, title, text = messages[-1]
    assert kind == "about" and "LiteRT" in text and "Qt" in text


def test_model_picker_lists_bundled_models_and_about_shows_their_licences(qtbot, window, monkeypatch, messages,
                                                                          tiny_bundle, tiny_zh_bundle):
    monkeypatch.setenv("TEXTSORT_MODELS", str(tiny_zh_bundle.parent))
    window._refresh_model_combo()
    items = [window.model_combo.itemText(i) for i in range(window.model_combo.count())]
    assert items[-1] == "Open model file…"
    assert "tiny-reviews-zh" in items and window.model_combo.currentText() == "tiny-spam"
    with qtbot.waitSignal(window.modelLoaded, timeout=10000):
        window.model_combo.activated.emit(items.index("tiny-reviews-zh"))
    assert window.classifier.labels[0] == "正面"
    window.show_about()
    text = messages[-1][2]
    assert "tiny-reviews-zh" in text and "tiny-spam" in text


def test_a_wrong_language_text_does_not_look_certain(qtbot, window, drop, inbox):
    """English model, Chinese file: the headline says so first; label and confidence show it."""
    classify_by_drop(qtbot, window, drop, [inbox / "review_gbk.txt"])
    select_first_row_and_wait(qtbot, window)
    header = window.file_view.header.text()
    assert header.startswith("⚠ Wrong language: the model reads English") and "sure" not in header
    shown = rows(window)["review_gbk.txt"]
    assert shown["label"].startswith(UNCERTAIN) and shown["confidence"].startswith("⚠")
    tip = window.proxy.index(0, COL_CONFIDENCE).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("wrong language: the model reads English")


def _held_explanations(monkeypatch):
    """File explanations that wait (cancellably) until released: no timing in the test."""
    import threading
    import time

    from textsort.core.explain import Cancelled
    from textsort.gui import services

    release, started, real = threading.Event(), threading.Event(), services.explain_result

    def held(classifier, result, top_n, cancel=None):
        if result.path.name == "a-long.txt":
            started.set()
            while not release.is_set():
                if cancel is not None and cancel():
                    raise Cancelled
                time.sleep(0.005)
        return real(classifier, result, top_n, cancel=cancel)

    monkeypatch.setattr(services, "explain_result", held)
    return release, started


def test_a_long_explanation_neither_blocks_typed_text_nor_outlives_the_selection(qtbot, window, drop, inbox,
                                                                                 monkeypatch):
    """Explanations, typed text and model loading run on their own lanes; selecting another
    row cancels the stale explanation (it never reaches the view)."""
    release, started = _held_explanations(monkeypatch)
    (inbox / "a-long.txt").write_text("see you at lunch tomorrow with mom and free prize", encoding="utf-8")
    classify_by_drop(qtbot, window, drop, [inbox / "a-long.txt", inbox / "offer.txt"])
    window.table.sortByColumn(COL_FILE, Qt.SortOrder.AscendingOrder)
    assert window.proxy.index(0, COL_FILE).data() == "a-long.txt"
    shown = []
    window.explanationShown.connect(lambda n: shown.append(window.file_view.header.text()))
    window.table.clearSelection()
    window.table.setCurrentIndex(window.proxy.index(1, 0))
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    shown.clear()
    window.table.selectRow(0)  # the long explanation starts, and waits
    assert started.wait(10)
    long_task = window.lanes["explain"].latest
    window.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(window.typedShown, timeout=10000):
        window.typed_input.setPlainText("claim your free prize")  # answered while the long one is held
    assert not long_task.cancelled() and long_task in window.lanes["explain"].running
    window.tabs.setCurrentIndex(0)
    with qtbot.waitSignal(window.explanationShown, timeout=20000):
        window.table.selectRow(1)
    assert long_task.cancelled()
    qtbot.waitUntil(lambda: long_task not in window.lanes["explain"].running, timeout=20000)
    assert shown and all(h.startswith("offer.txt") for h in shown)
    release.set()


def test_clearing_drops_an_explanation_on_its_way(qtbot, window, drop, inbox, monkeypatch):
    release, started = _held_explanations(monkeypatch)
    (inbox / "a-long.txt").write_text("free prize", encoding="utf-8")
    classify_by_drop(qtbot, window, drop, [inbox / "a-long.txt", inbox / "offer.txt"])
    window.table.sortByColumn(COL_FILE, Qt.SortOrder.AscendingOrder)
    window.table.clearSelection()
    window.table.setCurrentIndex(window.proxy.index(1, 0))
    qtbot.wait(200)
    window.table.selectRow(0)
    assert started.wait(10)
    task = window.lanes["explain"].latest
    window.clear_results()
    release.set()
    qtbot.waitUntil(lambda: task not in window.lanes["explain"].running, timeout=10000)
    qtbot.wait(100)
    assert task.cancelled() and window.file_view.header.text() == "Select a file to see why it got its label."


def test_the_models_suggested_threshold_applies_until_the_user_chooses(qtbot, tmp_path, gui_settings, tiny_bundle):
    """A model trained by modelprep carries `calibration.uncertain_below`; the window shows it
    and uses it, unless the user has set a threshold (which then stays, model after model)."""
    from textsort.core.bundle import load_bundle, write_bundle
    from textsort.gui.main_window import MainWindow

    b = load_bundle(tiny_bundle)
    manifest = {**b.manifest, "calibration": {"uncertain_below": 0.73, "validation_flagged": 5,
                                              "validation_errors_flagged": 3, "validation_errors": 4, "n": 40}}
    calibrated = write_bundle(tmp_path / "calibrated.textsort", model_bytes=b.model_bytes,
                              tokenizer_json=b.tokenizer_json, manifest=manifest)
    assert not gui_settings.threshold_chosen
    w = MainWindow(gui_settings, model_path=calibrated)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.modelLoaded, timeout=15000):
        pass
    assert w.threshold_spin.value() == 73 and w.results.threshold == 0.73
    assert "73%" in w.suggested_label.text() and "3 of its 4 mistakes" in w.suggested_label.toolTip()
    assert not gui_settings.threshold_chosen  # a suggestion is not a choice
    w.threshold_spin.setValue(40)
    assert gui_settings.threshold_chosen and gui_settings.threshold == 0.4
    with qtbot.waitSignal(w.modelLoaded, timeout=15000):
        w.load_model(calibrated)
    assert w.threshold_spin.value() == 40  # the user's choice wins
    gui_settings.q.remove("results/threshold")  # no choice again: a model without a suggestion
    with qtbot.waitSignal(w.modelLoaded, timeout=15000):   # gets the default, not the last one's
        w.load_model(tiny_bundle)
    assert w.threshold_spin.value() == 0 and w.results.threshold == 0.0 and w.suggested_label.text() == ""
    for lane in w.lanes.values():
        lane.wait(10000)


def test_try_the_samples_and_folders_shown_as_dropped(qtbot, window, drop, tmp_path):
    """The empty window offers the bundled samples (in the model's language); the Folder
    column shows folders from the dropped one on, not a clipped absolute path."""
    assert window.drop_zone.samples_button.isVisible()
    with qtbot.waitSignal(window.runFinished, timeout=20000):
        window.drop_zone.samples_button.click()
    names = set(rows(window))
    assert {"ham-lunch.txt", "spam-prize.txt"} <= names  # assets/samples/en for an English model
    assert not window.drop_zone.samples_button.isVisible()
    assert {window.proxy.index(r, COL_FOLDER).data() for r in range(window.proxy.rowCount())} == {"en"}
    window.clear_results()
    inbox = tmp_path / "mail" / "2024"
    inbox.mkdir(parents=True)
    (inbox / "x.txt").write_text("free prize", encoding="utf-8")
    (tmp_path / "mail" / "y.txt").write_text("lunch with mom", encoding="utf-8")
    classify_by_drop(qtbot, window, drop, [tmp_path / "mail"])
    folders = {window.proxy.index(r, COL_FILE).data(): window.proxy.index(r, COL_FOLDER).data()
               for r in range(window.proxy.rowCount())}
    assert folders == {"x.txt": "mail/2024", "y.txt": "mail"}
    assert window.table.horizontalScrollBar().maximum() == 0  # the columns fit the view


def test_train_and_evaluate_open_on_screen_as_their_own_windows(qtbot, window, tiny_bundle):
    """Issue 20: both stayed above the main window; Evaluate opened partly off-screen;
    "Use this model" gave no feedback."""
    from textsort.gui.placement import fit_rect
    from PySide6.QtCore import QRect

    free = window.screen().availableGeometry()
    for child in (window.show_evaluate_window(), window.show_train_window()):
        qtbot.addWidget(child)
        assert child.parent() is None  # a window of its own: the main window can come in front of it
        g = child.frameGeometry()
        assert free.contains(g), (g, free)
    # a small laptop screen: the wanted 1040x760 shrinks to fit, wholly on it
    r = fit_rect(1040, 760, QRect(0, 0, 1024, 600), near=QRect(900, 500, 300, 200))
    assert QRect(0, 0, 1024, 600).contains(r) and r.width() <= 1024 * 0.9 and r.height() <= 600 * 0.9
    with qtbot.waitSignal(window.modelLoaded, timeout=15000):
        window.train_window.run_state.bundle = str(tiny_bundle)
        window.train_window._use_model()
    assert tiny_bundle.name in window.statusBar().currentMessage()
    assert "main window" in window.train_window.status.text()
    window.train_window.close()
    window.evaluate_window.close()


def test_small_things_a_new_user_found(qtbot, window, drop, inbox, monkeypatch, tmp_path):
    """Issue 20's smaller items: Ctrl+F, the row menu, double-click opens, the theme is
    remembered, the slider never collapses, whole problem texts, models with folder and date."""
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication, QStyle

    from textsort.gui.main_window import user_model_title

    classify_by_drop(qtbot, window, drop, [inbox])
    window.tabs.setCurrentIndex(1)
    action_for(window, "Ctrl+F").trigger()
    assert window.tabs.currentIndex() == 0 and QApplication.focusWidget() is window.search
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile())))
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, COL_FILE).data() == "note.txt")
    index = window.proxy.index(row, COL_FILE)
    window.table.doubleClicked.emit(index)
    assert opened == [str(inbox / "sub" / "note.txt")]
    menu = window.row_menu(index)
    titles = [a.text() for a in menu.actions()]
    assert titles[:3] == ["Open file", "Show in folder", "Copy rows"]
    menu.actions()[1].trigger()
    assert opened[-1] == str(inbox / "sub")
    # every problem text fits its column whole; the tooltip keeps the full sentence
    problems = [window.proxy.index(r, COL_PROBLEM) for r in range(window.proxy.rowCount())]
    metrics = window.table.fontMetrics()
    assert any(i.data() for i in problems)
    for i in problems:
        if i.data():
            margin = window.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1  # as Qt's views
            room = window.table.columnWidth(COL_PROBLEM) - 2 * margin
            assert metrics.elidedText(i.data(), Qt.TextElideMode.ElideMiddle, room) == i.data(), i.data()
            assert len(i.data(Qt.ItemDataRole.ToolTipRole) or "") >= len(i.data())  # the tooltip has it all
    window.resize(window.minimumSizeHint())
    qtbot.wait(50)
    assert window.threshold_slider.width() >= 80
    # the theme: applied at once, remembered for the next start
    window.theme_actions["dark"].trigger()
    assert window.settings.theme == "dark" and QApplication.instance().palette().base().color().lightness() < 100
    window.theme_actions["system"].trigger()
    assert window.settings.theme == "system" and window.theme_actions["system"].isChecked()
    # user models: name, folder and date
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "model.textsort").write_bytes(b"x")
    title = user_model_title(tmp_path / "a" / "model.textsort")
    assert title.startswith("model (") and str(tmp_path / "a") in title and title.endswith(")")


def test_corrections_from_the_table_and_from_evaluate_go_into_the_labels_file(qtbot, window, drop, inbox, tmp_path,
                                                                              monkeypatch):
    """Issue 20: a prediction can be corrected (menu or the L key), and so can a text in Evaluate;
    both become rows of a labels file the Label view resumes from; no file is changed."""
    from PySide6.QtWidgets import QInputDialog

    from textsort.appstate.labelling import LabelSession
    from textsort.core.engine import Classifier

    classify_by_drop(qtbot, window, drop, [inbox])
    before = digests(inbox)
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, COL_FILE).data() == "note.txt")
    window.table.setFocus()
    window.table.selectRow(row)
    offered = []
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(
        lambda parent, title, text, items, current, editable: offered.append(list(items)) or ("spam", True)))
    qtbot.keyClick(window.table, "l")
    assert offered and {"ham", "spam"} <= set(offered[0])
    written = inbox.parent / "inbox.labels.csv"
    assert written.is_file() and "saved in" in window.statusBar().currentMessage()
    assert window.row_menu(window.proxy.index(row, COL_FILE)).actions()[-1].text().startswith("Set the true label")
    s = LabelSession.open(inbox)
    assert {s.ids[i]: lab for i, lab in s.labels.items()} == {"sub/note.txt": "spam"}
    assert digests(inbox) == before

    data = tmp_path / "labelled"
    for label, texts in {"spam": [SPAM_TEXT, "claim your free prize"], "ham": [HAM_TEXT, "free prize inside"]}.items():
        (data / label).mkdir(parents=True)
        for i, t in enumerate(texts):
            (data / label / f"{i}.txt").write_text(t, encoding="utf-8")
    ev = window.show_evaluate_window()
    ev.set_classifier(Classifier(window.classifier.bundle.path))
    with qtbot.waitSignal(ev.evaluated, timeout=20000):
        ev.evaluate(data)
    labels = ev.evaluation.labels
    ev.show_cell(labels.index("ham"), labels.index("spam"))  # ham in the data, spam to the model
    assert ev.cell_list.count() >= 1
    ev.cell_list.setCurrentRow(0)
    judged = ev.cell_list.item(0).data(Qt.ItemDataRole.UserRole)
    path = ev.relabel("spam")  # the data's label was the wrong one
    assert path == tmp_path / "labelled.labels.csv" and ev.cell_list.item(0).text().startswith("✎ spam")
    again = LabelSession.open(data)
    assert {again.ids[i]: lab for i, lab in again.labels.items()} == {
        Path(judged.source).relative_to(data).as_posix(): "spam"}
    ev.close()
