"""What an explanation shows a person: no punctuation or stop-words, repeats merged with a
count, only the deciding words, each with the label it pushes towards and that label's
colour (the same in JSON and on the CLI)."""
from __future__ import annotations

import json
import time

from textsort.appstate.session import Session
from textsort.core.explain import DECIDING_SHARE
from textsort.core.language import is_filler
from textsort.presentation.colours import label_colours


def test_fillers_are_punctuation_and_stop_words_only():
    assert all(is_filler(w) for w in (".", "!", "“", "...", "the", "The", "to", "a", "you're", "的", "了", " "))
    # negations, degree words, numbers and content words decide texts: never fillers
    assert not any(is_filler(w) for w in ("not", "never", "no", "不", "没有", "很", "太", "free", "0800", "12:30", "差"))


def test_repeated_words_are_one_entry_with_a_count(tiny_classifier):
    text = "free lunch. FREE prize, free! the the the ."
    e = tiny_classifier.explain(text, top_n=0)
    free = next(w for w in e.words if w.text.casefold() == "free")
    assert free.count == 3 and [text[a:b] for a, b in free.spans] == ["free", "FREE", "free"]
    assert not any(is_filler(w.text) for w in e.words)  # no ".", ",", "!", "the"
    assert len({w.text.casefold() for w in e.words}) == len(e.words)


def test_explain_scores_unchanged_by_window_lookup(tiny_classifier):
    """Every word of a multi-window text is still scored in every window that holds it."""
    text = " ".join(["see you at lunch tonight"] * 40) + " claim your free prize"
    e = tiny_classifier.explain(text, top_n=0)
    assert e.complete
    # every word but the stop-words ("you", "at", "your"), each repeated word once with its count
    counts = {w.text: w.count for w in e.words}
    assert counts == {"see": 40, "lunch": 40, "tonight": 40, "claim": 1, "free": 1, "prize": 1}
    assert all(len(w.spans) == w.count and all(text[a:b] == w.text for a, b in w.spans) for w in e.words)


def test_explain_long_text_with_small_cap_is_fast(tiny_bundle):
    from textsort.core.engine import Classifier, EngineLimits

    clf = Classifier(tiny_bundle, limits=EngineLimits(max_explain_windows=50))
    text = " ".join(["see you at lunch tonight and thanks mom"] * 6250)  # 50 000 words
    t0 = time.perf_counter()
    e = clf.explain(text, top_n=5)
    took = time.perf_counter() - t0
    assert not e.complete and e.words
    assert took < 10, took


def test_each_word_names_the_label_it_pushes_towards(tiny_classifier):
    e = tiny_classifier.explain("free prize with mom at lunch", top_n=0)
    towards = {w.text: w.label for w in e.words}
    assert towards["free"] == towards["prize"] == "spam" and towards["mom"] == towards["lunch"] == "ham"
    pred = e.prediction.label
    assert all((w.score > 0) == (w.label == pred) for w in e.words if w.score != 0)


def test_only_deciding_words_are_shown(tiny_classifier):
    e = tiny_classifier.explain("claim your free prize now, see you at lunch with mom", top_n=0)
    strongest = max(abs(w.score) for w in e.words)
    assert e.deciding and all(abs(w.score) >= DECIDING_SHARE * strongest for w in e.deciding)
    assert set(map(id, e.deciding)) == {id(w) for w in e.words if abs(w.score) >= DECIDING_SHARE * strongest}


def test_words_for_the_label_given_come_first(tiny_classifier, tmp_path):
    """Issue 20: a text labelled ham at 100 % listed mostly words pushing to spam first."""
    text = "claim your free prize, see you at lunch with mom and dad at home tonight for lunch"
    e = tiny_classifier.explain(text, top_n=0)
    d, pred = e.deciding, e.prediction.label
    towards = [w.label == pred for w in d]
    assert True in towards and False in towards, [(w.text, w.label, w.score) for w in d]  # both kinds here
    assert towards == sorted(towards, reverse=True)  # every word for the label before any against it
    assert e.against == towards.count(False)
    for group in ([w for w in d if w.score > 0], [w for w in d if w.score <= 0]):
        assert [abs(w.score) for w in group] == sorted((abs(w.score) for w in group), reverse=True)
    (tmp_path / "mixed.txt").write_text(text, encoding="utf-8")
    [r] = list(Session(tiny_classifier, explain=True, top_words=0).run([tmp_path / "mixed.txt"]))
    assert [w["label"] == pred for w in r.to_dict()["top_words"]] == towards  # the JSON and CSV say it the same


def test_json_carries_the_label_colours(tmp_path, tiny_classifier):
    (tmp_path / "a.txt").write_text("free prize free prize, claim now", encoding="utf-8")
    [r] = list(Session(tiny_classifier, explain=True, top_words=10).run([tmp_path / "a.txt"]))
    words = json.loads(json.dumps(r.to_dict()))["top_words"]
    colours = label_colours(["ham", "spam"])
    assert words and all(w["colour"] == colours[w["label"]] for w in words)
    assert next(w for w in words if w["text"] == "free")["count"] == 2


def test_label_colours_are_stable_and_distinct():
    assert label_colours(["negative", "positive"]) == {"negative": "#D55E00", "positive": "#0072B2"}
    assert list(label_colours(["positive", "negative"])) == ["positive", "negative"]  # model order
    three = label_colours(["negative", "neutral", "positive"])  # a sentiment model with a middle class
    assert three["negative"] == "#D55E00" and three["positive"] == "#0072B2" and len(set(three.values())) == 3
    many = label_colours([f"topic{i}" for i in range(12)])
    assert len(set(many.values())) == 12 and many == label_colours([f"topic{i}" for i in range(12)])


def test_cli_words_in_their_label_colour_on_a_terminal_only(tmp_path, tiny_classifier, monkeypatch):
    import io

    from textsort.frontends.cli import TableWriter

    (tmp_path / "a.txt").write_text("free prize free, see you at lunch", encoding="utf-8")
    [r] = list(Session(tiny_classifier, explain=True, top_words=10).run([tmp_path / "a.txt"]))

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    plain, tty = io.StringIO(), Terminal()
    for out in (plain, tty):
        writer = TableWriter(["ham", "spam"], out, explain=True, top_k=None)
        writer.write(r)
    assert "free ×2 (spam +" in plain.getvalue() and "\x1b" not in plain.getvalue()
    assert "\x1b[1;38;2;213;94;0mfree ×2\x1b[0m (spam +" in tty.getvalue()  # spam's colour, #D55E00
    monkeypatch.setenv("NO_COLOR", "1")
    quiet = Terminal()
    TableWriter(["ham", "spam"], quiet, explain=True, top_k=None).write(r)
    assert "\x1b" not in quiet.getvalue()
