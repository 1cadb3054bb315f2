"""The transfer set: real rows first, augmented copies after, caps and time budget."""
from __future__ import annotations

import numpy as np

from modelprep.config import TransferConfig
from modelprep.transfer import build_transfer_set

TEXTS = [f"text number {i} about things" for i in range(10)]
Y = np.arange(10) % 2


def fake_teacher(calls):
    def label(texts):
        calls.append(len(texts))
        return np.stack([[len(t), -len(t)] for t in texts]).astype(np.float32)
    return label


def test_real_rows_and_copies_are_labelled():
    calls = []
    ts = build_transfer_set(TEXTS, Y, fake_teacher(calls), 2, TransferConfig(augment_copies=2))
    assert len(ts.texts) == 30 and ts.texts[:10] == TEXTS
    assert ts.y[:10].tolist() == Y.tolist() and (ts.y[10:] == -1).all()
    assert not np.isnan(ts.logits).any() and ts.logits[0, 0] == len(TEXTS[0])
    assert sum(calls) == 30 and ts.counts["copies"] == 2 and ts.counts["teacher_labelled"] == 30
    assert ts.source.tolist() == list(range(10)) * 3  # copy c of row i is made from row i


def test_cap_keeps_real_rows_first():
    ts = build_transfer_set(TEXTS, Y, fake_teacher([]), 2, TransferConfig(augment_copies=3, max_transfer_texts=6))
    assert len(ts.texts) == 10 and ts.counts["copies"] == 0  # no room for copies
    assert np.isnan(ts.logits).any(axis=1).sum() == 4  # 6 real rows sent to the teacher, 4 keep only y


def test_time_budget_stops_labelling():
    calls = []
    cfg = TransferConfig(augment_copies=1, label_time_budget_s=0.0)
    ts = build_transfer_set(TEXTS, Y, fake_teacher(calls), 2, cfg)
    assert calls == [] and np.isnan(ts.logits).all() and ts.counts["teacher_labelled"] == 0
