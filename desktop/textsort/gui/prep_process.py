"""`textsort-prep` in a subprocess (training, its preview, the Label view's suggestions):
its JSON lines as events, its end with the last of stderr. No TensorFlow in this process."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess

from textsort.appstate import training
from textsort.core import protocol


def start_prep(parent: QObject, args: list[str], on_event: Callable[[dict], None],
               on_finished: Callable[[int, str], None], current: Callable[[QProcess], bool]) -> QProcess:
    """Starts `args`; `on_event(event)` per JSON line and `on_finished(code, stderr)` at the
    end, both only while `current(proc)` holds (a replaced run's late output is dropped)."""
    proc = QProcess(parent)
    env = proc.processEnvironment()
    for k, v in training.prep_env().items():
        env.insert(k, v)
    proc.setProcessEnvironment(env)
    buffer = bytearray()  # bytes: a character split across two reads is decoded whole
    stderr: list[str] = []

    def read_out():
        buffer.extend(bytes(proc.readAllStandardOutput()))
        *lines, rest = bytes(buffer).split(b"\n")
        buffer[:] = rest
        for line in lines:
            event = protocol.parse_line(line.decode("utf-8", "replace"))
            if event is not None and current(proc):
                on_event(event)

    def read_err():
        stderr.append(bytes(proc.readAllStandardError()).decode("utf-8", "replace"))
        del stderr[:-50]

    def finished(code, _status):
        read_out()
        read_err()
        if current(proc):
            on_finished(code, "".join(stderr))

    proc.readyReadStandardOutput.connect(read_out)
    proc.readyReadStandardError.connect(read_err)
    proc.finished.connect(finished)
    proc.start(args[0], args[1:])
    return proc
