"""Colours for the words that drove a decision, readable in light and dark themes:
the tint is blended into the palette's base colour, so text keeps its contrast."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit

TOWARDS = QColor(40, 170, 60)   # pushed towards the predicted label: green
AGAINST = QColor(220, 50, 50)   # pushed away from it: red
MIN_STRENGTH = 0.03             # words weaker than this share of the strongest stay plain
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


def word_colour(score: float, strongest: float, base: QColor) -> QColor:
    """Background for a word: direction by hue, strength by how far it is blended in."""
    share = min(abs(score) / strongest, 1.0) if strongest > 0 else 0.0
    return blend(base, TOWARDS if score > 0 else AGAINST, MIN_TINT + (MAX_TINT - MIN_TINT) * share ** 0.5)


def odds_phrase(word: str, score: float, label: str) -> str:
    """A log-odds drop in words: 'Without “free” the odds of “spam” would be 12× lower'."""
    import math

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


def show_highlighted(view: QTextEdit, text: str, words, limit: int, label: str = "the label") -> int:
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
        fmt.setToolTip(odds_phrase(w.text, w.score, label))
        cursor.mergeCharFormat(fmt)
        painted += 1
    view.moveCursor(QTextCursor.MoveOperation.Start)
    return painted
