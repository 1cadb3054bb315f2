"""Before Qt starts: are the system libraries its platform plugin needs installed?

On Linux, Qt's xcb plugin aborts the process (exit 134) when one of its libraries is
missing, and its message names the wrong one. This module does not import Qt: it asks the
dynamic loader (`ldd`) which libraries of the plugin cannot be found and turns them into
one install line. `textsort-app` (and so `./dev app`) runs it before it creates the
QApplication; `python -m textsort.gui.system_libs` runs it alone.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# soname -> Debian/Ubuntu package (the xcb plugin's and Qt's own dependencies)
DEBIAN_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def uses_xcb(env=os.environ, platform: str = sys.platform) -> bool:
    """Will Qt pick its xcb (X11) plugin? Linux, no other platform asked for, and an X display."""
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(":")[0].split(";")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so (found without importing Qt's libraries)."""
    spec = importlib.util.find_spec("PySide6")
    roots = list(spec.submodule_search_locations or []) if spec else []
    if getattr(sys, "_MEIPASS", None):  # the frozen app keeps Qt's plugins under _internal/PySide6
        roots.append(str(Path(sys._MEIPASS) / "PySide6"))
    for root in roots:
        plugin = Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def run_ldd(path: Path) -> str:
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""  # no loader report: say nothing rather than guess
    try:
        return subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def missing_libraries(plugin: Path | None = None, ldd=None) -> list[str]:
    """Sonames the dynamic loader cannot find for the xcb plugin (sorted, no repeats)."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    return sorted(set(NOT_FOUND.findall((ldd or run_ldd)(plugin))))


def install_message(missing: list[str]) -> str:
    packages = sorted({DEBIAN_PACKAGES.get(lib, lib) for lib in missing})
    unknown = [lib for lib in missing if lib not in DEBIAN_PACKAGES]
    lines = [f"Textsort's window cannot start: the Qt X11 (xcb) platform plugin needs system libraries "
             f"that are not installed: {', '.join(missing)}.",
             "On Debian or Ubuntu, install them with:",
             f"    sudo apt-get install {' '.join(packages)}"]
    if unknown:
        lines.append(f"(The package names for {', '.join(unknown)} are guesses: search your distribution for them.)")
    lines.append("Without a window, the command line works now: textsort classify FILES (see textsort --help).")
    return "\n".join(lines)


def check(env=os.environ, ldd=None, plugin: Path | None = None) -> str | None:
    """The install message when Qt would fail to start here, else None."""
    if not uses_xcb(env):
        return None
    missing = missing_libraries(plugin, ldd)
    return install_message(missing) if missing else None


def main() -> int:
    message = check()
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
