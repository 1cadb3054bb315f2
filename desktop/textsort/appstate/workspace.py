"""What the desktop window shows, as plain Python (no Qt), as mnelab keeps its `Model`:
the results (one per file: classifying a file again replaces its row), the paths the user
gave, the "uncertain below" threshold, the label and name filters, and how each cell reads.

`textsort.gui.results_model` is a thin Qt view over one `Workspace`; tests drive it
directly, without a window.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textsort.core.language import WRONG_LANGUAGE
from textsort.core.uncertain import is_uncertain

UNCERTAIN = "uncertain"  # label-filter key and shown label
PROBLEMS = "problems"    # label-filter key: files without a prediction


@dataclass
class Workspace:
    results: list = field(default_factory=list)  # session.FileResult, in the order they arrived
    roots: list[Path] = field(default_factory=list)  # what the user dropped or opened
    threshold: float = 0.0                        # below this confidence a result is uncertain
    label_filter: str | None = None               # a label, UNCERTAIN, PROBLEMS or None (all)
    name_filter: str = ""                         # part of the file name, lower case
    _row_of: dict[str, int] = field(default_factory=dict, repr=False)

    # -- data in ---------------------------------------------------------------
    def add(self, results: Iterable) -> tuple[list[int], list]:
        """Adds results; returns (rows replaced in place, results appended)."""
        replaced, new = [], []
        for r in results:
            row = self._row_of.get(str(r.path))
            if row is not None:  # the same file again: its row shows the new result
                self.results[row] = r
                replaced.append(row)
            else:
                self._row_of[str(r.path)] = len(self.results)
                self.results.append(r)
                new.append(r)
        return replaced, new

    def new_count(self, results: Iterable) -> int:
        """How many rows `add(results)` would append (files not shown yet, each once)."""
        return len({str(r.path) for r in results} - self._row_of.keys())

    def add_roots(self, paths: Iterable[Path]) -> None:
        self.roots.extend(Path(p) for p in paths if Path(p) not in self.roots)

    def clear(self) -> None:
        self.results.clear()
        self._row_of.clear()
        self.roots.clear()

    # -- the one "uncertain" rule, with the window's threshold -----------------------
    def is_uncertain(self, r) -> bool:
        """FileResult.uncertain (the classifier's threshold, or the wrong language), or
        below the window's threshold."""
        return is_uncertain(r.prediction, r.warning, self.threshold)

    def for_output(self, results: Iterable | None = None) -> list:
        """Results (default: those shown) with the window's threshold applied as
        `Prediction.uncertain`, for export and sorting."""
        out = []
        for r in self.shown() if results is None else results:
            p = r.prediction
            if p is not None and self.threshold > 0 and p.score < self.threshold and not p.uncertain:
                r = dataclasses.replace(r, prediction=dataclasses.replace(p, uncertain=True))
            out.append(r)
        return out

    # -- how each cell reads ------------------------------------------------------
    def shown_label(self, r) -> str:
        p = r.prediction
        if p is None:
            return ""
        return f"{UNCERTAIN} ({p.label}?)" if self.is_uncertain(r) else str(p.label)

    @staticmethod
    def shown_confidence(r) -> str:
        p = r.prediction
        if p is None:
            return ""
        return f"⚠ {p.score:.0%}?" if r.warning else f"{p.score:.0%}"  # the tooltip says why

    @staticmethod
    def problem_text(r) -> str:
        """The problem in a few words (the column is narrow); `r.note` has the whole message."""
        if not r.problem and not r.file.truncated and r.warning:
            return f"⚠ {WRONG_LANGUAGE}"  # the only warning there is
        return short_note(r.note)

    def shown_folder(self, path: Path) -> str:
        """The file's folder as the user gave it: from the dropped folder on ("messages",
        "messages/2024"); the full path (the tooltip's) for anything else."""
        for root in self.roots:
            try:
                rel = Path(path).parent.relative_to(root.parent)
            except ValueError:
                continue
            return str(rel) if rel != Path(".") else (root.parent.name or str(root.parent))
        return str(Path(path).parent)

    # -- filters ---------------------------------------------------------------------
    def filter_key(self, r) -> str:
        if r.prediction is None:
            return PROBLEMS
        return UNCERTAIN if self.is_uncertain(r) else str(r.prediction.label)

    def accepts(self, r) -> bool:
        if self.label_filter is not None and self.filter_key(r) != self.label_filter:
            return False
        return not self.name_filter or self.name_filter in Path(r.path).name.lower()

    def shown(self) -> list:
        return [r for r in self.results if self.accepts(r)]


def short_note(note: str, limit: int = 40) -> str:
    """A note's first clause, so that it fits its column whole: "no text in file (no letters
    or digits: ...)" -> "no text in file". The tooltip and the side pane say the rest."""
    for cut in (" (", ": ", "; ", ", "):
        if len(note) > limit and cut in note:
            note = note.split(cut, 1)[0]
    return note if len(note) <= limit else note[: limit - 1].rstrip() + "…"
