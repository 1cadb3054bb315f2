"""Takes the screenshots in docs/screenshots/ from the real app with real models.

    xvfb-run -a -s "-screen 0 1400x900x24" python docs/screenshots/take.py \
        [--model EN.textsort] [--zh-model ZH.textsort] [--card-only]

Defaults: assets/models/sms_spam-en.textsort and the first bundled Chinese model; the
tiny test bundles (tests/tinymodel.py) work too. Settings go to a temporary file, and
the sample files are written to a temporary folder. Needs a CJK font (fonts-wqy-zenhei
or fonts-noto-cjk) for the Chinese screenshot.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "desktop"))

from textsort.gui.app import icon_path, register_fonts  # noqa: E402
from textsort.gui.main_window import MainWindow  # noqa: E402
from textsort.gui.model_card import ModelCardDialog  # noqa: E402
from textsort.gui.settings import AppSettings  # noqa: E402
from textsort.gui.theme import apply_theme  # noqa: E402

ENGLISH = {  # for sms_spam-en; the tiny test model knows the keywords too
    "prize-claim.txt": "You are a winner! Claim your cash prize now, call 0800 123 456.",
    "lunch.txt": "Thanks mom, see you at lunch tomorrow. I will be home by six.",
    "meeting.txt": "Running late for the meeting tonight, start without me.",
    "free-entry.txt": "URGENT! Free entry to win a prize: text CLAIM to 80086 now.",
    "photo.jpg": bytes(range(256)) * 8,
    "empty-note.txt": "",
}
CHINESE = {  # (text, encoding)
    "好评.txt": ("这个东西很好，我很爱，质量也棒。", "utf-8"),
    "差评-gbk.txt": ("东西太差了，送货很慢，包装也坏了。", "gbk"),
    "一般.txt": ("还行吧，一般般，普通。", "utf-8"),
}


def wait_for(signal, ms: int = 30000):
    loop, got = QEventLoop(), []
    signal.connect(lambda *a: (got.append(a), loop.quit()))
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    if not got:
        raise SystemExit(f"timed out waiting for {signal}")
    return got[0]


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def write_files(folder: Path) -> tuple[Path, Path]:
    en, zh = folder / "messages", folder / "评论"
    en.mkdir()
    zh.mkdir()
    for name, content in ENGLISH.items():
        (en / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for name, (text, enc) in CHINESE.items():
        (zh / name).write_bytes(text.encode(enc))
    return en, zh


def select(window: MainWindow, name: str) -> None:
    for r in range(window.proxy.rowCount()):
        if window.proxy.index(r, 0).data() == name:
            window.table.clearSelection()
            window.table.selectRow(r)
            wait_for(window.explanationShown)
            settle()
            return
    raise SystemExit(f"{name} is not in the table")


def default_zh() -> Path | None:
    from textsort.appstate.models import bundled_models
    from textsort.core.bundle import load_bundle

    for path in bundled_models():
        if load_bundle(path).manifest.get("language") in ("zh", "multi"):
            return path
    return None


def take_model_card(model: Path, out: Path) -> Path:
    """Only the model-card screenshot (model-card.png): the dialog on `model`, light theme."""
    from textsort.core.bundle import load_bundle

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(QIcon(str(icon_path())))
    apply_theme(app, "light")
    card = ModelCardDialog(load_bundle(model))
    card.show()
    settle()
    png = out / "model-card.png"
    card.grab().save(str(png))
    card.close()
    return png


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=REPO / "assets" / "models" / "sms_spam-en.textsort")
    ap.add_argument("--zh-model", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--card-only", action="store_true", help="only model-card.png")
    args = ap.parse_args()
    if args.card_only:
        print(take_model_card(args.model, args.out))
        return
    zh_model = args.zh_model or default_zh()
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(QIcon(str(icon_path())))
    register_fonts()  # the app's own CJK font, as textsort-app does
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        en, zh = write_files(tmp)
        settings = AppSettings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
        for theme, suffix in (("light", ""), ("dark", "-dark")):
            apply_theme(app, theme)
            window = MainWindow(settings, model_path=args.model)
            window.resize(1280, 800)
            window.show()
            wait_for(window.modelLoaded)
            settle()
            if not suffix:
                window.grab().save(str(args.out / "empty-window.png"))
            window.classify_paths([en])
            wait_for(window.runFinished)
            select(window, "prize-claim.txt")
            window.grab().save(str(args.out / f"results-en{suffix}.png"))
            if not suffix:
                card = ModelCardDialog(window.classifier.bundle, window)
                card.show()
                settle()
                card.grab().save(str(args.out / "model-card.png"))
                card.close()
                window.classify_paths([zh])  # Chinese files, English model: a wrong-language result
                wait_for(window.runFinished)
                select(window, "好评.txt")
                window.grab().save(str(args.out / "wrong-language.png"))
                if zh_model:
                    window.load_model(zh_model)
                    wait_for(window.runFinished)  # the English files again, with the new model
                    window.clear_results()
                    window.classify_paths([zh])
                    wait_for(window.runFinished)
                    select(window, "差评-gbk.txt")
                    window.grab().save(str(args.out / "results-zh.png"))
                window.tabs.setCurrentIndex(1)
                window.load_model(args.model)
                wait_for(window.modelLoaded)
                window.typed_input.setPlainText("Are we still on for lunch? Also I won a free prize lol")
                wait_for(window.typedShown)
                settle()
                window.grab().save(str(args.out / "typed-text.png"))
            window.close()
    print("\n".join(str(p) for p in sorted(args.out.glob("*.png"))))


if __name__ == "__main__":
    main()
