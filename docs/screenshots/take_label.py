"""Screenshots of labelling (issue 20), from the real app with the bundled English model:
the Label view with the model in the loop, a correction in the results table, and an
export opened as a spreadsheet shows it.

    xvfb-run -a -s "-screen 0 1400x900x24" python docs/screenshots/take_label.py

Uses 300 texts of ../shared/data/sms_spam/train.csv as the unsorted folder (in a
temporary folder); the app's picks come from `textsort-prep suggest` (MiniLM, about a
minute the first time).
"""
from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]

from textsort.gui.app import register_fonts  # noqa: E402
from textsort.gui.main_window import MainWindow  # noqa: E402
from textsort.gui.settings import AppSettings  # noqa: E402
from textsort.gui.theme import apply_theme  # noqa: E402


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(test, ms: int = 240000) -> None:
    for _ in range(ms // 100):
        if test():
            return
        settle(100)
    raise SystemExit("timed out")


def main() -> None:
    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    register_fonts()
    root = Path(tempfile.mkdtemp(prefix="textsort-shots-"))
    os.environ["XDG_DATA_HOME"] = str(root / "xdg")
    rows = list(csv.DictReader((REPO.parent / "shared" / "data" / "sms_spam" / "train.csv").open(encoding="utf-8")))
    random.Random(0).shuffle(rows)
    inbox = root / "unsorted-messages"
    inbox.mkdir()
    for i, r in enumerate(rows[:300]):
        (inbox / f"message-{i:03d}.txt").write_text(r["text"], encoding="utf-8")
    settings = AppSettings(QSettings(str(root / "s.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings, model_path=REPO / "assets" / "models" / "sms_spam-en.textsort")
    window.resize(1200, 760)
    window.show()
    wait_until(lambda: window.classifier is not None)

    # 1. the Label view, the model in the loop, after a dozen labels
    lw = window.show_label_window()
    lw.resize(1100, 700)
    lw.open_source(inbox)
    truth = {f"message-{i:03d}.txt": r["label"] for i, r in enumerate(rows[:300])}
    for name in ("ham", "spam"):
        lw.session.add_label(name)
    wait_until(lambda: lw.suggestion is not None)
    while lw.session.done < 12:
        lw.assign(truth[lw.session.ids[lw.session.current]])
        settle(50)
    lw.request_suggestions()
    wait_until(lambda: lw.suggest_proc is None and lw.suggestion and lw.suggestion.get("cv_accuracy") is not None)
    lw._draw()
    settle(1500)
    lw.grab().save(str(HERE / "label-view.png"))

    # 2. a correction in the results table: the row menu, then the saved label
    lw.hide()
    window.raise_()
    window.classify_paths([inbox])
    wait_until(lambda: window._run is None and window.proxy.rowCount() == 300)
    window.table.selectRow(3)
    index = window.proxy.index(3, 0)
    menu = window.row_menu(index)
    menu.popup(window.table.viewport().mapToGlobal(window.table.visualRect(index).center()))
    settle(500)
    app.primaryScreen().grabWindow(0).copy(window.frameGeometry().united(menu.geometry())).save(
        str(HERE / "correction-menu.png"))
    menu.close()
    window.set_true_label(index, label="ham")
    settle(300)
    window.grab().save(str(HERE / "correction-saved.png"))

    # 3. the export as a spreadsheet shows it
    out = root / "results.csv"
    window.export_results(out)
    wait_until(lambda: out.is_file())
    with out.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    sheet = QTableWidget(min(len(table) - 1, 14), len(table[0]))
    sheet.setWindowTitle(f"{out.name} — as a spreadsheet opens it")
    sheet.setHorizontalHeaderLabels(table[0])
    for r, row in enumerate(table[1:15]):
        for c, cell in enumerate(row):
            sheet.setItem(r, c, QTableWidgetItem(cell))
    sheet.resizeColumnsToContents()
    for c in range(len(table[0])):
        sheet.setColumnWidth(c, min(sheet.columnWidth(c), 260))
    sheet.resize(1380, 520)
    sheet.show()
    settle(500)
    sheet.grab().save(str(HERE / "export-as-table.png"))
    lw.close()
    window.close()
    print("saved label-view.png, correction-menu.png, correction-saved.png, export-as-table.png in", HERE)


if __name__ == "__main__":
    main()
