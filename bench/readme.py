"""The benchmark tables in README.md: each between its own pair of HTML comment markers."""
from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def replace_table(marks: tuple[str, str], table: str, readme: Path = README) -> bool:
    """Put `table` between `marks` in README.md; False when the markers are missing."""
    text = readme.read_text("utf-8")
    a, b = marks
    if a not in text or b not in text:
        return False
    start, end = text.index(a) + len(a), text.index(b)
    readme.write_text(text[:start] + "\n" + table + "\n" + text[end:], "utf-8")
    return True
