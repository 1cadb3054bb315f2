"""Machine-readable progress: `textsort-prep train --progress-json` writes one JSON object
per line to stdout (the log stays on stderr). The app runs textsort-prep in a subprocess
and draws its stage list and validation curve from these lines
(textsort.gui.training reads them; docs/modelprep.md lists them).

Every event has "event" and "t" (seconds since the run started):
  {"event": "stage", "stage": S, "state": "start" | "done" | "reused", "seconds": x}
  {"event": "step", "stage": S, "what": W, "step": i, "total": n, "eta_s": x, "loss": x}
  {"event": "eval", "stage": S, "epoch": e, "loss": x, "val_macro_f1": x}
  {"event": "done", "bundle": PATH, "validation_accuracy": x}
  {"event": "error", "message": M}
Step events come at most every `STEP_INTERVAL_S` seconds per stage, plus each last step.
"""
from __future__ import annotations

import json
import sys
import time

STEP_INTERVAL_S = 0.25

_stream = None
_t0 = 0.0
_stage: str | None = None
_last: dict[str, float] = {}
_started: dict[str, tuple[float, int]] = {}


def enable(stream=None) -> None:
    global _stream, _t0
    _stream, _t0 = stream or sys.stdout, time.perf_counter()
    _last.clear()
    _started.clear()


def disable() -> None:
    global _stream
    _stream = None


def enabled() -> bool:
    return _stream is not None


def emit(event: str, **fields) -> None:
    if _stream is None:
        return
    record = {"event": event, "t": round(time.perf_counter() - _t0, 2), **fields}
    _stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    _stream.flush()


def stage(name: str, state: str, **fields) -> None:
    global _stage
    if state == "start":
        _stage = name
    emit("stage", stage=name, state=state, **fields)


def step(what: str, i: int, total: int, **fields) -> None:
    """Step i of total in the current stage; rate-limited, with an ETA from this loop's pace."""
    if _stream is None:
        return
    now = time.perf_counter()
    key = f"{_stage}/{what}"
    if i <= 1 or key not in _started:
        _started[key] = (now, i)
    if i < total and now - _last.get(key, 0.0) < STEP_INTERVAL_S:
        return
    _last[key] = now
    t_start, i_start = _started[key]
    eta = (now - t_start) / (i - i_start) * (total - i) if i > i_start else None
    emit("step", stage=_stage, what=what, step=i, total=total,
         **({"eta_s": round(eta, 1)} if eta is not None else {}), **fields)


def steps(iterable, what: str):
    """`iterable` (with a len), reporting each item as a step."""
    total = len(iterable)
    for i, item in enumerate(iterable, start=1):
        yield item
        step(what, i, total)
