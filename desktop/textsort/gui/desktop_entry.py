"""Install Textsort as a desktop app for this user (Linux, freedesktop.org), and remove it.

`textsort-app --install-desktop-entry` writes, under $XDG_DATA_HOME (default
~/.local/share):
- applications/textsort.desktop: the launcher (menu entry, "Open with"), `Exec=` the
  running app with `%F`, so files and folders opened with it are classified and a
  `.textsort` file opened with it becomes the model;
- mime/packages/textsort.xml: the `application/x-textsort` type for `*.textsort`;
- icons/hicolor/256x256/apps/textsort.png (and scalable/apps/textsort.svg when present);
- textsort/desktop-entry.json: the manifest, each file above (relative to $XDG_DATA_HOME)
  with the sha256 of the bytes Textsort wrote there.
Then it refreshes the desktop and MIME databases when their tools are installed (nothing
fails without them). No Qt here.

The rule (textsort.files.safe_files): never write through a link and never overwrite or delete
a file Textsort did not write.
- install checks every path first and writes nothing when one is in the way: a link, a
  folder, or a file whose bytes are neither what this install writes (a re-install is a
  no-op) nor what the manifest says an earlier install wrote (so a new launcher command
  replaces the old launcher). The message names the path; to install anyway, the user
  moves or deletes that file themselves. Each file is written as a fresh temporary file
  beside its target (mkstemp, exclusive) and renamed over it only when all are written:
  a failure (read-only folder, full disk) removes the temporary files and the folders
  this run made, and leaves the files as they were. Folders that are links (e.g. a
  dotfile manager's `applications -> ~/dotfiles/applications`) are followed; links at
  the file names never are.
- `--uninstall-desktop-entry` removes a path only when it is a regular file (not a link)
  whose sha256 is in the manifest or is that of what install would write now (an install
  from before the manifest); everything else is left and reported. Then it removes the
  manifest (kept when a file of ours could not be removed, so that a retry finishes the
  job). Folders are left.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from textsort.files.safe_files import BINARY, NOFOLLOW, RefusedWrite, holds_exactly, taken

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
MANIFEST = Path(APP_ID) / "desktop-entry.json"
NOT_OURS = "not the file Textsort installed"
_MANIFEST_LIMIT = 64 * 1024
_FILE_LIMIT = 16 * 1024 * 1024  # far above what install writes: anything bigger is not ours
_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def manifest_path(env=os.environ) -> Path:
    return data_home(env) / MANIFEST


class Removal(NamedTuple):
    """What `uninstall` did: files removed; files left because they are not ours
    (path, why); files of ours it could not remove (path, why)."""
    removed: list[Path]
    left: list[tuple[Path, str]]
    failed: list[tuple[Path, str]]


def _refresh(env) -> None:
    home = data_home(env)
    for tool, args in (("update-mime-database", [str(home / "mime")]),
                       ("update-desktop-database", [str(home / "applications")])):
        exe = shutil.which(tool)
        if exe:
            subprocess.run([exe, *args], capture_output=True, timeout=60, check=False)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _regular_bytes(path: Path, limit: int) -> bytes | None:
    """The bytes of `path` when it is a regular file, not a link, of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | BINARY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                return None
            data = fh.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def _digest(path: Path) -> str | None:
    data = _regular_bytes(path, _FILE_LIMIT)
    return None if data is None else _sha256(data)


def _what(path: Path) -> str:
    if os.path.islink(path):
        return "a link"
    if os.path.isdir(path):
        return "a folder"
    return "a file Textsort did not write" if os.path.isfile(path) else "not a regular file"


def _in_the_way(path: Path) -> RefusedWrite:
    return RefusedWrite(f"{path} is already there and is {_what(path)}; nothing was installed "
                        "(move or delete it yourself to install over it)")


def _read_manifest(env) -> dict[str, str] | None:
    """{path relative to $XDG_DATA_HOME: sha256}: {} when there is no manifest, None when
    something else (a link, a folder, another file) is at its place."""
    path = manifest_path(env)
    if not taken(path):
        return {}
    raw = _regular_bytes(path, _MANIFEST_LIMIT)
    try:
        doc = json.loads(raw.decode("utf-8")) if raw is not None else None
    except ValueError:
        return None
    files = doc.get("files") if isinstance(doc, dict) and doc.get("app") == APP_ID else None
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v) for k, v in files.items()):
        return None
    return files


def _contents(icon_png, icon_svg, command, strict: bool) -> dict[str, bytes]:
    """What install writes, by key of `paths()`; unreadable icons raise when `strict`."""
    out = {"desktop": desktop_file(command or launcher_command()).encode("utf-8"),
           "mime": MIME_XML.encode("utf-8")}
    for key, source in (("icon", icon_png), ("svg", icon_svg)):
        if source is not None and Path(source).is_file():
            try:
                out[key] = Path(source).read_bytes()
            except OSError as e:
                if strict:
                    raise OSError(f"cannot read the icon {source}: {e.strerror or e}") from e
    return out


def _relative(path: Path, env) -> str:
    return path.relative_to(data_home(env)).as_posix()


def _check_folders(folder: Path) -> None:
    """Refuse when a file or a dangling link is where `folder` or one above it must be."""
    for p in (folder, *folder.parents):
        if os.path.isdir(p):
            return
        if taken(p):
            raise RefusedWrite(f"{p} is in the way: a folder must be there; nothing was installed")


def _mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_all(todo: list[tuple[Path, bytes]]) -> None:
    """All or nothing (short of a failed rename): temporary files first, then the renames."""
    made: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    doing = ""
    try:
        for target, data in todo:
            missing = [p for p in (target.parent, *target.parent.parents) if not taken(p)]
            for folder in reversed(missing):
                doing = f"create the folder {folder}"
                folder.mkdir()
                made.append(folder)
            doing = f"write {target}"
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(tmp), target))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, _mode())  # mkstemp makes 0600
        for tmp, target in staged:
            doing = f"replace {target}"
            os.replace(tmp, target)  # replaces a link itself, never what it points to
    except BaseException as e:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        if isinstance(e, OSError) and not isinstance(e, RefusedWrite):
            raise OSError(f"cannot {doing}: {e.strerror or e}; nothing was installed") from e
        raise


def install(icon_png: Path | None, icon_svg: Path | None = None, env=os.environ,
            command: list[str] | None = None) -> list[Path]:
    """Writes the launcher, the MIME type, the icons and the manifest; returns the files
    installed (written now or already in place). Raises RefusedWrite when something that
    Textsort did not write is in the way, OSError when a write fails; either way nothing
    is changed, and the message (one line) names the path."""
    where = paths(env)
    contents = _contents(icon_png, icon_svg, command, strict=True)
    manifest = manifest_path(env)
    recorded = _read_manifest(env)
    if recorded is None:
        raise _in_the_way(manifest)
    for folder in sorted({where[key].parent for key in contents} | {manifest.parent}):
        _check_folders(folder)
    keep: dict[str, str] = {}
    todo: list[tuple[Path, bytes]] = []
    for key, data in contents.items():
        path, digest = where[key], _sha256(data)
        current = _digest(path)
        if current != digest:
            if taken(path) and (current is None or current != recorded.get(_relative(path, env))):
                raise _in_the_way(path)
            todo.append((path, data))
        keep[_relative(path, env)] = digest
    for key, path in where.items():  # e.g. the svg of an earlier install, still as written
        rel = _relative(path, env)
        if rel not in keep and rel in recorded and _digest(path) == recorded[rel]:
            keep[rel] = recorded[rel]
    record = (json.dumps({"app": APP_ID, "files": keep}, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if todo or not holds_exactly(manifest, record):
        todo.append((manifest, record))  # last: it vouches for the files renamed before it
    _write_all(todo)
    if todo:
        _refresh(env)
    return [where[key] for key in contents]


def uninstall(icon_png: Path | None = None, icon_svg: Path | None = None, env=os.environ,
              command: list[str] | None = None) -> Removal:
    """Removes the files `install` wrote (per the manifest, or what install would write
    now with these arguments) and nothing else: never a link, a folder or a changed file."""
    removed: list[Path] = []
    left: list[tuple[Path, str]] = []
    failed: list[tuple[Path, str]] = []
    manifest = manifest_path(env)
    recorded = _read_manifest(env)
    if recorded is None:
        left.append((manifest, NOT_OURS))
    now = {key: _sha256(data) for key, data in _contents(icon_png, icon_svg, command, strict=False).items()}
    for key, path in paths(env).items():
        if not taken(path):
            continue
        ours = {(recorded or {}).get(_relative(path, env)), now.get(key)} - {None}
        if _digest(path) not in ours:
            left.append((path, NOT_OURS))
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError as e:
            failed.append((path, f"cannot remove it: {e.strerror or e}"))
    if recorded is not None and taken(manifest) and not failed:
        try:
            manifest.unlink()
        except OSError as e:
            failed.append((manifest, f"cannot remove it: {e.strerror or e}"))
    if removed:
        _refresh(env)
    return Removal(removed, left, failed)
