"""GUI test fixtures: offscreen Qt, isolated settings, a window with the tiny model,
captured message boxes, real drop events."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402


@pytest.fixture
def gui_settings(tmp_path):
    from textsort.gui.settings import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str, str]]:
    """Every QMessageBox shown, as (kind, title, text); question() answers Yes."""
    shown: list[tuple[str, str, str]] = []

    def capture(kind, answer=QMessageBox.StandardButton.Ok):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return answer
        return box

    for kind in ("critical", "warning", "information", "about"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(capture(kind)))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(capture("question", QMessageBox.StandardButton.Yes)))
    return shown


@pytest.fixture
def window(qtbot, tiny_bundle, gui_settings, messages):
    from textsort.gui.main_window import MainWindow

    w = MainWindow(gui_settings, model_path=tiny_bundle)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=15000):
        pass
    yield w
    w.cancel_run()
    for lane in w.lanes.values():
        lane.wait(10000)


def drop_paths(widget, paths) -> None:
    """A real drag-enter + drop of file URLs onto widget (as a file manager does)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = widget.rect().center()
    try:  # PySide6 6.11 takes a QPoint here, 6.12 a QPointF
        enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    except TypeError:
        enter = QDragEnterEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the widget refused the drag"
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted(), "the widget refused the drop"


@pytest.fixture
def drop():
    return drop_paths
