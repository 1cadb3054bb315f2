"""How long a training run will take here: seconds per step measured on this machine
(a few real AdamW steps of the chosen teacher and of the student, cached per machine in
the user's cache folder), times the steps the pipeline plans, capped by its time budgets.

It is an estimate: teacher evaluation, the n-gram model and the export are small fixed
costs, and a run stops early when validation stops improving.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from modelprep.config import PipelineConfig, for_few_labels

MEASURE_STEPS = 3


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "textsort" / "step_seconds.json"


def _time_steps(model, n_labels: int, batch: int, length: int, vocab: int) -> float:
    import tensorflow as tf
    import tf_keras

    opt = tf_keras.optimizers.AdamW(learning_rate=1e-5)
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec, spec, tf.TensorSpec([None], tf.int32)])
    def step(ids, mask, y):
        with tf.GradientTape() as tape:
            logits = model({"input_ids": ids, "attention_mask": mask}, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng = np.random.default_rng(0)
    ids = rng.integers(5, max(6, min(1000, vocab)), (batch, length)).astype(np.int32)
    mask, y = np.ones_like(ids), rng.integers(0, n_labels, batch).astype(np.int32)
    step(ids, mask, y)  # tracing
    t0 = time.perf_counter()
    for _ in range(MEASURE_STEPS):
        step(ids, mask, y)
    return (time.perf_counter() - t0) / MEASURE_STEPS


def step_seconds(source, n_labels: int, cfg: PipelineConfig, length: int) -> dict:
    """{"teacher": s/step, "student": s/step, "cached": bool} for windows of `length` tokens."""
    from modelprep.bert import build_teacher
    from modelprep.loop import device_name, resolve_precision
    from modelprep.student import build_student

    precision = resolve_precision(cfg.teacher.precision)
    key = (f"{source.name}|{source.config.vocab_size}|{source.config.num_hidden_layers}|{device_name()}|"
           f"{precision}|{cfg.teacher.hparams.batch_size}|{cfg.distill.hparams.batch_size}|{length}")
    path = cache_file()
    try:
        cached = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        cached = {}
    if isinstance(cached.get(key), dict):
        return {**cached[key], "cached": True}
    teacher = build_teacher(source, n_labels, cfg.teacher.pooling, cfg.teacher.dropout, load_pretrained=False,
                            precision=precision)
    t = _time_steps(teacher, n_labels, cfg.teacher.hparams.batch_size, length, source.config.vocab_size)
    student = build_student(source.config.vocab_size, n_labels, cfg.student)
    s = _time_steps(student, n_labels, cfg.distill.hparams.batch_size, length, source.config.vocab_size)
    cached[key] = {"teacher": round(t, 4), "student": round(s, 4)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cached, indent=1), "utf-8")
    except OSError:
        pass  # no cache: measured again next time
    return {**cached[key], "cached": False}


def estimate_seconds(n_train: int, n_val: int, cfg: PipelineConfig, steps: dict, few: bool = False,
                     n_pool: int = 0) -> dict:
    """Seconds per part and in total, from measured seconds per step. `few`: the few-label
    teacher (modelprep.fewshot), which reads every text once instead of training."""
    cfg = for_few_labels(cfg) if few else cfg
    tc, dc, xc = cfg.teacher.hparams, cfg.distill.hparams, cfg.transfer
    runs = 1 + len(cfg.distill.alpha_alternatives)
    if few:
        forward = steps["teacher"] / 3 / tc.batch_size
        pool = min(n_pool, cfg.pool.max_texts)
        reading = min((n_train + pool) * forward, cfg.pool.embed_time_budget_s + n_train * forward)
        transfer = min(pool + n_train * (1 + xc.augment_copies), xc.max_transfer_texts)
        student = runs * min(math.ceil(transfer / dc.batch_size) * dc.epochs * steps["student"],
                             dc.time_budget_s or math.inf)
        parts = {"reading the texts": round(reading), "teacher (cross-validated)": round(10 + 0.004 * pool),
                 "student": round(student), "export and checks": round(70 + 2 * n_train * forward)}
        return {"seconds": int(sum(parts.values())), "parts": parts, "teacher_steps": 0, "s_per_step": steps}
    teacher_steps = math.ceil(n_train / tc.batch_size) * tc.epochs
    if tc.max_steps is not None:
        teacher_steps = min(teacher_steps, tc.max_steps)
    forward = steps["teacher"] / 3 / tc.batch_size  # a forward pass costs about a third of a step, per text
    teacher = min(teacher_steps * steps["teacher"], (tc.time_budget_s or math.inf) * 0.9)
    teacher += tc.epochs * min(n_val, cfg.teacher.max_eval_texts) * forward
    labelled = min(n_train * (1 + xc.augment_copies), xc.max_transfer_texts)
    labelling = min(labelled * forward, xc.label_time_budget_s or math.inf)
    student = runs * min(math.ceil(labelled / dc.batch_size) * dc.epochs * steps["student"],
                         dc.time_budget_s or math.inf)
    parts = {"teacher": round(teacher), "teacher labelling": round(labelling), "student": round(student),
             "export and checks": round(30 + 2 * (n_val + 1) * forward)}
    return {"seconds": int(sum(parts.values())), "parts": parts, "teacher_steps": teacher_steps,
            "s_per_step": steps}
