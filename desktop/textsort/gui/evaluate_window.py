"""The Evaluate window: any model on labelled data (drop a folder of label subfolders or
a CSV/TSV/JSONL). Accuracy, macro-F1, per-class scores and a confusion matrix whose
cells list their texts; a text opens with its explanation. Export as CSV or JSON.
The evaluation itself is textsort.appstate.evaluation (the same as `textsort evaluate`), run on a
worker thread."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget, QListWidgetItem,
                               QMessageBox, QProgressBar, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from textsort.appstate.evaluation import evaluate
from textsort.appstate.labelling import LabelsError, correct
from textsort.gui.dialogs import choose_labelled_data
from textsort.gui.drop_zone import TakesDroppedPath
from textsort.gui.explanation_view import ExplanationView
from textsort.gui.workers import CancellableCall, Lane, Task


class EvaluateTask(Task):
    def __init__(self, classifier, path: Path):
        super().__init__()
        self.classifier, self.path = classifier, path

    def work(self):
        return evaluate(self.classifier, self.path, progress=lambda d, t: self.signals.progress.emit(d, t),
                        cancelled=self.cancelled)


def _explained(text: str, classifier, cancel):
    return text, classifier.explain(text, cancel=cancel)


class EvaluateWindow(TakesDroppedPath, QWidget):
    evaluated = Signal(object)  # textsort.appstate.evaluation.Evaluation

    def __init__(self, classifier=None, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Evaluate a model — Textsort")
        self.setAcceptDrops(True)
        self.classifier = classifier
        self.evaluation = None
        self.data_path: Path | None = None
        self.evaluation_lane = Lane(self, replace=True)  # a new evaluation replaces the one running
        self.explain_lane = Lane(self, replace=True)     # the text shown
        self._build()

    def _build(self) -> None:
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.choose_button = QPushButton("Choose labelled data…")
        self.choose_button.clicked.connect(self._choose)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.summary = QLabel("")
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.summary.setFont(font)
        self.per_class = QTableWidget(0, 5)
        self.per_class.setHorizontalHeaderLabels(["Label", "Precision", "Recall", "F1", "Texts"])
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion = QTableWidget(0, 0)
        self.confusion.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion.cellClicked.connect(self.show_cell)
        self.confusion.setToolTip("Rows: the true label; columns: the label the model gave. Click a cell to list "
                                  "its texts.")
        self.cell_title = QLabel("Click a cell of the confusion matrix to list its texts.")
        self.cell_list = QListWidget()
        self.cell_list.currentRowChanged.connect(self.show_text)
        self.cell_list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        relabel = QAction("Set the true label… (L)", self.cell_list, shortcut=QKeySequence("L"))
        relabel.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        relabel.triggered.connect(lambda: self.relabel())
        self.cell_list.addAction(relabel)
        self.relabel_button = QPushButton("Set the true label…")
        self.relabel_button.clicked.connect(lambda: self.relabel())
        self.explanation = ExplanationView()
        self.export_button = QPushButton("Export…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export)

        top = QHBoxLayout()
        top.addWidget(self.intro, 1)
        top.addWidget(self.choose_button)
        top.addWidget(self.export_button)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.summary)
        lv.addWidget(QLabel("Per class"))
        lv.addWidget(self.per_class, 1)
        lv.addWidget(QLabel("Confusion matrix (rows: true label, columns: predicted)"))
        lv.addWidget(self.confusion, 1)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.cell_title)
        rv.addWidget(self.cell_list, 1)
        rv.addWidget(self.relabel_button)
        rv.addWidget(self.explanation, 2)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 560])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(split, 1)
        self.set_classifier(self.classifier)
        self.resize(1040, 760)

    def set_classifier(self, classifier) -> None:
        self.classifier = classifier
        name = classifier.bundle.name if classifier is not None else "no model loaded"
        self.intro.setText(f"Model: <b>{name}</b>. Drop labelled data here: a folder with one subfolder per label, "
                           "or a CSV/TSV/JSONL file with <i>text</i> and <i>label</i> columns.")

    # ------------------------------------------------------------------ input
    def path_dropped(self, path: Path) -> None:  # TakesDroppedPath
        self.evaluate(path)

    def _choose(self) -> None:
        path = choose_labelled_data(self)
        if path:
            self.evaluate(Path(path))

    def evaluate(self, path: Path) -> None:
        if self.classifier is None:
            QMessageBox.information(self, "Evaluate", "Load a model first.")
            return
        task = EvaluateTask(self.classifier, Path(path))
        self.data_path = Path(path)
        self.progress.setVisible(True)
        self.progress.setMaximum(0)
        self.evaluation_lane.start(task, self.show_evaluation, lambda msg: QMessageBox.warning(self, "Evaluate", msg),
                                   on_progress=self._progress, on_finished=lambda: self.progress.setVisible(False))

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    # ------------------------------------------------------------------ results
    def show_evaluation(self, ev) -> None:
        self.evaluation = ev
        skipped = (f" — skipped {sum(ev.skipped.values())} texts with labels the model does not have "
                   f"({', '.join(ev.skipped)})" if ev.skipped else "")
        self.summary.setText(f"<b>Accuracy {ev.accuracy:.1%}</b> &nbsp; <b>macro-F1 {ev.macro_f1:.1%}</b> on "
                             f"{ev.n} texts{skipped}")
        rows = ev.per_class()
        self.per_class.setRowCount(len(rows))
        for r, (label, v) in enumerate(rows.items()):
            for c, text in enumerate((label, f"{v['precision']:.1%}", f"{v['recall']:.1%}", f"{v['f1']:.1%}",
                                      str(v["support"]))):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.per_class.setItem(r, c, item)
        self.per_class.resizeColumnsToContents()
        cm = ev.confusion
        n = len(ev.labels)
        self.confusion.setRowCount(n)
        self.confusion.setColumnCount(n)
        self.confusion.setHorizontalHeaderLabels(ev.labels)
        self.confusion.setVerticalHeaderLabels(ev.labels)
        peak = max(int(cm.max()), 1) if cm.size else 1
        for i in range(n):
            for j in range(n):
                item = QTableWidgetItem(str(int(cm[i, j])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = cm[i, j] / peak
                colour = QColor(0, 114, 178) if i == j else QColor(213, 94, 0)
                colour.setAlphaF(0.12 + 0.5 * share if cm[i, j] else 0.0)
                item.setBackground(QBrush(colour))
                item.setToolTip(f"{int(cm[i, j])} texts labelled {ev.labels[i]} that the model called "
                                f"{ev.labels[j]}: click to list them")
                self.confusion.setItem(i, j, item)
        self.confusion.resizeColumnsToContents()
        self.export_button.setEnabled(True)
        self.cell_list.clear()
        self.evaluated.emit(ev)

    def show_cell(self, row: int, column: int) -> None:
        ev = self.evaluation
        if ev is None:
            return
        true, predicted = ev.labels[row], ev.labels[column]
        items = ev.cell(true, predicted)
        kind = "right" if true == predicted else "wrong"
        self.cell_title.setText(f"{len(items)} texts labelled <b>{true}</b> that the model called "
                                f"<b>{predicted}</b> ({kind}); least sure first:")
        self.cell_list.clear()
        for j in sorted(items, key=lambda j: j.confidence):
            item = QListWidgetItem(f"{j.confidence:.0%}  {Path(j.source).name if '/' in j.source else j.source}"
                                   f"  — {' '.join(j.text.split())[:80]}")
            item.setData(Qt.ItemDataRole.UserRole, j)
            item.setToolTip(j.source)
            self.cell_list.addItem(item)

    def show_text(self, row: int) -> None:
        item = self.cell_list.item(row)
        if item is None or self.classifier is None:
            return
        judged = item.data(Qt.ItemDataRole.UserRole)
        self.explain_lane.start(CancellableCall(_explained, judged.text, self.classifier),
                                lambda out, j=judged: self.explanation.show_explanation(
                                    out[0], out[1], title=f"{Path(j.source).name} — labelled {j.label}"))

    def relabel(self, label: str | None = None) -> Path | None:
        """The selected text's label in the data was wrong: its true label goes into the labels
        file of the evaluated data (textsort.appstate.labelling); the data itself is not changed."""
        item = self.cell_list.currentItem()
        if item is None or self.evaluation is None:
            QMessageBox.information(self, "Set the true label", "Choose a text in the list first.")
            return None
        judged = item.data(Qt.ItemDataRole.UserRole)
        if label is None:
            labels = list(self.evaluation.labels)
            label, ok = QInputDialog.getItem(self, "Set the true label", "This text is really:", labels,
                                             labels.index(judged.predicted) if judged.predicted in labels else 0,
                                             True)
            if not ok:
                return None
        try:
            written = correct(self.data_path, judged.source, judged.text, label)
        except (LabelsError, OSError) as e:
            QMessageBox.warning(self, "Set the true label", str(e))
            return None
        item.setText(f"✎ {label}: " + item.text())
        self.cell_title.setText(f"Saved: “{label}” for {Path(judged.source).name}, in {written}")
        return written

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the evaluation", "evaluation.csv",
                                              "CSV, one row per text (*.csv);;JSON, metrics and errors (*.json)")
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> None:
        try:
            self.evaluation.export(path)
        except (OSError, ValueError) as e:
            QMessageBox.warning(self, "Export", str(e))

    def closeEvent(self, event) -> None:  # noqa: N802
        for lane in (self.evaluation_lane, self.explain_lane):
            lane.drop()
            lane.wait(5000)
        event.accept()
