"""Student architecture, PCA init, LiteRT export signature and parity, metrics, guard."""
from __future__ import annotations

import numpy as np
import pytest

from modelprep.config import QuantConfig, StudentConfig
from modelprep.evaluate import GuardError, classification_metrics, guard
from modelprep.export import to_tflite
from modelprep.student import build_student, pca_embeddings

CFG = StudentConfig(embed_dim=8, filters=8, conv_widths=(2, 3))


def _ids(rows, length):
    ids = np.zeros((len(rows), length), np.int32)
    mask = np.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, : len(r)], mask[i, : len(r)] = r, 1
    return ids, mask


def _lite_log_probs(flat: bytes, ids, mask) -> np.ndarray:
    """The exported model through its signature (MediaPipe's names), as log-probabilities."""
    from ai_edge_litert.interpreter import Interpreter

    from textsort.core.bundle import MEDIAPIPE_LAYOUT

    runner = Interpreter(model_content=flat).get_signature_runner("serving_default")
    assert sorted(runner.get_input_details()) == sorted(MEDIAPIPE_LAYOUT.inputs)
    out = runner(**MEDIAPIPE_LAYOUT.feed(ids, mask))
    assert set(out) == {"probabilities"} and np.allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    return MEDIAPIPE_LAYOUT.to_logits(out["probabilities"])


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_padding_does_not_change_logits():
    model = build_student(30, 3, CFG)
    rows = [[2, 7, 9, 11, 3], [2, 3]]
    short = model({"input_ids": _ids(rows, 5)[0], "attention_mask": _ids(rows, 5)[1]}).numpy()
    ids, mask = _ids(rows, 12)
    ids[mask == 0] = 17  # whatever sits in the padding must not matter
    long = model({"input_ids": ids, "attention_mask": mask}).numpy()
    assert np.allclose(short, long, atol=1e-6)


def test_pca_embeddings_keep_the_main_directions():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(500, 2)) @ np.array([[5.0, 0, 0, 0], [0, 1.0, 0, 0]]) + rng.normal(0, 0.01, (500, 4))
    out = pca_embeddings(table, 3)
    assert out.shape == (500, 3) and out.dtype == np.float32
    var = out.var(axis=0)
    assert var[0] > 10 * var[1] > 10 * var[2]
    assert abs(np.corrcoef(out[:, 0], table[:, 0])[0, 1]) > 0.99
    assert pca_embeddings(table, 6).shape == (500, 6)  # wider than the teacher: padded


def test_export_signature_and_float_parity():
    model = build_student(2000, 3, CFG, teacher_table=np.random.default_rng(0).normal(size=(2000, 12)))
    ids, mask = _ids([[2, 7, 9, 11, 3], [2, 5, 3]], 5)
    keras = _log_softmax(model({"input_ids": ids, "attention_mask": mask}).numpy())
    for mode, tol in (("float32", 1e-5), ("dynamic-int8", 0.05)):
        lite = _lite_log_probs(to_tflite(model, QuantConfig(mode=mode)), ids, mask)
        assert np.abs(lite - keras).max() < tol * max(1.0, np.abs(keras).max())
    assert len(to_tflite(model)) < 0.5 * len(to_tflite(model, QuantConfig(mode="float32")))  # int8 table
    with pytest.raises(ValueError, match="unknown quantization"):
        to_tflite(model, QuantConfig(mode="int4"))


def test_metrics_shape():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    m = classification_metrics(np.array([0, 1, 1, 1]), probs, ["ham", "spam"], "validation")
    assert m["accuracy"] == 0.75 and m["confusion_matrix"] == [[1, 0], [1, 2]]
    assert m["per_class"]["spam"]["recall"] == pytest.approx(2 / 3) and m["per_class"]["ham"]["support"] == 1
    assert m["split"] == "validation" and m["n"] == 4


def test_guard_numbers():
    y = np.array([0] * 100 + [1] * 100)
    fp32 = np.eye(2)[y]
    int8 = fp32.copy()
    assert guard(y, fp32, int8, QuantConfig())["passed"]
    int8[:2] = [0, 1]  # 2 of 200 flipped: 1 point, agreement 0.99
    with pytest.raises(GuardError, match=r"drop 1.00 points.*agreement 0.9900"):
        guard(y, fp32, int8, QuantConfig())
    g = guard(y, fp32, int8, QuantConfig(allow_failed_guard=True))
    assert not g["passed"] and g["overridden"] and g["int8_drop_points"] == pytest.approx(1.0)


def test_guard_refuses_same_labels_with_squashed_probabilities():
    y = np.array([0] * 100 + [1] * 100)
    fp32 = np.where(np.eye(2)[y] == 1, 0.95, 0.05)
    squashed = np.where(np.eye(2)[y] == 1, 0.55, 0.45)  # same top-1 everywhere, confidence gone
    assert guard(y, fp32, fp32 + 0.001, QuantConfig())["mean_prob_diff"] == pytest.approx(0.001)
    with pytest.raises(GuardError, match=r"mean probability difference 0.4000"):
        guard(y, fp32, squashed, QuantConfig())


WIDE = StudentConfig(embed_dim=8, filters=8, conv_widths=(2, 3), ngram_buckets=97, ngram_dim=4)


def test_wide_branch_ignores_padding_and_exports_with_parity():
    from modelprep.student import bigram_multiplier

    model = build_student(2000, 3, WIDE)
    assert model.bigrams.embeddings.shape == (97, 4)
    rows = [[2, 7, 9, 11, 3], [2, 1999, 3]]
    ids, mask = _ids(rows, 5)
    keras = model({"input_ids": ids, "attention_mask": mask}).numpy()
    ids_long, mask_long = _ids(rows, 9)
    ids_long[mask_long == 0] = 1500  # padding must not reach the bigram bag either
    assert np.allclose(keras, model({"input_ids": ids_long, "attention_mask": mask_long}).numpy(), atol=1e-6)
    # the int32 hash never overflows, even for the largest ids of a 250k vocabulary
    m = bigram_multiplier(250_037)
    assert 249_036 * m + 250_036 < 2**31 and bigram_multiplier(30_522) >= 30_522
    lite = _lite_log_probs(to_tflite(model, QuantConfig(mode="float32")), ids, mask)
    assert np.abs(lite - _log_softmax(keras)).max() < 1e-5


def test_wide_branch_changes_the_model_only_when_asked():
    plain = build_student(500, 2, CFG)
    assert plain.bigrams is None
    assert len(build_student(500, 2, WIDE).trainable_weights) == len(plain.trainable_weights) + 1
