"""The teacher when labels are few: the pretrained sentence encoder (MiniLM, e5, or the
user's BERT) with a logistic-regression head, taught further by the unlabelled pool.

With few labels, fine-tuning a BERT end to end overfits a handful of texts and a 4-text
validation split cannot tell. What works instead (measured in bench/fewshot.py):
1. embed every labelled and unlabelled text with the pretrained encoder, mean-pooled and
   L2-normalised (MiniLM and e5 are trained for exactly that), through its int8 LiteRT
   export (several times faster than Keras on a CPU; the runtime's batching);
2. fit a logistic regression on the labelled embeddings, C chosen by k-fold
   cross-validation;
3. self-training: label the pool with it, add the most confident share of each class
   (balanced) as extra examples, refit; twice;
4. the same steps inside each fold give honest out-of-fold predictions: the reported
   validation numbers, their 95 % interval and the "uncertain below" suggestion;
5. the head becomes the Dense layer of a `BertClassifier(pooling="mean_l2")` with the
   pretrained encoder: the exported teacher computes exactly this model.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import numpy as np

from modelprep import progress
from modelprep.config import FewShotConfig, NgramConfig, QuantConfig
from textsort.core.engine import EngineLimits, by_length

log = logging.getLogger(__name__)
POOLING = "mean_l2"


class Embedder:
    """The pretrained encoder as an int8 LiteRT sentence embedder."""

    def __init__(self, source, encoder, quant: QuantConfig = QuantConfig(), flatbuffer: bytes | None = None):
        self.source, self.encoder, self.limits = source, encoder, EngineLimits()
        self.width = source.config.hidden_size
        self.flatbuffer = flatbuffer or self.export(source, quant)
        from ai_edge_litert.interpreter import Interpreter

        self._run = Interpreter(model_content=self.flatbuffer,
                                num_threads=os.cpu_count() or 1).get_signature_runner("serving_default")

    @staticmethod
    def export(source, quant: QuantConfig) -> bytes:
        from modelprep.bert import build_teacher
        from modelprep.export import to_tflite

        return to_tflite(build_teacher(source, 0, POOLING), quant, output="embeddings")

    def _call(self, ids, mask):
        return self._run(input_word_ids=ids, input_mask=mask, input_type_ids=np.zeros_like(ids))["embeddings"]

    def embed(self, texts: list[str], budget_s: float | None = None, chunk: int = 512) -> np.ndarray:
        """[n, width] embeddings of each text's first window; rows past the time budget are NaN."""
        out = np.full((len(texts), self.width), np.nan, np.float32)
        start = time.perf_counter()
        for i in range(0, len(texts), chunk):
            if budget_s is not None and time.perf_counter() - start > budget_s:
                log.warning("embedding stopped by its time budget after %d of %d texts", i, len(texts))
                break
            windows = self.encoder.encode_batch(texts[i:i + chunk], first_window_only=True)[0]
            out[i:i + chunk] = by_length(windows, self.width, self._call, self.limits)
            progress.step("embedding", min(i + chunk, len(texts)), len(texts))
        return out


# ---------------------------------------------------------------- the head

def _lr(C: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, random_state=seed)


def _proba(clf, X, n_labels: int) -> np.ndarray:
    out = np.zeros((len(X), n_labels), np.float64)
    out[:, clf.classes_] = clf.predict_proba(X)
    return out


def folds_for(y: np.ndarray, cfg: FewShotConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k folds (k = cfg.folds, at most the smallest class's count, at least 2)."""
    from sklearn.model_selection import StratifiedKFold

    k = int(max(2, min(cfg.folds, np.bincount(y).min())))
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=cfg.seed).split(np.zeros(len(y)), y))


def fit_head(X: np.ndarray, y: np.ndarray, pool: np.ndarray, n_labels: int, C: float, cfg: FewShotConfig):
    """Logistic regression on (X, y), then `cfg.self_training_rounds` rounds of self-training
    on `pool` (rows of unlabelled embeddings). Returns the fitted classifier."""
    clf = _lr(C, cfg.seed).fit(X, y)
    if not len(pool):
        return clf
    for _ in range(cfg.self_training_rounds):
        probs = _proba(clf, pool, n_labels)
        guess, conf = probs.argmax(1), probs.max(1)
        # the most confident share of each predicted class: the pool keeps its own class balance
        keep = np.concatenate([ids[np.argsort(-conf[ids], kind="stable")][:int(np.ceil(cfg.pseudo_share * len(ids)))]
                               for ids in (np.flatnonzero(guess == c) for c in range(n_labels))])
        if not len(keep):
            break
        weight = np.concatenate([np.ones(len(X)), np.full(len(keep), cfg.pool_weight * len(X) / len(keep))])
        clf = _lr(C, cfg.seed).fit(np.vstack([X, pool[keep]]), np.concatenate([y, guess[keep]]),
                                   sample_weight=weight)
    return clf


@dataclass
class Head:
    weights: np.ndarray           # [width, n_labels], for the Dense layer
    bias: np.ndarray              # [n_labels]
    C: float
    oof_probs: np.ndarray         # out-of-fold probabilities of the labelled texts (the mixed teacher)
    record: dict
    ngram: object = None          # ngram.NgramModel trained on the labelled + pseudo-labelled pool
    weight: float = 1.0           # the encoder head's share of the mix
    pool_probs: np.ndarray | None = None  # the mixed teacher on each pool text row (ngram half out-of-sample)


def dense_weights(clf, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's decision function as a Dense layer's (kernel, bias), softmax-equal
    (a binary model's single score z becomes the logits (-z/2, z/2))."""
    coef, intercept = clf.coef_, clf.intercept_
    if coef.shape[0] == 1:
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    kernel = np.zeros((coef.shape[1], n_labels), np.float32)
    bias = np.full(n_labels, -1e4, np.float32)  # a class the fit never saw is never chosen
    kernel[:, clf.classes_] = coef.T
    bias[clf.classes_] = intercept
    return kernel, bias


def fit_ngram(texts: list[str], y: np.ndarray, pool_texts: list[str], guess: np.ndarray, n_labels: int,
              cfg: FewShotConfig):
    """TF-IDF + logistic regression on the labelled texts (weight `labelled_weight`) and the
    pool with the encoder head's labels: it learns the words the encoder's labels go with."""
    from modelprep.ngram import NgramModel, _vectorizer, analyzers_for

    analyzer = analyzers_for(texts)[0]
    vec = _vectorizer(analyzer, NgramConfig())
    X = vec.fit_transform(list(texts) + list(pool_texts))
    w = np.concatenate([np.full(len(texts), cfg.labelled_weight), np.ones(len(pool_texts))])
    clf = _lr(cfg.ngram_C, cfg.seed).fit(X, np.concatenate([y, guess]).astype(np.int64), sample_weight=w)
    return NgramModel(analyzer, cfg.ngram_C, vec, clf, n_labels)


def _mixed(head_probs: np.ndarray, ngram_probs: np.ndarray | None, weight: float) -> np.ndarray:
    return head_probs if ngram_probs is None else weight * head_probs + (1 - weight) * ngram_probs


def choose_head(X: np.ndarray, y: np.ndarray, pool: np.ndarray, n_labels: int, cfg: FewShotConfig,
                texts: list[str] | None = None, pool_texts: list[str] | None = None) -> Head:
    """C by cross-validation of the plain regression; then the whole teacher (self-trained
    head, and with texts and a pool the n-gram half mixed in) fitted in each fold for
    out-of-fold predictions, and once on all labelled texts."""
    t0 = time.perf_counter()
    folds = folds_for(y, cfg)
    tried = []
    for C in cfg.c_grid:
        probs = np.zeros((len(y), n_labels))
        for fit_idx, held in folds:
            probs[held] = _proba(_lr(C, cfg.seed).fit(X[fit_idx], y[fit_idx]), X[held], n_labels)
        tried.append({"C": C, "cv_accuracy": round(float(np.mean(probs.argmax(1) == y)), 5),
                      "cv_log_loss": round(float(-np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12)))), 5)})
    # log-loss, not accuracy: with a few dozen texts every C often ties on accuracy, and the
    # most regularised one's flat probabilities then mislead self-training
    C = min(tried, key=lambda t: t["cv_log_loss"])["C"]
    rng = np.random.default_rng(cfg.seed)
    sub = np.sort(rng.permutation(len(pool))[:cfg.self_training_pool]) if len(pool) else np.zeros(0, np.int64)
    with_ngram = texts is not None and pool_texts is not None and len(sub) and cfg.ngram_weight < 1.0
    sub_texts = [pool_texts[i] for i in sub] if with_ngram else []

    def teacher(fit_idx):
        head = fit_head(X[fit_idx], y[fit_idx], pool[sub], n_labels, C, cfg)
        if not with_ngram:
            return head, None
        guess = _proba(head, pool[sub], n_labels).argmax(1)
        return head, fit_ngram([texts[i] for i in fit_idx], y[fit_idx], sub_texts, guess, n_labels, cfg)

    oof, oof_head = np.zeros((len(y), n_labels)), np.zeros((len(y), n_labels))
    for i, (fit_idx, held) in enumerate(folds, start=1):
        head, ngram = teacher(fit_idx)
        oof_head[held] = _proba(head, X[held], n_labels)
        ngram_held = ngram.predict_proba([texts[j] for j in held]) if ngram is not None else None
        oof[held] = _mixed(oof_head[held], ngram_held, cfg.ngram_weight)
        progress.step("cross-validation", i, len(folds))
    head, ngram = teacher(np.arange(len(y)))
    kernel, bias = dense_weights(head, n_labels)
    weight = cfg.ngram_weight if ngram is not None else 1.0
    pool_probs = None
    if len(pool):
        head_pool = _proba(head, pool, n_labels)
        pool_probs = head_pool
        if ngram is not None:  # each pool text scored by an n-gram model that did not train on it
            ngram_pool = ngram.predict_proba(list(pool_texts))
            halves = np.array_split(rng.permutation(len(sub)), 2)
            guess = head_pool[sub].argmax(1)
            for part, other in ((halves[0], halves[1]), (halves[1], halves[0])):
                half = fit_ngram(texts, y, [sub_texts[i] for i in other], guess[other], n_labels, cfg)
                ngram_pool[sub[part]] = half.predict_proba([sub_texts[i] for i in part])
            pool_probs = _mixed(head_pool, ngram_pool, weight)
    record = {"C": C, "c_tried": tried, "folds": len(folds), "self_training_rounds": cfg.self_training_rounds
              if len(sub) else 0, "pool_used_for_self_training": int(len(sub)),
              "ngram": {"analyzer": ngram.analyzer, "C": ngram.C, "head_weight": weight} if ngram is not None else None,
              "head_cv_accuracy": round(float(np.mean(oof_head.argmax(1) == y)), 5),
              "seconds": round(time.perf_counter() - t0, 1)}
    log.info("few-label teacher: C=%g, %d-fold cross-validated accuracy %.4f (head alone %.4f; pool %d texts)",
             C, len(folds), float(np.mean(oof.argmax(1) == y)), record["head_cv_accuracy"], len(sub))
    return Head(kernel, bias, C, oof, record, ngram, weight, pool_probs)


def estimate(y: np.ndarray, probs: np.ndarray, folds: int) -> dict:
    """Accuracy of out-of-fold predictions with its 95 % Wilson interval."""
    from scipy.stats import binomtest

    n, right = len(y), int(np.sum(np.asarray(probs).argmax(1) == y))
    ci = binomtest(right, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {"accuracy": round(right / n, 4), "ci95": [round(ci.low, 4), round(ci.high, 4)], "n": n,
            "method": f"{folds}-fold cross-validation"}


def teacher_model(source, n_labels: int, head: Head):
    """The exportable teacher: pretrained encoder, mean_l2 pooling, the head as its Dense layer."""
    from modelprep.bert import build_teacher

    model = build_teacher(source, n_labels, POOLING, dropout=0.0)
    model.head.set_weights([head.weights, head.bias])
    return model
