"""The distillation transfer set: real rows + augmented copies, labelled by the teacher.

Real rows keep their hard label; the user's unlabelled texts (`--unlabelled`) and
augmented copies have none (y = -1). `source[i]` is the real row that text i was made
from (itself for a real row; -1 for an unlabelled text, which no fold has seen), so a
model that must not have seen a text (the n-gram teacher's folds) can find out which
fold it belongs to. At most `max_transfer_texts` texts are sent to the teacher (real
rows first, then unlabelled texts, then copies, which only fill the room left) and
labelling stops after `label_time_budget_s`; rows it did not reach keep NaN logits.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from modelprep import progress
from modelprep.augment import augment
from modelprep.config import TransferConfig

log = logging.getLogger(__name__)
LABEL_CHUNK = 2048  # texts labelled between two looks at the time budget


@dataclass
class TransferSet:
    texts: list[str]
    y: np.ndarray        # hard label, -1 for augmented copies
    logits: np.ndarray   # teacher logits [n, k]; NaN rows were not labelled
    source: np.ndarray   # index of the real row each text was made from
    counts: dict


def build_transfer_set(texts: list[str], y: np.ndarray, label: Callable[[list[str]], np.ndarray], n_labels: int,
                       cfg: TransferConfig, mask_token: str = "[MASK]", unlabelled: list[str] = ()) -> TransferSet:
    """`label(texts) -> logits [len(texts), n_labels]` is the teacher."""
    texts, y = list(texts), np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(cfg.seed)
    labelled = np.sort(rng.permutation(len(texts))[: cfg.max_transfer_texts])
    pool = list(unlabelled)[: max(0, cfg.max_transfer_texts - len(labelled))]
    room = max(0, cfg.max_transfer_texts - len(labelled) - len(pool))
    copies = min(cfg.augment_copies, room // max(len(labelled), 1))
    extra = augment([texts[i] for i in labelled], copies, cfg.seed, mask_token=mask_token, cfg=cfg.augment)
    all_texts = texts + pool + extra
    source = np.concatenate([np.arange(len(texts)), np.full(len(pool), -1),
                             np.tile(labelled, copies)]).astype(np.int64)
    to_label = np.concatenate([labelled, np.arange(len(texts), len(all_texts))]).astype(np.int64)
    logits = np.full((len(all_texts), n_labels), np.nan, np.float32)
    start, done = time.perf_counter(), 0
    for chunk in np.array_split(to_label, max(1, len(to_label) // LABEL_CHUNK)):
        if time.perf_counter() - start > cfg.label_time_budget_s:
            log.warning("teacher labelling stopped by its time budget after %d of %d texts", done, len(to_label))
            break
        logits[chunk] = label([all_texts[i] for i in chunk])
        done += len(chunk)
        progress.step("teacher labelling", done, len(to_label))
        log.debug("teacher labelled %d of %d texts", done, len(to_label))
    counts = {"real": len(texts), "real_sent_to_teacher": len(labelled), "unlabelled": len(pool),
              "augmented": len(extra), "copies": copies, "teacher_labelled": done,
              "teacher_seconds": round(time.perf_counter() - start, 1),
              "teacher_texts_per_s": round(done / max(time.perf_counter() - start, 1e-9), 1)}
    return TransferSet(all_texts, np.concatenate([y, np.full(len(pool) + len(extra), -1)]), logits, source, counts)
