"""Small dialogs: sort into folders, the sort summary, About."""
from __future__ import annotations

import html
from pathlib import Path

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QMessageBox, QPushButton, QVBoxLayout)

import textsort
from textsort.core.versions import package_versions

LABELLED_FILES = "Labelled data (*.csv *.tsv *.jsonl *.ndjson);;All files (*)"


def choose_folder_or_file(parent, title: str, question: str, folder_caption: str,
                          file_caption: str, start: str = "") -> str:
    """One chooser for data that is either a folder or a file (Train, Evaluate): asks which,
    then opens that dialog. Returns the chosen path, or "" when cancelled."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=parent)
    folder = box.addButton("Folder…", QMessageBox.ButtonRole.AcceptRole)
    file = box.addButton("File…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is folder:
        return QFileDialog.getExistingDirectory(parent, folder_caption, start)
    if box.clickedButton() is file:
        return QFileDialog.getOpenFileName(parent, file_caption, start, LABELLED_FILES)[0]
    return ""


def choose_labelled_data(parent) -> str:
    """Train's data and test set, Evaluate's data: label subfolders or a labelled table."""
    return choose_folder_or_file(parent, "Labelled data", "A folder of label subfolders, or a file?",
                                 "Folder with one subfolder per label", "Labelled data")


def choose_unsorted_texts(parent) -> str:
    """Train's unlabelled texts, the Label view's source: unsorted files or a table of texts."""
    return choose_folder_or_file(parent, "Unlabelled texts", "A folder of unsorted files, or a file of texts?",
                                 "Folder of unsorted files", "File of texts (a text column)")


class SortDialog(QDialog):
    """Asks where to sort to; copying is the default, moving needs a tick + confirmation."""

    def __init__(self, n_files: int, start_folder: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sort into folders")
        self.folder = QLineEdit(start_folder)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.move = QCheckBox("Move the files instead of copying them (originals are removed)")
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"{n_files} classified files will be copied into one subfolder per label, keeping "
            "their own subfolders (files without a label go nowhere). Existing files are never overwritten: "
            "a copy with the same name gets a new name."))
        layout.addLayout(row)
        layout.addWidget(self.move)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Sort into which folder?", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _accept(self) -> None:
        if not self.folder.text().strip():
            QMessageBox.warning(self, "Sort into folders", "Choose a destination folder first.")
            return
        if self.move.isChecked():
            answer = QMessageBox.question(
                self, "Move files?",
                "The files will be MOVED: they disappear from where they are now. Continue?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.accept()


def sort_summary_text(summary, dest, move: bool) -> str:
    """Plain-words summary of a textsort.appstate.session.SortSummary."""
    verb = "Moved" if move else "Copied"
    lines = [f"{verb} {summary.moved if move else summary.copied} files into {dest}, one folder per label."]
    if summary.uncertain:
        lines.append(f"{summary.uncertain} of them were uncertain and went into the “_uncertain” folder.")
    if summary.renamed:
        lines.append(f"{summary.renamed} got a new name, e.g. “name (1).txt”, because the name was taken "
                     "(nothing was overwritten).")
    if summary.problems:
        lines.append(f"{len(summary.problems)} files were not {verb.lower()}:")
        lines += [f"  • {Path(path).name}: {why}" for path, why in summary.problems[:10]]
        if len(summary.problems) > 10:
            lines.append(f"  … and {len(summary.problems) - 10} more")
    return "\n".join(lines)


def versions() -> dict[str, str]:

    found = package_versions()
    return {
        "Textsort": textsort.__version__,
        "Qt": f"{qVersion()} (PySide6 {PySide6.__version__})",
        **{("LiteRT (ai-edge-litert)" if pkg == "ai-edge-litert" else pkg): v or "not installed"
           for pkg, v in found.items() if pkg not in ("textsort", "python")},
        "Python": found["python"],
    }


def about_html(model_licenses: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """`model_licenses`: each bundled model's name and (whose, licence) pairs (card.license_facts)."""
    e = html.escape
    rows = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in versions().items())
    lic = "".join(
        f"<li><b>{e(name)}</b>: " + "; ".join(f"{e(whose)} licence: {e(text)}" for whose, text in licenses) + "</li>"
        for name, licenses in model_licenses) or "<li>No bundled models found.</li>"
    return (
        "<h3>Textsort</h3><p>Offline text classification: drop files, see the label, "
        "how sure the model is and the words that decided. Nothing leaves this computer.</p>"
        f"<table>{rows}</table><h4>Bundled models and their licences</h4><ul>{lic}</ul>"
        "<p>Textsort is MIT licensed. Qt/PySide6 is used under the LGPL v3.</p>")
