"""Machine-readable progress: `textsort-prep train --progress-json` writes one JSON object
per line to stdout (the log stays on stderr). The app runs textsort-prep in a subprocess
and draws its stage list and validation curve from these lines
(textsort.gui.training reads them; docs/modelprep.md lists them).

Every event has "event" and "t" (seconds since the run started):
  {"event": "plan", "stages": [S, ...], "few_labels": bool}   (once, after the data stage)
  {"event": "stage", "stage": S, "state": "start" | "done" | "reused", "seconds": x}
  {"event": "step", "stage": S, "what": W, "step": i, "total": n, "eta_s": x, "loss": x}
  {"event": "eval", "stage": S, "epoch": e, "loss": x, "val_macro_f1": x}
  {"event": "done", "bundle": PATH, "validation_accuracy": x}
  {"event": "error", "message": M}
  {"event": "cancelled"}
Step events come at most every `STEP_INTERVAL_S` seconds per stage, plus each last step.

Cancelling (`request_cancel`, the app's SIGTERM): a signal handler must not raise into
TensorFlow's C++ (Python then fails with SystemError), so it only sets a flag; the next
progress call (every training step, labelling chunk and stage) raises KeyboardInterrupt
there, in plain Python. Work that reports nothing for `CANCEL_GRACE_S` is ended
outright, with the "cancelled" event first: finished stages are on disk either way.
"""
from __future__ import annotations

import json
import sys
import time

STEP_INTERVAL_S = 0.25
CANCEL_GRACE_S = 20.0

_stream = None
_t0 = 0.0
_stage: str | None = None
_last: dict[str, float] = {}
_started: dict[str, tuple[float, int]] = {}
_cancel = {"asked": False, "raised": False, "timer": None}


def request_cancel(exit_code: int = 130) -> None:
    """Safe from a signal handler: the next progress call stops the run (see the docstring)."""
    import os
    import threading

    if _cancel["asked"]:
        return
    _cancel["asked"] = True

    def hard_stop():
        emit("cancelled")
        print("textsort-prep: interrupted; finished stages are kept in the work folder", file=sys.stderr, flush=True)
        os._exit(exit_code)

    timer = threading.Timer(CANCEL_GRACE_S, hard_stop)
    timer.daemon = True
    timer.start()
    _cancel["timer"] = timer


def reset_cancel() -> None:
    """Forget a cancel request and stop its hard-stop timer (a new run in the same process)."""
    if _cancel["timer"] is not None:
        _cancel["timer"].cancel()
    _cancel.update(asked=False, raised=False, timer=None)


def check_cancel() -> None:
    """Raise KeyboardInterrupt once, here in Python, when a cancel was asked for."""
    if _cancel["asked"] and not _cancel["raised"]:
        _cancel["raised"] = True
        raise KeyboardInterrupt


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


def json_line(record: dict) -> str:
    """One JSON line, ASCII only: a file or label name that is not valid UTF-8 (a lone
    surrogate escape) still writes under any PYTHONIOENCODING, and JSON readers restore it."""
    return json.dumps(record, ensure_ascii=True) + "\n"


def emit(event: str, **fields) -> None:
    if event not in ("cancelled", "error"):
        check_cancel()
    if _stream is None:
        return
    record = {"event": event, "t": round(time.perf_counter() - _t0, 2), **fields}
    _stream.write(json_line(record))
    _stream.flush()


def stage(name: str, state: str, **fields) -> None:
    global _stage
    if state == "start":
        _stage = name
    emit("stage", stage=name, state=state, **fields)


def step(what: str, i: int, total: int, **fields) -> None:
    """Step i of total in the current stage; rate-limited, with an ETA from this loop's pace."""
    check_cancel()
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
