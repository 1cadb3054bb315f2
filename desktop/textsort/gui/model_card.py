"""The model card dialog: textsort.presentation.card's Markdown, shown as it is (one renderer for the
app, `textsort models --card` and the report beside a trained bundle)."""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QTextBrowser, QVBoxLayout

from textsort.presentation.card import bundle_card


class ModelCardDialog(QDialog):
    def __init__(self, bundle, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model card — {bundle.name}")
        self.resize(820, 720)
        self.markdown = bundle_card(bundle)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(self.markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy as Markdown")
        copy.setToolTip("Copy the whole card as Markdown text")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.markdown))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
