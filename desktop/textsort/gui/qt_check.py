"""Is this Qt binding safe to run the app on? PySide6 6.12.0 drops a reference to `None`
on every call of a method that returns nothing; on CPython < 3.12 (where None is not
immortal) the process aborts after a few thousand calls ("none_dealloc"). The check calls
such a method many times and watches None's reference count."""
from __future__ import annotations

import sys

CALLS = 2000
MAX_LOST = CALLS // 10  # a sound binding loses none; 6.12.0 loses one per call


def none_refcount_leak(calls: int = CALLS) -> int:
    """How many references to None `calls` calls of QLabel.setText lost (0 when sound).
    Always 0 on CPython >= 3.12: None is immortal there, so nothing can go wrong."""
    if sys.version_info >= (3, 12):
        return 0
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841  (QLabel needs one)
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(calls):
        label.setText("x")
    return max(0, before - sys.getrefcount(None))


def binding_problem() -> str | None:
    """A sentence when the installed PySide6 would crash the app, else None."""
    lost = none_refcount_leak()
    if lost < MAX_LOST:
        return None
    import PySide6

    return (f"PySide6 {PySide6.__version__} loses a reference to None on each Qt call ({lost} in {CALLS} calls): "
            f"on Python {sys.version.split()[0]} the app would abort after a few thousand. "
            "Install another version: pip install 'PySide6-Essentials!=6.12.0'")
