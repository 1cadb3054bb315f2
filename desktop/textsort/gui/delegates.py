"""Item delegates: the confidence column drawn as a bar (the style's progress bar,
so it follows the light/dark palette)."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionProgressBar

from .results_model import RESULT_ROLE, SORT_ROLE

COLOUR_ROLE = Qt.ItemDataRole.UserRole + 7  # a QColor: the label a word pushes towards


class ConfidenceBarDelegate(QStyledItemDelegate):
    """Draws a 0-100 % bar from the index's SORT_ROLE value (a float 0..1; < 0 = none).
    A confidence that means nothing (a text in another language than the model's) is not
    drawn as a bar: the cell shows its text ("⚠ 100%?")."""

    def paint(self, painter, option, index) -> None:
        value = index.data(SORT_ROLE)
        result = index.data(RESULT_ROLE)
        if not isinstance(value, float) or value < 0 or getattr(result, "warning", None):
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 3, -3, -3)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = round(value * 100)
        bar.text = f"{value:.0%}"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.palette = option.palette
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)

    def sizeHint(self, option, index):
        hint = super().sizeHint(option, index)
        hint.setWidth(max(hint.width(), 90))
        return hint


class StrengthBarDelegate(QStyledItemDelegate):
    """Draws a word's push as a bar: SORT_ROLE holds its strength relative to the
    strongest word; COLOUR_ROLE the colour of the label it pushes towards."""

    def paint(self, painter, option, index) -> None:
        super().paint(painter, option, index)
        value = index.data(SORT_ROLE)
        if not isinstance(value, float) or value == 0:
            return
        r = option.rect.adjusted(4, 6, -4, -6)
        bar = QRectF(r.x(), r.y(), max(2.0, r.width() * min(abs(value), 1.0)), r.height())
        painter.save()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        colour = index.data(COLOUR_ROLE)
        painter.setBrush(colour if isinstance(colour, QColor) else option.palette.highlight().color())
        painter.drawRoundedRect(bar, 3, 3)
        painter.restore()
