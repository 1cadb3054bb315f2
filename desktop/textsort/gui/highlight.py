"""Colours for the words that drove a decision, readable in light and dark themes:
the tint is blended into the palette's base colour, so text keeps its contrast. Each word
is tinted in the colour of the label it pushes towards (`textsort.presentation.colours`, the same as the
CLI's and the JSON's); only the deciding words (`Explanation.deciding`) are painted."""
from __future__ import annotations

import math

from PySide6.QtGui import QColor, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit

# Scores are log-odds drops: unbounded, and one word (a phone number in a spam text)
# is often several times stronger than the rest. The colour follows the square root
# of the share of the strongest word, so the second- and third-strongest words still
# show clearly instead of fading into the background; the floor keeps the weakest
# painted word visible on a dark base too.
MIN_TINT, MAX_TINT = 0.25, 0.75


def blend(base: QColor, tint: QColor, amount: float) -> QColor:
    a = min(max(amount, 0.0), 1.0)
    return QColor(
        round(base.red() + (tint.red() - base.red()) * a),
        round(base.green() + (tint.green() - base.green()) * a),
        round(base.blue() + (tint.blue() - base.blue()) * a),
    )


def word_colour(score: float, strongest: float, base: QColor, label_colour: QColor) -> QColor:
    """Background for a word: its label's hue, strength by how far it is blended in."""
    share = min(abs(score) / strongest, 1.0) if strongest > 0 else 0.0
    return blend(base, label_colour, MIN_TINT + (MAX_TINT - MIN_TINT) * share ** 0.5)


def odds_phrase(word: str, score: float, label: str) -> str:
    """A log-odds drop in words: 'Without “free” the odds of “spam” would be 12× lower'."""
    factor = math.exp(min(abs(score), 50.0))
    times = f"{factor:,.0f}×" if factor >= 10 else f"{factor:.1f}×"
    return (f"Without “{word}” the odds of “{label}” would be {times} "
            f"{'lower' if score > 0 else 'higher'} (log-odds {score:+.2f})")


def utf16_positions(text: str) -> list[int] | None:
    """Python index -> QTextDocument position (UTF-16 units), or None when equal."""
    if all(ord(c) < 0x10000 for c in text):
        return None
    pos, out = 0, []
    for c in text:
        out.append(pos)
        pos += 2 if ord(c) >= 0x10000 else 1
    out.append(pos)
    return out


def display_text(text: str, limit: int) -> tuple[str, bool]:
    """Text as shown: '\\r' becomes a space (same length, so spans still match)."""
    cut = len(text) > limit
    return text[:limit].replace("\r", " "), cut


def set_plain(view: QTextEdit, text: str) -> None:
    """Replaces the view's text with no formatting at all. setPlainText alone keeps the
    cursor's character format: after a text whose first word was painted, the next text
    came out entirely in that word's colour."""
    view.setCurrentCharFormat(QTextCharFormat())
    view.setPlainText(text)
    cursor = QTextCursor(view.document())
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.setCharFormat(QTextCharFormat())
    view.setCurrentCharFormat(QTextCharFormat())


def show_highlighted(view: QTextEdit, text: str, words, limit: int, label: str = "the label",
                     colours: dict[str, str] | None = None) -> int:
    """Puts text into view with every occurrence of each (deciding) WordScore painted in
    its label's colour; returns how many spans were painted (those past the shown part
    are skipped)."""
    shown, _ = display_text(text, limit)
    set_plain(view, shown)
    base = view.palette().color(QPalette.ColorRole.Base)
    strongest = max((abs(w.score) for w in words), default=0.0)
    positions = utf16_positions(shown)
    cursor = QTextCursor(view.document())
    painted = 0
    for w in words:
        tint = QColor((colours or {}).get(w.label, "#808080"))
        for a, b in (w.spans or [(w.start, w.end)]):
            if b > len(shown) or a >= b:
                continue
            start, end = (a, b) if positions is None else (positions[a], positions[b])
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            fmt.setBackground(word_colour(w.score, strongest, base, tint))
            fmt.setToolTip(odds_phrase(w.text, w.score, label))
            cursor.mergeCharFormat(fmt)
            painted += 1
    view.moveCursor(QTextCursor.MoveOperation.Start)
    view.setCurrentCharFormat(QTextCharFormat())
    return painted
