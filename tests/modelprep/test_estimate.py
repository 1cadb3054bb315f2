"""How long a run takes (`textsort-prep preview`): the estimate counts what the run does."""
from __future__ import annotations

from dataclasses import replace

from modelprep.config import PipelineConfig
from modelprep.estimate import estimate_seconds

STEPS = {"teacher": 0.5, "student": 0.01}


def test_a_few_label_run_counts_one_student_unless_alternatives_are_asked_for():
    cfg = PipelineConfig()
    one = estimate_seconds(40, 0, cfg, STEPS, few=True, n_pool=2000)["parts"]["student"]
    both = replace(cfg, fewshot=replace(cfg.fewshot, student_alternatives=True))
    two = estimate_seconds(40, 0, both, STEPS, few=True, n_pool=2000)["parts"]["student"]
    assert one > 0 and abs(two - 2 * one) <= 1  # rounded to seconds; train() drops the alternatives with few labels (config.for_few_labels)


def test_a_full_run_counts_every_alpha_tried():
    cfg = PipelineConfig()
    runs = 1 + len(cfg.distill.alpha_alternatives)
    alone = replace(cfg, distill=replace(cfg.distill, alpha_alternatives=()))
    assert (estimate_seconds(5000, 500, cfg, STEPS)["parts"]["student"]
            == runs * estimate_seconds(5000, 500, alone, STEPS)["parts"]["student"])
