"""Teacher training-step cost: float32 vs mixed bfloat16 (and XLA), same model, same batch.

    python bench/teacher_step.py [--teacher e5|minilm] [--lengths 24 64 128] [--steps 5]

Builds the teacher exactly as the pipeline does (e5: vocabulary pruned to
../shared/data/chnsenticorp/train.csv when it exists), then times one AdamW step on a
batch of 32 random token windows per (precision, length), each in a fresh process so
that the Keras mixed-precision policy and the thread pools start clean. Prints a table
of seconds per step and the speed-up over float32 at the same length.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# bench/modelprep.py would shadow the modelprep package when run as `python bench/...`
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
CHN = REPO.parent / "shared" / "data" / "chnsenticorp" / "train.csv"
MODES = ("float32", "mixed_bfloat16", "float32+xla")


def one(teacher: str, mode: str, length: int, steps: int) -> float:
    import numpy as np
    import tensorflow as tf
    import tf_keras

    from modelprep.bert import build_teacher
    from modelprep.teachers import choose_teacher

    source, _ = choose_teacher(["x"], teacher)
    if teacher == "e5":
        from modelprep.vocab import prune_source

        texts = [r["text"] for r in csv.DictReader(CHN.open(encoding="utf-8"))] if CHN.is_file() else ["示例文本"]
        source = prune_source(source, texts)
    model = build_teacher(source, 2, precision=mode.split("+")[0])
    opt = tf_keras.optimizers.AdamW(learning_rate=2e-5)
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec, spec, tf.TensorSpec([None], tf.int32)], jit_compile=mode.endswith("xla"))
    def step(ids, mask, y):
        with tf.GradientTape() as tape:
            logits = model({"input_ids": ids, "attention_mask": mask}, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    rng = np.random.default_rng(0)
    ids = rng.integers(5, min(1000, source.config.vocab_size), (32, length)).astype(np.int32)
    mask, y = np.ones_like(ids), rng.integers(0, 2, 32).astype(np.int32)
    for _ in range(2):  # tracing and warm-up
        step(ids, mask, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        step(ids, mask, y)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher", default="e5", choices=["e5", "minilm"])
    ap.add_argument("--lengths", type=int, nargs="+", default=[24, 64, 128])
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # child process: MODE LENGTH
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.teacher, a.one[0], int(a.one[1]), a.steps)))
        return
    rows = {}
    for length in a.lengths:
        for mode in a.modes:
            out = subprocess.run([sys.executable, __file__, "--teacher", a.teacher, "--steps", str(a.steps),
                                  "--one", mode, str(length)], capture_output=True, text=True, cwd=REPO)
            if out.returncode:
                sys.exit(f"{mode} at {length}: failed\n{out.stderr[-2000:]}")
            rows[mode, length] = float(out.stdout.strip().splitlines()[-1])
    print(f"teacher {a.teacher}, batch 32, AdamW step, seconds per step (speed-up over float32)")
    print(f"| tokens | {' | '.join(a.modes)} |")
    print("|---|" + "---|" * len(a.modes))
    for length in a.lengths:
        base = rows.get(("float32", length))
        cells = [f"{rows[m, length]:.2f}" + (f" ({base / rows[m, length]:.2f}x)" if base else "") for m in a.modes]
        print(f"| {length} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
