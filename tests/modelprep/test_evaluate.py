"""The suggested "uncertain below" threshold, chosen on validation probabilities."""
from __future__ import annotations

import numpy as np

from modelprep.evaluate import uncertain_threshold


def _probs(confidences, predicted):
    p = np.zeros((len(confidences), 2))
    p[np.arange(len(confidences)), predicted] = confidences
    p[np.arange(len(confidences)), 1 - np.asarray(predicted)] = 1 - np.asarray(confidences)
    return p


def test_threshold_flags_the_band_where_one_in_five_is_wrong():
    # 100 sure and right; between 0.55 and 0.7, 10 texts of which 4 are wrong
    conf = [0.99] * 100 + [0.6] * 10
    predicted = [0] * 110
    y = [0] * 100 + [1] * 4 + [0] * 6
    cal = uncertain_threshold(_probs(conf, predicted), np.array(y))
    assert 0.6 < cal["uncertain_below"] <= 0.99
    assert cal["validation_flagged"] == 10 and cal["validation_errors_flagged"] == 4 and cal["validation_errors"] == 4


def test_no_threshold_when_flagging_would_mostly_hit_right_answers():
    conf = [0.99] * 100 + [0.6] * 20
    y = [0] * 100 + [1] * 2 + [0] * 18  # 10 % wrong in the low band: below the 20 % bar
    cal = uncertain_threshold(_probs(conf, [0] * 120), np.array(y))
    assert cal["uncertain_below"] == 0.0 and cal["validation_flagged"] == 0
