"""Few labels (modelprep.fewshot): the head equals its regression, self-training uses the
pool, cross-validation gives the numbers, and the pipeline ships a verified bundle from
a handful of labelled texts plus a folder of unlabelled files."""
from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pytest

from modelprep import fewshot, progress
from modelprep.config import FewShotConfig, QuantConfig

from tiny_bert_teacher import KEYWORDS, synthetic_rows, tiny_config, write_csv, write_teacher


def _blobs(n_per_class, k=3, d=8, seed=0, spread=0.6):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (k, d))
    X = np.vstack([centres[c] + spread * rng.normal(0, 1, (n_per_class, d)) for c in range(k)])
    y = np.repeat(np.arange(k), n_per_class)
    return X / np.linalg.norm(X, axis=1, keepdims=True), y


@pytest.mark.parametrize("k", [2, 3])
def test_dense_weights_give_the_regressions_probabilities(k):
    X, y = _blobs(20, k=k)
    clf = fewshot._lr(1.0, 0).fit(X, y)
    kernel, bias = fewshot.dense_weights(clf, k)
    logits = X @ kernel + bias
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    assert np.allclose(probs, clf.predict_proba(X), atol=1e-5)


def test_a_class_missing_from_the_fit_is_never_chosen():
    X, y = _blobs(10, k=2)
    kernel, bias = fewshot.dense_weights(fewshot._lr(1.0, 0).fit(X, y), 3)
    assert (np.argmax(X @ kernel + bias, axis=1) != 2).all()


def test_folds_follow_the_smallest_class():
    y = np.array([0] * 3 + [1] * 20)
    assert len(fewshot.folds_for(y, FewShotConfig(folds=5))) == 3
    assert len(fewshot.folds_for(np.array([0, 0, 1, 1, 1, 1]), FewShotConfig())) == 2  # never fewer than 2


def test_self_training_learns_from_the_pool():
    """Four labelled points per class on the wrong side of a wide, unlabelled cluster: the
    pool moves the boundary; without it the regression stays where the labels put it."""
    X, y = _blobs(200, k=2, seed=3, spread=0.9)
    rng = np.random.default_rng(0)
    few = np.concatenate([rng.choice(np.flatnonzero(y == c), 4, replace=False) for c in (0, 1)])
    pool = np.setdiff1d(np.arange(len(y)), few)
    cfg = FewShotConfig()
    alone = fewshot.fit_head(X[few], y[few], X[:0], 2, 1.0, cfg)
    taught = fewshot.fit_head(X[few], y[few], X[pool], 2, 1.0, cfg)
    acc = lambda clf: float(np.mean(clf.predict(X[pool]) == y[pool]))  # noqa: E731
    assert acc(taught) >= acc(alone)
    assert not np.allclose(taught.coef_, alone.coef_)  # the pool changed the fit


def test_choose_head_is_cross_validated():
    X, y = _blobs(6, k=3, seed=1)
    pool, _ = _blobs(30, k=3, seed=1)
    head = fewshot.choose_head(X, y, pool, 3, FewShotConfig(c_grid=(0.5, 8.0)))
    assert head.oof_probs.shape == (18, 3) and np.allclose(head.oof_probs.sum(1), 1)
    assert head.record["folds"] == 5 and head.C in (0.5, 8.0) and len(head.record["c_tried"]) == 2
    assert head.record["pool_used_for_self_training"] == 90
    est = fewshot.estimate(y, head.oof_probs, head.record["folds"])
    assert est["ci95"][0] <= est["accuracy"] <= est["ci95"][1] and est["n"] == 18
    assert est["method"] == "5-fold cross-validation"


def test_the_teacher_model_computes_the_head_on_the_embeddings(tmp_path):
    """Keras teacher (encoder + mean_l2 + Dense) == the regression on the embedder's output."""
    from modelprep.teachers import read_hf_dir
    from textsort.core.encoding import TextEncoder, TokenizerSpec

    source = read_hf_dir(write_teacher(tmp_path / "t"))
    spec = TokenizerSpec(max_length=16, cls_id=source.cls_id, sep_id=source.sep_id, pad_id=source.pad_id)
    encoder = TextEncoder.from_json(source.tokenizer_json, spec)
    texts = [t for t, _ in synthetic_rows(30)]
    labels = sorted(KEYWORDS)
    y = np.array([labels.index(label) for _, label in synthetic_rows(30)])
    embedder = fewshot.Embedder(source, encoder, QuantConfig(mode="float32"))
    X = embedder.embed(texts)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    head = fewshot.choose_head(X, y, X[:0], 3, FewShotConfig())
    model = fewshot.teacher_model(source, 3, head)
    windows = encoder.encode_batch(texts, first_window_only=True)[0]
    from modelprep.loop import predict_logits

    keras = predict_logits(model, windows, 8, source.pad_id)
    assert np.allclose(keras, X @ head.weights + head.bias, atol=1e-4)


# ---------------------------------------------------------------- the whole pipeline

@pytest.fixture(scope="module")
def few_run(tmp_path_factory):
    from modelprep.pipeline import train

    root = tmp_path_factory.mktemp("fewshot")
    teacher = write_teacher(root / "teacher")
    rows = synthetic_rows(400)
    labelled = write_csv(root / "labelled.csv", rows[:24])  # 8 per class
    pool = root / "unsorted"
    pool.mkdir()
    for i, (text, _) in enumerate(rows[24:300]):
        (pool / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    (pool / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    (pool / "empty.txt").write_bytes(b"")
    (pool / "chinese.txt").write_text("这是一段中文评论，和标注的英文文本不是一种语言。", encoding="utf-8")
    (pool / "copy.txt").write_text(rows[0][0], encoding="utf-8")  # a labelled text again
    cfg = tiny_config(teacher)
    before = {p.name: p.read_bytes() for p in pool.iterdir()}
    events = io.StringIO()
    progress.enable(events)
    try:
        result = train(labelled, root / "few.textsort", cfg, work=root / "work", unlabelled=pool,
                       test_path=write_csv(root / "test.csv", synthetic_rows(60, seed=1)))
    finally:
        progress.disable()
    assert {p.name: p.read_bytes() for p in pool.iterdir()} == before  # the user's files untouched
    return {"result": result, "root": root, "cfg": cfg, "labelled": labelled, "pool": pool,
            "events": [json.loads(line) for line in events.getvalue().splitlines()]}


def test_few_labels_are_cross_validated_and_use_the_pool(few_run):
    m = few_run["result"].manifest
    assert m["data"]["split"]["method"] == "cross-validation" and m["data"]["split"]["train"] == 24
    assert any("few labelled texts" in w for w in m["data"]["warnings"])
    est = m["estimate"]
    assert est["method"] == "5-fold cross-validation" and est["n"] == 24
    assert est["ci95"][0] <= est["accuracy"] <= est["ci95"][1]
    assert m["metrics"]["teacher"]["accuracy"] == est["accuracy"]  # the teacher's numbers are out-of-fold
    u = m["unlabelled"]
    assert u["offered"] == 280 and u["read"] == 278 and sum(u["skipped"].values()) == 2  # the photo, the empty file
    assert u["duplicates_or_labelled"] == 1 and u["other_script"] == 1 and u["used"] == 276
    assert u["embedded"] == 276 and u["in_transfer_set"] + u["held_out_to_stop_the_student"] == 276
    assert m["transfer"]["unlabelled"] == u["in_transfer_set"]
    assert 0 <= est["shipped_agrees_with_teacher"] <= 1 and est["agreement_texts"] == u["held_out_to_stop_the_student"]
    assert m["calibration"]["uncertain_below"] > 0  # never 0 for a small set
    assert m["config"]["ngram"]["enabled"] is False
    assert "logistic-regression head" in m["description"] or m["shipped"] == "default"


def test_the_apps_stage_list_is_the_few_label_runs_own(few_run):
    from textsort.appstate.training import FEW_LABEL_TITLES, RunState

    state = RunState()
    for event in few_run["events"]:
        state.apply(event)
    names = [s.name for s in state.stages]
    assert "ngram" not in names and names[:2] == ["data", "teacher"]  # the n-gram half is the teacher's own
    assert all(s.state == "done" for s in state.stages), [(s.name, s.state) for s in state.stages]
    assert state.stage("teacher").title == FEW_LABEL_TITLES["teacher"]


def test_few_label_bundle_runs_in_the_runtime(few_run):
    from textsort.core.engine import Classifier

    clf = Classifier(few_run["result"].bundle)
    preds = clf.predict_batch(["the goal of the match", "a new chip and code"])
    assert [p.label for p in preds] and all(0 <= p.score <= 1 for p in preds)


def test_few_label_card_states_the_estimate(few_run):
    from textsort.presentation.card import render_card

    card = render_card(few_run["result"].manifest)
    assert "cross-validation" in card and "unlabelled" in card


def test_bad_unlabelled_input_is_one_clear_line(few_run, tmp_path, capsys):
    from modelprep.cli import main

    args = ["train", str(few_run["labelled"]), "--teacher", str(few_run["root"] / "teacher"),
            "--work", str(tmp_path / "w")]
    for spec, words in ((tmp_path / "nowhere", "no such file"), (str(tmp_path / "*.nothing"), "no file matches")):
        code = main(args + ["--out", str(tmp_path / "m.textsort"), "--unlabelled", str(spec)])
        err = capsys.readouterr().err.strip()
        assert code == 2 and words in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "m.textsort").exists()


def test_four_texts_per_class_and_a_pool_with_nothing_usable(few_run, tmp_path, caplog):
    """4 texts per class (no validation split could exist) and an unlabelled folder of one
    binary file: a bundle all the same, and the pool's emptiness said in the log."""
    from modelprep.pipeline import train

    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.bin").write_bytes(bytes(range(256)) * 4)
    cfg = replace(few_run["cfg"], distill=replace(few_run["cfg"].distill, hparams=replace(few_run["cfg"].distill.hparams, epochs=1),
                                                        alpha_alternatives=()))
    four = write_csv(tmp_path / "four.csv", synthetic_rows(12))
    result = train(four, tmp_path / "m.textsort", cfg, work=tmp_path / "w", unlabelled=junk)
    assert result.manifest["estimate"]["n"] == 12 and result.manifest["estimate"]["method"] == "4-fold cross-validation"
    u = result.manifest["unlabelled"]
    assert u["used"] == 0 and u["offered"] == 1 and sum(u["skipped"].values()) == 1
    assert "no usable text" in caplog.text
    json.dumps(result.manifest)
