"""Distillation: the student trained by `loop.fit` on the teacher's soft targets, and
the choice of how much to trust the teacher.

The loss is `loop.fit`'s with `alpha > 0`: `alpha * T^2 * KL(teacher_T || student_T)`
on rows with teacher logits plus `(1 - alpha) * CE` on rows with a hard label. How much
to trust the teacher depends on how good it got within its budget, so a fresh student
is trained for `alpha` and each of `alpha_alternatives`, and the one with the best
validation macro-F1 is kept (setfit keeps distillation apart from training the same way).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from modelprep.config import DistillConfig
from modelprep.loop import EvalSet, Examples, fit

log = logging.getLogger(__name__)


@dataclass
class Distilled:
    model: object                 # the kept tf-keras student
    history: dict                 # loop.fit's history of the kept student
    val_probs: np.ndarray         # its validation probabilities [n_val_texts, k]
    alpha: float
    tried: list[dict] = field(default_factory=list)  # alpha, val_macro_f1, seconds of each


def distill(new_student: Callable[[], object], examples: Examples, val: EvalSet, n_labels: int,
            cfg: DistillConfig, pad_id: int = 0) -> Distilled:
    best, tried = None, []
    for alpha in dict.fromkeys((cfg.alpha, *cfg.alpha_alternatives)):
        model = new_student()
        history, probs = fit(model, examples, val, n_labels, cfg.hparams, pad_id, f"student (alpha {alpha})",
                             distill=replace(cfg, alpha=alpha))
        tried.append({"alpha": alpha, "val_macro_f1": history["best_val_macro_f1"], "seconds": history["seconds"]})
        if best is None or history["best_val_macro_f1"] > best.history["best_val_macro_f1"]:
            best = Distilled(model, history, probs, alpha)
    best.tried = tried
    log.info("distillation: kept alpha %s (%s)", best.alpha,
             ", ".join(f"{t['alpha']}: {t['val_macro_f1']:.4f}" for t in tried))
    return best
