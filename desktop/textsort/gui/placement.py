"""Where a secondary window (Train, Evaluate) opens: its own top-level window (not kept
above the main window), sized to fit the screen the main window is on, and wholly on it."""
from __future__ import annotations

from PySide6.QtCore import QMargins, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SCREEN_SHARE = 0.9  # at most this share of the screen's free area in each direction
# Before a window is shown its frame is unknown: this much is left for the title bar and borders.
DECORATION = QMargins(8, 40, 8, 8)


def fit_rect(wanted_w: int, wanted_h: int, free: QRect, near: QRect | None = None) -> QRect:
    """A rectangle of about the wanted size, inside `free`, centred on `near` (or on `free`)."""
    w = min(wanted_w, int(free.width() * SCREEN_SHARE))
    h = min(wanted_h, int(free.height() * SCREEN_SHARE))
    centre = (near or free).center()
    x = min(max(centre.x() - w // 2, free.left()), free.right() + 1 - w)
    y = min(max(centre.y() - h // 2, free.top()), free.bottom() + 1 - h)
    return QRect(x, y, w, h)


def place(window: QWidget, wanted_w: int, wanted_h: int, beside: QWidget | None = None) -> None:
    """Sizes and moves `window` onto the screen `beside` is on (the primary one without it)."""
    screen = (beside.screen() if beside is not None else None) or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(wanted_w, wanted_h)
        return
    near = beside.frameGeometry() if beside is not None and beside.isVisible() else None
    rect = fit_rect(wanted_w, wanted_h, screen.availableGeometry().marginsRemoved(DECORATION), near)
    window.resize(rect.size())
    window.move(rect.topLeft())
