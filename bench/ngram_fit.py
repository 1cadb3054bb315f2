"""The n-gram model's C search (`modelprep.ngram.fit_ngram_model`) one fit after the
other (`NgramConfig(jobs=1)`) against side by side (one process per core), same data,
same run:

    python bench/ngram_fit.py [chnsenticorp ag_news online_shopping ...] [--parallel-only]

Fits on a stratified 90 % of train.csv and chooses on the other 10 %, as the pipeline's
n-gram stage does. Prints per data set: seconds each way, the ratio, and whether every
C's validation accuracy is the same. `--parallel-only` skips the one-by-one run (for a
set whose one-by-one time is already known).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]


def main() -> int:
    from sklearn.model_selection import train_test_split

    from bench.baselines import read_csv
    from bench.modelprep import data_folder
    from modelprep.ngram import fit_ngram_model
    from modelprep.config import NgramConfig

    args = sys.argv[1:]
    parallel_only = "--parallel-only" in args
    names = [a for a in args if a != "--parallel-only"] or ["chnsenticorp", "ag_news"]
    print(f"{os.cpu_count()} cores")
    print("| data set | fit rows | one by one s | side by side s | ratio | same accuracies | C chosen |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        texts, labels = read_csv(data_folder(name) / "train.csv")
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels])
        tr_t, va_t, tr_y, va_y = train_test_split(texts, y, test_size=0.1, stratify=y, random_state=13)
        runs = {}
        for jobs in ([None] if parallel_only else [1, None]):
            t0 = time.perf_counter()
            model = fit_ngram_model(tr_t, tr_y, va_t, va_y, len(classes), replace(NgramConfig(), jobs=jobs))
            runs[jobs] = (time.perf_counter() - t0, [s["val_accuracy"] for s in model.selection], model.C)
        seq, par = runs.get(1), runs[None]
        print(f"| {name} | {len(tr_t)} | {f'{seq[0]:.1f}' if seq else '—'} | {par[0]:.1f} | "
              f"{f'{par[0] / seq[0]:.2f}' if seq else '—'} | {seq[1] == par[1] if seq else '—'} | {par[2]:g} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
