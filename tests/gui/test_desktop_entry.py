"""`textsort-app --install-desktop-entry` / `--uninstall-desktop-entry` into a temporary
XDG_DATA_HOME: launcher, MIME type for .textsort, icon; removed again, nothing else touched."""
from __future__ import annotations

import configparser
import shlex
import subprocess
import sys

from textsort.gui import app


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
        def __init__(self, model_path=None):
            seen["model"] = model_path

        def show(self):
            raise SystemExit(0)

    monkeypatch.setattr("textsort.gui.main_window.MainWindow", FakeWindow)
    try:
        app.main([str(tiny_bundle)])
    except SystemExit:
        pass
    assert seen["model"] == tiny_bundle
