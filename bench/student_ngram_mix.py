"""Would the shipped student gain from its teacher's n-gram half at run time? The int8
student of a bundle (through the runtime) mixed with the n-gram stage's TF-IDF + LR model
of the same work folder, `w * p_student + (1 - w) * p_ngram`, on validation and test:

    python bench/student_ngram_mix.py ag_news runs/bench/ag_news.textsort runs/bench/work/ag_news

One table row per weight; pick the weight on validation, read the test column.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    name, bundle, work = sys.argv[1:4]
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    from bench.modelprep import data_folder
    from modelprep.data import prepare
    from modelprep.ngram import load_model
    from textsort.core.engine import Classifier

    folder = data_folder(name)
    data = prepare(folder / "train.csv", test_path=folder / "test.csv")
    clf = Classifier(bundle, threads=2)
    order = [clf.labels.index(label) for label in data.labels]
    ngram = load_model(Path(work) / "ngram" / "ngram.pkl")
    student = {s: clf.predict_proba(getattr(data, s).texts)[:, order] for s in ("val", "test")}
    grams = {s: ngram.predict_proba(getattr(data, s).texts) for s in ("val", "test")}
    print("| student weight | validation acc | test acc |\n|---|---|---|")
    for w in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.0):
        acc = {s: float(np.mean((w * student[s] + (1 - w) * grams[s]).argmax(1) == getattr(data, s).y))
               for s in ("val", "test")}
        print(f"| {w:.1f} | {acc['val']:.4f} | {acc['test']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
