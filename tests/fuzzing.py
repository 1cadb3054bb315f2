"""The property-test settings every fuzz test shares: a quick run in every test run and
an opt-in long one (`pytest -m fuzz`, `TEXTSORT_FUZZ_EXAMPLES` examples, 20,000 unless set)."""
from __future__ import annotations

import functools
import os

import pytest
from hypothesis import HealthCheck, given, settings

QUICK = 40
LONG = int(os.environ.get("TEXTSORT_FUZZ_EXAMPLES", "20000"))
SETTINGS = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def fuzz(*strategies, quick: int = QUICK):
    """`test_x, test_x_long = fuzz(strategy, ...)(prop)`: the quick and the opt-in long run."""
    def deco(prop):
        def copy():
            @functools.wraps(prop)
            def run(*a, **k):
                return prop(*a, **k)
            return run
        short = settings(max_examples=quick, **SETTINGS)(given(*strategies)(copy()))
        long = pytest.mark.fuzz(settings(max_examples=LONG, **SETTINGS)(given(*strategies)(copy())))
        return short, long
    return deco
