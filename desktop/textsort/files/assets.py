"""Where the bundled assets are (models, samples, icons, fonts): one answer for a frozen
(PyInstaller) app, a source checkout and a wheel's data files."""
from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[3]  # the repository root of a source checkout


def asset_home(kind: str) -> Path:
    """Where assets/<kind> is in this app (it may not exist)."""
    frozen = getattr(sys, "_MEIPASS", None)
    return (Path(frozen) if frozen else CHECKOUT) / "assets" / kind


def asset_dirs(kind: str) -> list[Path]:
    """assets/<kind> in a frozen app (only there) or a source checkout, and
    <prefix>/share/textsort/<kind> where a wheel installs them; those that exist."""
    frozen = getattr(sys, "_MEIPASS", None)
    found = [asset_home(kind)] if asset_home(kind).is_dir() else []
    installed = Path(sys.prefix) / "share" / "textsort" / kind  # a wheel's data files
    return found + ([installed] if installed.is_dir() and not frozen else [])
