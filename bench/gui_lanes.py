"""Does typed text wait behind a long explanation? The real window, offscreen.

Measures, on the same window and model: the time from typing to the typed text's
explanation shown, (a) with nothing else running, (b) right after selecting a file whose
explanation is long (every window of a MiB-sized text explained), (c) the same with
explanations and typed text on one shared lane, as before the lanes; and how long that
file's explanation takes. Prints a table.

    QT_QPA_PLATFORM=offscreen python bench/gui_lanes.py [--model PATH] [--mib 4] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "desktop"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from textsort.gui.main_window import MainWindow  # noqa: E402
from textsort.gui.settings import AppSettings  # noqa: E402

TYPED = "Are we still on for lunch? Also I won a free prize lol"


def wait_for(signal, ms: int = 600_000) -> float:
    """Seconds until `signal` fires (runs the event loop meanwhile)."""
    loop, got, t0 = QEventLoop(), [], time.perf_counter()
    signal.connect(lambda *a: (got.append(time.perf_counter() - t0), loop.quit()))
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    if not got:
        raise SystemExit(f"timed out waiting for {signal}")
    return got[0]


def typed_latency(window: MainWindow, text: str) -> float:
    window.typed_input.setPlainText(text)
    window._typed_timer.stop()  # no debounce: measure the work, not the 250 ms typing pause
    t0 = time.perf_counter()
    window._classify_typed()
    wait_for(window.typedShown)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=REPO / "assets" / "models" / "sms_spam-en.textsort")
    ap.add_argument("--mib", type=float, default=4.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        line = "Thanks mom, see you at lunch tomorrow. Claim your free prize now, call 0800 123 456.\n"
        big = tmp / "big.txt"
        big.write_text(line * int(args.mib * 2**20 / len(line)), encoding="utf-8")
        window = MainWindow(AppSettings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)),
                            model_path=args.model)
        window.show()
        wait_for(window.modelLoaded)
        window.classifier.limits = replace(window.classifier.limits, explain_windows=10**6, max_explain_windows=40000)
        small = tmp / "small.txt"
        small.write_text(line, encoding="utf-8")
        window.classify_paths([big, small])
        wait_for(window.runFinished)
        window.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # big.txt, small.txt
        idle, behind, alone = [], [], []
        for i in range(args.runs):
            if window.table.currentIndex().row() != 1:
                window.table.selectRow(1)  # the small file
                wait_for(window.explanationShown)
            idle.append(typed_latency(window, f"{TYPED} {i}"))
            t0 = time.perf_counter()
            window.table.selectRow(0)  # the big file: its long explanation starts on its lane
            behind.append(typed_latency(window, f"{TYPED} again {i}"))
            wait_for(window.explanationShown)
            alone.append(time.perf_counter() - t0)
        # the old design for comparison: explanations and typed text share one lane
        own_lane, window.lanes["typed"] = window.lanes["typed"], window.lanes["explain"]
        shared = []
        shown = []
        window.explanationShown.connect(shown.append)
        for i in range(args.runs):
            window.table.selectRow(1)
            wait_for(window.explanationShown)
            before = len(shown)
            window.table.selectRow(0)
            shared.append(typed_latency(window, f"{TYPED} shared {i}"))
            if len(shown) == before:  # the big file's explanation may have landed while typed text waited
                wait_for(window.explanationShown)
        window.lanes["typed"] = own_lane
        window.close()
    print(f"| measure ({args.mib:g} MiB file, {args.model.name}, runs={args.runs}) | median s | max s |")
    print("|---|---|---|")
    for title, xs in (("typed text, nothing else running", idle),
                      ("typed text, right after selecting the big file", behind),
                      ("the big file's explanation (every window, typed text beside it)", alone),
                      ("typed text after selecting the big file, ONE shared lane (the old design)", shared)):
        print(f"| {title} | {statistics.median(xs):.3f} | {max(xs):.3f} |")
    print(f"\nratio typed-behind / typed-idle: {statistics.median(behind) / statistics.median(idle):.1f}x")
    app.quit()


if __name__ == "__main__":
    main()
