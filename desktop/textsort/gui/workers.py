"""Work that runs off the GUI thread: QRunnables on a QThreadPool, reporting through
a signals QObject (progress / result / error / finished). The window runs one
lane (a one-thread pool) per kind of work, so a long explanation never holds up typed
text, model loading or a folder run; a newer explanation cancels the stale one, and the
lane, not the window, keeps what a stale or dropped task still sends from arriving.

Signals are emitted from the worker thread and delivered to the GUI thread as queued
events, so slots never run concurrently with the GUI. Cancellation is a flag that the
work polls (Session.run's `cancel` callback reads it)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from textsort.appstate.session import Session
from textsort.core.explain import Cancelled


class WorkerSignals(QObject):
    progress = Signal(int, int)  # done, total (total 0 = not known yet)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


def plain_message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or exc.__class__.__name__


class Task(QRunnable):
    """Base task: subclasses implement work(); its return value (if not None) is
    emitted as `result`, an exception as `error` with its message."""

    def __init__(self) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns the object (see MainWindow._start)
        self.signals = WorkerSignals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def work(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> None:
        try:
            if self.cancelled():
                raise Cancelled  # replaced before it began
            out = self.work()
        except Cancelled:
            pass  # a newer request replaced this one: nothing to show
        except Exception as exc:  # shown to the user in plain words, never a traceback
            self.signals.error.emit(plain_message(exc))
        else:
            if out is not None and not self.cancelled():  # cancelled while it worked: nobody wants it
                self.signals.result.emit(out)
        finally:
            self.signals.finished.emit()


class Lane(QObject):
    """One kind of work (as superqt's thread workers): a one-thread pool that keeps each
    task alive until it has finished, and owns the rule of which task the window still
    wants to hear from. With `replace`, a new task cancels the one before it (a replaced
    request belongs to a row or a text the user has moved on from); `drop()` cancels the
    lane's tasks (the view now shows something else). A replaced or dropped task may still
    send batches, progress or its end while it winds down: none of it reaches the window."""

    def __init__(self, parent: QObject | None = None, replace: bool = False) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.replace = replace
        self.latest: Task | None = None
        self._running: set[Task] = set()
        self._wanted: set[Task] = set()  # started, not dropped, not replaced: their signals arrive

    def start(self, task: Task, on_result: Callable | None = None, on_error: Callable | None = None,
              on_progress: Callable | None = None, on_finished: Callable | None = None) -> Task:
        """Runs `task`; each callback gets what it sends while the lane still wants it."""
        if self.replace:
            self.drop()
        self.latest = task
        self._running.add(task)
        self._wanted.add(task)
        for signal, slot in ((task.signals.result, on_result), (task.signals.error, on_error),
                             (task.signals.progress, on_progress)):
            if slot is not None:
                signal.connect(self._gated(task, slot))
        task.signals.finished.connect(lambda: self._finished(task, on_finished))
        self.pool.start(task)
        return task

    def _gated(self, task: Task, slot: Callable) -> Callable:
        def deliver(*args) -> None:
            if task in self._wanted:
                slot(*args)
        return deliver

    def _finished(self, task: Task, on_finished: Callable | None) -> None:
        self._running.discard(task)
        if task in self._wanted:
            self._wanted.discard(task)
            if on_finished is not None:
                on_finished()

    @property
    def running(self) -> frozenset:
        """The tasks started and not yet finished (dropped ones included)."""
        return frozenset(self._running)

    def drop(self) -> None:
        """Cancels the lane's tasks; whatever they still send (results, errors, progress,
        their end) is ignored."""
        for task in self._wanted:
            task.cancel()
        self._wanted.clear()
        self.latest = None

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()

    def wait(self, ms: int = 5000) -> bool:
        return self.pool.waitForDone(ms)


class CallTask(Task):
    """Runs fn(*args) in the pool; its return value is the result."""

    def __init__(self, fn: Callable, *args, **kwargs) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def work(self):
        return self.fn(*self.args, **self.kwargs)


class CancellableCall(Task):
    """Runs fn(*args, cancel=self.cancelled): fn polls it and raises
    textsort.core.explain.Cancelled when it turns true (a newer request replaced this one)."""

    def __init__(self, fn: Callable, *args) -> None:
        super().__init__()
        self.fn, self.args = fn, args

    def work(self):
        return self.fn(*self.args, cancel=self.cancelled)


class ClassifyFilesTask(Task):
    """Classifies files and folders (recursively) with textsort.appstate.session.Session,
    emitting `result` with lists of FileResult at most every `batch_ms`, and
    `progress(done, total)`."""

    def __init__(self, classifier, paths: Sequence[Path], batch_ms: int = 100) -> None:
        super().__init__()
        self.classifier = classifier
        self.paths = [Path(p) for p in paths]
        self.batch_s = batch_ms / 1000.0
        self.done = 0

    def work(self) -> None:
        session = Session(self.classifier)
        items = session.expand(self.paths)  # counted first, so progress has a total
        total = len(items)
        self.signals.progress.emit(0, total)
        batch: list = []
        last = time.monotonic()
        for result in session.run_items(items, cancel=self.cancelled):
            batch.append(result)
            self.done += 1
            now = time.monotonic()
            if now - last >= self.batch_s:
                self.signals.result.emit(batch)
                self.signals.progress.emit(self.done, total)
                batch, last = [], now
        if batch:
            self.signals.result.emit(batch)
        self.signals.progress.emit(self.done, total)
        return None
