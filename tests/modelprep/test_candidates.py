"""The size ladder's choice among verified candidates."""
from __future__ import annotations


import pytest

from modelprep.candidates import Candidate, choose
from modelprep.config import ShipConfig
from textsort.core.manifest import rung


def cand(role, mb, ms, acc, passed=True):
    return Candidate(rung=rung(role), key="", model_bytes=b"", manifest={}, classifier=None,
                     bundle_bytes=int(mb * 1e6), ms_per_text=ms, val_probs=None,
                     val_metrics={"accuracy": acc}, guard={"passed": passed, "overridden": False})


SMALL, BIG = cand("default", 3.4, 0.03, 0.90), cand("accurate", 23.0, 2.5, 0.92)


def test_default_ships_the_small_student():
    assert choose([SMALL, BIG], ShipConfig()) is SMALL
    tiny = cand("tiny", 1.7, 0.02, 0.88)
    assert choose([tiny, BIG], ShipConfig(size="tiny")) is tiny  # the student trained for --size tiny


def test_accurate_ships_the_best_validation_accuracy():
    assert choose([SMALL, BIG], ShipConfig(size="accurate")) is BIG
    worse_big = cand("accurate", 23.0, 2.5, 0.85)
    assert choose([SMALL, worse_big], ShipConfig(size="accurate")) is SMALL  # never a worse model for more MB
    refused = cand("accurate", 23.0, 2.5, 0.99, passed=False)
    assert choose([SMALL, refused], ShipConfig(size="accurate")) is SMALL  # a failed guard is never shipped


def test_budgets_pick_the_most_accurate_that_fits():
    assert choose([SMALL, BIG], ShipConfig(max_mb=30)) is BIG
    assert choose([SMALL, BIG], ShipConfig(max_mb=5)) is SMALL
    assert choose([SMALL, BIG], ShipConfig(max_ms=0.05)) is SMALL
    with pytest.raises(ValueError, match=r"no verified model fits.*default: 3.40 MB"):
        choose([SMALL, BIG], ShipConfig(max_mb=1))
    with pytest.raises(ValueError, match="size must be"):
        choose([SMALL], ShipConfig(size="huge"))


def test_labelling_may_use_a_teacher_whose_only_fault_is_agreement():
    c = cand("accurate", 23.0, 2.5, 0.85, passed=False)
    c.guard.update(int8_drop_points=0.0, max_drop_points=0.5)
    assert c.labels_as_well and not c.usable
    c.guard.update(int8_drop_points=1.2)
    assert not c.labels_as_well
