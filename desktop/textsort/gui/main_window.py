"""The main window: drop zone, results table, explanation, typed text, menus.

No classification logic lives here: the window calls textsort.core.engine,
appstate.session, files.reading and appstate.models on worker threads (gui.workers)
and shows what they return."""
from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QFileDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QMainWindow, QMenu, QMessageBox, QPlainTextEdit,
                               QProgressBar, QPushButton, QSlider, QSpinBox, QSplitter, QTabWidget, QTableView,
                               QVBoxLayout, QWidget)

from textsort.appstate.labelling import LabelsError, correct, label_names_in, labels_path_for
from textsort.appstate.session import default_export_path, default_sort_folder
from textsort.presentation.card import calibration_facts

from . import services
from .delegates import ConfidenceBarDelegate
from .dialogs import SortDialog, about_html, sort_summary_text
from .drop_zone import MODEL_SUFFIX, DropZone, local_paths
from .evaluate_window import EvaluateWindow
from .explanation_view import ExplanationView
from .label_window import LabelWindow
from .model_card import ModelCardDialog
from .placement import place
from .results_model import (COLUMNS, COL_CONFIDENCE, COL_FILE, COL_FOLDER, COL_LABEL, COL_PROBLEM, COL_WINDOWS,
                            PROBLEMS, RESULT_ROLE, UNCERTAIN, ResultsFilterProxy, ResultsTableModel)
from .settings import DEFAULTS, AppSettings, GuiDefaults
from .theme import apply_theme
from .train_window import TrainWindow
from .workers import CallTask, CancellableCall, ClassifyFilesTask, Lane, Task

OPEN_MODEL_ITEM = "Open model file…"
LANES = ("run", "explain", "typed", "model", "io")  # one worker thread per kind of work
REPLACING = ("explain", "typed")  # lanes where a new request makes the one before it stale


def user_model_title(path: Path) -> str:
    """A model the user trained or opened, as the picker lists it: its name, folder and date
    ("mail (~/models, 2026-12-07 14:05)"): two "model.textsort" files are told apart."""
    folder = str(path.parent)
    home = str(Path.home())
    if folder == home or folder.startswith(home + "/"):
        folder = "~" + folder[len(home):]
    try:
        when = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        when = "?"
    return f"{path.stem} ({folder}, {when})"


class MainWindow(QMainWindow):
    # Emitted for tests and the screenshot script (and handy for status updates).
    modelLoaded = Signal(object)       # Classifier
    modelFailed = Signal(str)          # message
    runFinished = Signal(int, bool)    # files classified in this run, cancelled?
    explanationShown = Signal(int)     # highlighted spans in the file view
    typedShown = Signal(int)           # highlighted spans in the typed-text view
    exported = Signal(str)             # path written
    sorted = Signal(object)            # SortSummary

    def __init__(self, settings: AppSettings | None = None, model_path: str | Path | None = None,
                 defaults: GuiDefaults = DEFAULTS) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.defaults = defaults
        self.classifier = None
        self._run: ClassifyFilesTask | None = None
        self._pending: list[Path] = []
        # one lane (a one-thread pool) per kind of work: a long explanation never holds up
        # typed text, a model load or a folder run (the model itself runs one call at a time,
        # in short batches, so the lanes interleave); a lane drops what a replaced or dropped
        # task still sends, so a cleared table never gets rows from a run it no longer shows
        self.lanes = {kind: Lane(self, replace=kind in REPLACING) for kind in LANES}
        self._suggesting = False  # True while the model's suggested threshold is applied (not the user's)
        self.setWindowTitle("Textsort")
        self.setAcceptDrops(True)
        self._build_ui()
        self._build_menus()
        self._restore()
        self._typed_timer = QTimer(self, singleShot=True, interval=defaults.debounce_ms)
        self._typed_timer.timeout.connect(self._classify_typed)
        last = self.settings.last_model
        initial = model_path or (last if last and Path(last).is_file() else None)  # else the default
        QTimer.singleShot(0, lambda: self.load_model(initial))

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(220)
        self.model_combo.activated.connect(self._model_chosen)
        card_button = QPushButton("Model card…")
        card_button.clicked.connect(self.show_model_card)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setMaximumWidth(180)
        self.threshold_slider.setMinimumWidth(80)  # never collapsed to a dot at the window's minimum width
        self.threshold_spin = QSpinBox(suffix=" %")
        self.threshold_spin.setRange(0, 100)
        self.threshold_slider.valueChanged.connect(self.threshold_spin.setValue)
        self.threshold_spin.valueChanged.connect(self.threshold_slider.setValue)
        self.threshold_spin.valueChanged.connect(lambda v: self.set_threshold(v / 100))
        tip = ("Results the model is less sure about than this are shown as “uncertain” "
               "(nothing is classified again).")
        for w in (self.threshold_slider, self.threshold_spin):
            w.setToolTip(tip)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.model_combo)
        top.addWidget(card_button)
        top.addStretch(1)
        top.addWidget(QLabel("Mark as uncertain below:"))
        top.addWidget(self.threshold_slider)
        top.addWidget(self.threshold_spin)
        self.suggested_label = QLabel()  # the model's own suggestion, from its validation texts
        top.addWidget(self.suggested_label)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_files_tab(), "Files")
        self.tabs.addTab(self._build_typed_tab(), "Type or paste text")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.model_status = QLabel("Loading model…")
        self.statusBar().addPermanentWidget(self.model_status)
        self.resize(1180, 760)

    def _build_files_tab(self) -> QWidget:
        self.drop_zone = DropZone()
        self.drop_zone.pathsDropped.connect(self.handle_dropped)
        self.drop_zone.samplesRequested.connect(self.try_samples)
        self.label_filter = QComboBox()
        self.label_filter.currentIndexChanged.connect(
            lambda _: self.proxy.set_label_filter(self.label_filter.currentData()))
        self.search = QLineEdit(placeholderText="Search file names…", clearButtonEnabled=True)
        self.search.textChanged.connect(lambda t: self.proxy.set_name_filter(t))
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m files")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_run)
        self.cancel_button.hide()
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.label_filter)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)

        self.results = ResultsTableModel(self)
        self.proxy = ResultsFilterProxy(self)
        self.proxy.setSourceModel(self.results)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        self.table.setItemDelegateForColumn(COL_CONFIDENCE, ConfidenceBarDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Stretch)  # the columns fill the view (no
        header.setStretchLastSection(False)                                    # scrollbar when empty); a long name
        header.setSectionResizeMode(COL_PROBLEM, QHeaderView.ResizeMode.ResizeToContents)  # elides in the middle,
        for col, width in ((COL_LABEL, 125), (COL_CONFIDENCE, 90), (COL_WINDOWS, 50),      # a problem never
                           (COL_FOLDER, 90)):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _: self._explain_row(cur))
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                    self.proxy.layoutChanged):
            sig.connect(self._update_count)
        self.table.doubleClicked.connect(self.open_file)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._row_menu)
        relabel = QAction("Set the true label…", self.table, shortcut=QKeySequence("L"))
        relabel.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        relabel.triggered.connect(lambda: self.set_true_label())
        self.table.addAction(relabel)
        copy = QAction("Copy rows", self.table, shortcut=QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selected_rows)
        self.table.addAction(copy)

        self.file_view = ExplanationView(defaults=self.defaults)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.file_view)
        split.setSizes([620, 520])
        tab = QWidget()
        v = QVBoxLayout(tab)
        v.addWidget(self.drop_zone)
        v.addLayout(bar)
        v.addWidget(split, 1)
        self.splitter = split
        self._rebuild_label_filter([])
        return tab

    def _build_typed_tab(self) -> QWidget:
        self.typed_input = QPlainTextEdit(placeholderText="Type or paste text here: it is classified as you type.")
        self.typed_input.setMaximumHeight(110)
        self.typed_input.textChanged.connect(lambda: self._typed_timer.start())
        self.typed_view = ExplanationView(defaults=self.defaults)
        self.typed_view.show_message("Type or paste text above.")
        tab = QWidget()
        v = QVBoxLayout(tab)
        v.addWidget(self.typed_input)
        v.addWidget(self.typed_view, 1)
        return tab

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        m = self.menuBar().addMenu("&File")
        action(m, "Open files…", self.open_files_dialog, "Ctrl+O")
        action(m, "Open folder…", self.open_folder_dialog, "Ctrl+Shift+O")
        action(m, "Try the samples", self.try_samples)
        m.addSeparator()
        self.export_action = action(m, "Export results…", self.export_dialog, "Ctrl+E")
        self.sort_action = action(m, "Sort into folders…", self.sort_dialog)
        action(m, "Clear results", self.clear_results)
        m.addSeparator()
        action(m, "Quit", self.close, QKeySequence.StandardKey.Quit)
        m = self.menuBar().addMenu("&Model")
        action(m, "Open model…", self.open_model_dialog, "Ctrl+M")
        action(m, "Model card…", self.show_model_card)
        m.addSeparator()
        action(m, "Label files…", self.show_label_window, "Ctrl+L")
        action(m, "Train a model…", self.show_train_window, "Ctrl+T")
        action(m, "Evaluate the model…", self.show_evaluate_window)
        m = self.menuBar().addMenu("&View")
        self.find_action = action(m, "Find a file…", self.focus_search, QKeySequence.StandardKey.Find)
        themes = m.addMenu("Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        for key, text in (("system", "As the system"), ("light", "Light"), ("dark", "Dark")):
            a = action(themes, text, lambda _=False, k=key: self.set_theme(k))
            a.setCheckable(True)
            a.setChecked(key == self.settings.theme)
            group.addAction(a)
            self.theme_actions[key] = a
        m = self.menuBar().addMenu("&Help")
        action(m, "About Textsort", self.show_about)

    def focus_search(self) -> None:
        """Ctrl+F: the file-name search of the Files tab."""
        self.tabs.setCurrentIndex(0)
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_theme(self, theme: str) -> None:
        """View ▸ Theme: applied at once and remembered."""
        self.settings.theme = theme
        apply_theme(QApplication.instance(), self.settings.theme)
        self.theme_actions[self.settings.theme].setChecked(True)
        for view in (self.file_view, self.typed_view):  # the word tints are blended into the new base colour
            view.set_threshold(self.results.threshold)

    # ------------------------------------------------------------------ a row's actions
    def _row_result(self, index=None):
        index = index if index is not None else self.table.currentIndex()
        return index.data(RESULT_ROLE) if index is not None and index.isValid() else None

    def open_file(self, index=None) -> None:
        """Double-click or the context menu: the file in the program the system uses for it."""
        result = self._row_result(index)
        if result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(result.path)))

    def show_in_folder(self, index=None) -> None:
        result = self._row_result(index)
        if result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(result.path).parent)))

    def _row_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        menu = self.row_menu(index)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def row_menu(self, index) -> QMenu:
        """The right-click menu of a row (tests read its actions)."""
        menu = QMenu(self.table)
        menu.addAction("Open file", lambda: self.open_file(index))
        menu.addAction("Show in folder", lambda: self.show_in_folder(index))
        menu.addAction("Copy rows", self.copy_selected_rows)
        menu.addSeparator()
        menu.addAction("Set the true label… (L)", lambda: self.set_true_label(index))
        return menu

    def set_true_label(self, index=None, label: str | None = None) -> Path | None:
        """A correction: the row's true label goes into the labels file of the folder it came
        from (the Label view resumes from it; training from those labels uses it)."""
        result = self._row_result(index)
        if result is None:
            return None
        root = next((r for r in self.results.ws.roots if r.is_dir() and Path(result.path).is_relative_to(r)),
                    Path(result.path).parent)
        if label is None:
            known = list(self.classifier.labels) if self.classifier else []
            known += [n for n in label_names_in(labels_path_for(root)) if n not in known]
            current = known.index(result.label) if result.label in known else 0
            label, ok = QInputDialog.getItem(self, "Set the true label", f"{Path(result.path).name} is really:",
                                             known, current, True)
            if not ok:
                return None
        text = result.file.text if result.file is not None and result.file.text is not None else None
        if text is None:
            text = services.read_text(result.path)
        try:
            written = correct(root, str(result.path), text, label)
        except (LabelsError, OSError) as e:
            QMessageBox.warning(self, "Set the true label", str(e))
            return None
        self.statusBar().showMessage(f"{Path(result.path).name} is “{label}”: saved in {written}", 10000)
        return written

    def _restore(self) -> None:
        geometry = self.settings.geometry
        if geometry is not None:
            self.restoreGeometry(geometry)
        if self.settings.threshold_chosen:
            value = round(self.settings.threshold * 100)
            self.threshold_spin.setValue(value)
            self.set_threshold(value / 100)

    def _apply_suggested_threshold(self, classifier) -> None:
        """Show the model's suggested "uncertain below" value; use it (or, for a model without
        one, the default) unless the user chose one."""
        suggested = classifier.bundle.suggested_threshold
        self.suggested_label.setText(f"(model suggests {suggested:.0%})" if suggested is not None else "")
        if suggested is not None:
            facts = calibration_facts(classifier.bundle.manifest)
            self.suggested_label.setToolTip(f"Uncertain below {suggested:.0%} confidence"
                                            + (f": {facts}." if facts else ", chosen when the model was trained."))
        if self.settings.threshold_chosen:
            return
        value = self.defaults.threshold if suggested is None else suggested
        self._suggesting = True  # a suggestion is not the user's choice: not stored
        try:
            self.threshold_spin.setValue(round(value * 100))
            self.set_threshold(value)
        finally:
            self._suggesting = False

    # ----------------------------------------------------------- worker plumbing
    def _start(self, task: Task, lane: str, on_result=None, on_error=None, on_progress=None,
               on_finished=None) -> Task:
        """Run `task` on its lane (on "explain" and "typed" it replaces the request before it)."""
        return self.lanes[lane].start(task, on_result, on_error or self._show_error, on_progress, on_finished)

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, "Textsort", message)

    # ------------------------------------------------------------------ models
    def _refresh_model_combo(self) -> None:
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        entries = services.bundled_entries()
        entries += [(user_model_title(Path(p)), Path(p)) for p in self.settings.user_models
                    if Path(p).is_file() and all(str(q) != p for _, q in entries)]
        current = str(self.classifier.bundle.path) if self.classifier else ""
        if current and all(str(p) != current for _, p in entries):
            entries.append((self.classifier.bundle.name, Path(current)))
        for name, path in entries:
            self.model_combo.addItem(name, str(path))
            self.model_combo.setItemData(self.model_combo.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
        self.model_combo.addItem(OPEN_MODEL_ITEM, None)
        index = self.model_combo.findData(current) if current else -1
        self.model_combo.setCurrentIndex(index)
        self.model_combo.blockSignals(False)

    def _model_chosen(self, index: int) -> None:
        path = self.model_combo.itemData(index)
        if path is None:
            self._refresh_model_combo()  # put the current model back while the dialog is up
            self.open_model_dialog()
        elif not self.classifier or str(self.classifier.bundle.path) != path:
            self.load_model(path)

    def load_model(self, path: str | Path | None = None) -> None:
        """Loads a model in the background; None = the default bundled model."""
        if path is None:
            path = services.default_model()
            if path is None:
                self.model_status.setText("No model — use Model ▸ Open model… (Ctrl+M)")
                self._refresh_model_combo()
                return
        self.model_status.setText(f"Loading model {Path(path).name}…")
        self._start(CallTask(services.load_classifier, Path(path)), "model",
                    self._model_ready, lambda msg, p=path: self._model_failed(p, msg))

    def _model_ready(self, classifier) -> None:
        changed = self.classifier is not None
        self.classifier = classifier
        self.settings.last_model = str(classifier.bundle.path)
        self.model_status.setText(self._model_status_text())
        self._refresh_model_combo()
        self._rebuild_label_filter(classifier.labels)
        self._apply_suggested_threshold(classifier)
        self.modelLoaded.emit(classifier)
        if changed and self.results.ws.roots:
            self.statusBar().showMessage("Model changed: classifying the files again with it", 5000)
            roots = list(self.results.ws.roots)
            self.clear_results()
            self.classify_paths(roots)
        elif self._pending and self._run is None:
            self._start_run()
        if self.typed_input.toPlainText().strip():
            self._classify_typed()

    def _model_status_text(self) -> str:
        c = self.classifier
        return f"Model: {c.bundle.name} ({', '.join(c.labels)})" if c else "No model"

    def _model_failed(self, path, message: str) -> None:
        keep = (f"The model {self.classifier.bundle.name} stays active." if self.classifier
                else "No model is loaded: open another model file (Ctrl+M).")
        self.model_status.setText(self._model_status_text())
        self._refresh_model_combo()
        QMessageBox.critical(self, "Could not open the model", f"{message}\n\n{keep}")
        self.modelFailed.emit(message)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a Textsort model", self.settings.last_folder,
                                              f"Textsort models (*{MODEL_SUFFIX});;All files (*)")
        if path:
            self.load_model(path)

    def show_train_window(self):
        if getattr(self, "train_window", None) is None:
            self.train_window = TrainWindow(self.settings)  # no parent: not kept above this window
            place(self.train_window, 860, 860, beside=self)
            self.train_window.modelTrained.connect(self.use_trained_model)
        self.train_window.show()
        self.train_window.raise_()
        return self.train_window

    def show_label_window(self):
        if getattr(self, "label_window", None) is None:
            self.label_window = LabelWindow(self.classifier)  # no parent: not kept above this window
            place(self.label_window, 1000, 720, beside=self)
            self.modelLoaded.connect(self.label_window.set_classifier)
            self.label_window.trainRequested.connect(self.train_from_labels)
        self.label_window.show()
        self.label_window.raise_()
        return self.label_window

    def train_from_labels(self, table: str, unlabelled: str) -> None:
        """The Label view's "Train": its labelled texts as the data, every text of the folder
        as unlabelled texts that teach the model too."""
        w = self.show_train_window()
        w.unlabelled_edit.setText(unlabelled)
        w.set_data(Path(table))

    def use_trained_model(self, path: str) -> None:
        """A model trained in the Train window: remembered, listed in the picker, loaded, and
        this window brought to the front to show it."""
        self.settings.remember_model(path)
        self.load_model(path)
        self.statusBar().showMessage(f"Using the model you trained: {Path(path).name}", 10000)
        self.show()
        self.raise_()
        self.activateWindow()

    def show_evaluate_window(self):
        if getattr(self, "evaluate_window", None) is None:
            self.evaluate_window = EvaluateWindow(self.classifier)  # no parent: not kept above this window
            place(self.evaluate_window, 1040, 760, beside=self)
            self.modelLoaded.connect(self.evaluate_window.set_classifier)
        self.evaluate_window.show()
        self.evaluate_window.raise_()
        return self.evaluate_window

    def show_model_card(self) -> None:
        if self.classifier is None:
            QMessageBox.information(self, "Model card", "No model is loaded yet.")
            return

        ModelCardDialog(self.classifier.bundle, self).exec()

    def show_about(self) -> None:
        QMessageBox.about(self, "About Textsort", about_html(services.bundled_licenses()))

    # ------------------------------------------------------------------- files
    def dragEnterEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.handle_dropped(paths)

    def handle_dropped(self, paths: list[Path]) -> None:
        """Dropped paths: a lone .textsort file switches the model, anything else is classified."""
        if len(paths) == 1 and paths[0].suffix.lower() == MODEL_SUFFIX and paths[0].is_file():
            self.load_model(paths[0])
        else:
            self.classify_paths(paths)

    def try_samples(self) -> None:
        """Classify the bundled samples in the model's language."""
        folder = services.sample_folder(self._model_language())
        if folder is None:
            self._show_error("No sample texts were found next to the app.")
            return
        self.classify_paths([folder])

    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Classify files", self.settings.last_folder)
        if files:
            self.settings.last_folder = str(Path(files[0]).parent)
            self.classify_paths([Path(f) for f in files])

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Classify a folder", self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.classify_paths([Path(folder)])

    def classify_paths(self, paths) -> None:
        paths = [Path(p) for p in paths]
        if not paths:
            return
        self.results.ws.add_roots(paths)
        self._pending.extend(paths)
        self.drop_zone.set_compact(True)
        if self.classifier is None:
            self.statusBar().showMessage("Waiting for the model to load…")
        elif self._run is None:
            self._start_run()

    def _start_run(self) -> None:
        paths, self._pending = self._pending, []
        task = ClassifyFilesTask(self.classifier, paths, self.defaults.batch_ms)
        self._run = task
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.statusBar().showMessage("Classifying…")
        self._start(task, "run", self.results.add_results, on_progress=self._run_progress,
                    on_finished=lambda: self._run_done(task))

    def _run_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _run_done(self, task: ClassifyFilesTask) -> None:
        self._run = None
        cancelled = task.cancelled()
        self.progress.hide()
        self.cancel_button.hide()
        self.statusBar().showMessage(
            f"Cancelled after {task.done} files" if cancelled else f"Classified {task.done} files", 8000)
        if self.table.currentIndex().row() < 0 and self.proxy.rowCount():
            self.table.selectRow(0)
        self.runFinished.emit(task.done, cancelled)
        if self._pending:  # paths added while this run was going (cancel_run clears older ones)
            self._start_run()

    def cancel_run(self) -> None:
        self._pending.clear()
        if self._run is not None:
            self._run.cancel()
            self.statusBar().showMessage("Cancelling…")

    def clear_results(self) -> None:
        self._pending.clear()
        run = self._run
        self.lanes["run"].drop()  # cancels the run: its late batches, progress and end never arrive
        self.lanes["explain"].drop()  # an explanation still on its way belongs to a row that is gone
        self.results.clear()
        if run is not None:
            self._run_done(run)  # the dropped run ends here for the window (a new one may queue behind it)
        self.file_view.show_message("Select a file to see why it got its label.")
        self.drop_zone.set_compact(False)

    def _rebuild_label_filter(self, labels) -> None:
        self.label_filter.blockSignals(True)
        self.label_filter.clear()
        self.label_filter.addItem("All files", None)
        for label in labels:
            self.label_filter.addItem(f"Label: {label}", str(label))
        self.label_filter.addItem("Uncertain (below the threshold)", UNCERTAIN)
        self.label_filter.addItem("Problems (not classified)", PROBLEMS)
        self.label_filter.blockSignals(False)
        self.proxy.set_label_filter(None)

    def _update_count(self, *args) -> None:
        total, shown = self.results.rowCount(), self.proxy.rowCount()
        self.count_label.setText(f"{shown} of {total} files" if shown != total else f"{total} files")

    def set_threshold(self, value: float) -> None:
        self.results.set_threshold(value)
        self.proxy.refilter()
        if not self._suggesting:
            self.settings.threshold = value
        self._update_count()
        for view in (self.file_view, self.typed_view):  # headers only: nothing is explained again
            view.set_threshold(value)

    # ----------------------------------------------------------- explanations
    def _model_language(self):
        return self.classifier.bundle.manifest.get("language") if self.classifier else None

    def _explain_row(self, index) -> None:
        self.lanes["explain"].drop()
        result = index.data(RESULT_ROLE) if index.isValid() else None
        if result is None:
            self.file_view.show_message("Select a file to see why it got its label.")
            return
        if result.prediction is None or self.classifier is None:
            self.file_view.show_message(f"{Path(result.path).name}: {self.results.ws.problem_text(result) or 'not classified'}")
            self.explanationShown.emit(0)
            return
        self.file_view.show_message(f"{Path(result.path).name}: working out which words decided…")
        self._start(CancellableCall(services.explain_result, self.classifier, result, self.defaults.explain_top_n),
                    "explain", lambda out, r=result: self._show_file_explanation(r, out))

    def _show_file_explanation(self, result, out) -> None:
        text, explanation = out
        if result.prediction is not None and explanation.prediction.label == result.prediction.label:
            result.explanation = explanation  # exports carry the words once they were worked out
        note = f" · {result.note}" if result.note and result.note != result.warning else ""  # the warning leads
        painted = self.file_view.show_explanation(text, explanation, self.results.threshold, note,
                                                  language=self._model_language(), title=Path(result.path).name)
        self.explanationShown.emit(painted)

    def _classify_typed(self) -> None:
        self.lanes["typed"].drop()
        text = self.typed_input.toPlainText()
        if not text.strip():
            self.typed_view.show_message("Type or paste text above.")
            return
        if self.classifier is None:
            self.typed_view.show_message("Waiting for the model to load…")
            return
        self._start(CancellableCall(self.classifier.explain, text, self.defaults.explain_top_n), "typed",
                    lambda e, t=text: self._show_typed(t, e))

    def _show_typed(self, text: str, explanation) -> None:
        self.typedShown.emit(self.typed_view.show_explanation(text, explanation, self.results.threshold,
                                                              language=self._model_language()))

    # ----------------------------------------------------- copy, export, sort
    def copy_selected_rows(self) -> str:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        lines = ["\t".join(COLUMNS)]
        for r in rows:
            cells = [str(self.proxy.index(r, c).data() or "") for c in range(len(COLUMNS))]
            lines.append("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells))
        text = "\n".join(lines) + "\n"
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied {len(rows)} rows", 4000)
        return text

    def _results_for_output(self) -> list:
        """The rows shown (filter applied), with the threshold applied as `uncertain`."""
        return self.results.ws.for_output(self.proxy.shown_results())

    def export_dialog(self) -> None:
        results = self._results_for_output()
        if not results:
            QMessageBox.information(self, "Export", "There are no results to export yet.")
            return

        start = default_export_path(results) or Path(self.settings.last_folder or Path.home()) / "results.csv"
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {len(results)} results", str(start),
                                                   "CSV (*.csv);;JSON (*.json)")
        if path:
            if not Path(path).suffix:  # the dialog's overwrite question saw the name without it
                path += ".json" if "json" in chosen.lower() else ".csv"
                if Path(path).exists() and QMessageBox.question(
                        self, "Export", f"{Path(path).name} already exists. Replace it?") \
                        != QMessageBox.StandardButton.Yes:
                    return
            self.export_results(path)

    def export_results(self, path: str | Path) -> None:
        results = self._results_for_output()
        self._start(CallTask(services.export_results, results, Path(path)), "io",
                    lambda p: (self.statusBar().showMessage(f"Exported {len(results)} results to {p}", 8000),
                               self.exported.emit(str(p))))

    def sort_dialog(self) -> None:
        results = self._results_for_output()
        if not results:
            QMessageBox.information(self, "Sort into folders", "There are no results to sort yet.")
            return

        dialog = SortDialog(len(results), str(default_sort_folder(results) or ""), self)
        if dialog.exec():
            self.sort_results(dialog.folder.text().strip(), move=dialog.move.isChecked())

    def sort_results(self, dest: str | Path, move: bool = False) -> None:
        results = self._results_for_output()
        self._start(CallTask(services.sort_results, results, Path(dest), move), "io",
                    lambda summary: self._sorted(summary, dest, move))

    def _sorted(self, summary, dest, move: bool) -> None:
        QMessageBox.information(self, "Sort into folders", sort_summary_text(summary, dest, move))
        self.sorted.emit(summary)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:
        for window in (getattr(self, "train_window", None), getattr(self, "evaluate_window", None),
                       getattr(self, "label_window", None)):
            if window is not None and not window.close():  # a running training asks first
                event.ignore()
                return
        self.settings.geometry = self.saveGeometry()
        self.settings.sync()
        self.cancel_run()
        for lane in self.lanes.values():
            lane.drop()
        for lane in self.lanes.values():
            lane.wait(5000)
        super().closeEvent(event)
