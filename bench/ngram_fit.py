"""The n-gram model's C search: each C fitted from zero against warm-started in increasing
order (what `modelprep.baselines.fit_ngram_model` does), same data, same run.

    python bench/ngram_fit.py [online_shopping chnsenticorp ag_news ...]

Fits on a stratified 90 % of train.csv, chooses on the other 10 % (as the pipeline's n-gram
stage does) and prints per data set: seconds for the whole search each way, the ratio,
the C chosen and its validation accuracy each way.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]


def cold_search(train_texts, train_y, val_texts, val_y, cfg):
    """The search before warm starts: a fresh LogisticRegression per C."""
    from modelprep.baselines import _classifier, _vectorizer, analyzers_for

    best = None
    for name in cfg.analyzers or analyzers_for(train_texts):
        vec = _vectorizer(name, cfg)
        Xtr, Xva = vec.fit_transform(train_texts), vec.transform(val_texts)
        for C in cfg.c_grid:
            acc = float(np.mean(_classifier(C, cfg.seed).fit(Xtr, train_y).predict(Xva) == val_y))
            if best is None or acc > best[0]:
                best = (acc, name, C)
    return best


def main() -> int:
    from sklearn.model_selection import train_test_split

    from bench.baselines import read_csv
    from bench.modelprep import data_folder
    from modelprep.baselines import fit_ngram_model
    from modelprep.config import NgramConfig

    names = sys.argv[1:] or ["online_shopping", "chnsenticorp", "ag_news"]
    print("| data set | fit rows | cold search s | warm search s | warm / cold | cold: C, val acc | warm: C, val acc |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        texts, labels = read_csv(data_folder(name) / "train.csv")
        labels_sorted = sorted(set(labels))
        y = np.array([labels_sorted.index(v) for v in labels])
        tr_t, va_t, tr_y, va_y = train_test_split(texts, y, test_size=0.1, stratify=y, random_state=13)
        cfg = NgramConfig()
        t0 = time.perf_counter()
        cold = cold_search(tr_t, tr_y, va_t, va_y, cfg)
        t1 = time.perf_counter()
        warm = fit_ngram_model(tr_t, tr_y, va_t, va_y, len(labels_sorted), cfg)
        t2 = time.perf_counter()
        warm_acc = max(s["val_accuracy"] for s in warm.selection)
        print(f"| {name} | {len(tr_t)} | {t1 - t0:.1f} | {t2 - t1:.1f} | {(t2 - t1) / (t1 - t0):.2f} | "
              f"{cold[2]:g}, {cold[0]:.4f} | {warm.C:g}, {warm_acc:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
