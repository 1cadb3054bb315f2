"""The GUI's pure parts: colours, UTF-16 spans, the model card, summaries, settings."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTextEdit

from textsort.gui.dialogs import about_html, sort_summary_text
from textsort.gui.highlight import show_highlighted, utf16_positions, word_colour
from textsort.gui.settings import AppSettings
from textsort.presentation.card import render_card
from textsort.presentation.colours import COOL, WARM, label_colours


def test_word_colours_keep_their_label_and_strength_on_light_and_dark():
    colours = label_colours(["ham", "spam"])
    assert colours == {"ham": COOL, "spam": WARM}  # a "bad" label is warm wherever it is shown
    for base in (QColor("white"), QColor(30, 30, 30)):
        spam, ham = word_colour(1.0, 1.0, base, QColor(colours["spam"])), word_colour(-1.0, 1.0, base, QColor(colours["ham"]))
        weak = word_colour(0.1, 1.0, base, QColor(colours["spam"]))
        assert spam.red() > spam.blue() and ham.blue() > ham.red()
        # the stronger word is further from the background
        dist = lambda c: sum(abs(a - b) for a, b in zip(c.getRgb()[:3], base.getRgb()[:3]))  # noqa: E731
        assert dist(spam) > dist(weak) > 0


def test_utf16_positions_only_when_needed():
    assert utf16_positions("纯中文和English") is None
    pos = utf16_positions("a😀好")
    assert pos == [0, 1, 3, 4]


def test_highlight_spans_after_emoji_land_on_the_right_characters(qtbot):
    view = QTextEdit()
    qtbot.addWidget(view)
    text = "😀😀 很好 bad 很好"
    first, second = text.index("好"), text.rindex("好")
    words = [SimpleNamespace(start=first, end=first + 1, text="好", score=0.5, label="正面",
                             spans=[(first, first + 1), (second, second + 1)]),
             SimpleNamespace(start=text.index("bad"), end=text.index("bad") + 3, text="bad", score=-0.2, label="负面",
                             spans=[])]
    colours = {"正面": "#0072B2", "负面": "#D55E00"}
    assert show_highlighted(view, text, words, limit=1000, colours=colours) == 3  # every occurrence painted
    doc = view.document()
    for found in (doc.find("好"), doc.find("好", doc.find("好"))):
        c = found.charFormat().background().color()
        assert c.blue() > c.red()
    bad = doc.find("bad")
    assert bad.charFormat().background().color().red() > bad.charFormat().background().color().blue()


def _background_at(view, position: int) -> QColor | None:
    from PySide6.QtGui import QTextCursor

    cursor = QTextCursor(view.document())
    cursor.setPosition(position + 1)  # the format of the character before the cursor
    fmt = cursor.charFormat()
    return fmt.background().color() if fmt.hasProperty(fmt.Property.BackgroundBrush) else None


def test_a_painted_first_word_never_bleeds_into_the_next_text(qtbot):
    """Issue 20: ham-lunch (its first word painted), then spam-account came out blue everywhere."""
    view = QTextEdit()
    qtbot.addWidget(view)
    colours = {"ham": "#0072B2", "spam": "#D55E00"}
    first = "Lunch at noon?"
    assert show_highlighted(view, first, [SimpleNamespace(start=0, end=5, text="Lunch", score=-2.0, label="ham",
                                                          spans=[])], limit=1000, colours=colours) == 1
    assert _background_at(view, 0) is not None and _background_at(view, 7) is None
    second = "Your account is blocked, call now"
    where = second.index("call")
    show_highlighted(view, second, [SimpleNamespace(start=where, end=where + 4, text="call", score=1.5, label="spam",
                                                    spans=[])], limit=1000, colours=colours)
    painted = [i for i in range(len(second)) if _background_at(view, i) is not None]
    assert painted == list(range(where, where + 4))
    # a plain message after a painted text is plain too, and so is typing into it
    from textsort.gui.highlight import set_plain

    show_highlighted(view, first, [SimpleNamespace(start=0, end=5, text="Lunch", score=-2.0, label="ham", spans=[])],
                     limit=1000, colours=colours)
    set_plain(view, "nothing selected")
    assert all(_background_at(view, i) is None for i in range(len("nothing selected")))


def test_model_card_shows_metrics_per_class_and_licences(tmp_path):
    manifest = {
        "name": "sms_spam-en", "description": "SMS spam filter", "labels": ["ham", "spam"], "language": "en",
        "model": {"architecture": "cnn", "quantization": "dynamic-int8"},
        "teacher": {"name": "all-MiniLM-L6-v2"}, "created": "2026-11-29T20:00:00Z",
        "metrics": {"teacher": {"accuracy": 0.991, "macro_f1": 0.981, "split": "test", "n": 1115},
                    "student_int8": {"accuracy": 0.985, "macro_f1": 0.97, "split": "test", "n": 1115,
                                     "per_class": {"spam": {"precision": 0.95, "recall": 0.9, "f1": 0.92,
                                                            "support": 150}}},
                    "student_int8_test": {"accuracy": 0.9813, "macro_f1": 0.96, "split": "test", "n": 1032}},
        "licenses": {"model": "Apache-2.0", "data": "CC BY 4.0"},
        "versions": {"textsort": "0.1.0"},
    }
    card = render_card(manifest, model_bytes=4_000_000)
    for needle in ("sms_spam-en", "99.1%", "98.5%", "97.0%", "95.0%", "all-MiniLM-L6-v2", "CC BY 4.0", "4.0 MB", "98.1%", "test (1032 texts)"):
        assert needle in card
    assert "No metrics" in render_card({"name": "x", "labels": ["a", "b"]})


def test_sort_summary_in_plain_words():
    from textsort.appstate.session import SortSummary

    summary = SortSummary(copied=3, renamed=1, skipped=2, uncertain=1,
                          problems=[(Path("/in/x.bin"), "binary file (not text)"), (Path("/in/e.txt"), "empty file")])
    text = sort_summary_text(summary, "/dest", move=False)
    assert text.startswith("Copied 3 files into /dest")
    assert "1 got a new name" in text and "_uncertain" in text
    assert "2 files were not copied" in text and "x.bin: binary file" in text


def test_about_lists_versions_and_licences():
    html = about_html([("sms_spam-en", [("Model", "MIT"), ("Training data", "CC BY 4.0")])])
    for needle in ("Textsort", "Qt", "LiteRT", "tokenizers", "sms_spam-en", "Training data licence: CC BY 4.0"):
        assert needle in html


@pytest.mark.parametrize("data", [None, "as the training data's own licence", {"odd": 1}])
def test_about_says_not_recorded_where_a_bundle_does_not_know_its_data_licence(tmp_path, monkeypatch, tiny_bundle,
                                                                                 data):
    """A bundle written with an unknown data licence (null, or an older bundle's prose) reads
    "not recorded", in the About box as on the model card; never "None"."""
    from textsort.core.bundle import load_bundle, write_bundle
    from textsort.gui import services

    b = load_bundle(tiny_bundle)
    path = write_bundle(tmp_path / "m.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                        manifest={**b.manifest, "licenses": {"model": "MIT", "data": data}})
    monkeypatch.setattr(services, "bundled_entries", lambda: [("m", path)])
    html = about_html(services.bundled_licenses())
    assert "Model licence: MIT" in html and "None" not in html
    assert ("Training data licence: not recorded" in html) == (not isinstance(data, dict))


def test_settings_round_trip_and_bad_values(tmp_path):
    q = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    s = AppSettings(q)
    assert s.threshold == 0.0 and s.last_model == "" and s.geometry is None
    s.threshold, s.last_folder = 0.4, str(tmp_path)
    s.sync()
    again = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again.threshold == 0.4 and again.last_folder == str(tmp_path)
    q.setValue("results/threshold", "not a number")
    assert AppSettings(q).threshold == 0.0


def test_self_test_runs_one_real_inference_without_a_window(tiny_bundle, tmp_path, capsys):
    from textsort.gui.app import main

    assert main(["--self-test", "--model", str(tiny_bundle)]) == 0
    out = capsys.readouterr().out
    assert "self-test passed" in out and "Qt " in out
    bad = tmp_path / "bad.textsort"
    bad.write_bytes(b"not a model")
    assert main(["--self-test", "--model", str(bad)]) == 1


def test_icon_is_found_and_renders():
    from PySide6.QtGui import QIcon

    from textsort.gui.app import icon_path

    path = icon_path()
    assert path is not None and not QIcon(str(path)).isNull()


def test_log_odds_colours_keep_weaker_words_visible():
    """Log-odds drops are unbounded: a 4x weaker word must still be clearly tinted."""
    base = QColor("white")
    dist = lambda c: sum(abs(a - b) for a, b in zip(c.getRgb()[:3], base.getRgb()[:3]))  # noqa: E731
    tint = QColor(WARM)
    strongest, second = word_colour(4.4, 4.4, base, tint), word_colour(0.8, 4.4, base, tint)
    assert dist(strongest) > dist(second) > 0.5 * dist(strongest)
    assert word_colour(50.0, 4.4, base, tint) == strongest  # never past the strongest tint


def test_word_tooltips_speak_in_odds_and_punctuation_is_quoted():
    from textsort.gui.explanation_view import word_cell_text
    from textsort.gui.highlight import odds_phrase

    assert "odds of “spam” would be 12× lower" in odds_phrase("free", 2.485, "spam")
    assert "higher" in odds_phrase(".", -1.0, "spam") and "probability" not in odds_phrase(".", -1.0, "spam")
    assert word_cell_text(".") == "“.”" and word_cell_text("prize") == "prize"


def test_model_card_says_runtime_agreement_in_words():
    card = render_card({"name": "m", "labels": ["a", "b"], "metrics": {"agreement": {"keras_litert_top1": 1}}})
    assert "keras_litert_top1" not in card and "100.0%" in card


def test_train_window_shows_every_stage_at_its_default_size(qtbot, gui_settings):
    from textsort.core.protocol import StageName
    from textsort.gui.train_window import TrainWindow

    w = TrainWindow(gui_settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    table = w.stage_table
    assert table.rowCount() == len(StageName)
    assert table.verticalHeader().length() <= table.viewport().height()  # no scrolling to see a stage
