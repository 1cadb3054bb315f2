"""A small painted chart of validation macro-F1 per epoch, one line per model trained
(teacher, student alternatives): the Train window's live curve, without matplotlib."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from textsort.presentation.colours import PALETTE


class CurveWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_points(self, points: list[tuple[str, int, float]]) -> None:
        series: dict[str, list[tuple[int, float]]] = {}
        for what, epoch, value in points:
            series.setdefault(what, []).append((epoch, value))
        self.series = series
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        left, right, top, bottom = fm.horizontalAdvance("1.00") + 8, 8, fm.height() + 4, fm.height() + 6
        area = QRectF(left, top, max(10, self.width() - left - right), max(10, self.height() - top - bottom))
        p.fillRect(self.rect(), self.palette().base())
        p.setPen(QPen(self.palette().mid().color(), 1))
        p.drawRect(area)
        p.setPen(self.palette().text().color())
        p.drawText(QPointF(4, fm.ascent()), "Validation macro-F1 per epoch")
        if not self.series:
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "appears after the first epoch")
            return
        values = [v for pts in self.series.values() for _, v in pts]
        hi = min(1.0, math.ceil((max(values) + 0.01) * 20) / 20)
        lo = max(0.0, min(math.floor((min(values) - 0.02) * 20) / 20, hi - 0.1))
        epochs = max(e for pts in self.series.values() for e, _ in pts)
        for frac in (0.0, 1.0):
            y = area.bottom() - frac * area.height()
            p.drawText(QPointF(2, y + fm.ascent() / 2), f"{lo + frac * (hi - lo):.2f}")
        p.drawText(QPointF(area.left(), area.bottom() + fm.ascent() + 2), "epoch 1")
        p.drawText(QPointF(area.right() - fm.horizontalAdvance(f"epoch {epochs}"), area.bottom() + fm.ascent() + 2),
                   f"epoch {epochs}")

        def at(epoch: int, value: float) -> QPointF:
            x = area.left() + (epoch - 1) / max(epochs - 1, 1) * area.width()
            return QPointF(x, area.bottom() - (value - lo) / (hi - lo) * area.height())

        legend_x = area.left() + 6
        legend_y = area.bottom() - len(self.series) * fm.height() - 4
        for i, (what, pts) in enumerate(sorted(self.series.items())):
            colour = QColor(PALETTE[i % len(PALETTE)])
            p.setPen(QPen(colour, 2))
            pts = sorted(pts)
            for a, b in zip(pts, pts[1:]):
                p.drawLine(at(*a), at(*b))
            for e, v in pts:
                p.drawEllipse(at(e, v), 3, 3)
            last = pts[-1]
            label = f"{what}: {last[1]:.3f}"
            p.drawText(QPointF(legend_x, legend_y + fm.ascent() + i * fm.height()), label)
        p.end()
