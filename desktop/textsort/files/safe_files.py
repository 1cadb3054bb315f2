"""The one rule for every command that writes: never overwrite or delete a file that
Textsort did not create in that run, unless the user named it and asked (`--force`,
`--move`). Every writer in Textsort goes through these helpers:

- `create_new(path, data)`: creates `path` only if nothing is there (not even a dangling
  symlink): `O_CREAT | O_EXCL | O_NOFOLLOW`, so a planted link is never written through.
- `replace_atomically(path, data)`: writes a fresh temporary file beside `path` (exclusive,
  never through a link) and renames it over `path`. A rename replaces a symlink itself,
  never the file it points to. Only for files the caller may replace.
- `free_name(path)`: `path` if nothing is there, else `stem-2.suffix`, `stem-3.suffix`, ...
- `holds_exactly(path, data)`: True when `path` is a regular file (not a link) whose bytes
  are `data`: the test for "this is the file we wrote" before removing or replacing it.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)


class RefusedWrite(OSError):
    """A write that would overwrite or delete something Textsort did not create."""


def _mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def create_new(path: str | os.PathLike, data: bytes | str) -> Path:
    """Create `path` with `data`; FileExistsError if anything (a link too) is there."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY, _mode())
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_bytes(data))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def replace_atomically(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write `data` to a new temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(f"{path} is a folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_bytes(data))
        os.chmod(tmp, _mode())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def taken(path: str | os.PathLike) -> bool:
    """Something is at `path`: a file, a folder or a link (a dangling one too)."""
    return os.path.lexists(path)


def free_name(path: str | os.PathLike, limit: int = 1000) -> Path:
    """`path` if nothing is there, else the first free `stem-N.suffix` (N = 2, 3, ...)."""
    path = Path(path)
    if not taken(path):
        return path
    suffix = "".join(path.suffixes[-1:])
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    for n in range(2, limit):
        candidate = path.with_name(f"{stem}-{n}{suffix}")
        if not taken(candidate):
            return candidate
    raise RefusedWrite(f"no free name beside {path} (tried {limit})")


def holds_exactly(path: str | os.PathLike, data: bytes | str) -> bool:
    """`path` is a regular file, not a link, whose bytes are exactly `data`."""
    data = _bytes(data)
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | BINARY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        return fh.read(len(data) + 1) == data


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """`a` and `b` are one file (also through links or other spellings); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
