"""The drop zone: collects the paths of dropped files and folders and hands them on."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

MODEL_SUFFIX = ".textsort"
HINT = ("Drop files or folders here\n"
        "(folders are searched inside too)\n\n"
        "or use File ▸ Open files… (Ctrl+O) / Open folder… (Ctrl+Shift+O)")
COMPACT_HINT = "Drop more files or folders here — or a .textsort model file to switch models"


def local_paths(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class TakesDroppedPath:
    """Mixin for a window that takes the first local file or folder dropped on it and hands
    it to `path_dropped(path)` (the Train and Evaluate windows)."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.path_dropped(paths[0])


class DropZone(QFrame):
    pathsDropped = Signal(list)  # list[Path]
    samplesRequested = Signal()  # "Try the samples" (shown while the window is empty)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.label = QLabel(HINT)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.label.setFont(font)
        self.samples_button = QPushButton("Try the samples")
        self.samples_button.setToolTip("Classify the sample texts that come with Textsort")
        self.samples_button.clicked.connect(self.samplesRequested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.samples_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self._style(False)
        self.set_compact(False)

    def _style(self, active: bool) -> None:
        role = "highlight" if active else "mid"
        self.setStyleSheet(f"QFrame#dropZone {{ border: 2px dashed palette({role}); border-radius: 10px; }}")

    def set_compact(self, compact: bool) -> None:
        self.label.setText(COMPACT_HINT if compact else HINT)
        self.samples_button.setVisible(not compact)
        self.setMinimumHeight(44 if compact else 220)
        self.setMaximumHeight(60 if compact else 16777215)

    def dragEnterEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            self._style(True)
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self._style(False)

    def dropEvent(self, event) -> None:
        self._style(False)
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)
