"""The Label view: one unsorted text at a time, labelled by keyboard, the app picking what
to label next. The state is textsort.appstate.labelling.LabelSession (no Qt); the picks and the
quick model's accuracy come from `textsort-prep suggest` in a subprocess (no TensorFlow
here), run again after every few labels."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QListWidget, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from textsort.appstate import training
from textsort.appstate.labelling import LabelSession, LabelsError, data_home
from textsort.core.protocol import Event
from textsort.gui.dialogs import choose_unsorted_texts
from textsort.gui.drop_zone import TakesDroppedPath
from textsort.gui.explanation_view import ExplanationView
from textsort.gui.prep_process import start_prep
from textsort.gui.workers import CancellableCall, Lane

RETRAIN_EVERY = 4  # labels between two requests for new picks (and a new quick model)
KEYS = "1–9 label · N new label · Backspace undo · S skip"


class LabelWindow(TakesDroppedPath, QWidget):
    trainRequested = Signal(str, str)   # (labelled table, unlabelled source): the main window opens Train
    labelled = Signal(int)              # labels so far in this source

    def __init__(self, classifier=None, parent=None, teacher: str = "auto"):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Label files — Textsort")
        self.setAcceptDrops(True)
        self.classifier = classifier
        self.teacher = teacher
        self.session: LabelSession | None = None
        self.suggest_proc: QProcess | None = None
        self.suggestion: dict | None = None
        self._since_request = 0
        self.explain_lane = Lane(self, replace=True)  # the text on screen; a new one makes it stale
        self._build()
        self._draw()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.source_label = QLabel("Drop a folder of unsorted files (or a CSV/JSONL of texts) here.")
        self.source_label.setWordWrap(True)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        top = QHBoxLayout()
        top.addWidget(self.source_label, 1)
        top.addWidget(choose)
        self.view = ExplanationView()
        self.view.show_message("Nothing to label yet.")
        self.label_list = QListWidget()
        self.label_list.setMaximumWidth(260)
        self.label_list.itemActivated.connect(lambda item: self._assign(self.label_list.row(item) + 1))
        self.new_button, self.undo_button, self.skip_button = (QPushButton("New label… (N)"),
                                                              QPushButton("Undo (⌫)"), QPushButton("Skip (S)"))
        self.new_button.clicked.connect(self.new_label)
        self.undo_button.clicked.connect(self.undo)
        self.skip_button.clicked.connect(self.skip)
        side = QVBoxLayout()
        side.addWidget(QLabel("Labels (press the number):"))
        side.addWidget(self.label_list, 1)
        for b in (self.new_button, self.undo_button, self.skip_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the window
            side.addWidget(b)
        middle = QHBoxLayout()
        middle.addWidget(self.view, 1)
        middle.addLayout(side)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.model_status = QLabel("")
        self.model_status.setWordWrap(True)
        self.train_button = QPushButton("Train a model from these labels…")
        self.train_button.clicked.connect(self.train)
        bottom = QHBoxLayout()
        bottom.addWidget(self.model_status, 1)
        bottom.addWidget(self.train_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ------------------------------------------------------------------ input
    def path_dropped(self, path: Path) -> None:  # TakesDroppedPath
        self.open_source(path)

    def _choose(self) -> None:
        path = choose_unsorted_texts(self)
        if path:
            self.open_source(Path(path))

    def open_source(self, path: Path, labels: Path | None = None) -> bool:
        """Reads the texts and the labels given before; False (and a message) when it cannot."""
        try:
            session = LabelSession.open(Path(path), labels)
        except (LabelsError, ValueError, OSError) as e:
            QMessageBox.warning(self, "Label files", str(e))
            return False
        self.session, self.suggestion, self._since_request = session, None, 0
        skipped = sum(session.skipped_files.values())
        notes = [f"{skipped} files skipped (binary, empty, unreadable or too large)"] if skipped else []
        self.source_label.setText(f"<b>{html.escape(str(session.source))}</b> — {len(session.texts)} texts. "
                                  f"Labels are saved as you go in <i>{html.escape(str(session.labels_path))}</i>"
                                  + "".join(f"<br>⚠ {html.escape(n)}" for n in notes + session.notes))
        self._draw()
        self.request_suggestions()
        self.setFocus()
        return True

    def set_classifier(self, classifier) -> None:
        self.classifier = classifier
        self._draw()

    # ------------------------------------------------------------------ keys
    def keyPressEvent(self, event) -> None:  # noqa: N802
        key, text = event.key(), event.text()
        if self.session is None:
            return super().keyPressEvent(event)
        if text and text in "123456789":
            self._assign(int(text))
        elif key == Qt.Key.Key_Backspace:
            self.undo()
        elif key == Qt.Key.Key_S:
            self.skip()
        elif key == Qt.Key.Key_N:
            self.new_label()
        else:
            super().keyPressEvent(event)

    def _assign(self, number: int) -> None:
        if self.session is None or self.session.current is None:
            return
        try:
            if self.session.assign_key(number) is None:
                self.status.setText(f"There is no label {number} yet: press N to add one.")
                return
        except (LabelsError, OSError) as e:
            QMessageBox.warning(self, "Label files", f"The label was not saved: {e}")
            return
        self._after_label()

    def assign(self, label: str) -> None:
        """Labels the text on screen (a label name; a new one is added)."""
        if self.session is None or self.session.current is None:
            return
        try:
            self.session.assign(label)
        except (LabelsError, OSError) as e:
            QMessageBox.warning(self, "Label files", str(e))
            return
        self._after_label()

    def new_label(self) -> None:
        if self.session is None:
            return
        name, ok = QInputDialog.getText(self, "New label", "Name of the new label:")
        if ok and name.strip():
            try:
                self.session.add_label(name)
            except LabelsError as e:
                QMessageBox.warning(self, "New label", str(e))
                return
            self._draw()

    def undo(self) -> None:
        if self.session is not None and self.session.undo() is not None:
            self._draw()
            self.labelled.emit(self.session.done)

    def skip(self) -> None:
        if self.session is not None and self.session.skip() is not None:
            self._draw()

    def _after_label(self) -> None:
        self._since_request += 1
        if self._since_request >= RETRAIN_EVERY:
            self.request_suggestions()
        self._draw()
        self.labelled.emit(self.session.done)

    # ------------------------------------------------------------------ picks
    def request_suggestions(self) -> None:
        """Asks `textsort-prep suggest` (a subprocess) for the next texts to label."""
        if self.session is None or not training.can_run_prep() or training.training_missing():
            return
        if self.suggest_proc is not None:
            old, self.suggest_proc = self.suggest_proc, None
            old.kill()
            old.waitForFinished(2000)
        self._since_request = 0
        cache = data_home() / "label-cache"
        args = [*training.prep_command(), "suggest", str(self.session.source), "--labels",
                str(self.session.labels_path), "--cache", str(cache), "--teacher", str(self.teacher)]
        self.suggest_proc = start_prep(self, args, self._suggested, self._suggest_finished,
                                       lambda proc: proc is self.suggest_proc)
        self._draw_model_status()

    def _suggested(self, event: dict) -> None:
        if event.get("event") != Event.SUGGEST or self.session is None:
            return
        first = self.suggestion is None
        self.suggestion = event
        where = {ident: i for i, ident in enumerate(self.session.ids)}
        keep = None if first else self.session.current  # later picks never swap the text being read
        self.session.set_order([where[p] for p in event.get("picks", []) if p in where])
        if keep is not None and keep != self.session.current and keep in self.session.order:
            self.session.order.remove(keep)  # the text on screen stays on screen
            self.session.order.insert(0, keep)
        self._draw()

    def _suggest_finished(self, code: int, stderr: str) -> None:
        self.suggest_proc = None
        if code != 0:
            last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {code}"
            self.model_status.setText(f"No suggestions: {last}")
            return
        self._draw_model_status()

    # ------------------------------------------------------------------ training
    def train(self) -> None:
        if self.session is None:
            return
        try:
            table = self.session.write_training_table(data_home() / "labelled")
        except (LabelsError, OSError) as e:
            QMessageBox.information(self, "Train", str(e))
            return
        self.trainRequested.emit(str(table), str(self.session.source))

    # ------------------------------------------------------------------ drawing
    def _draw(self) -> None:
        s = self.session
        self.label_list.clear()
        for number, (name, n) in enumerate((s.counts() if s else {}).items(), start=1):
            self.label_list.addItem(f"{number if number <= 9 else ' '}  {name}  ({n})")
        for b in (self.new_button, self.undo_button, self.skip_button, self.train_button):
            b.setEnabled(s is not None)
        if s is None:
            return
        i = s.current
        self.status.setText(f"{s.done} of {len(s.texts)} labelled · {KEYS}")
        if i is None:
            self.view.show_message("Every text is labelled. Train a model from them, or drop more texts.")
            return
        title = s.ids[i]
        why = " (picked for you)" if self.suggestion and s.ids[i] in self.suggestion.get("picks", []) else ""
        self.explain_lane.drop()
        if self.classifier is None:
            self.view.show_message(f"{title}{why}", s.texts[i])
            return
        self.view.show_message(f"{title}{why}: working out the model's view…", s.texts[i])
        text = s.texts[i]
        self.explain_lane.start(CancellableCall(self.classifier.explain, text, 8),
                                lambda e: self.view.show_explanation(text, e, title=f"{title}{why} — the model says"))
        self._draw_model_status()

    def _draw_model_status(self) -> None:
        sug, s = self.suggestion, self.session
        running = " (updating…)" if self.suggest_proc is not None else ""
        if sug is None:
            self.model_status.setText(f"Finding a varied first batch to label…{running}" if running else "")
        elif sug.get("cv_accuracy") is None:
            self.model_status.setText(f"Showing a varied batch first: label a few texts of every label{running}.")
        else:
            self.model_status.setText(f"Quick model: {sug['cv_accuracy']:.0%} cross-validated on "
                                      f"{sug.get('labelled', 0)} labels; showing the texts it is least sure of, and typical "
                                      f"texts of parts with no label yet{running}.")

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.suggest_proc is not None:
            self.suggest_proc.kill()
            self.suggest_proc.waitForFinished(2000)
            self.suggest_proc = None
        self.explain_lane.drop()
        self.explain_lane.wait(5000)
        super().closeEvent(event)
