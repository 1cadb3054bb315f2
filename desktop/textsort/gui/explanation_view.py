"""Shows one classified text: the label and confidence, the text with the words that
drove the decision highlighted, the top words and every class's score."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QTextEdit, QVBoxLayout, QWidget)

from textsort.language import language_warning

from .delegates import ConfidenceBarDelegate, StrengthBarDelegate
from .highlight import AGAINST, MIN_STRENGTH, TOWARDS, display_text, odds_phrase, show_highlighted
from .results_model import SORT_ROLE
from .settings import DEFAULTS, GuiDefaults


def word_cell_text(word: str) -> str:
    """How a scored piece of text is named in the list: punctuation and symbols on their
    own ('.', '/', '!') are easy to miss, so they are quoted."""
    w = " ".join(word.split())
    if not w:
        return "(space)"
    if not any(ch.isalnum() for ch in w):
        return f"“{w}”"
    return w


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    t.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    return t


class ExplanationView(QWidget):
    def __init__(self, parent=None, defaults: GuiDefaults = DEFAULTS) -> None:
        super().__init__(parent)
        self.defaults = defaults
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        font = self.header.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.header.setFont(font)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.text = QTextEdit(readOnly=True)
        self.text.setObjectName("explanationText")
        self.words = _table(["Word", "Pushes", "Strength"])
        self.words.setObjectName("topWords")
        self.words.setItemDelegateForColumn(2, StrengthBarDelegate(self.words))
        self.words.setColumnWidth(2, 120)
        self.scores = _table(["Label", "Score"])
        self.scores.setObjectName("classScores")
        self.scores.setItemDelegateForColumn(1, ConfidenceBarDelegate(self.scores))
        self.scores.setColumnWidth(1, 140)
        lists = QHBoxLayout()
        lists.addWidget(self._titled("Words that decided", self.words), 3)
        lists.addWidget(self._titled("All class scores", self.scores), 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.legend)
        # equal room: short texts (messages, reviews) leave the text box mostly empty,
        # and the list of deciding words is what people read next
        layout.addWidget(self.text, 1)
        layout.addLayout(lists, 1)
        self.show_message("Select a file to see why it got its label.")

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(QLabel(title))
        v.addWidget(widget)
        return box

    def show_message(self, message: str, text: str = "") -> None:
        """No explanation (nothing selected, a problem file, still working)."""
        self.header.setText(message)
        self.legend.setText("")
        self.text.setPlainText(display_text(text, self.defaults.max_display_chars)[0])
        self.words.setRowCount(0)
        self.scores.setRowCount(0)

    def show_explanation(self, text: str, explanation, threshold: float = 0.0, note: str = "",
                         language=None) -> int:
        """Returns the number of highlighted spans."""
        p = explanation.prediction
        uncertain = p.score < threshold or bool(getattr(p, "uncertain", False))
        label = f"uncertain (best guess: {p.label})" if uncertain else str(p.label)
        windows = f" · read in {p.windows} pieces" if p.windows > 1 else ""
        self.header.setText(f"{label} — {p.score:.0%} sure{windows}{note}")
        cut = len(text) > self.defaults.max_display_chars
        self.legend.setText(
            f"Green words pushed the model towards “{p.label}”, red words pushed it away; "
            "the stronger the colour, the stronger the push."
            + (f" Only the first {self.defaults.max_display_chars:,} characters are shown." if cut else "")
            + ("" if getattr(explanation, "complete", True) else
               " The text is very long: only part of its words were scored."))
        words = sorted(explanation.words, key=lambda w: abs(w.score), reverse=True)
        painted = show_highlighted(self.text, text, words[: self.defaults.explain_top_n],
                                   self.defaults.max_display_chars, label=str(p.label))
        strongest = max((abs(w.score) for w in words), default=0.0)
        shown = [w for w in words if abs(w.score) > MIN_STRENGTH * strongest][: self.defaults.top_words_shown]
        if not shown:
            self.legend.setText("No single word changed the decision on its own: "
                                "the label comes from the text as a whole.")
        warning = language_warning(text, language)
        if warning:
            self.legend.setText(f"⚠ {warning}\n{self.legend.text()}")
        self.words.setRowCount(len(shown))
        for i, w in enumerate(shown):
            word = QTableWidgetItem(word_cell_text(w.text))
            word.setToolTip(odds_phrase(w.text, w.score, str(p.label)))
            self.words.setItem(i, 0, word)
            direction = QTableWidgetItem(f"▲ towards {p.label}" if w.score > 0 else f"▼ against {p.label}")
            direction.setForeground(TOWARDS if w.score > 0 else AGAINST)
            bar = QTableWidgetItem()
            bar.setData(SORT_ROLE, float(w.score / strongest))
            for item in (direction, bar):
                item.setToolTip(odds_phrase(w.text, w.score, str(p.label))
                                + "; bars are relative to the strongest word")
            self.words.setItem(i, 1, direction)
            self.words.setItem(i, 2, bar)
        self.scores.setRowCount(len(p.scores))
        for i, (name, prob) in enumerate(sorted(p.scores.items(), key=lambda kv: -kv[1])):
            self.scores.setItem(i, 0, QTableWidgetItem(str(name)))
            bar = QTableWidgetItem(f"{prob:.1%}")
            bar.setData(SORT_ROLE, float(prob))
            self.scores.setItem(i, 1, bar)
        return painted
