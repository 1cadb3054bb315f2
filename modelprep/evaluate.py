"""Metrics in the manifest's shape, and the int8 accuracy guard.

Every model is evaluated on whole texts with the app's window rule; the int8 model is
evaluated by the runtime itself (`textsort.core.engine.Classifier.predict_proba`).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from modelprep.config import QuantConfig


class GuardError(Exception):
    """The exported int8 model is too far from its fp32 model; the message has the numbers
    and `result` the guard's record."""

    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.result = result or {}


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, labels: list[str], split: str) -> dict:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(probs).argmax(axis=1)
    ks = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ks, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(y_true, y_pred, labels=ks, average="macro", zero_division=0)
    return {
        "split": split,
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_precision": float(mp),
        "macro_recall": float(mr),
        "macro_f1": float(mf),
        "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, lab in enumerate(labels)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=ks).tolist(),
    }


def guard(y_true: np.ndarray, fp32_probs: np.ndarray, int8_probs: np.ndarray, cfg: QuantConfig) -> dict:
    """Compare the int8 model with the fp32 student; raises GuardError unless allowed."""
    fp32_pred, int8_pred = fp32_probs.argmax(1), int8_probs.argmax(1)
    acc_fp32 = float(np.mean(fp32_pred == y_true))
    acc_int8 = float(np.mean(int8_pred == y_true))
    drop = 100.0 * (acc_fp32 - acc_int8)
    agreement = float(np.mean(fp32_pred == int8_pred))
    # same labels are not enough: thresholds and the shown confidence use the probabilities
    prob_diff = float(np.mean(np.abs(np.asarray(int8_probs) - np.asarray(fp32_probs))))
    passed = drop <= cfg.max_drop_points and agreement >= cfg.min_agreement and prob_diff <= cfg.max_mean_prob_diff
    result = {
        "passed": bool(passed),
        "overridden": bool(not passed and cfg.allow_failed_guard),
        "int8_drop_points": round(drop, 4),
        "max_drop_points": cfg.max_drop_points,
        "agreement": agreement,
        "min_agreement": cfg.min_agreement,
        "mean_prob_diff": round(prob_diff, 6),
        "max_mean_prob_diff": cfg.max_mean_prob_diff,
        "n": int(len(y_true)),
    }
    if not passed and not cfg.allow_failed_guard:
        raise GuardError(
            f"int8 export refused: validation accuracy fp32 {acc_fp32:.4f} vs int8 {acc_int8:.4f} "
            f"(drop {drop:.2f} points, allowed {cfg.max_drop_points}); Keras/LiteRT top-1 agreement "
            f"{agreement:.4f} (required {cfg.min_agreement}); mean probability difference {prob_diff:.4f} "
            f"(allowed {cfg.max_mean_prob_diff}). Use --allow-failed-guard to write it anyway.", result)
    return result


def uncertain_threshold(probs: np.ndarray, y_true: np.ndarray, wrong_share: float = 0.2,
                        small_set: bool = False) -> dict:
    """The app's default "uncertain below" confidence, from validation: flag a text when,
    at its confidence, at least `wrong_share` of texts are wrong. Chosen as the threshold t
    (confidences on a 1 % grid) that maximises errors flagged - w * correct texts flagged,
    w = wrong_share / (1 - wrong_share): flagging is worth it while one in 1/wrong_share
    flagged texts is an error. 0 when no threshold flags more errors than that, except for
    a `small_set` (cross-validated predictions of a few labelled texts): too few errors to
    choose on is no evidence of none, so the least confident quarter is flagged instead."""
    probs, y_true = np.asarray(probs, dtype=np.float64), np.asarray(y_true)
    confidence, wrong = probs.max(axis=1), probs.argmax(axis=1) != y_true
    w = wrong_share / (1.0 - wrong_share)
    best_t, best_gain = 0.0, 0.0
    for t in np.round(np.arange(0.01, 1.0, 0.01), 2):
        below = confidence < t
        gain = wrong[below].sum() - w * (~wrong[below]).sum()
        if gain > best_gain + 1e-9:
            best_t, best_gain = float(t), float(gain)
    rule = f"flag where at least {wrong_share:.0%} of validation texts are wrong"
    if small_set and best_t == 0.0 and len(confidence):
        best_t = float(np.ceil(np.quantile(confidence, 0.25) * 100) / 100)
        rule = "flag the least confident quarter (too few cross-validated texts to choose on)"
    below = confidence < best_t
    return {"uncertain_below": best_t, "rule": rule,
            "validation_flagged": int(below.sum()), "validation_errors_flagged": int(wrong[below].sum()),
            "validation_errors": int(wrong.sum()), "n": int(len(y_true))}
