"""The frozen app (PyInstaller, build.spec): it builds, tests itself, and its window starts
on the bundled model. Opt-in (`pytest -m frozen`): needs the `build` extra and ~1 min."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.frozen


@pytest.fixture(scope="module")
def frozen(tmp_path_factory) -> Path:
    if shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("pyinstaller is not installed (pip install -e '.[build]')")
    out = tmp_path_factory.mktemp("frozen")
    done = subprocess.run([str(Path(sys.executable).parent / "pyinstaller"), "-y", "--log-level", "WARN",
                           "--distpath", str(out / "dist"), "--workpath", str(out / "build"), str(REPO / "build.spec")],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "dist" / "textsort" / "textsort-app"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "TEXTSORT_"))}
    return {**env, "QT_QPA_PLATFORM": "offscreen", **extra}


def test_the_frozen_app_tests_itself(frozen, tmp_path):
    done = subprocess.run([str(frozen), "--self-test"], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test passed" in done.stdout and "references to None kept" in done.stdout


def test_the_frozen_window_starts_on_the_bundled_model(frozen, tmp_path):
    """On real X11 under Xvfb when xvfb-run is installed (the xcb plugin, its libraries),
    else offscreen."""
    env = _env(TEXTSORT_STARTUP_PROBE="model", XDG_CONFIG_HOME=str(tmp_path))
    cmd = [str(frozen), str(REPO / "assets" / "samples" / "en")]
    if shutil.which("xvfb-run"):
        env.pop("QT_QPA_PLATFORM")
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x860x24", *cmd]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ready " in done.stdout, done.stderr[-2000:]
    assert (frozen.parent / "_internal" / "assets" / "samples" / "zh").is_dir()  # "Try the samples" has files


def test_the_frozen_cli_evaluates_labelled_data_with_the_slim_icu(frozen, tmp_path):
    """`evaluate` is a CLI command of the frozen app too; its Qt runs on the slimmed ICU data."""
    data = tmp_path / "d.csv"
    data.write_text("text,label\nWIN a FREE prize now call 0800,spam\nsee you at lunch mom,ham\n", encoding="utf-8")
    done = subprocess.run([str(frozen), "evaluate", str(data), "--format", "json"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"accuracy"' in done.stdout and '"macro_f1"' in done.stdout
    icu = next((frozen.parent / "_internal").rglob("libicudata.so.*"))
    assert icu.stat().st_size < 8_000_000  # packaging/slim_icu.py ran (the full data is 32 MB)
    # the ray extra stays out of the app: classify-dataset says what to install
    assert not (frozen.parent / "_internal" / "ray").exists()
    done = subprocess.run([str(frozen), "classify-dataset", str(data), "--out", str(tmp_path / "o")], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "textsort[ray]" in done.stderr
