"""The runtime installs from a built wheel, without the repository: `pip install` of the
wheel into a fresh venv gives a working `textsort` with the bundled models, and no
training stack. Needs the package index (as `./dev setup` does); marked slow (~1-2 min)."""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(cmd, cwd, timeout=900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TEXTSORT_MODELS", "TEXTSORT_MODEL")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_built_wheel_installs_and_classifies_in_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, REPO], cwd=tmp_path)
    if built.returncode != 0 and ("No matching distribution" in built.stderr or "Could not fetch" in built.stderr):
        pytest.skip(f"no package index to build with: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = dist.glob("textsort-*.whl")
    env_dir = tmp_path / "edge"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    installed = _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]
    # no repository nearby: run from an empty folder
    work = tmp_path / "elsewhere"
    work.mkdir()
    selftest = _run([env_dir / "bin" / "textsort", "self-test"], cwd=work)
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr
    assert "sms_spam-en" in selftest.stdout
    models = _run([env_dir / "bin" / "textsort", "models"], cwd=work)
    assert models.returncode == 0 and "reviews-zh" in models.stdout and "sms_spam-en" in models.stdout
    samples = env_dir / "share" / "textsort" / "samples" / "en"
    classified = _run([env_dir / "bin" / "textsort", "classify", samples], cwd=work)
    assert classified.returncode == 0 and "spam" in classified.stdout and "ham" in classified.stdout
    # the runtime install has no training stack, and says so instead of a traceback
    has_tf = _run([py, "-c", "import importlib.util as u; print(u.find_spec('tensorflow') is None)"], cwd=work)
    assert has_tf.stdout.strip() == "True"
    prep = _run([env_dir / "bin" / "textsort-prep", "inspect", "x.textsort"], cwd=work)
    assert prep.returncode == 2 and "training extra is not installed" in prep.stderr and "Traceback" not in prep.stderr
