"""The simple baselines on the same splits: TF-IDF + logistic regression and fastText.

    python bench/baselines.py [sms_spam ag_news ...]

TF-IDF+LR (modelprep.ngram): analyzer (word 1-2 / char_wb 2-5, or char 1-3 for CJK)
and C in {1, 4, 16, 64} chosen on a stratified 10 % validation split of train.csv, then
refit on all of train.csv. fastText (PyPI fasttext-numpy2-wheel): 25 epochs, word
bigrams, dim 50, CJK text split per character. Both are scored on test.csv only.
bench/modelprep.py calls `run_baselines` in the same run as the pipeline.
"""
from __future__ import annotations

import csv
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
_CJK_CHAR = re.compile("([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")


def read_csv(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [" ".join(r["text"].split()) for r in rows], [r["label"] for r in rows]


def _scores(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
            "errors": int(np.sum(np.asarray(y_true) != np.asarray(y_pred)))}


def tfidf_lr(train: tuple, test: tuple, seed: int = 0) -> dict:
    from sklearn.model_selection import train_test_split

    from modelprep.ngram import fit_ngram_model, refit

    texts, labels = train
    names = sorted(set(labels))
    y = np.array([names.index(lab) for lab in labels])
    t0 = time.perf_counter()
    tr, va = train_test_split(np.arange(len(y)), test_size=0.1, stratify=y, random_state=seed)
    chosen = fit_ngram_model([texts[i] for i in tr], y[tr], [texts[i] for i in va], y[va], len(names))
    model = refit(chosen, texts, y)
    seconds = time.perf_counter() - t0
    y_test = np.array([names.index(lab) for lab in test[1]])
    pred = model.predict_proba(test[0]).argmax(1)
    return {**_scores(y_test, pred), "seconds": round(seconds, 1), "analyzer": model.analyzer, "C": model.C}


def _fasttext_line(text: str) -> str:
    return " ".join(_CJK_CHAR.sub(r" \1 ", text.lower()).split())


def fasttext(train: tuple, test: tuple, seed: int = 0) -> dict:
    import fasttext as ft

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_text("".join(f"__label__{lab.replace(' ', '_')} {_fasttext_line(t)}\n"
                                for t, lab in zip(*train)), "utf-8")
        model = ft.train_supervised(str(path), epoch=25, wordNgrams=2, dim=50, seed=seed, thread=2, verbose=0)
    seconds = time.perf_counter() - t0
    labels = [model.predict(_fasttext_line(t))[0][0].removeprefix("__label__") for t in test[0]]
    truth = [lab.replace(" ", "_") for lab in test[1]]
    return {**_scores(truth, labels), "seconds": round(seconds, 1)}


def run_baselines(folder: Path) -> dict:
    train, test = read_csv(folder / "train.csv"), read_csv(folder / "test.csv")
    out = {"tfidf_lr": tfidf_lr(train, test)}
    try:
        out["fasttext"] = fasttext(train, test)
    except ImportError:
        out["fasttext"] = {"error": "fasttext not installed (pip install fasttext-numpy2-wheel)"}
    return out


def main() -> int:
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    os.environ.setdefault("PYTHONHASHSEED", "0")
    names = sys.argv[1:] or ["sms_spam", "ag_news", "chnsenticorp", "waimai", "online_shopping"]
    print("| data set | TF-IDF+LR acc / F1 (errors) | analyzer, C | fastText acc / F1 (errors) | seconds |")
    print("|---|---|---|---|---|")
    for name in names:
        r = run_baselines(DATA / name if not Path(name).is_dir() else Path(name))
        lr, ft = r["tfidf_lr"], r["fasttext"]
        ftc = f"{ft['accuracy']:.4f} / {ft['macro_f1']:.4f} ({ft['errors']})" if "accuracy" in ft else ft["error"]
        print(f"| {name} | {lr['accuracy']:.4f} / {lr['macro_f1']:.4f} ({lr['errors']}) | {lr['analyzer']}, "
              f"{lr['C']:g} | {ftc} | {lr['seconds']} + {ft.get('seconds', '-')} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
