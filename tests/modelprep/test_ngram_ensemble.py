"""The n-gram half of the teacher: selection on validation, out-of-fold labels, mixing."""
from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest

from modelprep.config import NgramConfig
from modelprep.ngram import NgramModel, analyzers_for, fit_ngram_model, load_model, out_of_fold_probs, save_model
from modelprep.ensemble import choose_weight, mix, mix_logits

WORDS = {0: "goal match team score referee".split(), 1: "chip cpu code server laptop".split()}


def corpus(n, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = [" ".join(rng.choice(WORDS[int(c)], 4)) + f" filler{rng.integers(0, 50)}" for c in y]
    return texts, y


def test_analyzers_follow_the_script():
    assert analyzers_for(["a plain english sentence"]) == ("word_1_2", "char_wb_2_5")
    assert analyzers_for(["这家酒店很干净，服务也好"]) == ("char_1_3",)


def test_selection_is_made_on_validation_and_recorded():
    texts, y = corpus(200)
    vt, vy = corpus(60, seed=1)
    model = fit_ngram_model(texts, y, vt, vy, 2, NgramConfig(c_grid=(1.0, 16.0)))
    assert len(model.selection) == 4 and {s["analyzer"] for s in model.selection} == {"word_1_2", "char_wb_2_5"}
    best = max(s["val_accuracy"] for s in model.selection)
    assert best > 0.95 and (model.analyzer, model.C) in {(s["analyzer"], s["C"]) for s in model.selection
                                                          if s["val_accuracy"] == best}
    probs = model.predict_proba(vt)
    assert probs.shape == (60, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_a_saved_model_loads_and_so_does_one_from_before_the_module_was_renamed(tmp_path, monkeypatch):
    texts, y = corpus(120)
    vt, vy = corpus(30, seed=1)
    model = fit_ngram_model(texts, y, vt, vy, 2, NgramConfig(c_grid=(4.0,), analyzers=("word_1_2",)))
    save_model(model, tmp_path / "new.pkl")
    with monkeypatch.context() as m:  # pickled when the class lived in modelprep.baselines
        old = types.ModuleType("modelprep.baselines")
        old.NgramModel = NgramModel
        m.setitem(sys.modules, "modelprep.baselines", old)
        m.setattr(NgramModel, "__module__", "modelprep.baselines")
        (tmp_path / "old.pkl").write_bytes(pickle.dumps(model))
    assert b"modelprep.baselines" in (tmp_path / "old.pkl").read_bytes() and "modelprep.baselines" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        pickle.loads((tmp_path / "old.pkl").read_bytes())
    for name in ("new.pkl", "old.pkl"):
        loaded = load_model(tmp_path / name)
        assert type(loaded) is NgramModel and np.allclose(loaded.predict_proba(vt), model.predict_proba(vt))


def test_fits_side_by_side_are_the_fits_one_by_one():
    texts, y = corpus(200)
    vt, vy = corpus(60, seed=1)
    one = fit_ngram_model(texts, y, vt, vy, 2, NgramConfig(jobs=1))
    many = fit_ngram_model(texts, y, vt, vy, 2, NgramConfig(jobs=2))
    assert one.selection == many.selection and (one.analyzer, one.C) == (many.analyzer, many.C)
    assert np.array_equal(one.predict_proba(vt), many.predict_proba(vt))
    source = np.arange(len(texts))
    assert np.array_equal(out_of_fold_probs(one, texts, y, texts, source, NgramConfig(jobs=1)),
                          out_of_fold_probs(one, texts, y, texts, source, NgramConfig(jobs=2)))


def test_out_of_fold_labels_never_come_from_a_model_that_saw_the_text():
    # Every text is unique noise with a random label: a model that saw a text memorises it
    # (near-certain on it), a model that did not is at chance. Copies count as their source.
    rng = np.random.default_rng(0)
    texts = [f"tok{i}a tok{i}b tok{i}c" for i in range(100)]
    y = rng.integers(0, 2, 100)
    model = fit_ngram_model(texts, y, texts[:20], y[:20], 2, NgramConfig(analyzers=("word_1_2",), c_grid=(64.0,)))
    seen = model.predict_proba(texts)[np.arange(100), y].mean()
    copies = [t.replace("c", "C") for t in texts]  # the same words (lower-cased)
    oof = out_of_fold_probs(model, texts, y, texts + copies, np.concatenate([np.arange(100)] * 2),
                            NgramConfig(folds=5))
    assert seen > 0.9
    assert oof[:100][np.arange(100), y].mean() < 0.65 and oof[100:][np.arange(100), y].mean() < 0.65


def test_mix_and_weight_choice():
    y = np.array([0, 0, 1, 1])
    bert = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.45, 0.55]])   # wrong on text 1
    ngram = np.array([[0.6, 0.4], [0.8, 0.2], [0.9, 0.1], [0.2, 0.8]])    # wrong on text 2
    assert np.allclose(mix(bert, ngram, 0.5)[1], [0.6, 0.4])
    weight, tried = choose_weight(y, bert, ngram, NgramConfig(weight_grid=(0.25, 0.5, 0.75)))
    assert [t["weight"] for t in tried] == [0.25, 0.5, 0.75]
    assert [t["val_macro_f1"] == 1.0 for t in tried] == [False, False, True] and weight == 0.75
    weight, tried = choose_weight(y, np.eye(2)[y] * 0.6 + 0.2, np.eye(2)[y] * 0.9 + 0.05, NgramConfig())
    assert all(t["val_macro_f1"] == 1.0 for t in tried) and weight == 0.5  # ties go to the even mix
    assert choose_weight(y, bert, ngram, NgramConfig(teacher_weight=0.9)) == (0.9, [])


def test_mixed_logits_are_log_probabilities_and_keep_unlabelled_rows():
    bert_logits = np.array([[2.0, 0.0], [np.nan, np.nan]], np.float32)
    ngram = np.array([[0.5, 0.5], [0.9, 0.1]], np.float32)
    out = mix_logits(bert_logits, ngram, 0.5)
    p_bert = np.exp(2) / (np.exp(2) + 1)
    assert np.exp(out[0]) == pytest.approx([0.5 * p_bert + 0.25, 0.5 * (1 - p_bert) + 0.25], abs=1e-6)
    assert np.isnan(out[1]).all()
