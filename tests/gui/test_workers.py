"""The lanes of textsort.gui.workers: a replaced or dropped task may still send batches,
progress, an error and its end while it winds down; none of it reaches the callbacks."""
from __future__ import annotations

import threading

import pytest

from textsort.gui.workers import Lane, Task


class Chatty(Task):
    """Sends everything a task can once `gate` opens, cancelled or not (as a folder run
    sends its last batch after a cancel)."""

    def __init__(self, name: str, gate: threading.Event) -> None:
        super().__init__()
        self.name, self.gate, self.began = name, gate, threading.Event()

    def work(self):
        self.began.set()
        assert self.gate.wait(10)
        self.signals.progress.emit(1, 1)
        self.signals.result.emit(self.name)
        raise RuntimeError(self.name)  # -> error, then finished


@pytest.fixture
def gates():
    """Gates for Chatty tasks, all opened at the end (a failed test leaves no task waiting)."""
    made: list[threading.Event] = []
    lanes: list[Lane] = []
    yield made, lanes
    for gate in made:
        gate.set()
    for lane in lanes:
        lane.wait(10000)


def start(lane: Lane, task: Chatty, got: list) -> Chatty:
    return lane.start(task, on_result=lambda out: got.append(("result", out)),
                      on_error=lambda message: got.append(("error", message)),
                      on_progress=lambda done, total: got.append(("progress", task.name)),
                      on_finished=lambda: got.append(("finished", task.name)))


@pytest.mark.parametrize("how", ["dropped", "replaced"])
def test_a_dropped_or_replaced_task_delivers_nothing_more(qtbot, gates, how):
    made, lanes = gates
    lane = Lane(replace=how == "replaced")
    lanes.append(lane)
    gate, later = threading.Event(), threading.Event()
    made += [gate, later]
    got: list = []
    old = start(lane, Chatty("old", gate), got)
    assert old.began.wait(10)  # it is working: whatever it sends from now on comes late
    if how == "dropped":
        lane.drop()
        assert lane.latest is None
    new = start(lane, Chatty("new", later), got)  # queued behind the old one (one thread)
    assert old.cancelled() and not new.cancelled()
    gate.set()
    qtbot.waitUntil(lambda: old not in lane.running, timeout=10000)  # all it sent has been handled
    assert got == []
    later.set()
    qtbot.waitUntil(lambda: ("finished", "new") in got, timeout=10000)
    assert got == [("progress", "new"), ("result", "new"), ("error", "new"), ("finished", "new")]


def test_a_lane_that_does_not_replace_delivers_every_task(qtbot, gates):
    made, lanes = gates
    lane = Lane()
    lanes.append(lane)
    gate = threading.Event()
    made.append(gate)
    got: list = []
    first = start(lane, Chatty("first", gate), got)
    second = start(lane, Chatty("second", gate), got)
    with qtbot.waitSignal(second.signals.finished, timeout=10000):
        gate.set()
    qtbot.waitUntil(lambda: not lane.running, timeout=10000)
    for name in ("first", "second"):
        assert [kind for kind, n in got if n == name] == ["progress", "result", "error", "finished"]
    assert not first.cancelled() and not second.cancelled()
