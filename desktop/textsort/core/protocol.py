"""The JSON-line protocol between `textsort-prep` and the app, kept once: event, stage and
state names, and how a line is written and read. modelprep writes it (modelprep.progress,
modelprep.preview); textsort.appstate.training reads it. Standard library only.

`textsort-prep train --progress-json`, one object per line on stdout; each also has "t",
seconds since the run started:
  {"event": "plan", "stages": [S, ...], "few_labels": bool}   (once, after the data stage)
  {"event": "stage", "stage": S, "state": "start" | "done" | "reused", "seconds": x, ...}
  {"event": "step", "stage": S, "what": W, "step": i, "total": n, "eta_s": x, "loss": x}
  {"event": "eval", "what": W, "epoch": e, "step": i, "loss": x, "val_macro_f1": x}
  {"event": "done", "bundle": PATH, "validation_accuracy": x}
  {"event": "error", "message": M}
  {"event": "cancelled"}

`textsort-prep preview --json`, as each part is known:
  {"event": "data", "labels": {label: texts}, "cleaning": {...}, "split": {...}, "warnings": [...]}
  {"event": "unlabelled", "offered": n, "read": n, "used": n, "skipped": {...}, ...}
  {"event": "teacher", "name": N, "reason": R}
  {"event": "estimate", "seconds": S, "parts": {...}, "s_per_step": {...}}
  {"event": "problem", "message": M}      (textsort-prep train would refuse this)
  {"event": "end", "ok": bool}

`textsort-prep suggest` (the Label view), one line:
  {"event": "suggest", "picks": [ids], "method": M, "cv_accuracy": x, "labelled": n, "seconds": x}
"""
from __future__ import annotations

import json
from enum import StrEnum


class Event(StrEnum):
    # a training run
    PLAN = "plan"
    STAGE = "stage"
    STEP = "step"
    EVAL = "eval"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"
    # a preview
    DATA = "data"
    UNLABELLED = "unlabelled"
    TEACHER = "teacher"
    ESTIMATE = "estimate"
    PROBLEM = "problem"
    END = "end"
    # `textsort-prep suggest`: what to label next
    SUGGEST = "suggest"


class State(StrEnum):
    START = "start"
    DONE = "done"
    REUSED = "reused"


class StageName(StrEnum):
    """The pipeline's stages, in order; a work folder's stage directories have these names."""
    DATA = "data"
    TEACHER = "teacher"
    TEACHER_INT8 = "teacher_int8"
    TEACHER_INT8_VERIFY = "teacher_int8_verify"
    NGRAM = "ngram"
    TRANSFER = "transfer"
    STUDENT = "student"
    STUDENT_INT8 = "student_int8"
    STUDENT_INT8_VERIFY = "student_int8_verify"


def verify_stage(export_stage: str) -> StageName:
    """The stage that checks an int8 export with the runtime: "<export stage>_verify"."""
    return StageName(f"{export_stage}_verify")


def json_line(record: dict) -> str:
    """One JSON line, ASCII only: a file or label name that is not valid UTF-8 (a lone
    surrogate escape) still writes under any PYTHONIOENCODING, and JSON readers restore it."""
    return json.dumps(record, ensure_ascii=True) + "\n"


def parse_line(line: str) -> dict | None:
    """One JSON event, or None for anything else (a stray print, a partial line)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "event" in event else None
