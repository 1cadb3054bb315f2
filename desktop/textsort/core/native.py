"""LiteRT's native code writes to file descriptor 2 directly: a moment of quiet there."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def quiet_native_stderr():
    """Silence LiteRT's native "INFO: Created XNNPACK delegate" line (fd 2) for a moment."""
    try:
        fd = sys.stderr.fileno()
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # no real stderr (pytest capture, GUI app)
        yield
        return
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
