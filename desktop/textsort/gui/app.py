"""`textsort-app`: the desktop app. `textsort-app --self-test` checks the install
without opening a window (one real inference on the default model)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from textsort.files.assets import asset_dirs
from textsort.gui.theme import apply_theme

ICON_NAME = "textsort.png"
# Start-up probe (bench/gui_startup.py): "window" prints "ready <epoch s>" when the event
# loop is first idle after show(); "model" prints it when the model has loaded. Then quits.
STARTUP_PROBE_ENV = "TEXTSORT_STARTUP_PROBE"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="textsort-app", description="Textsort desktop app: drop files, see their class.")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders to classify at start")
    p.add_argument("--model", type=Path, help="a .textsort model file (default: the last used, else the bundled default)")
    p.add_argument("--theme", choices=("system", "light", "dark"), default=None,
                   help="colour scheme (default: the one chosen in View ▸ Theme, else the system's)")
    p.add_argument("--self-test", action="store_true", help="no window: run one real inference, print versions, exit 0/1")
    p.add_argument("--install-desktop-entry", action="store_true",
                   help="Linux: add Textsort to this user's applications menu and open .textsort files with it")
    p.add_argument("--uninstall-desktop-entry", action="store_true", help="remove what --install-desktop-entry added")
    return p.parse_args(argv)


def icon_path() -> Path | None:
    for folder in asset_dirs("icons"):
        if (folder / ICON_NAME).is_file():
            return folder / ICON_NAME
    return None


def register_fonts() -> list[str]:
    """Fonts shipped in assets/fonts (e.g. a CJK font) become fallbacks for Chinese,
    Japanese and Korean text, so the app does not depend on the computer's fonts."""
    from PySide6.QtGui import QFontDatabase

    families: list[str] = []
    for folder in asset_dirs("fonts"):
        for font in sorted(folder.iterdir()):
            if font.suffix.lower() in (".ttf", ".otf", ".ttc"):
                font_id = QFontDatabase.addApplicationFont(str(font))
                families += QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families and hasattr(QFontDatabase, "addApplicationFallbackFontFamily"):  # Qt >= 6.8
        from PySide6.QtCore import QChar

        for script in (QChar.Script.Script_Han, QChar.Script.Script_Hiragana, QChar.Script.Script_Katakana,
                       QChar.Script.Script_Hangul):
            for family in families:
                QFontDatabase.addApplicationFallbackFontFamily(script, family)
    return families


def self_test(model: Path | None = None) -> int:
    """The CLI's self-test (versions + one real inference), then the Qt version."""
    from textsort.frontends.cli import main as cli_main

    rc = cli_main(["self-test"] + (["--model", str(model)] if model else []))
    try:
        import PySide6
        from PySide6.QtCore import qVersion
        from PySide6.QtWidgets import QApplication  # noqa: F401  (the widgets library loads)
    except ImportError as e:
        print(f"Qt is not usable: {e}", file=sys.stderr)
        return 1
    from .qt_check import binding_problem

    problem = binding_problem()
    print(f"  Qt {qVersion()} (PySide6 {PySide6.__version__}): "
          + (f"UNSAFE: {problem}" if problem else "references to None kept (checked)"))
    return 0 if rc == 0 and problem is None else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return self_test(args.model)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        from . import desktop_entry

        svg = next((d / "textsort.svg" for d in asset_dirs("icons") if (d / "textsort.svg").is_file()), None)
        try:
            if args.uninstall_desktop_entry:
                gone = desktop_entry.uninstall(icon_path(), svg)
            else:
                done = desktop_entry.install(icon_path(), svg)
        except OSError as e:  # a file in the way, a read-only folder: one line, nothing changed
            print(f"textsort-app: {e}", file=sys.stderr)
            return 1
        if args.uninstall_desktop_entry:
            print("removed:" if gone.removed else "nothing to remove", *map(str, gone.removed), sep="\n  ")
            for path, why in gone.left + gone.failed:
                print(f"left {path}: {why}", file=sys.stderr)
            return 1 if gone.failed else 0
        print("installed:", *map(str, done), sep="\n  ")
        return 0
    if len(args.paths) == 1 and args.paths[0].suffix.lower() == ".textsort" and args.paths[0].is_file():
        args.model, args.paths = args.paths[0], []  # "Open with Textsort" on a model file
    import os

    from .system_libs import check

    missing = check()  # Qt's xcb plugin would abort (exit 134) with a misleading message
    if missing:
        print(missing, file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .settings import DEFAULTS, AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(DEFAULTS.organisation)
    app.setApplicationName(DEFAULTS.application)
    settings = AppSettings()
    apply_theme(app, args.theme or settings.theme)
    register_fonts()
    icon = icon_path()
    if icon:
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow(settings, model_path=args.model)
    window.show()
    if args.paths:
        window.classify_paths(args.paths)
    probe = os.environ.get(STARTUP_PROBE_ENV)
    if probe:
        def ready(*_) -> None:
            print(f"ready {time.time():.6f}", flush=True)
            window.close()
            app.quit()

        if probe == "model":
            window.modelLoaded.connect(ready)
            window.modelFailed.connect(ready)
        else:
            QTimer.singleShot(0, ready)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
