"""`textsort-app --install-desktop-entry` / `--uninstall-desktop-entry` into a temporary
XDG_DATA_HOME: launcher, MIME type for .textsort, icon; removed again, nothing else touched.
Under attack: links planted at the names install writes, other packages' files, folders
and files where the other kind belongs, a read-only data home; and a hypothesis property
over random plantings and install/uninstall sequences (quick here; `pytest -m fuzz` runs
TEXTSORT_FUZZ_EXAMPLES examples)."""
from __future__ import annotations

import configparser
import errno
import os
import shlex
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textsort.files.safe_files import holds_exactly, taken
from textsort.gui import app, desktop_entry


def test_install_and_uninstall_in_a_temporary_data_home(tmp_path, monkeypatch, capsys):
    home = tmp_path / "share"
    (home / "applications").mkdir(parents=True)
    other = home / "applications" / "someone-else.desktop"
    other.write_text("[Desktop Entry]\nName=Other\n")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    assert app.main(["--install-desktop-entry"]) == 0
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(home / "applications" / "textsort.desktop")
    d = entry["Desktop Entry"]
    assert d["Name"] == "Textsort" and d["Icon"] == "textsort" and d["Type"] == "Application"
    assert "application/x-textsort;" in d["MimeType"] and d["Exec"].endswith(" %F")
    command = shlex.split(d["Exec"])[:-1]
    assert command[0] == sys.executable and command[1:] == ["-m", "textsort.gui.app"]
    assert '<glob pattern="*.textsort"/>' in (home / "mime" / "packages" / "textsort.xml").read_text()
    assert (home / "icons" / "hicolor" / "256x256" / "apps" / "textsort.png").stat().st_size > 1000
    # the launcher's command really starts this app (checked without a window)
    done = subprocess.run(command + ["--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "install-desktop-entry" in done.stdout
    assert app.main(["--uninstall-desktop-entry"]) == 0
    left = sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file())
    assert [p for p in left if "textsort" in p] == [] and other.is_file()
    assert "removed:" in capsys.readouterr().out


def test_a_model_file_opened_with_the_app_becomes_the_model(monkeypatch, tiny_bundle):
    """`Exec=... %F` with a .textsort file: the window opens on that model."""
    seen = {}

    class FakeWindow:
        def __init__(self, settings=None, model_path=None):
            seen["model"] = model_path

        def show(self):
            raise SystemExit(0)

    monkeypatch.setattr("textsort.gui.main_window.MainWindow", FakeWindow)
    try:
        app.main([str(tiny_bundle)])
    except SystemExit:
        pass
    assert seen["model"] == tiny_bundle


# -- hold under attack: planted links, other packages' files, odd folders ----------------
DESKTOP = "applications/textsort.desktop"
XML = "mime/packages/textsort.xml"
PNG = "icons/hicolor/256x256/apps/textsort.png"
SVG = "icons/hicolor/scalable/apps/textsort.svg"
MANIFEST = "textsort/desktop-entry.json"
OURS = (DESKTOP, XML, PNG, SVG, MANIFEST)


def _tree(*roots: Path) -> dict[str, tuple]:
    """Every entry under `roots`, links not followed: ("dir",), ("link", target), ("file", bytes)."""
    seen: dict[str, tuple] = {}

    def walk(folder: Path) -> None:
        for entry in os.scandir(folder):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                seen[entry.path] = ("link", os.readlink(entry.path))
            elif stat.S_ISDIR(st.st_mode):
                seen[entry.path] = ("dir",)
                walk(Path(entry.path))
            elif stat.S_ISREG(st.st_mode):
                seen[entry.path] = ("file", Path(entry.path).read_bytes())
            else:
                seen[entry.path] = ("other", stat.S_IFMT(st.st_mode))

    for root in roots:
        if root.is_dir() and not root.is_symlink():
            walk(root)
    return seen


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A data home and, outside it, files a planted link could reach."""
    home, outside = tmp_path / "share", tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("someone's file\n")
    (outside / "victim.png").write_bytes(b"\x89PNG someone else's icon")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setattr(desktop_entry, "_refresh", lambda env: None)
    return home, outside


def _plant(path: Path, make) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    make(path)


def _stray(*roots: Path) -> list[str]:
    """Temporary files left behind (ours are `.NAME.XXXX.tmp`; old code's `NAME.partial`)."""
    return [p for p, kind in _tree(*roots).items()
            if kind[0] != "dir" and (p.endswith(".tmp") or p.endswith(".partial"))]


def test_install_never_writes_through_links_planted_at_its_temporary_names(world, capsys):
    home, outside = world
    for rel in (DESKTOP + ".partial", XML + ".partial"):
        _plant(home / rel, lambda p: p.symlink_to(outside / "victim.txt"))
    before = _tree(outside)
    assert app.main(["--install-desktop-entry"]) == 0
    assert _tree(outside) == before
    for rel in (DESKTOP, XML, PNG):
        assert (home / rel).is_file() and not (home / rel).is_symlink()
    assert os.readlink(home / (DESKTOP + ".partial")) == str(outside / "victim.txt")  # left alone
    assert b"[Desktop Entry]" in (home / DESKTOP).read_bytes()


@pytest.mark.parametrize("rel", [PNG, SVG, DESKTOP, XML, MANIFEST])
def test_install_refuses_a_link_at_its_file_names_and_writes_nothing(world, capsys, rel):
    home, outside = world
    _plant(home / rel, lambda p: p.symlink_to(outside / "victim.png"))
    before = _tree(home, outside)
    assert app.main(["--install-desktop-entry"]) == 1
    err = capsys.readouterr().err
    assert str(home / rel) in err and "link" in err and len(err.strip().splitlines()) == 1
    assert _tree(home, outside) == before


@pytest.mark.parametrize("rel", [PNG, DESKTOP, XML])
def test_install_refuses_another_packages_file_until_the_user_moves_it(world, capsys, rel):
    home, _ = world
    _plant(home / rel, lambda p: p.write_bytes(b"another package's file\n"))
    before = _tree(home)
    assert app.main(["--install-desktop-entry"]) == 1
    err = capsys.readouterr().err
    assert str(home / rel) in err and "did not write" in err and "move or delete it yourself" in err
    assert _tree(home) == before  # nothing written, not even the other files
    (home / rel).unlink()  # the documented override
    assert app.main(["--install-desktop-entry"]) == 0


def test_reinstall_is_a_no_op_and_a_new_launcher_replaces_the_old_one(world, capsys):
    home, _ = world
    png = app.icon_path()
    first = desktop_entry.install(png, None, command=["/old/textsort-app"])
    after_first = _tree(home)
    assert desktop_entry.install(png, None, command=["/old/textsort-app"]) == first
    assert _tree(home) == after_first
    desktop_entry.install(png, None, command=["/new/textsort-app"])  # the manifest vouches for the old one
    assert "Exec=/new/textsort-app %F" in (home / DESKTOP).read_text()
    gone = desktop_entry.uninstall(png, None, command=["/yet/another"])
    assert sorted(gone.removed) == sorted(home / rel for rel in (DESKTOP, XML, PNG))
    assert gone.left == gone.failed == [] and not (home / MANIFEST).exists()
    assert _stray(home) == []


def test_uninstall_with_nothing_installed_removes_nothing(world, capsys):
    home, outside = world
    _plant(home / DESKTOP, lambda p: p.symlink_to(outside / "victim.txt"))
    _plant(home / PNG, lambda p: p.write_bytes(b"another package's icon"))
    _plant(home / XML, lambda p: p.mkdir())
    before = _tree(home, outside)
    assert app.main(["--uninstall-desktop-entry"]) == 0
    out, err = capsys.readouterr()
    assert "nothing to remove" in out
    for rel in (DESKTOP, PNG, XML):
        assert f"left {home / rel}: not the file Textsort installed" in err
    assert _tree(home, outside) == before


def test_uninstall_leaves_a_changed_file_and_a_link_to_identical_bytes(world, capsys):
    home, outside = world
    assert app.main(["--install-desktop-entry"]) == 0
    (home / DESKTOP).write_text((home / DESKTOP).read_text() + "NoDisplay=true\n")  # edited by the user
    copy = outside / "textsort.png"
    copy.write_bytes((home / PNG).read_bytes())
    (home / PNG).unlink()
    (home / PNG).symlink_to(copy)  # a link to the very bytes install wrote: still not ours
    capsys.readouterr()
    assert app.main(["--uninstall-desktop-entry"]) == 0
    out, err = capsys.readouterr()
    assert str(home / XML) in out and not (home / XML).exists()
    assert f"left {home / DESKTOP}: not the file" in err and "NoDisplay=true" in (home / DESKTOP).read_text()
    assert f"left {home / PNG}: not the file" in err and (home / PNG).is_symlink() and copy.is_file()
    assert not (home / MANIFEST).exists()


def test_uninstall_without_a_manifest_removes_what_install_writes(world, capsys):
    """An install from before the manifest: the files holding exactly install's bytes go."""
    home, _ = world
    assert app.main(["--install-desktop-entry"]) == 0
    (home / MANIFEST).unlink()
    assert app.main(["--uninstall-desktop-entry"]) == 0
    assert [p for p in _tree(home) if "textsort" in Path(p).name] == [str(home / "textsort")]


def _read_only(folder: Path, monkeypatch) -> None:
    """Make `folder` read-only; as root (permissions not enforced) fail like a read-only mount."""
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return

    def inside(path) -> bool:
        return Path(path).resolve().is_relative_to(folder.resolve())

    def refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    real_mkdir, real_unlink, real_mkstemp = os.mkdir, os.unlink, tempfile.mkstemp
    monkeypatch.setattr(os, "mkdir", lambda p, *a, **k: refuse(p) if inside(p) else real_mkdir(p, *a, **k))
    monkeypatch.setattr(os, "unlink", lambda p, *a, **k: refuse(p) if inside(p) else real_unlink(p, *a, **k))
    monkeypatch.setattr(tempfile, "mkstemp", lambda *a, dir=None, **k: refuse(dir) if inside(dir)
                        else real_mkstemp(*a, dir=dir, **k))


def _file_at(rel):
    def make(home):
        _plant(home / rel, lambda p: p.write_text("not a folder\n"))
    return make


@pytest.mark.parametrize("case, make, named", [
    ("read-only data home", lambda home: home.mkdir(parents=True), "share/applications"),
    ("data home is a file", lambda home: home.write_text("not a folder\n"), "share"),
    ("applications is a file", _file_at("applications"), "share/applications"),
    ("applications is a dangling link", lambda home: _plant(home / "applications", lambda p: p.symlink_to(p.parent / "gone")),
     "share/applications"),
    ("textsort.desktop is a folder", lambda home: _plant(home / DESKTOP, lambda p: p.mkdir()), DESKTOP),
])
def test_install_where_it_cannot_write_says_so_in_one_line(world, capsys, monkeypatch, case, make, named):
    home, _ = world
    make(home)
    if case == "read-only data home":
        _read_only(home, monkeypatch)
    before = _tree(home.parent)
    try:
        assert app.main(["--install-desktop-entry"]) == 1
    finally:
        if home.is_dir() and not home.is_symlink():
            home.chmod(0o755)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("textsort-app: ") and named in err, err
    assert _tree(home.parent) == before  # nothing written, no temporary file, no folder made


def test_uninstall_in_a_read_only_folder_fails_and_keeps_the_manifest(world, capsys, monkeypatch):
    home, _ = world
    assert app.main(["--install-desktop-entry"]) == 0
    _read_only(home / "applications", monkeypatch)
    try:
        assert app.main(["--uninstall-desktop-entry"]) == 1
    finally:
        (home / "applications").chmod(0o755)
    err = capsys.readouterr().err
    assert f"left {home / DESKTOP}: cannot remove it" in err
    assert (home / DESKTOP).is_file() and (home / MANIFEST).is_file() and not (home / XML).exists()
    monkeypatch.undo()
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setattr(desktop_entry, "_refresh", lambda env: None)
    assert app.main(["--uninstall-desktop-entry"]) == 0  # the retry finishes the job
    assert not (home / DESKTOP).exists() and not (home / MANIFEST).exists()


# -- the property: whatever is planted, nothing that is not ours changes ------------------
from fuzzing import LONG  # noqa: E402

QUICK = 100
PLANT_AT = ["applications", DESKTOP, DESKTOP + ".partial", "mime", "mime/packages", XML, XML + ".partial",
            "icons", "icons/hicolor", "icons/hicolor/256x256", "icons/hicolor/256x256/apps", PNG,
            "icons/hicolor/scalable", "icons/hicolor/scalable/apps", SVG, "textsort", MANIFEST]
KINDS = ["file", "folder", "link to a file", "dangling link", "link to a folder", "link loop", "fifo"]
OPS = ["install", "install, other launcher", "install, no svg", "uninstall"]
NAMES = {Path(rel).name for rel in OURS}


def _plant_kind(path: Path, kind: str, outside: Path) -> None:
    if kind == "file":
        path.write_bytes(b"another package's " + path.name.encode())
    elif kind == "folder":
        path.mkdir()
        (path / "keep").write_text("someone's file in a folder\n")
    elif kind == "link to a file":
        path.symlink_to(outside / "victim.txt")
    elif kind == "dangling link":
        path.symlink_to(outside / "missing")
    elif kind == "link to a folder":
        path.symlink_to(outside / "folder")
    elif kind == "link loop":
        path.symlink_to(path.name)
    else:
        os.mkfifo(path)


def never_touches_what_is_not_ours(planted: dict[str, str], ops: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(desktop_entry, "_refresh", lambda env: None):
        tmp = Path(tmp)
        home, outside, src = tmp / "share", tmp / "outside", tmp / "src"
        for folder in (home, outside / "folder", src):
            folder.mkdir(parents=True)
        (outside / "victim.txt").write_text("someone's file\n")
        (outside / "folder" / "theirs.txt").write_text("someone's file in a folder\n")
        (src / "textsort.png").write_bytes(b"\x89PNG our icon")
        (src / "textsort.svg").write_bytes(b"<svg>our icon</svg>")
        for rel in sorted(planted, key=lambda r: r.count("/")):
            path = home / rel
            if any(taken(p) and (p.is_symlink() or not p.is_dir())
                   for p in path.parents if p.is_relative_to(home)):
                continue  # only inside real folders of the data home
            path.parent.mkdir(parents=True, exist_ok=True)
            _plant_kind(path, planted[rel], outside)
        env = {"XDG_DATA_HOME": str(home)}
        where, manifest = desktop_entry.paths(env), desktop_entry.manifest_path(env)
        before = _tree(home, outside, src)  # all of it is not ours
        installed: set[Path] = set()  # what our successful installs wrote, since the last uninstall
        for op in ops:
            if op == "uninstall":
                gone = desktop_entry.uninstall(src / "textsort.png", src / "textsort.svg", env=env,
                                               command=["/opt/textsort-app"])
                assert gone.failed == [] and not (installed and taken(manifest))
                assert sorted(gone.removed) == sorted(installed - {manifest}), (gone, installed)
                assert all(str(p) in before for p, _ in gone.left), gone.left  # only what was planted
                installed = set()
            else:
                svg = None if op == "install, no svg" else src / "textsort.svg"
                command = ["/usr/bin/python3", "-m", "textsort.gui.app"] if op.endswith("launcher") else ["/opt/textsort-app"]
                try:
                    done = desktop_entry.install(src / "textsort.png", svg, env=env, command=command)
                except OSError as e:
                    message = str(e)
                    wanted = {where[key] for key in ("desktop", "mime", "icon", "svg")[:3 + (svg is not None)]}
                    assert planted and not wanted <= installed, f"{op} failed: {message}"  # a re-install must not
                    assert message and "\n" not in message and str(home) in message, message
                    assert not message.startswith("[Errno"), message
                else:
                    expected = desktop_entry._contents(src / "textsort.png", svg, command, strict=True)
                    assert done == [where[key] for key in expected]
                    assert all(holds_exactly(where[key], data) for key, data in expected.items())
                    installed |= {*done, manifest}
            now = _tree(home, outside, src)
            changed = [p for p, kind in before.items() if now.get(p) != kind]
            assert changed == [], f"{op} changed or removed what is not ours: {changed}"
            new = [p for p, kind in now.items() if p not in before and kind[0] != "dir"]
            assert all(Path(p).name in NAMES for p in new), f"{op} left {new}"


def _property(examples: int):
    """A fresh copy of the property per settings (hypothesis decorates a function once)."""
    def prop(planted, ops):
        never_touches_what_is_not_ours(planted, ops)
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])(
        given(st.dictionaries(st.sampled_from(PLANT_AT), st.sampled_from(KINDS), max_size=6),
              st.lists(st.sampled_from(OPS), min_size=1, max_size=4))(prop))


# quick in every run; the long run is opt-in: `pytest -m fuzz`, TEXTSORT_FUZZ_EXAMPLES examples
test_install_and_uninstall_never_touch_what_textsort_did_not_write = _property(QUICK)
test_install_and_uninstall_never_touch_what_textsort_did_not_write_long = pytest.mark.fuzz(_property(LONG))
