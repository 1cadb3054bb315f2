"""The Train window: labelled data in (drop a folder of label subfolders or a
CSV/TSV/JSONL), a preview before anything trains, then `textsort-prep train` in a
subprocess (QProcess: this process never imports TensorFlow) with its stages, steps and
validation curve drawn live from the JSON lines it prints (textsort.appstate.training).

Cancel stops the subprocess (SIGTERM: it stops like Ctrl-C); the finished stages stay in
the run's work folder and the next Train on the same data and output resumes them."""
from __future__ import annotations

import html
import os
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMessageBox, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QTextBrowser, QVBoxLayout, QWidget)

from textsort.appstate import training
from textsort.files.safe_files import free_name
from textsort.gui.curve import CurveWidget
from textsort.gui.dialogs import choose_labelled_data, choose_unsorted_texts
from textsort.gui.drop_zone import TakesDroppedPath
from textsort.gui.prep_process import start_prep
from textsort.presentation.card import CROSS_VALIDATION, duration

TEACHERS = (("auto", "auto (MiniLM for English, multilingual e5 for Chinese)"), ("minilm", "MiniLM (English)"),
            ("e5", "multilingual e5 (Chinese and other languages)"))
OTHER_TEACHER = "A BERT folder on disk (Hugging Face format)…"
STATE_WORDS = {"waiting": "", "running": "running", "done": "done", "reused": "done earlier (reused)"}


def stage_bar_text(s: training.RunState) -> str:
    """What the bar under the stage list says: a running stage's steps, else the run's state
    (never "0 / 1")."""
    cur = s.current
    if cur is not None:
        return "%v / %m" if cur.total else f"{cur.title}…"
    if s.bundle:
        return "Finished"
    if s.error or s.cancelled:
        return "Stopped"
    return ""


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else duration(seconds)


class TrainWindow(TakesDroppedPath, QWidget):
    modelTrained = Signal(str)  # the bundle's path

    def __init__(self, settings=None, parent=None, config: Path | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.confirmed_out: str | None = None  # an existing --out the save dialog confirmed replacing
        self.setWindowTitle("Train a model — Textsort")
        self.setAcceptDrops(True)
        self.settings = settings
        self.config = config  # JSON config overrides (tests use a tiny teacher's)
        self.preview_state = training.Preview()
        self.run_state = training.RunState()
        self.preview_proc: QProcess | None = None
        self.train_proc: QProcess | None = None
        self._cancelling = False  # Cancel pressed: the run's end is a cancel, whatever its exit code
        self._build()
        self._update_buttons()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        form = QFormLayout()
        self.data_edit, self.test_edit, self.out_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.unlabelled_edit = QLineEdit()
        self.data_edit.setPlaceholderText("drop a folder with one subfolder per label, or a CSV/TSV/JSONL file")
        self.unlabelled_edit.setPlaceholderText("optional: a folder of unsorted files (or a CSV/JSONL of texts) "
                                                "the model learns from too")
        self.test_edit.setPlaceholderText("optional: held-out labelled data, only for the final numbers")
        self.out_edit.setPlaceholderText("where to save the model (.textsort)")
        for edit, kind in ((self.data_edit, "data"), (self.unlabelled_edit, "unlabelled"), (self.test_edit, "test"),
                           (self.out_edit, "out")):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            choose = QPushButton("Choose…")
            choose.clicked.connect(lambda _=False, k=kind: self._choose(k))
            row.addWidget(choose)
            form.addRow({"data": "Training data:", "unlabelled": "Unlabelled texts:", "test": "Test set:",
                         "out": "Save model as:"}[kind], row)
        self.teacher_combo = QComboBox()
        for key, text in TEACHERS:
            self.teacher_combo.addItem(text, key)
        self.teacher_combo.addItem(OTHER_TEACHER, None)
        self.teacher_combo.activated.connect(self._teacher_activated)
        form.addRow("Teacher:", self.teacher_combo)
        self.data_edit.editingFinished.connect(self._data_typed)
        self.out_edit.editingFinished.connect(self._out_typed)
        self.out_edit.textChanged.connect(self._update_buttons)
        self.test_edit.editingFinished.connect(self.start_preview)
        self.unlabelled_edit.editingFinished.connect(self.start_preview)
        self.teacher_combo.currentIndexChanged.connect(self.start_preview)

        self.preview_view = QTextBrowser()
        self.preview_view.setMinimumHeight(150)
        self.preview_view.setHtml("<p>Drop labelled data on this window: a folder with one subfolder per label "
                                  "(each file in it is one text), or a CSV/TSV/JSONL file with <i>text</i> and "
                                  "<i>label</i> columns.</p>")
        preview_box = QGroupBox("Before training")
        QVBoxLayout(preview_box).addWidget(self.preview_view)

        self.stage_table = QTableWidget(len(training.TITLES), 3)
        self.stage_table.setHorizontalHeaderLabels(["Stage", "Progress", "Time"])
        rows = self.stage_table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)  # compact: every stage in view at the default size
        header = self.stage_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.stage_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.stage_bar = QProgressBar()
        self.stage_bar.setFormat("%v / %m")
        self.curve = CurveWidget()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        run_box = QGroupBox("Training")
        run_layout = QVBoxLayout(run_box)
        run_layout.addWidget(self.stage_table, 2)
        run_layout.addWidget(self.stage_bar)
        run_layout.addWidget(self.curve, 1)
        run_layout.addWidget(self.status)

        self.train_button, self.cancel_button = QPushButton("Train"), QPushButton("Cancel")
        self.use_button = QPushButton("Use this model")
        self.train_button.clicked.connect(self.start_training)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self._use_model)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.train_button, self.cancel_button, self.use_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(preview_box, 1)
        layout.addWidget(run_box, 2)
        layout.addLayout(buttons)
        self._draw_stages()
        self.resize(860, 860)

    # ------------------------------------------------------------------ input
    def path_dropped(self, path: Path) -> None:  # TakesDroppedPath
        self.set_data(path)

    def set_data(self, path: Path, test: Path | None = None, out: Path | None = None) -> None:
        """Use `path` as the training data (a drop or a choice); the preview starts at once."""
        path = Path(path)
        self.data_edit.setText(str(path))
        if test is not None:
            self.test_edit.setText(str(test))
        if out is not None:
            self.out_edit.setText(str(self._absolute_out(str(out))))
        self._default_out()
        self.start_preview()

    def _base_folder(self) -> Path:
        return Path(self.settings.last_folder) if self.settings and self.settings.last_folder else Path.home()

    def _default_out(self) -> None:
        """A free name beside the other models when "Save model as" is empty."""
        data = self.data_edit.text().strip()
        if data and not self.out_edit.text().strip():
            self.out_edit.setText(str(free_name(self._base_folder() / f"{Path(data).stem or 'model'}.textsort")))

    def _absolute_out(self, text: str) -> Path | None:
        """The model's path as typed, made absolute (a bare name goes where the default would),
        with the .textsort suffix: the model picker must find it after a restart from anywhere."""
        text = text.strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if path.suffix.lower() != ".textsort":
            path = path.with_name(path.name + ".textsort")
        return Path(os.path.abspath(path if path.is_absolute() else self._base_folder() / path))

    def _data_typed(self) -> None:
        self._default_out()
        self.start_preview()

    def _out_typed(self) -> None:
        out = self._absolute_out(self.out_edit.text())
        if out is not None and str(out) != self.out_edit.text():
            self.out_edit.setText(str(out))

    def _choose(self, kind: str) -> None:
        if kind == "out":
            path, _ = QFileDialog.getSaveFileName(self, "Save the model as", self.out_edit.text(),
                                                  "Textsort models (*.textsort)")
            if path:  # the dialog asked before choosing an existing file: replacing it is what the user asked
                self.out_edit.setText(str(self._absolute_out(path)))
                self.confirmed_out = self.out_edit.text()
            return
        path = choose_unsorted_texts(self) if kind == "unlabelled" else choose_labelled_data(self)
        if path:
            {"data": self.data_edit, "unlabelled": self.unlabelled_edit}.get(kind, self.test_edit).setText(path)
            self.start_preview()

    def _teacher_activated(self, index: int) -> None:
        if self.teacher_combo.itemData(index) is None:
            path = QFileDialog.getExistingDirectory(self, "A BERT model folder (config.json, weights, vocab)")
            if path:
                self.set_teacher(path)
            else:
                self.teacher_combo.setCurrentIndex(0)

    def set_teacher(self, teacher: str) -> None:
        """"auto", "minilm", "e5" or a Hugging Face BERT folder."""
        index = self.teacher_combo.findData(str(teacher))
        if index < 0:
            self.teacher_combo.insertItem(self.teacher_combo.count() - 1, f"{Path(teacher).name} ({teacher})",
                                          str(teacher))
            index = self.teacher_combo.findData(str(teacher))
        self.teacher_combo.setCurrentIndex(index)

    def request(self) -> training.TrainRequest | None:
        """What the form asks for; `out` is None while "Save model as" is empty (the preview
        runs without it; training never does)."""
        data = self.data_edit.text().strip()
        if not data:
            return None
        out = self._absolute_out(self.out_edit.text())
        test, unlabelled = self.test_edit.text().strip(), self.unlabelled_edit.text().strip()
        return training.TrainRequest(Path(data), out, Path(test) if test else None,
                                     self.teacher_combo.currentData() or "auto", config=self.config,
                                     replace=out is not None and str(out) == self.confirmed_out,
                                     unlabelled=Path(unlabelled) if unlabelled else None)

    # ------------------------------------------------------------------ preview
    def start_preview(self) -> None:
        req = self.request()
        if req is None or self.train_proc is not None:
            return
        if self.preview_proc is not None:
            old, self.preview_proc = self.preview_proc, None  # its late signals are ignored (_current)
            old.kill()
            old.waitForFinished(2000)
        self.preview_state = training.Preview()
        missing = training.training_missing()
        if missing:
            self.preview_state.problems.append(training.install_message(missing))
        if not training.can_run_prep():  # the frozen app: no Python to run textsort-prep with
            self.preview_state.finished = True
            self._draw_preview()
            self._update_buttons()
            return
        self.preview_view.setHtml(f"<p>Reading {req.data.name}…</p>")
        # without the training extra the data checks still run (they need no TensorFlow)
        self.preview_proc = self._process(req.preview_args(), self._preview_event, self._preview_finished)
        self._update_buttons()

    def _preview_event(self, event: dict) -> None:
        self.preview_state.apply(event)
        self._draw_preview()
        self._update_buttons()

    def _preview_finished(self, code: int, stderr: str) -> None:
        self.preview_proc = None
        if not self.preview_state.finished:
            self.preview_state.problems.append(stderr.strip().splitlines()[-1] if stderr.strip()
                                               else f"the preview stopped (exit {code})")
            self.preview_state.finished = True
        self._draw_preview()
        self._update_buttons()

    def _draw_preview(self) -> None:
        p = self.preview_state
        out = []
        if p.labels:
            total = sum(p.labels.values())
            rows = "".join(f"<tr><td>{html.escape(k)}</td><td align=right>{v}</td></tr>" for k, v in p.labels.items())
            aside = ("too few to keep any aside: the accuracy is estimated by cross-validation"
                     if p.split.get("method") == CROSS_VALIDATION else
                     f"{p.split.get('validation', 0)} kept aside for validation")
            out.append(f"<p><b>{total} texts, {len(p.labels)} labels</b> (after cleaning; {aside})</p>"
                        f"<table cellspacing=6><tr><th align=left>label</th><th>texts</th></tr>{rows}</table>")
            if p.test:
                out.append(f"<p>Test set: {p.test.get('kept', 0)} texts (only for the final numbers; "
                           "nothing is tuned on it).</p>")
            c = p.cleaning
            out.append(f"<p>Cleaning drops: {c.get('duplicates_dropped', 0)} duplicates, "
                        f"{c.get('empty_dropped', 0)} empty texts, {c.get('conflicting_dropped', 0)} texts with "
                        f"conflicting labels (of {c.get('loaded', 0)} read).</p>")
        if p.unlabelled:
            u = p.unlabelled
            skipped = sum(v for v in (u.get("skipped") or {}).values() if isinstance(v, int))
            others = sum(int(u.get(k) or 0) for k in ("duplicates_or_labelled", "other_script", "left_out_over_cap"))
            out.append(f"<p>Unlabelled texts: <b>{u.get('used', 0)} will teach the model</b> "
                       f"(of {u.get('offered', 0)} files or rows; {skipped} unreadable, binary, empty or too large; "
                       f"{others} duplicates, already labelled, in another script or over the cap).</p>")
        for w in p.warnings:
            out.append(f"<p>⚠ {html.escape(w)}</p>")
        if p.teacher:
            out.append(f"<p>Teacher: <b>{html.escape(p.teacher)}</b> — {html.escape(p.reason or '')}</p>")
        if p.estimate_s is not None:
            out.append(f"<p>Estimated time on this machine: <b>about {_duration(p.estimate_s)}</b> "
                        "(from seconds per step measured here; it stops earlier when validation stops "
                        "improving)</p>")
        elif p.teacher and not p.finished:
            out.append("<p>Measuring the training speed on this machine…</p>")
        for msg in p.problems:
            out.append(f"<p style='color:#b00020'><b>Cannot train:</b> {html.escape(msg)}</p>")
        self.preview_view.setHtml("".join(out) or "<p>Reading…</p>")

    # ------------------------------------------------------------------ training
    def start_training(self) -> None:
        req = self.request()
        if req is None or self.train_proc is not None:
            return
        if req.out is None:
            QMessageBox.warning(self, "Train", "Choose where to save the model first (Save model as).")
            return
        self.out_edit.setText(str(req.out))
        if not req.out.parent.is_dir():
            QMessageBox.warning(self, "Train", f"The folder {req.out.parent} does not exist.")
            return
        self.run_state = training.RunState()
        self.status.setText(f"Training {req.out.name}… (work folder {training.work_dir(req.out, req.data)})")
        self.curve.set_points([])
        self.train_proc = self._process(req.train_args(), self._train_event, self._train_finished)
        self._draw_stages()
        self._update_buttons()

    def _train_event(self, event: dict) -> None:
        self.run_state.apply(event)
        self._draw_stages()
        if event.get("event") == "eval":
            self.curve.set_points(self.run_state.curve)

    def _train_finished(self, code: int, stderr: str) -> None:
        self.train_proc = None
        s = self.run_state
        if s.bundle and code == 0:
            acc = f" (validation accuracy {s.validation_accuracy:.1%})" if s.validation_accuracy is not None else ""
            self.status.setText(f"Saved {s.bundle}{acc}. It is in the model picker now.")
            self.modelTrained.emit(s.bundle)
        elif s.cancelled or code in (130, 143) or self._cancelling:
            self.status.setText("Cancelled. The finished stages are kept: Train again to resume from them.")
        else:
            last = s.error or (stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {code}")
            self.status.setText(f"Training stopped: {last}")
        self._cancelling = False
        self._draw_stages()
        self._update_buttons()

    def cancel(self) -> None:
        if self.train_proc is not None:
            self._cancelling = True
            if sys.platform == "win32":  # terminate() only posts WM_CLOSE, which a console program ignores
                self.train_proc.kill()  # finished stages are complete on disk: the next Train resumes them
            else:
                self.train_proc.terminate()  # SIGTERM: textsort-prep stops like Ctrl-C

    def _use_model(self) -> None:
        if self.run_state.bundle:
            self.modelTrained.emit(self.run_state.bundle)
            self.status.setText(f"{Path(self.run_state.bundle).name} is the main window's model now.")

    def _draw_stages(self) -> None:
        s = self.run_state
        self.stage_table.setRowCount(len(s.stages))
        for row, st in enumerate(s.stages):
            progress = STATE_WORDS.get(st.state, st.state)
            if st.state == "running" and st.total:
                progress = f"{st.what}: {st.step} / {st.total}"
                if st.eta_s is not None:
                    progress += f", about {_duration(st.eta_s)} left"
                if st.loss is not None:
                    progress += f", loss {st.loss:.3f}"
            for col, text in enumerate((st.title, progress, _duration(st.seconds))):
                self.stage_table.setItem(row, col, QTableWidgetItem(text))
        cur = s.current
        self.stage_bar.setMaximum(max(cur.total, 1) if cur else 1)
        self.stage_bar.setValue(cur.step if cur and cur.total else (1 if s.bundle else 0))
        self.stage_bar.setFormat(stage_bar_text(s))

    def _update_buttons(self) -> None:
        running = self.train_proc is not None
        ok = self.preview_state.finished and self.preview_state.ok
        self.train_button.setEnabled(not running and ok and bool(self.out_edit.text().strip()))
        self.cancel_button.setEnabled(running)
        self.use_button.setEnabled(not running and bool(self.run_state.bundle))
        for w in (self.data_edit, self.test_edit, self.out_edit, self.teacher_combo):
            w.setEnabled(not running)

    # ------------------------------------------------------------------ processes
    def _process(self, args: list[str], on_event, on_finished) -> QProcess:
        return start_prep(self, args, on_event, on_finished, self._current)

    def _current(self, proc: QProcess) -> bool:
        return proc is self.preview_proc or proc is self.train_proc

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.train_proc is not None:
            answer = QMessageBox.question(
                self, "Stop training?", "A model is being trained. Stop it and close this window?\n\n"
                "The finished stages are kept; training the same data again resumes from them.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)  # Enter keeps the training going
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.cancel()
            if self.train_proc is not None:
                self.train_proc.waitForFinished(15000)
        if self.preview_proc is not None:
            self.preview_proc.kill()
            self.preview_proc.waitForFinished(2000)
        event.accept()
