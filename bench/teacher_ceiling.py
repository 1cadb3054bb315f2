"""How good can the teacher get on this machine, with no time budget? The pipeline's own
teacher stage trained for N full epochs (early stopping keeps the best), then on the
test split: the teacher alone, the TF-IDF+LR half, and their mix (weight chosen on
validation, as the pipeline chooses it). Prints a table. Long: about 13 min per e5 epoch
of chnsenticorp on 2 cores.

    python bench/teacher_ceiling.py chnsenticorp [--epochs 3] [--work runs/ceiling]
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    import numpy as np

    from modelprep import pipeline as P
    from modelprep.ngram import fit_ngram_model
    from modelprep.config import PipelineConfig
    from modelprep.ensemble import choose_weight, mix
    from modelprep.loop import predict_texts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="a data set under ../shared/data")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "ceiling")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    folder = args.data / args.name
    cfg = PipelineConfig()
    cfg = replace(cfg, teacher=replace(cfg.teacher, hparams=replace(cfg.teacher.hparams, epochs=args.epochs, time_budget_s=4000,
                                                                   patience=args.epochs)))  # 66 min cap
    stages = P.StageRunner(args.work / f"{args.name}_{args.epochs}")
    p = P.prepare_data(stages, folder / "train.csv", cfg, folder / "test.csv")
    t0 = time.perf_counter()
    teacher = P.teacher_stage(stages, p, cfg)
    minutes = (time.perf_counter() - t0) / 60
    bert = predict_texts(teacher.model, p.test, 64, p.source.pad_id)
    ngram = fit_ngram_model(p.data.train.texts, p.data.train.y, p.data.val.texts, p.data.val.y, len(p.labels),
                            cfg.ngram)
    weight, _ = choose_weight(p.val.y, teacher.val_probs, ngram.predict_proba(p.data.val.texts), cfg.ngram)
    ng = ngram.predict_proba(p.data.test.texts)
    y = p.test.y
    history = teacher.record["training"]["history"]
    print(f"\n{args.name}: {p.source.name}, {args.epochs} epochs, "
          f"{'trained' if 'teacher' in stages.ran else 'reused'} ({minutes:.1f} min this run); validation macro-F1 "
          "by epoch: " + ", ".join(f"{h['val_macro_f1']:.4f}" for h in history))
    print("| model | test accuracy | test errors |\n|---|---|---|")
    for title, probs in ((f"{p.source.name} fine-tuned (best epoch)", bert), ("TF-IDF+LR (the n-gram half)", ng),
                         (f"mix, BERT weight {weight} (chosen on validation)", mix(bert, ng, weight))):
        wrong = int(np.sum(probs.argmax(1) != y))
        print(f"| {title} | {1 - wrong / len(y):.4f} | {wrong} |")


if __name__ == "__main__":
    main()
