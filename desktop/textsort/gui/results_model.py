"""The results table: a Qt view of `textsort.appstate.workspace.Workspace` (one row per file), and
a filter/sort proxy over it. The rules (uncertain, filters, how a cell reads) are the
workspace's; nothing here decides them."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

from textsort.appstate.workspace import PROBLEMS as WS_PROBLEMS
from textsort.appstate.workspace import UNCERTAIN as WS_UNCERTAIN
from textsort.appstate.workspace import Workspace

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
UNCERTAIN, PROBLEMS = WS_UNCERTAIN, WS_PROBLEMS  # label-filter keys

class ResultsTableModel(QAbstractTableModel):
    """A Qt view of one `textsort.appstate.workspace.Workspace` (`self.ws`): every fact about what
    a row shows lives there; this class only answers Qt's questions and emits its signals."""

    def __init__(self, parent=None, workspace: Workspace | None = None) -> None:
        super().__init__(parent)
        self.ws = workspace or Workspace()

    # -- data in ------------------------------------------------------------
    def add_results(self, results: Iterable) -> None:
        results = list(results)
        first, added = len(self.ws.results), self.ws.new_count(results)
        if added:
            self.beginInsertRows(QModelIndex(), first, first + added - 1)
        replaced, _ = self.ws.add(results)
        if added:
            self.endInsertRows()
        for row in replaced:
            if row < first:  # rows that were already shown; rows added above are new
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def clear(self) -> None:
        self.beginResetModel()
        self.ws.clear()
        self.endResetModel()

    def set_threshold(self, value: float) -> None:
        self.ws.threshold = float(value)
        if self.ws.results:
            self.dataChanged.emit(self.index(0, COL_LABEL), self.index(len(self.ws.results) - 1, COL_LABEL))

    @property
    def threshold(self) -> float:
        return self.ws.threshold

    # -- what a row means (the workspace's rules) -------------------------------------
    def result_at(self, row: int):
        return self.ws.results[row]

    # -- Qt model API --------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.ws.results)

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
        ws, r = self.ws, self.ws.results[index.row()]
        col = index.column()
        p = r.prediction
        path = Path(r.path)
        if role == RESULT_ROLE:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_FILE:
                return path.name
            if col == COL_LABEL:
                return ws.shown_label(r)
            if col == COL_CONFIDENCE:
                return ws.shown_confidence(r)
            if col == COL_WINDOWS:
                return str(p.windows) if p is not None else ""
            if col == COL_PROBLEM:
                return ws.problem_text(r)
            if col == COL_FOLDER:
                return ws.shown_folder(path)
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
                       f"Below the {ws.threshold:.0%} threshold: best guess {p.label}. "
                       if ws.is_uncertain(r) else "")
                return f"{why}Scores: {scores}"
            if col == COL_WINDOWS and p is not None:
                return ("How many overlapping pieces (windows) of the text the model read; "
                        "long texts need several, and all of them count.")
            if col in (COL_PROBLEM, COL_CONFIDENCE) and r.note:
                return r.note
            return str(path)
        if role == Qt.ItemDataRole.FontRole and col == COL_LABEL and ws.is_uncertain(r):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_CONFIDENCE, COL_WINDOWS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ResultsFilterProxy(QSortFilterProxyModel):
    """Filters by the workspace's label and name filters (`Workspace.accepts`); sorts by
    SORT_ROLE (numbers stay numbers)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    @property
    def ws(self) -> Workspace:
        return self.sourceModel().ws

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def set_label_filter(self, key: str | None) -> None:
        self._refilter(lambda: setattr(self.ws, "label_filter", key or None))

    def set_name_filter(self, text: str) -> None:
        self._refilter(lambda: setattr(self.ws, "name_filter", text.strip().lower()))

    def refilter(self) -> None:
        self._refilter(lambda: None)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        return self.ws.accepts(self.ws.results[source_row])

    def shown_results(self) -> list:
        """The rows shown, in the view's order (sorted as the user sorted them)."""
        return [self.data(self.index(i, 0), RESULT_ROLE) for i in range(self.rowCount())]
