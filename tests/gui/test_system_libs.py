"""The pre-flight check for Qt's xcb plugin: a missing system library gives one apt line,
not an abort (exit 134) with a message that names the wrong library."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from textsort.gui import app, system_libs

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f)
\tlibxcb-icccm.so.4 => not found
"""
X11 = {"DISPLAY": ":0"}


def fake_ldd(output):
    return lambda path: output


def test_missing_libraries_give_the_apt_line(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    message = system_libs.check(X11, fake_ldd(LDD_MISSING), plugin)
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message  # each once, the installed one not blamed
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "libxcb-cursor0" not in message


def test_nothing_missing_or_not_xcb_says_nothing(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    assert system_libs.check(X11, fake_ldd(LDD_MISSING.replace("not found", "/lib/x.so")), plugin) is None
    for env in ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
                {}):
        assert system_libs.check(env, fake_ldd(LDD_MISSING), plugin) is None
    assert system_libs.uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert not system_libs.uses_xcb(X11, platform="darwin")


def test_an_unknown_library_is_named_as_it_is(tmp_path):
    message = system_libs.install_message(["libfoo.so.3"])
    assert "apt-get install libfoo.so.3" in message and "guesses" in message


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None, reason="needs Linux ldd")
def test_the_real_plugin_matches_the_loader():
    """What the check reports for this machine's PySide6 is exactly what ldd says is missing."""
    plugin = system_libs.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    expected = sorted({line.split()[0] for line in out.splitlines() if "not found" in line})
    assert system_libs.missing_libraries(plugin) == expected


def test_the_app_prints_the_message_instead_of_aborting(monkeypatch, capsys):
    """`textsort-app` on X11 with a library missing: the apt line and exit 1, before Qt loads."""
    monkeypatch.setattr(system_libs, "run_ldd", fake_ldd(LDD_MISSING))
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert app.main([]) == 1
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in capsys.readouterr().err


def test_the_module_runs_as_dev_app_calls_it(tmp_path):
    """`python -m textsort.gui.system_libs`: exit 0 when Qt is not going to use xcb."""
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(Path(app.__file__).parents[2])}
    done = subprocess.run([sys.executable, "-m", "textsort.gui.system_libs"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
