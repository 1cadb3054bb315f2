"""The model card dialog: textsort.card's Markdown, shown as it is (one renderer for the
app, `textsort models --card` and the report beside a trained bundle)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QTextBrowser, QVBoxLayout

from textsort.card import bundle_card, human_size, render_card  # noqa: F401  (human_size re-exported)


def model_card_markdown(manifest: dict, path: Path | None = None, model_bytes: int | None = None) -> str:
    """The card of a manifest; `path`'s size is the bundle's when the file exists."""
    size = Path(path).stat().st_size if path is not None and Path(path).is_file() else None
    return render_card(manifest, bundle_bytes=size, model_bytes=model_bytes)


def model_card_html(manifest: dict, path: Path | None = None, model_bytes: int | None = None) -> str:
    """The same card as HTML (Qt's Markdown reader), for places that take HTML."""
    doc = QTextDocument()
    doc.setMarkdown(model_card_markdown(manifest, path, model_bytes))
    return doc.toHtml()


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
