"""Classifier on the tiny real bundles: predictions, windows, threshold, explanations."""
from __future__ import annotations

import numpy as np

from textsort.core.engine import Classifier
from textsort.core.explain import word_units


def test_predicts_keyword_classes(tiny_classifier):
    clf = tiny_classifier
    for text, want in [("see you at lunch tonight", "ham"), ("you are a winner claim your free prize now", "spam"),
                       ("call me when you get home thanks", "ham"), ("URGENT! claim cash", "spam")]:
        p = clf.predict(text)
        assert p.label == want, (text, p)
        assert p.score > 0.9 and p.windows == 1 and not p.uncertain
        assert list(p.scores) == ["ham", "spam"] and abs(sum(p.scores.values()) - 1) < 1e-5
        assert p.top[0] == (p.label, p.score)


def test_predict_batch_matches_single_and_proba(tiny_classifier):
    texts = ["free cash", "lunch with mom", "", "the meeting is at home tonight " * 20]
    batch = tiny_classifier.predict_batch(texts)
    proba = tiny_classifier.predict_proba(texts)
    assert proba.shape == (4, 2)
    for t, b, row in zip(texts, batch, proba):
        single = tiny_classifier.predict(t)
        assert single.label == b.label and abs(single.score - b.score) < 1e-4
        assert np.allclose(row, list(b.scores.values()), atol=1e-6)
    assert tiny_classifier.predict_batch([]) == []


def test_logits_raw_windows(tiny_classifier):
    ids, mask = tiny_classifier.encoder.pad(tiny_classifier.encoder.encode("free prize"))
    out = tiny_classifier.logits(ids, mask)
    assert out.shape == (1, 2) and out.dtype == np.float32 and out[0, 1] > out[0, 0]


def test_long_text_windows_and_keyword_at_end(tiny_classifier):
    filler = " ".join(["the you at so"] * 30)  # 120 tokens > 30 content tokens per window
    plain = tiny_classifier.predict(filler)
    ending = tiny_classifier.predict(filler + " prize cash")
    assert plain.windows > 1 and ending.windows > 1
    assert ending.scores["spam"] > plain.scores["spam"] + 0.1


def test_threshold_and_top_k(tiny_bundle):
    clf = Classifier(tiny_bundle, threshold=0.999999, top_k=1)
    p = clf.predict("the the so")
    assert p.uncertain and len(p.top) == 1
    assert Classifier(tiny_bundle, threshold=0.0).predict("the the so").uncertain is False


def test_explain_finds_english_keyword(tiny_classifier):
    text = "ok so you got the prizes today"
    e = tiny_classifier.explain(text, top_n=3)
    assert e.prediction.label == "spam" and e.complete
    top = e.words[0]
    assert top.text == "prizes" and text[top.start:top.end] == "prizes" and top.score > 0.3  # "prize" + "##s" merged


def test_explain_finds_keyword_in_long_text(tiny_classifier):
    text = " ".join(["the you at so"] * 15) + " claim it now"
    e = tiny_classifier.explain(text, top_n=5)
    assert e.prediction.windows > 1
    assert e.words[0].text == "claim" and e.words[0].start == text.index("claim")
    # positive = pushed towards the predicted label; "claim" pushes towards spam
    assert (e.words[0].score > 0) == (e.prediction.label == "spam") and abs(e.words[0].score) > 0.05


def test_explain_finds_chinese_keyword(tiny_zh_classifier):
    text = "这个饭店的东西很差"
    e = tiny_zh_classifier.explain(text, top_n=3)
    assert e.prediction.label == "负面"
    assert (e.words[0].text, e.words[0].start, e.words[0].end) == ("差", 8, 9) and e.words[0].score > 0.3


def test_word_units_groups_wordpieces_punctuation_and_cjk():
    text = "Winners! 好吃"
    # tokens: win ##ner ##s ! 好 吃
    offsets = [(0, 3), (3, 6), (6, 7), (7, 8), (9, 10), (10, 11)]
    units = [(s, e) for s, e, _ in word_units(text, offsets)]
    assert units == [(0, 7), (7, 8), (9, 10), (10, 11)]
    # Metaspace-style offsets that include the leading space start a new word
    text = "hello world"
    units = word_units(text, [(0, 5), (5, 11)])
    assert [(s, e) for s, e, _ in units] == [(0, 5), (6, 11)]


def test_explain_budget_marks_partial(tiny_bundle):
    from textsort.core.engine import EngineLimits

    clf = Classifier(tiny_bundle, limits=EngineLimits(max_explain_windows=3))
    e = clf.explain("free prize cash claim winner today", top_n=0)
    assert not e.complete and len(e.words) == 3


def test_word_units_join_punctuation_inside_words_only():
    text = "see http://bit.ly/x now. don't"
    offsets = [(0, 3), (4, 8), (8, 9), (9, 10), (10, 11), (11, 14), (14, 15), (15, 17), (17, 18), (18, 19),
               (20, 23), (23, 24), (25, 28), (28, 29), (29, 30)]
    got = [text[s:e] for s, e, _ in word_units(text, offsets)]
    assert got == ["see", "http://bit.ly/x", "now", ".", "don't"]


def test_explanation_scores_are_log_odds_drops(tiny_classifier):
    from textsort.core.encoding import softmax
    from textsort.core.explain import log_odds

    logits = np.array([[2.0, -1.0, 0.5]])
    p = softmax(logits)[0, 0]
    assert np.isclose(log_odds(logits, 0)[0], np.log(p / (1 - p)))
    # saturating probabilities still give finite, ordered log-odds
    big = np.array([[40.0, 0.0], [30.0, 0.0]])
    lo = log_odds(big, 0)
    assert np.allclose(lo, [40.0, 30.0])


def test_long_texts_are_tokenised_in_segments_exactly_like_one_piece(tiny_classifier):
    from textsort.core.encoding import SEGMENT_CHARS, segments

    text = " ".join(["free prize", "lunch with mom", "call me tonight"] * 6000)  # ~ 2.6 segments
    parts = segments(text)
    assert "".join(p for _, p in parts) == text and all(text[s:s + len(p)] == p for s, p in parts)
    assert len(parts) >= 3 and all(len(p) <= SEGMENT_CHARS for _, p in parts)
    assert all(p.endswith(" ") for _, p in parts[:-1])  # cut after a space: no word is split
    enc = tiny_classifier.encoder
    whole = enc.tokenizer.encode(text, add_special_tokens=False)
    toks = enc.tokens(text)
    assert toks.ids.tolist() == whole.ids and toks.offsets.tolist() == [list(o) for o in whole.offsets]
    assert [w.tolist() for w in enc.encode(text)] == [w.tolist() for w in enc.encode_batch([text])[0]]
    assert segments("short") == [(0, "short")]
    cjk = "好" * 70000  # no space to cut at: cut at the size
    assert [len(p) for _, p in segments(cjk)] == [SEGMENT_CHARS, SEGMENT_CHARS, 70000 - 2 * SEGMENT_CHARS]


def test_a_long_text_is_explained_on_its_deciding_windows(tiny_classifier):
    text = " ".join(["see you at lunch tomorrow with mom"] * 400 + ["claim your free cash prize now"] * 3)
    e = tiny_classifier.explain(text, top_n=0)
    assert e.prediction.windows > tiny_classifier.limits.explain_windows and not e.complete
    assert all(0 <= w.start < w.end <= len(text) and text[w.start:w.end] == w.text for w in e.words)
    assert e.words and len({w.start for w in e.words}) == len(e.words)
