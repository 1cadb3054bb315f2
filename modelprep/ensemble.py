"""The teacher the student learns from: the fine-tuned BERT and an n-gram model, mixed.

A fine-tuned BERT and TF-IDF + logistic regression make different mistakes; their mixed
probabilities `w * p_bert + (1 - w) * p_ngram` are a better teacher than either alone
(the student has a bag-of-n-grams branch to learn the n-gram half with). `w` is chosen
on the validation split from `NgramConfig.weight_grid` (macro-F1; ties go to the value
nearest 0.5), unless `NgramConfig.teacher_weight` fixes it. The n-gram probabilities of
training texts and of their augmented copies are out-of-fold (`ngram.out_of_fold_probs`).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from modelprep.config import NgramConfig
from textsort.core.encoding import softmax


def mix(bert_probs: np.ndarray, ngram_probs: np.ndarray, weight: float) -> np.ndarray:
    return weight * np.asarray(bert_probs) + (1.0 - weight) * np.asarray(ngram_probs)


def mix_logits(bert_logits: np.ndarray, ngram_probs: np.ndarray, weight: float) -> np.ndarray:
    """Teacher logits for distillation: log of the mixed probabilities (NaN rows stay NaN)."""
    probs = mix(softmax(np.nan_to_num(bert_logits)), ngram_probs, weight)
    out = np.log(np.maximum(probs, 1e-7)).astype(np.float32)
    out[np.isnan(bert_logits).any(axis=1)] = np.nan
    return out


def choose_weight(y: np.ndarray, bert_probs: np.ndarray, ngram_probs: np.ndarray,
                  cfg: NgramConfig) -> tuple[float, list[dict]]:
    """(BERT's weight, every weight tried with its validation macro-F1)."""
    if cfg.teacher_weight is not None:
        return float(cfg.teacher_weight), []
    tried = []
    for w in cfg.weight_grid:
        pred = mix(bert_probs, ngram_probs, w).argmax(1)
        tried.append({"weight": float(w), "val_macro_f1": float(f1_score(y, pred, average="macro", zero_division=0))})
    best = max(tried, key=lambda t: (round(t["val_macro_f1"], 6), -abs(t["weight"] - 0.5)))
    return best["weight"], tried
