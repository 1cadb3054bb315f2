"""Would averaging the students the pipeline already trains help? Distillation trains one
student per alpha (`DistillConfig.alpha` and `alpha_alternatives`) and keeps the best on
validation; this trains them again on the transfer set of a `bench/modelprep.py` work folder
and scores the kept one and the average of all (float32 Keras, test.csv):

    python bench/student_ensemble.py ag_news runs/bench/work/ag_news [SEED ...]

Prints one line per student and per average. Two default students in one graph would be
about 2 x the MB and ms of one (still within the default rung's 12 MB and 1 ms).
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    name, work, *seeds = sys.argv[1:]
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench.modelprep import data_folder
    from modelprep.config import PipelineConfig
    from modelprep.loop import Examples, fit, predict_texts, seed_everything
    from modelprep.pipeline import WORD_EMBEDDINGS, StageRunner, prepare_data
    from modelprep.student import build_student

    cfg, folder, transfer = PipelineConfig(), data_folder(name), Path(work) / "transfer"
    p = prepare_data(StageRunner(Path(work).parent / "ensemble-scratch"), folder / "train.csv", cfg,
                     folder / "test.csv")
    saved, texts = np.load(transfer / "soft_targets.npz"), json.loads((transfer / "texts.json").read_text("utf-8"))
    y, logits = saved["y"], saved["logits"]
    useful = np.flatnonzero((y >= 0) | ~np.isnan(logits).any(axis=1))
    windows, _ = p.encoder.encode_batch([texts[i] for i in useful], first_window_only=True)
    examples = Examples(windows, y[useful], logits[useful])
    acc = lambda probs, truth: float(np.mean(probs.argmax(1) == truth))  # noqa: E731
    probs = {}
    for seed in [int(s) for s in seeds] or [cfg.distill.hparams.seed]:
        for alpha in dict.fromkeys((cfg.distill.alpha, *cfg.distill.alpha_alternatives)):
            seed_everything(seed)
            model = build_student(p.source.config.vocab_size, len(p.labels), cfg.student,
                                  teacher_table=p.source.weights[WORD_EMBEDDINGS])
            t0 = time.perf_counter()
            _, val = fit(model, examples, p.val, len(p.labels), replace(cfg.distill.hparams, seed=seed),
                         p.source.pad_id, f"alpha {alpha}, seed {seed}", distill=replace(cfg.distill, alpha=alpha))
            probs[(alpha, seed)] = val, predict_texts(model, p.test, 128, p.source.pad_id)
            print(f"alpha {alpha}, seed {seed}: validation {acc(val, p.val.y):.4f}, test "
                  f"{acc(probs[(alpha, seed)][1], p.test.y):.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    kept = max(probs, key=lambda k: acc(probs[k][0], p.val.y))
    print(f"kept on validation {kept}: test {acc(probs[kept][1], p.test.y):.4f}")
    print(f"average of all {len(probs)}: validation {acc(np.mean([v for v, _ in probs.values()], 0), p.val.y):.4f}, "
          f"test {acc(np.mean([t for _, t in probs.values()], 0), p.test.y):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
