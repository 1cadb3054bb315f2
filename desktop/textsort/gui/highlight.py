"""Colours for the words that drove a decision, readable in light and dark themes:
the tint is blended into the palette's base colour, so text keeps its contrast."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit

TOWARDS = QColor(40, 170, 60)   # pushed towards the predicted label: green
AGAINST = QColor(220, 50, 50)   # pushed away from it: red
MIN_STRENGTH = 0.03             # words weaker than this share of the strongest stay plain


def blend(base: QColor, tint: QColor, amount: float) -> QColor:
    a = min(max(amount, 0.0), 1.0)
    return QColor(
        round(base.red() + (tint.red() - base.red()) * a),
        round(base.green() + (tint.green() - base.green()) * a),
        round(base.blue() + (tint.blue() - base.blue()) * a),
    )


def word_colour(score: float, strongest: float, base: QColor) -> QColor:
    """Background for a word: direction by hue, strength by how far it is blended in."""
    strength = abs(score) / strongest if strongest > 0 else 0.0
    return blend(base, TOWARDS if score > 0 else AGAINST, 0.15 + 0.5 * strength)


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


def show_highlighted(view: QTextEdit, text: str, words, limit: int) -> int:
    """Puts text into view with each WordScore's span highlighted; returns how many
    spans were painted (spans past the shown part are skipped)."""
    shown, _ = display_text(text, limit)
    view.setPlainText(shown)
    base = view.palette().color(QPalette.ColorRole.Base)
    strongest = max((abs(w.score) for w in words), default=0.0)
    positions = utf16_positions(shown)
    cursor = QTextCursor(view.document())
    painted = 0
    for w in words:
        if abs(w.score) <= MIN_STRENGTH * strongest or w.end > len(shown) or w.start >= w.end:
            continue
        start, end = (w.start, w.end) if positions is None else (positions[w.start], positions[w.end])
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(word_colour(w.score, strongest, base))
        fmt.setToolTip(f"{w.text}: {'towards' if w.score > 0 else 'against'} the label ({w.score:+.3f})")
        cursor.mergeCharFormat(fmt)
        painted += 1
    view.moveCursor(QTextCursor.MoveOperation.Start)
    return painted
