"""The training loop's parts: batching, loss weights, schedule, distillation."""
from __future__ import annotations

import numpy as np
import pytest

from modelprep.config import StudentConfig
from modelprep.student import build_student
from modelprep.config import DistillConfig, HParams
from modelprep.loop import (EvalSet, Examples, WarmupLinear, _ce_weights, bucketed_batches, fit,
                             pad_batch, predict_texts, soft_term)


def test_bucketed_batches_cover_everything_once_with_little_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 100, size=1000)
    batches = bucketed_batches(lengths, 32, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    waste = sum(len(b) * lengths[b].max() - lengths[b].sum() for b in batches) / lengths.sum()
    assert waste < 0.1  # random batches would pad about 90 %


def test_pad_batch():
    ids, mask = pad_batch([np.array([2, 5, 3]), np.array([2, 3])], pad_id=0)
    assert ids.tolist() == [[2, 5, 3], [2, 3, 0]] and mask.tolist() == [[1, 1, 1], [1, 1, 0]]


def test_warmup_then_linear_decay():
    s = WarmupLinear(1.0, warmup=10, total=100)
    lr = [float(s(i)) for i in range(100)]
    assert lr[0] == pytest.approx(0.1) and lr[9] == pytest.approx(1.0)
    assert lr[50] == pytest.approx(49 / 90) and lr[99] == pytest.approx(0.0)
    s.total.assign(50.0)  # the time budget can shorten a run
    assert float(s(49)) == pytest.approx(0.0)


def test_ce_weights():
    y = np.array([0, 0, 0, 1, -1])
    has_soft = np.array([0, 0, 1, 0, 1], np.float32)
    w = _ce_weights(y, has_soft, 2, class_weights=True, alpha=0.7)
    # inverse frequency: class 0 -> 4 / (2 * 3), class 1 -> 4 / (2 * 1)
    assert w.tolist() == pytest.approx([2 / 3, 2 / 3, 0.3 * 2 / 3, 2.0, 0.0])


def _toy(n, rng):
    """Windows of random 'words' 5..24; the label is whether word 5 appears."""
    windows, y = [], []
    for _ in range(n):
        body = rng.integers(6, 25, size=rng.integers(1, 8))
        if rng.random() < 0.5:
            body[rng.integers(len(body))] = 5
        windows.append(np.concatenate(([2], body, [3])).astype(np.int32))
        y.append(int(5 in body))
    return windows, np.array(y)


@pytest.mark.parametrize("soft_loss", ["kl", "mse"])
def test_distillation_learns_from_soft_targets_alone(soft_loss):
    """No hard labels at all (y = -1): the student must learn the teacher's rule from its logits."""
    rng = np.random.default_rng(0)
    windows, truth = _toy(600, rng)
    teacher_logits = np.where(truth[:, None] == 1, [-3.0, 3.0], [3.0, -3.0]).astype(np.float32)
    val_windows, val_y = _toy(200, rng)
    val = EvalSet(val_windows, np.arange(200), val_y)
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    cfg = StudentConfig(embed_dim=16, filters=16, dropout=0.0)
    model = build_student(25, 2, cfg)
    s = HParams(batch_size=32, learning_rate=1e-2, epochs=4, patience=4)
    history, probs = fit(model, Examples(windows, np.full(600, -1), teacher_logits), val, 2, s, desc="kd",
                         distill=DistillConfig(temperature=2.0, alpha=1.0, soft_loss=soft_loss))
    assert (probs.argmax(1) == val_y).mean() > 0.9
    assert history["best_val_macro_f1"] > 0.9 and len(history["history"]) >= 1
    assert np.allclose(predict_texts(model, val), probs, atol=1e-5)  # best weights restored


def test_soft_term_is_zero_only_where_the_student_matches_the_teacher():
    teacher = np.array([[2.0, -1.0, 0.5]], np.float32)
    for kind in ("kl", "mse"):
        assert float(soft_term(teacher, teacher, 2.0, kind)[0]) == pytest.approx(0.0, abs=1e-6)
        assert float(soft_term(teacher + np.float32([[1.0, 0.0, 0.0]]), teacher, 2.0, kind)[0]) > 0.01
    # a constant shift changes no probability: neither loss sees it
    assert float(soft_term(teacher + np.float32(5.0), teacher, 2.0, "mse")[0]) == pytest.approx(0.0, abs=1e-5)
    assert float(soft_term(teacher + np.float32(5.0), teacher, 2.0, "kl")[0]) == pytest.approx(0.0, abs=1e-5)
    # mse: the mean squared difference of the centred logits
    assert float(soft_term(np.zeros((1, 2), np.float32), np.array([[1.0, -1.0]], np.float32), 1.0, "mse")[0]) == pytest.approx(1.0)


def test_unknown_soft_loss_is_refused():
    rng = np.random.default_rng(0)
    windows, y = _toy(20, rng)
    s = HParams(batch_size=8, learning_rate=1e-3, epochs=1)
    with pytest.raises(ValueError, match="soft_loss"):
        fit(build_student(25, 2, StudentConfig(embed_dim=8, filters=8)), Examples(windows, y), EvalSet(windows, np.arange(20), y), 2, s,
            distill=DistillConfig(soft_loss="cosine"))


def test_step_cap_and_early_stopping():
    rng = np.random.default_rng(1)
    windows, y = _toy(200, rng)
    val = EvalSet(windows[:50], np.arange(50), y[:50])
    model = build_student(25, 2, StudentConfig(embed_dim=8, filters=8))
    capped = HParams(batch_size=20, learning_rate=1e-3, epochs=50, max_steps=25, patience=50)
    history, _ = fit(model, Examples(windows, y), val, 2, capped, desc="cap")
    assert history["steps"] == 25 and len(history["history"]) == 3
    frozen = HParams(batch_size=20, learning_rate=0.0, epochs=50, patience=1, weight_decay=0.0)
    history, _ = fit(model, Examples(windows, y), val, 2, frozen, desc="stuck")
    assert len(history["history"]) == 2 and history["best_epoch"] == 1  # no better epoch: stop


def test_time_budget_replans_the_schedule():
    from modelprep.loop import _fit_budget

    schedule = WarmupLinear(1.0, warmup=50, total=500)
    s = HParams(batch_size=8, learning_rate=1.0, epochs=1, warmup_fraction=0.1, time_budget_s=100.0)
    # 1 s/step after a slow first (tracing) phase: 90 % of 100 s fits about 90 steps.
    planned = _fit_budget(schedule, 500, 500, steps=25, elapsed=30.0, ref=(5, 10.0), s=s, desc="t")
    assert planned == 25 + 60 and float(schedule.total.numpy()) == 85.0
    assert float(schedule.warmup.numpy()) == pytest.approx(8.5)
    # faster later on: the plan grows again, never beyond the full schedule
    assert _fit_budget(schedule, 500, planned, steps=50, elapsed=31.0, ref=(5, 30.0), s=s, desc="t") == 500


def test_eval_set_sample_keeps_whole_texts():
    windows = [np.array([2, i, 3]) for i in range(7)]
    owner = np.array([0, 0, 1, 2, 2, 2, 3])
    ev = EvalSet(windows, owner, np.array([0, 1, 0, 1]))
    assert ev.sample(10) is ev
    small = ev.sample(2, seed=3)
    assert len(small.y) == 2 and sorted(set(small.owner.tolist())) == [0, 1]
    kept = [int(w[1]) for w in small.windows]
    groups = {0: [0, 1], 1: [2], 2: [3, 4, 5], 3: [6]}
    assert sorted(kept) == sorted(sum((groups[t] for t in groups if set(groups[t]) & set(kept)), []))


def test_each_stage_hands_its_own_hyperparameters_to_the_loop():
    """The teacher's and the student's loops get their stage's HParams as they are (no field
    copied by name, so nothing falls back to a default quietly), with their own defaults."""
    from modelprep.config import TeacherConfig

    t, d = TeacherConfig().hparams, DistillConfig().hparams
    assert (t.class_weights, t.time_budget_s, t.epochs, t.batch_size) == (True, 480.0, 3, 32)
    assert (d.class_weights, d.time_budget_s, d.epochs, d.batch_size, d.weight_decay) == (False, 300.0, 8, 64, 0.1)
    with pytest.raises(TypeError):
        TeacherConfig(epochs=3)  # hyperparameters live in `hparams` only


def test_progress_bars_only_on_a_terminal(capsys):
    from modelprep.loop import progress

    assert list(progress(range(3), "work")) == [0, 1, 2]
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal: no bar, no '\r'
