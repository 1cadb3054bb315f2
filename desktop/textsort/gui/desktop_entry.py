"""Install Textsort as a desktop app for this user (Linux, freedesktop.org), and remove it.

`textsort-app --install-desktop-entry` writes, under $XDG_DATA_HOME (default
~/.local/share):
- applications/textsort.desktop: the launcher (menu entry, "Open with"), `Exec=` the
  running app with `%F`, so files and folders opened with it are classified and a
  `.textsort` file opened with it becomes the model;
- mime/packages/textsort.xml: the `application/x-textsort` type for `*.textsort`;
- icons/hicolor/256x256/apps/textsort.png (and scalable/apps/textsort.svg when present).
Then it refreshes the desktop and MIME databases when their tools are installed (nothing
fails without them). `--uninstall-desktop-entry` removes exactly these files. No Qt here.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

APP_ID = "textsort"
MIME_TYPE = "application/x-textsort"
MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>Textsort model</comment>
    <glob pattern="*.textsort"/>
    <sub-class-of type="application/zip"/>
  </mime-type>
</mime-info>
"""


def data_home(env=os.environ) -> Path:
    return Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher_command() -> list[str]:
    """How to start this app again: the frozen executable, else this Python with the module."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "textsort.gui.app"]


def desktop_file(command: list[str], icon: str = APP_ID) -> str:
    exec_line = " ".join(shlex.quote(part) for part in command) + " %F"
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=Textsort",
        "GenericName=Text classifier",
        "Comment=Sort text files by what they are about, offline",
        f"Exec={exec_line}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Utility;TextTools;",
        f"MimeType={MIME_TYPE};text/plain;inode/directory;",
        "StartupWMClass=textsort-app",
        "",
    ])


def paths(env=os.environ) -> dict[str, Path]:
    home = data_home(env)
    return {"desktop": home / "applications" / f"{APP_ID}.desktop",
            "mime": home / "mime" / "packages" / f"{APP_ID}.xml",
            "icon": home / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png",
            "svg": home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"}


def _refresh(env) -> None:
    home = data_home(env)
    for tool, args in (("update-mime-database", [str(home / "mime")]),
                       ("update-desktop-database", [str(home / "applications")])):
        exe = shutil.which(tool)
        if exe:
            subprocess.run([exe, *args], capture_output=True, timeout=60, check=False)


def install(icon_png: Path | None, icon_svg: Path | None = None, env=os.environ,
            command: list[str] | None = None) -> list[Path]:
    """Writes the launcher, the MIME type and the icons; returns the files written."""
    where = paths(env)
    written = []
    for key, content in (("desktop", desktop_file(command or launcher_command())), ("mime", MIME_XML)):
        where[key].parent.mkdir(parents=True, exist_ok=True)
        tmp = where[key].with_name(where[key].name + ".partial")
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, where[key])
        written.append(where[key])
    for key, source in (("icon", icon_png), ("svg", icon_svg)):
        if source is not None and Path(source).is_file():
            where[key].parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, where[key])
            written.append(where[key])
    _refresh(env)
    return written


def uninstall(env=os.environ) -> list[Path]:
    """Removes what `install` wrote (and nothing else); returns the files removed."""
    removed = []
    for path in paths(env).values():
        if path.is_file():
            path.unlink()
            removed.append(path)
    _refresh(env)
    return removed
