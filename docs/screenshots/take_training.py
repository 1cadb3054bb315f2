"""Drives the Train and Evaluate windows on real data, as a user would, and saves
screenshots (docs/screenshots/train-*.png, evaluate-*.png); prints the wall-clock times.

    xvfb-run -a -s "-screen 0 1400x1000x24" python docs/screenshots/take_training.py en [--out DIR]
    xvfb-run -a -s "-screen 0 1400x1000x24" python docs/screenshots/take_training.py zh [--stop-after 240]

en: trains sms_spam (../shared/data/sms_spam/train.csv, test.csv) from the Train window to
the end, then evaluates the new model on the test file and opens a wrong cell.
zh: previews chnsenticorp, trains for --stop-after seconds and cancels (the finished
stages stay), then evaluates the bundled reviews-zh on the chnsenticorp test file.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "desktop"))

from textsort.gui.app import register_fonts  # noqa: E402
from textsort.gui.main_window import MainWindow  # noqa: E402
from textsort.gui.settings import AppSettings  # noqa: E402
from textsort.gui.theme import apply_theme  # noqa: E402


def wait(app, cond, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(step)
    return False


def shot(app, widget, path: Path) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.05)
    widget.grab().save(str(path))
    print("saved", path, flush=True)


def evaluate_and_drill(app, window, data: Path, out: Path, name: str) -> None:
    ev = window.show_evaluate_window()
    ev.move(20, 20)
    wait(app, lambda: window.classifier is not None, 60)
    ev.set_classifier(window.classifier)
    t0 = time.perf_counter()
    ev.evaluate(data)
    wait(app, lambda: ev.evaluation is not None and ev.evaluation.data == str(data), 900)
    e = ev.evaluation
    print(f"evaluated {e.n} texts in {time.perf_counter() - t0:.1f} s: accuracy {e.accuracy:.4f} "
          f"macro-F1 {e.macro_f1:.4f}", flush=True)
    cm = e.confusion
    wrong = max(((i, j) for i in range(len(e.labels)) for j in range(len(e.labels)) if i != j),
                key=lambda ij: cm[ij])
    ev.show_cell(*wrong)
    ev.cell_list.setCurrentRow(0)
    wait(app, lambda: ev.explanation.text.toPlainText().strip() != "", 60)
    shot(app, ev, out / f"evaluate-{name}.png")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("lang", choices=["en", "zh"])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--stop-after", type=float, default=240.0)
    args = ap.parse_args()
    app = QApplication([])
    register_fonts()
    apply_theme(app, "light")
    tmp = Path(tempfile.mkdtemp(prefix="textsort-train-"))
    settings = AppSettings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    zh = REPO / "assets" / "models" / "reviews-zh.textsort"
    window = MainWindow(settings, model_path=zh if args.lang == "zh" else None)
    window.resize(1100, 750)
    window.show()
    train = window.show_train_window()
    train.resize(900, 980)
    train.move(10, 10)
    dataset = "sms_spam" if args.lang == "en" else "chnsenticorp"
    model_out = REPO / "runs" / "gui" / f"{dataset}-gui.textsort"
    model_out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    train.set_data(DATA / dataset / "train.csv", test=DATA / dataset / "test.csv", out=model_out)
    wait(app, lambda: train.preview_state.finished, 600)
    print(f"preview: {time.perf_counter() - t0:.1f} s, estimate {train.preview_state.estimate_s} s, "
          f"ok {train.preview_state.ok}", flush=True)
    shot(app, train, args.out / f"train-preview-{args.lang}.png")
    t0 = time.perf_counter()
    train.start_training()
    if args.lang == "en":
        wait(app, lambda: train.run_state.stage("student").state == "running"
             and train.run_state.stage("student").step > 200, 3600)
        shot(app, train, args.out / "train-progress-en.png")
        wait(app, lambda: train.train_proc is None, 3600)
        print(f"training through the GUI: {time.perf_counter() - t0:.0f} s wall-clock; {train.status.text()}",
              flush=True)
        shot(app, train, args.out / "train-done-en.png")
        evaluate_and_drill(app, window, DATA / dataset / "test.csv", args.out, "en")
    else:
        wait(app, lambda: time.perf_counter() - t0 > args.stop_after, args.stop_after + 5)
        shot(app, train, args.out / "train-progress-zh.png")
        train.cancel()
        wait(app, lambda: train.train_proc is None, 120)
        print(f"cancelled after {time.perf_counter() - t0:.0f} s: {train.status.text()}", flush=True)
        evaluate_and_drill(app, window, DATA / dataset / "test.csv", args.out, "zh")
    window.close()


if __name__ == "__main__":
    main()
