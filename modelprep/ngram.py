"""The n-gram half of the teacher: TF-IDF + logistic regression (also the baseline a
shipped model must beat, bench/baselines.py).

Analyzers: word 1-2-grams and char_wb 2-5-grams for text that is mostly not CJK,
char 1-3-grams for CJK text (no word boundaries); sublinear tf. The analyzer and
C in {1, 4, 16, 64} are chosen on a validation split by accuracy; the C values (and the
out-of-fold models) are fitted side by side, `NgramConfig.jobs` processes (joblib; the
same models as one after the other). Plain scikit-learn, no TensorFlow.

`save_model` / `load_model` keep a fitted model in a work folder (pickle; work folders written while
this module was `modelprep.baselines` still load).

`out_of_fold_probs` scores every training text with a model that did not see it
(k-fold), so the teacher's n-gram half is not overconfident on its own training rows
or on augmented copies of them.
"""
from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from modelprep.config import NgramConfig
from textsort.core.language import cjk_share

log = logging.getLogger(__name__)
ANALYZERS = {"word_1_2": ("word", (1, 2)), "char_wb_2_5": ("char_wb", (2, 5)), "char_1_3": ("char", (1, 3))}
CJK_SHARE = 0.2  # above this share of CJK characters the text has no word boundaries to use


@dataclass
class NgramModel:
    analyzer: str
    C: float
    vectorizer: TfidfVectorizer
    classifier: LogisticRegression
    n_labels: int
    selection: list[dict] = field(default_factory=list)  # every (analyzer, C) tried, validation accuracy

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return _full_proba(self.classifier, self.vectorizer.transform(texts), self.n_labels)


_MOVED = {"modelprep.baselines": __name__}  # this module's name before 2026-12-07


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return super().find_class(_MOVED.get(module, module), name)


def save_model(model, path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(model, fh)


def load_model(path):
    """A model `save_model` wrote in this work folder (an n-gram stage's own output, not user input)."""
    with open(path, "rb") as fh:
        return _Unpickler(fh).load()


def analyzers_for(texts) -> tuple[str, ...]:
    return ("char_1_3",) if cjk_share(texts) > CJK_SHARE else ("word_1_2", "char_wb_2_5")


def _vectorizer(name: str, cfg: NgramConfig) -> TfidfVectorizer:
    analyzer, ngrams = ANALYZERS[name]
    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, min_df=cfg.min_df,
                           max_features=cfg.max_features, lowercase=True, dtype=np.float32)


def _classifier(C: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=2000, random_state=seed)


def _jobs(cfg: NgramConfig, tasks: int) -> int:
    return max(1, min(tasks, cfg.jobs or os.cpu_count() or 1))


def _fit_and_score(C: float, seed: int, Xtr, train_y, Xva, val_y) -> tuple[float, LogisticRegression]:
    clf = _classifier(C, seed).fit(Xtr, train_y)
    return float(np.mean(clf.predict(Xva) == val_y)), clf


def _full_proba(clf: LogisticRegression, X, n_labels: int) -> np.ndarray:
    """Probabilities over all labels (a fold may lack a rare class)."""
    out = np.zeros((X.shape[0], n_labels), np.float32)
    out[:, clf.classes_] = clf.predict_proba(X)
    return out


def fit_ngram_model(train_texts, train_y, val_texts, val_y, n_labels: int,
                    cfg: NgramConfig = NgramConfig()) -> NgramModel:
    """Choose the analyzer and C on the validation texts; the model is trained on the
    training texts only, so its validation numbers stay honest."""
    train_y, val_y = np.asarray(train_y), np.asarray(val_y)
    best, tried = None, []
    for name in cfg.analyzers or analyzers_for(train_texts):
        vec = _vectorizer(name, cfg)
        Xtr, Xva = vec.fit_transform(train_texts), vec.transform(val_texts)
        fit = delayed(_fit_and_score)
        fits = Parallel(n_jobs=_jobs(cfg, len(cfg.c_grid)))(fit(C, cfg.seed, Xtr, train_y, Xva, val_y)
                                                             for C in cfg.c_grid)
        for C, (acc, clf) in zip(cfg.c_grid, fits):
            tried.append({"analyzer": name, "C": C, "val_accuracy": round(acc, 5)})
            if best is None or acc > best[0]:
                best = (acc, name, C, vec, clf)
    _, name, C, vec, clf = best
    log.info("n-gram model: %s, C=%g (validation accuracy %.4f)", name, C, best[0])
    return NgramModel(name, C, vec, clf, n_labels, tried)


def refit(model: NgramModel, texts, y, cfg: NgramConfig = NgramConfig()) -> NgramModel:
    """The same analyzer and C trained on other texts (e.g. train + validation)."""
    vec = _vectorizer(model.analyzer, cfg)
    clf = _classifier(model.C, cfg.seed).fit(vec.fit_transform(texts), np.asarray(y))
    return NgramModel(model.analyzer, model.C, vec, clf, model.n_labels, model.selection)


def out_of_fold_probs(model: NgramModel, train_texts: list[str], y, texts: list[str], source: np.ndarray,
                      cfg: NgramConfig = NgramConfig()) -> np.ndarray:
    """Probabilities of `texts[i]`, which was made from `train_texts[source[i]]` (itself, or
    an augmented copy), from the fold model that was not trained on that training text."""
    y, source = np.asarray(y), np.asarray(source)
    probs = np.zeros((len(texts), model.n_labels), np.float32)
    folds = StratifiedKFold(n_splits=cfg.folds, shuffle=True, random_state=cfg.seed)
    fold_of = np.empty(len(y), np.int64)
    for k, (_, held) in enumerate(folds.split(np.zeros(len(y)), y)):
        fold_of[held] = k
    fold_of_text = np.where(source >= 0, fold_of[np.maximum(source, 0)], 0)  # -1: unlabelled, no fold saw it
    rows = [np.flatnonzero(fold_of_text == k) for k in range(cfg.folds)]
    scored = Parallel(n_jobs=_jobs(cfg, cfg.folds))(  # the folds side by side
        delayed(_fold_probs)(model, [train_texts[i] for i in np.flatnonzero(fold_of != k)], y[fold_of != k],
                             [texts[i] for i in rows[k]], cfg) for k in range(cfg.folds))
    for k, fold_probs in enumerate(scored):
        probs[rows[k]] = fold_probs
    return probs


def _fold_probs(model: NgramModel, fit_texts, fit_y, texts, cfg: NgramConfig) -> np.ndarray:
    return refit(model, fit_texts, fit_y, cfg).predict_proba(texts)
