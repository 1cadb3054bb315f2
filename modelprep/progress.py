"""Machine-readable progress: `textsort-prep train --progress-json` writes one JSON object
per line to stdout (the log stays on stderr). The app runs textsort-prep in a subprocess
and draws its stage list and validation curve from these lines (textsort.appstate.training reads
them). The events and their fields are `textsort.core.protocol`'s; this is their one writer
(`write` for the preview's lines, `emit` for a run's).
Step events come at most every `STEP_INTERVAL_S` seconds per stage, plus each last step.

Cancelling (`request_cancel`, the app's SIGTERM): a signal handler must not raise into
TensorFlow's C++ (Python then fails with SystemError), so it only sets a flag; the next
progress call (every training step, labelling chunk and stage) raises KeyboardInterrupt
there, in plain Python. Work that reports nothing for `CANCEL_GRACE_S` is ended
outright, with the "cancelled" event first: finished stages are on disk either way.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from textsort.core.protocol import Event, State, json_line

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
    if _cancel["asked"]:
        return
    _cancel["asked"] = True

    def hard_stop():
        emit(Event.CANCELLED)
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


def write(out, event: Event, **fields) -> None:
    """One event line on `out`, flushed."""
    out.write(json_line({"event": event, **fields}))
    out.flush()


def emit(event: Event, **fields) -> None:
    """A run's event (with "t") on the enabled stream; first, a pending cancel stops the run."""
    if event not in (Event.CANCELLED, Event.ERROR):
        check_cancel()
    if _stream is None:
        return
    write(_stream, event, t=round(time.perf_counter() - _t0, 2), **fields)


def stage(name: str, state: State, **fields) -> None:
    global _stage
    if state == State.START:
        _stage = name
    emit(Event.STAGE, stage=name, state=state, **fields)


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
    emit(Event.STEP, stage=_stage, what=what, step=i, total=total,
         **({"eta_s": round(eta, 1)} if eta is not None else {}), **fields)


def steps(iterable, what: str):
    """`iterable` (with a len), reporting each item as a step."""
    total = len(iterable)
    for i, item in enumerate(iterable, start=1):
        yield item
        step(what, i, total)
