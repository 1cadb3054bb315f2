"""Shows one classified text: the label and confidence, the text with the words that
drove the decision highlighted, the top words and every class's score."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QTextEdit, QVBoxLayout, QWidget)

from textsort.core.explain import DECIDING_SHARE
from textsort.core.language import language_warning
from textsort.core.uncertain import is_uncertain
from textsort.presentation.colours import label_colours

from .delegates import COLOUR_ROLE, ConfidenceBarDelegate, StrengthBarDelegate
from .highlight import display_text, odds_phrase, set_plain, show_highlighted
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
        self.legend.setTextFormat(Qt.TextFormat.RichText)  # label swatches; labels are escaped
        self.text = QTextEdit(readOnly=True)
        self.text.setObjectName("explanationText")
        self.words = _table(["Word", "Pushes towards", "Strength"])
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
        self._shown = None  # (text, explanation, note, language, title) on screen
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
        self._shown = None
        self.header.setText(message)
        self.legend.setText("")
        set_plain(self.text, display_text(text, self.defaults.max_display_chars)[0])
        self.words.setRowCount(0)
        self.scores.setRowCount(0)

    def show_explanation(self, text: str, explanation, threshold: float = 0.0, note: str = "",
                         language=None, title: str = "") -> int:
        """Shows `text` explained (`title`: the file's name); returns the number of highlighted spans."""
        self._shown = (text, explanation, note, language, title)
        p = explanation.prediction
        colours = label_colours(p.scores)
        warning = language_warning(text, language)
        uncertain = is_uncertain(p, warning, threshold)
        windows = f" · read in {p.windows} pieces" if p.windows > 1 else ""
        named = f"{title}: " if title else ""
        if warning:  # the first thing said: this label cannot be trusted
            self.header.setText(f"⚠ {warning[0].upper()}{warning[1:]}.\n{named}best guess {p.label} "
                                f"(its {p.score:.0%} means nothing here){windows}{note}")
        else:
            label = f"uncertain (best guess: {p.label})" if uncertain else str(p.label)
            self.header.setText(f"{named}{label} — {p.score:.0%} sure{windows}{note}")
        deciding = explanation.deciding
        painted = show_highlighted(self.text, text, deciding, self.defaults.max_display_chars,
                                   label=str(p.label), colours=colours)
        self.legend.setText(self._legend(colours, text, explanation, bool(deciding)))
        shown = deciding[: self.defaults.top_words_shown]
        strongest = max((abs(w.score) for w in deciding), default=0.0)
        self.words.setRowCount(len(shown))
        for i, w in enumerate(shown):
            tip = odds_phrase(w.text, w.score, str(p.label)) + (f"; {w.count} times in the text" if w.count > 1
                                                                  else "")
            word = QTableWidgetItem(word_cell_text(w.text) + (f"  ×{w.count}" if w.count > 1 else ""))
            towards = QTableWidgetItem(str(w.label))
            towards.setForeground(QColor(colours.get(w.label, "#808080")))
            bar = QTableWidgetItem()
            bar.setData(SORT_ROLE, float(abs(w.score) / strongest))
            bar.setData(COLOUR_ROLE, QColor(colours.get(w.label, "#808080")))
            for item in (word, towards, bar):
                item.setToolTip(tip + ("; bars are relative to the strongest word" if item is bar else ""))
            self.words.setItem(i, 0, word)
            self.words.setItem(i, 1, towards)
            self.words.setItem(i, 2, bar)
        self.scores.setRowCount(len(p.scores))
        for i, (name, prob) in enumerate(sorted(p.scores.items(), key=lambda kv: -kv[1])):
            item = QTableWidgetItem(str(name))
            item.setForeground(QColor(colours.get(name, "#808080")))
            self.scores.setItem(i, 0, item)
            bar = QTableWidgetItem(f"{prob:.1%}")
            bar.setData(SORT_ROLE, float(prob))
            self.scores.setItem(i, 1, bar)
        return painted

    def set_threshold(self, threshold: float) -> None:
        """Show what is on screen again with another "uncertain below" value (no model call)."""
        if self._shown is not None:
            text, explanation, note, language, title = self._shown
            self.show_explanation(text, explanation, threshold, note, language, title)

    def _legend(self, colours: dict[str, str], text: str, explanation, any_deciding: bool) -> str:
        """One colour per label (the same in the CLI and JSON), and what is left plain."""
        swatches = " ".join(f'<span style="background-color:{c}">&nbsp;&nbsp;&nbsp;</span>&nbsp;{html.escape(lab)}'
                            for lab, c in colours.items())
        if any_deciding:
            parts = [f"Words are tinted in the colour of the class they push towards: {swatches}. "
                     f"Only words with at least {DECIDING_SHARE:.0%} of the strongest word's push are "
                     "coloured; stop-words and punctuation are left out."]
            against = explanation.against
            label = html.escape(str(explanation.prediction.label))
            parts.append(f"Listed first: the words that pushed towards “{label}”."
                         + ((" The last one pushed towards another label; “{0}” won despite it." if against == 1
                             else f" The last {against} pushed towards another label; “{{0}}” won despite them.")
                            .format(label) if against else ""))
        else:
            parts = ["No single word changed the decision on its own: the label comes from the text as a whole. "
                     f"Classes: {swatches}."]
        if len(text) > self.defaults.max_display_chars:
            parts.append(f"Only the first {self.defaults.max_display_chars:,} characters are shown.")
        if not getattr(explanation, "complete", True):
            parts.append("The text is very long: only part of its words were scored.")
        return " ".join(parts)
