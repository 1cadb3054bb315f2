"""The runtime never imports TensorFlow, Keras or Qt (subprocess check + lint-imports)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME = ["core.bundle", "core.encoding", "core.engine", "core.language", "files.reading",
           "appstate.session", "appstate.models", "frontends.server", "frontends.cli"]


def test_runtime_imports_no_tensorflow_keras_or_qt(tiny_bundle, tmp_path):
    (tmp_path / "a.txt").write_text("free prize")
    code = f"""
import sys
{chr(10).join(f'import textsort.{m}' for m in RUNTIME)}
from textsort.appstate.session import Session
from textsort.core.engine import Classifier
results = list(Session(Classifier({str(tiny_bundle)!r}), explain=True).run([{str(tmp_path)!r}]))
assert results[0].label == "spam", results
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras", "keras", "PySide6", "modelprep"))
print("BAD", bad)
"""
    env = dict(os.environ, PYTHONPATH=str(REPO / "desktop"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "BAD []" in r.stdout


def test_lint_imports():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.skip("import-linter not installed")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), str(REPO)]))
    r = subprocess.run([exe], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
