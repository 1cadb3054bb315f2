"""The results table: one row per file (FileResult), a filter/sort proxy, and the
threshold that shows low-confidence results as "uncertain" without re-running."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

COLUMNS = ("File", "Label", "Confidence", "Pieces", "Problem", "Folder")
COL_FILE, COL_LABEL, COL_CONFIDENCE, COL_WINDOWS, COL_PROBLEM, COL_FOLDER = range(len(COLUMNS))
HEADER_TIPS = (
    "The file's name (hover a row for its full path)",
    "What the model thinks the file is; “uncertain” when it is less sure than the threshold",
    "How sure the model is about the label",
    "How many overlapping pieces (windows) of the text the model read",
    "Why a file could not be classified, or what to know about it",
    "The folder the file is in",
)
SORT_ROLE = Qt.ItemDataRole.UserRole           # numbers for numeric columns
RESULT_ROLE = Qt.ItemDataRole.UserRole + 1     # the FileResult itself
UNCERTAIN = "uncertain"
PROBLEMS = "problems"  # filter key: rows without a prediction


def problem_text(result) -> str:
    """The file's problem in a few plain words (the column is narrow), or "" when there is
    none; `problem_tip` has the whole message."""
    if not result.problem and not result.file.truncated and result.warning:
        return f"⚠ {result.warning.split(':')[0]}"
    return result.note


def problem_tip(result) -> str:
    return result.note


class ResultsTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list = []
        self._row_of: dict[str, int] = {}
        self.threshold = 0.0
        self.roots: list[Path] = []  # what the user dropped or opened: folders are shown from there

    # -- data in ------------------------------------------------------------
    def add_results(self, results: Iterable) -> None:
        new = []
        for r in results:
            key = str(r.path)
            row = self._row_of.get(key)
            if row is not None:  # the same file again: replace its row
                self._rows[row] = r
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            else:
                new.append(r)
        if not new:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for i, r in enumerate(new):
            self._row_of[str(r.path)] = first + i
            self._rows.append(r)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._row_of = [], {}
        self.endResetModel()

    def set_threshold(self, value: float) -> None:
        self.threshold = float(value)
        if self._rows:
            self.dataChanged.emit(self.index(0, COL_LABEL), self.index(len(self._rows) - 1, COL_LABEL))

    # -- what a row means -----------------------------------------------------
    def results(self) -> list:
        return list(self._rows)

    def result_at(self, row: int):
        return self._rows[row]

    def is_uncertain(self, result) -> bool:
        p = result.prediction
        return p is not None and (p.score < self.threshold or result.uncertain)

    def shown_label(self, result) -> str:
        p = result.prediction
        if p is None:
            return ""
        if self.is_uncertain(result):
            return f"{UNCERTAIN} ({p.label}?)"
        return str(p.label)

    @staticmethod
    def shown_confidence(result) -> str:
        p = result.prediction
        if p is None:
            return ""
        return f"⚠ {p.score:.0%}?" if result.warning else f"{p.score:.0%}"  # the tooltip says why

    def shown_folder(self, path: Path) -> str:
        """The file's folder as the user gave it: from the dropped folder on ("messages",
        "messages/2024"); the full path (the tooltip's) for anything else."""
        for root in self.roots:
            try:
                rel = path.parent.relative_to(root.parent)
            except ValueError:
                continue
            return str(rel) if rel != Path(".") else (root.parent.name or str(root.parent))
        return str(path.parent)

    def filter_key(self, result) -> str:
        if result.prediction is None:
            return PROBLEMS
        return UNCERTAIN if self.is_uncertain(result) else str(result.prediction.label)

    # -- Qt model API --------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        p = r.prediction
        path = Path(r.path)
        if role == RESULT_ROLE:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_FILE:
                return path.name
            if col == COL_LABEL:
                return self.shown_label(r)
            if col == COL_CONFIDENCE:
                return self.shown_confidence(r)
            if col == COL_WINDOWS:
                return str(p.windows) if p is not None else ""
            if col == COL_PROBLEM:
                return problem_text(r)
            if col == COL_FOLDER:
                return self.shown_folder(path)
        if role == SORT_ROLE:
            if col == COL_CONFIDENCE:
                return float(p.score) if p is not None else -1.0
            if col == COL_WINDOWS:
                return int(p.windows) if p is not None else -1
            return self.data(index, Qt.ItemDataRole.DisplayRole).lower()
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_LABEL and p is not None:
                scores = ", ".join(f"{k} {v:.1%}" for k, v in p.scores.items())
                why = (f"{r.warning}. Best guess {p.label}. " if r.warning else
                       f"Below the {self.threshold:.0%} threshold: best guess {p.label}. "
                       if self.is_uncertain(r) else "")
                return f"{why}Scores: {scores}"
            if col == COL_WINDOWS and p is not None:
                return ("How many overlapping pieces (windows) of the text the model read; "
                        "long texts need several, and all of them count.")
            if col in (COL_PROBLEM, COL_CONFIDENCE) and problem_tip(r):
                return problem_tip(r)
            return str(path)
        if role == Qt.ItemDataRole.FontRole and col == COL_LABEL and self.is_uncertain(r):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_CONFIDENCE, COL_WINDOWS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ResultsFilterProxy(QSortFilterProxyModel):
    """Filters by label (a label, "uncertain", "problems" or None = all) and by a
    case-insensitive part of the file name; sorts by SORT_ROLE (numbers stay numbers)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label_filter: str | None = None
        self.name_filter = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def set_label_filter(self, key: str | None) -> None:
        self._refilter(lambda: setattr(self, "label_filter", key or None))

    def set_name_filter(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "name_filter", text.strip().lower()))

    def refilter(self) -> None:
        self._refilter(lambda: None)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        model: ResultsTableModel = self.sourceModel()
        r = model.result_at(source_row)
        if self.label_filter is not None and model.filter_key(r) != self.label_filter:
            return False
        return not self.name_filter or self.name_filter in Path(r.path).name.lower()

    def shown_results(self) -> list:
        return [self.data(self.index(i, 0), RESULT_ROLE) for i in range(self.rowCount())]
