"""`textsort-app`: the desktop app. `textsort-app --self-test` checks the install
without opening a window (one real inference on the default model)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ICON_NAME = "textsort.png"
STARTUP_PROBE_ENV = "TEXTSORT_STARTUP_PROBE"  # set: print "ready <epoch seconds>" and quit when idle


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="textsort-app", description="Textsort desktop app: drop files, see their class.")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders to classify at start")
    p.add_argument("--model", type=Path, help="a .textsort model file (default: the last used, else the bundled default)")
    p.add_argument("--theme", choices=("system", "light", "dark"), default="system", help="colour scheme")
    p.add_argument("--self-test", action="store_true", help="no window: run one real inference, print versions, exit 0/1")
    return p.parse_args(argv)


def icon_path() -> Path | None:
    """assets/icons/textsort.png in a source checkout or a frozen (PyInstaller) app."""
    roots = [Path(getattr(sys, "_MEIPASS", "")), Path(__file__).resolve().parents[3]]
    for root in roots:
        candidate = root / "assets" / "icons" / ICON_NAME
        if candidate.is_file():
            return candidate
    return None


def self_test(model: Path | None = None) -> int:
    try:
        from textsort.cli import self_test as cli_self_test
    except ImportError:
        print("textsort-app: the CLI's self-test is not available in this build", file=sys.stderr)
        return 1
    rc = cli_self_test(model) if model else cli_self_test()
    try:
        import PySide6
        from PySide6.QtCore import qVersion

        print(f"Qt {qVersion()} (PySide6 {PySide6.__version__})")
    except ImportError as e:
        print(f"Qt not available: {e}", file=sys.stderr)
        return 1
    return int(rc or 0)


def apply_theme(app, theme: str) -> None:
    if theme == "system":
        return
    from PySide6.QtCore import Qt

    app.setStyle("Fusion")
    app.styleHints().setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return self_test(args.model)
    import os

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .settings import DEFAULTS

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(DEFAULTS.organisation)
    app.setApplicationName(DEFAULTS.application)
    apply_theme(app, args.theme)
    icon = icon_path()
    if icon:
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow(model_path=args.model)
    window.show()
    if args.paths:
        window.classify_paths(args.paths)
    if os.environ.get(STARTUP_PROBE_ENV):
        def ready() -> None:
            print(f"ready {time.time():.6f}", flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(0, ready)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
