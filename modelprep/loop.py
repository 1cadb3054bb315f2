"""One training loop for the teacher fine-tune and the student distillation.

Loss per example: `has_soft * alpha * T^2 * KL(teacher_T || student_T)` plus
`ce_weight * CE(y, student)`, where `ce_weight` folds in class weights, `1 - alpha`
for rows with soft targets, and 0 for rows without a hard label. The teacher is the
case with no soft targets. AdamW, warmup + linear decay, length-bucketed batches padded
per batch, early stopping on the validation macro-F1 (texts windowed as in the app).
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tf_keras
from sklearn.metrics import f1_score
from tqdm.auto import tqdm

from modelprep import progress as progress_json
from modelprep.config import DistillConfig, HParams
from textsort.core.protocol import Event

from textsort.core.encoding import aggregate, softmax

log = logging.getLogger(__name__)
SPEC = tf.TensorSpec([None, None], tf.int32)


def progress(iterable, desc: str | None, **kw):
    """A tqdm bar on a terminal only; into a file or pipe the log's one line per stage and
    per epoch says enough (no thousands of carriage-return bars)."""
    if desc is not None and progress_json.enabled():
        iterable = progress_json.steps(iterable, desc)
    return tqdm(iterable, desc=desc, leave=False, disable=desc is None or not sys.stderr.isatty(), **kw)


@dataclass
class Examples:
    windows: list[np.ndarray]        # one token window per example ([cls] ... [sep])
    y: np.ndarray                    # int hard label, -1 where there is none
    soft: np.ndarray | None = None   # teacher logits [n, k] (nan rows: no soft target)


@dataclass
class EvalSet:
    windows: list[np.ndarray]        # every window of every text
    owner: np.ndarray                # text index of each window
    y: np.ndarray                    # true label per text

    def sample(self, n: int, seed: int = 0) -> "EvalSet":
        """At most n texts (all their windows), drawn at random: a cheaper early-stopping signal."""
        if len(self.y) <= n:
            return self
        keep = np.sort(np.random.default_rng(seed).permutation(len(self.y))[:n])
        new_index = np.full(len(self.y), -1)
        new_index[keep] = np.arange(len(keep))
        rows = np.flatnonzero(new_index[self.owner] >= 0)
        return EvalSet([self.windows[i] for i in rows], new_index[self.owner[rows]], self.y[keep])


def device_name() -> str:
    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


PRECISIONS = ("auto", "float32", "mixed_bfloat16")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # CPUs whose bfloat16 matmuls are native, not emulated


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return set()


def resolve_precision(name: str) -> str:
    """"auto" -> "mixed_bfloat16" on an Ampere-or-newer GPU or a CPU with native bfloat16
    (avx512_bf16/amx: the e5 teacher step is 1.36x faster at 128 tokens, bench/teacher_step.py), else "float32"."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name != "auto":
        return name
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0)
        return "mixed_bfloat16" if tuple(cc) >= (8, 0) else "float32"
    return "mixed_bfloat16" if _cpu_flags() & set(BF16_CPU_FLAGS) else "float32"


class WarmupLinear(tf_keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `peak`, then linear decay to 0 at `total` (a variable: it can shrink)."""

    def __init__(self, peak: float, warmup: int, total: int):
        self.peak = peak
        self.warmup = tf.Variable(float(max(warmup, 1)), trainable=False)
        self.total = tf.Variable(float(max(total, 1)), trainable=False)

    def __call__(self, step):
        step = tf.cast(step, tf.float32) + 1.0
        up = step / self.warmup
        down = tf.maximum(0.0, (self.total - step) / tf.maximum(self.total - self.warmup, 1.0))
        return self.peak * tf.minimum(up, down)

    def get_config(self):
        return {"peak": self.peak}


def pad_batch(windows: list[np.ndarray], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    length = max(len(w) for w in windows)
    ids = np.full((len(windows), length), pad_id, np.int32)
    mask = np.zeros((len(windows), length), np.int32)
    for i, w in enumerate(windows):
        ids[i, : len(w)], mask[i, : len(w)] = w, 1
    return ids, mask


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Index batches of similar length (shuffled within pools of 50 batches) -> little padding."""
    order = rng.permutation(len(lengths)) if rng is not None else np.arange(len(lengths))
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def predict_logits(model, windows: list[np.ndarray], batch_size: int = 64, pad_id: int = 0,
                   desc: str | None = None) -> np.ndarray:
    """Logits of each window (eval mode), batched by length."""
    fn = getattr(model, "_textsort_predict", None)
    if fn is None:
        fn = tf.function(lambda ids, mask: model({"input_ids": ids, "attention_mask": mask}, training=False),
                         input_signature=[SPEC, SPEC])
        model._textsort_predict = fn
    lengths = np.array([len(w) for w in windows])
    out = None
    for idx in progress(bucketed_batches(lengths, batch_size, None), desc):
        logits = fn(*pad_batch([windows[i] for i in idx], pad_id)).numpy()
        if out is None:
            out = np.zeros((len(windows), logits.shape[1]), np.float32)
        out[idx] = logits
    return out


def predict_texts(model, ev: EvalSet, batch_size: int = 64, pad_id: int = 0, desc: str | None = None) -> np.ndarray:
    """Per-text probabilities: mean of window softmaxes (textsort.core.encoding.aggregate)."""
    logits = predict_logits(model, ev.windows, batch_size, pad_id, desc)
    return aggregate(softmax(logits), ev.owner, len(ev.y))[0]


def macro_f1(y: np.ndarray, probs: np.ndarray) -> float:
    return float(f1_score(y, probs.argmax(1), average="macro", zero_division=0))


def _ce_weights(y: np.ndarray, has_soft: np.ndarray, n_labels: int, class_weights: bool,
                alpha: float) -> np.ndarray:
    w = np.ones(len(y), np.float32)
    if class_weights:
        hard = y[y >= 0]
        counts = np.bincount(hard, minlength=n_labels).astype(np.float32)
        per_class = len(hard) / (n_labels * np.maximum(counts, 1))
        w = per_class[np.maximum(y, 0)].astype(np.float32)
    w[has_soft > 0] *= 1.0 - alpha
    w[y < 0] = 0.0
    return w


def _fit_budget(schedule: WarmupLinear, full_plan: int, planned: int, steps: int, elapsed: float,
                ref: tuple[int, float], s: HParams, desc: str) -> int:
    """Re-plan the total steps so training (plus evaluations, 10 % kept) ends within the budget."""
    per_step = (elapsed - ref[1]) / (steps - ref[0])
    fits = steps + int((0.9 * s.time_budget_s - elapsed) / per_step)
    new = max(steps + 1, min(full_plan, fits))
    if abs(new - planned) > 0.05 * planned:
        log.info("%s: %.2f s/step, the time budget allows about %d steps", desc, per_step, new)
    if new != planned:
        schedule.total.assign(float(new))
        schedule.warmup.assign(float(max(1, min(int(full_plan * s.warmup_fraction), new * s.warmup_fraction))))
    return new


def soft_term(logits, soft, T: float, kind: str):
    """Per example, how far the student's logits are from the teacher's: `T^2 * KL(teacher_T ||
    student_T)` ("kl"), or the mean squared difference of the centred logits ("mse", logit
    matching as in Tang et al. 2019; centring drops the constant that softmax ignores)."""
    if kind == "mse":
        d = logits - soft
        d = d - tf.reduce_mean(d, -1, keepdims=True)
        return tf.reduce_mean(d * d, -1)
    p_t = tf.nn.softmax(soft / T)
    return T * T * tf.reduce_sum(p_t * (tf.math.log(p_t + 1e-9) - tf.nn.log_softmax(logits / T)), -1)


def _descend(model, opt, T: float, alpha: float, kind: str, reduce, ids, mask, yb, soft_b, has_soft_b, ce_b):
    """One gradient step on one batch. Per example: the (class-weighted) cross-entropy plus,
    for rows with soft targets, alpha * `soft_term`; `reduce` turns those into the loss (the
    mean, or a replica's share of a global sum)."""
    with tf.GradientTape() as tape:
        logits = model({"input_ids": ids, "attention_mask": mask}, training=True)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits) * ce_b
        soft = soft_term(logits, soft_b, T, kind)
        loss = reduce(ce + alpha * soft * has_soft_b)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def _distributed_step(model, opt, dist, T: float, alpha: float, kind: str, global_batch: float):
    """One global step under `dist.strategy`: `parts` holds this worker's batch for each
    of its replicas; each replica's loss is its sum over the global batch (so the summed
    gradients are the global mean); returns the global loss."""
    strategy = dist.strategy

    def replica_step(*batch):  # apply_gradients all-reduces across replicas
        return _descend(model, opt, T, alpha, kind, lambda per_example: tf.reduce_sum(per_example) / global_batch, *batch)

    @tf.function(reduce_retracing=True)
    def run(*values):
        per_replica = strategy.run(replica_step, args=values)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    def step(parts):
        cast = [(np.asarray(ids, np.int32), np.asarray(mask, np.int32), np.asarray(yb, np.int32),
                 np.asarray(sb, np.float32), np.asarray(hb, np.float32), np.asarray(cb, np.float32))
                for ids, mask, yb, sb, hb, cb in parts]
        values = [strategy.experimental_distribute_values_from_function(
            lambda ctx, j=j: tf.constant(cast[ctx.replica_id_in_sync_group % len(cast)][j])) for j in range(6)]
        return run(*values)

    return step


def seed_everything(seed: int) -> None:
    """Python, numpy and TensorFlow seeds: call before building a model so its initial
    weights (and then its training) repeat from run to run."""
    tf_keras.utils.set_random_seed(seed)


def fit(model, train: Examples, val: EvalSet, n_labels: int, s: HParams, pad_id: int = 0,
        desc: str = "train", dist=None, distill: DistillConfig | None = None) -> tuple[dict, np.ndarray]:
    """Train in place and restore the best epoch's weights. `distill`: how rows with soft
    targets learn from them (its temperature, alpha and kind); None: hard labels only (the
    teacher). `dist` (modelprep.distribute): the model was built under its strategy's scope;
    each step takes one batch per replica.

    Returns (history, validation probabilities of the best epoch [n_val_texts, k])."""
    rng = np.random.default_rng(s.seed)
    tf.random.set_seed(s.seed)
    n = len(train.windows)
    soft = train.soft if train.soft is not None else np.full((n, n_labels), np.nan, np.float32)
    has_soft = (~np.isnan(soft).any(axis=1)).astype(np.float32)
    soft = np.nan_to_num(soft).astype(np.float32)
    d = distill or DistillConfig(temperature=1.0, alpha=0.0)
    T, alpha, kind = float(d.temperature), float(d.alpha), d.soft_loss
    if kind not in ("kl", "mse"):
        raise ValueError(f"soft_loss must be 'kl' or 'mse', not {kind!r}")
    ce_w = _ce_weights(train.y, has_soft, n_labels, s.class_weights, alpha)
    y = np.maximum(train.y, 0).astype(np.int32)
    lengths = np.array([len(w) for w in train.windows])

    replicas = dist.replicas if dist else 1
    per_epoch = -(-n // (s.batch_size * replicas))  # global steps: one batch per replica each
    planned = per_epoch * s.epochs if s.max_steps is None else min(per_epoch * s.epochs, s.max_steps)
    scope = dist.strategy.scope() if dist else contextlib.nullcontext()
    # AdamW with a `replicas` times larger batch: the square-root scaling rule (Malladi et
    # al., 2022, "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms")
    peak = s.learning_rate * replicas ** 0.5
    with scope:
        schedule = WarmupLinear(peak, int(planned * s.warmup_fraction), planned)
        opt = tf_keras.optimizers.AdamW(learning_rate=schedule, weight_decay=s.weight_decay, epsilon=1e-6)
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    global_batch = float(s.batch_size * replicas)

    @tf.function(input_signature=[SPEC, SPEC, tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None, n_labels], tf.float32),
                                  tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32)])
    def step(ids, mask, yb, soft_b, has_soft_b, ce_b):
        return _descend(model, opt, T, alpha, kind, tf.reduce_mean, ids, mask, yb, soft_b, has_soft_b, ce_b)

    if dist is not None:
        step = _distributed_step(model, opt, dist, T, alpha, kind, global_batch)

    log.info("%s: %d examples, %d steps planned, batch %d, on %s", desc, n, planned, s.batch_size, device_name())
    start, steps, history, full_plan, ref = time.perf_counter(), 0, [], planned, (0, 0.0)
    best_f1, best_epoch, best_weights, stale, out_of_time = -1.0, -1, None, 0, False
    for epoch in range(s.epochs):
        batches = bucketed_batches(lengths, s.batch_size, rng)  # the same list on every worker (same seed)
        if dist is not None:  # this worker's share: `local_replicas` batches per global step
            mine = batches[dist.task::dist.workers]
            k = dist.local_replicas
            steps_here = len(batches) // (dist.workers * k)
            if steps_here == 0:
                raise ValueError(f"{n} training texts make {len(batches)} batches of {s.batch_size}, fewer than the "
                                 f"{dist.replicas} replicas: train on one device (TEXTSORT_DISTRIBUTE=off)")
            batches = [mine[i * k:(i + 1) * k] for i in range(steps_here)]
        bar = tqdm(batches, desc=f"{desc} epoch {epoch + 1}/{s.epochs}", leave=False, disable=not sys.stderr.isatty())
        losses = []
        for idx in bar:
            if dist is None:
                ids, mask = pad_batch([train.windows[i] for i in idx], pad_id)
                losses.append(float(step(ids, mask, y[idx], soft[idx], has_soft[idx], ce_w[idx])))
            else:
                parts = [(*pad_batch([train.windows[i] for i in b], pad_id), y[b], soft[b], has_soft[b], ce_w[b])
                         for b in idx]
                losses.append(float(step(parts)))
            steps += 1
            elapsed = time.perf_counter() - start
            synced = dist is None or steps == 5 or steps % 25 == 0  # workers agree on time only here
            if dist is not None and synced:
                elapsed = dist.sync_max(elapsed)
            if steps == 5:
                ref = (steps, elapsed)  # after tracing and warm-up
            if s.time_budget_s and steps > ref[0] and steps % 25 == 0:
                planned = _fit_budget(schedule, full_plan, planned, steps, elapsed, ref, s, desc)
            if steps % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-10:]):.4f}")
            progress_json.step(desc, steps, planned, loss=round(float(np.mean(losses[-10:])), 4))
            out_of_time = steps >= planned or bool(s.time_budget_s and synced and elapsed > s.time_budget_s)
            if out_of_time:
                break
        probs = predict_texts(model, val, 2 * s.batch_size, pad_id)
        f1 = macro_f1(val.y, probs)
        history.append({"epoch": epoch + 1, "steps": steps, "loss": float(np.mean(losses)), "val_macro_f1": f1,
                        "elapsed_s": round(time.perf_counter() - start, 1)})
        log.info("%s epoch %d: loss %.4f, validation macro-F1 %.4f", desc, epoch + 1, np.mean(losses), f1)
        progress_json.emit(Event.EVAL, what=desc, epoch=epoch + 1, step=steps, loss=round(float(np.mean(losses)), 4),
                           val_macro_f1=round(f1, 4))
        if f1 > best_f1:
            best_f1, best_epoch, best_weights, best_probs, stale = f1, epoch + 1, model.get_weights(), probs, 0
        else:
            stale += 1
        if out_of_time or stale >= s.patience:
            break
    model.set_weights(best_weights)
    return {"history": history, "best_epoch": best_epoch, "best_val_macro_f1": best_f1, "steps": steps,
            "device": device_name(), "seconds": round(time.perf_counter() - start, 1)}, best_probs
