"""Shared fixtures: real tiny bundles (tests/tinymodel.py) for every test directory.

`tiny_bundle` (English ham/spam) and `tiny_zh_bundle` (3 labels, Chinese label names)
are built once per test session by a TensorFlow subprocess (about 10 s), and reused
from the pytest cache while tests/tinymodel.py and the bundle/encoding code are
unchanged. Each test session gets its own copy.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
_SOURCES = ["tests/tinymodel.py", "desktop/textsort/core/bundle.py", "desktop/textsort/core/encoding.py"]
_NAMES = {"spam": "tiny-spam.textsort", "zh": "tiny-reviews-zh.textsort"}


@pytest.fixture(autouse=True, scope="session")
def _private_data_home(tmp_path_factory):
    """The app's data folder ($XDG_DATA_HOME/textsort: training runs, labels of read-only
    folders, the Label view's embedding cache) is a temporary one for the whole session:
    no test writes into the home folder of whoever runs them."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


def _source_key() -> str:
    h = hashlib.sha256()
    for rel in _SOURCES:
        h.update((REPO / rel).read_bytes())
    return h.hexdigest()[:16]


def _build(out: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), str(REPO)]),
               TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "tinymodel.py"), str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        if "No module named 'tensorflow'" in proc.stderr or "No module named 'tf_keras'" in proc.stderr:
            pytest.skip("TensorFlow/tf-keras not installed: cannot build the tiny test bundle")
        raise RuntimeError(f"building the tiny bundle failed:\n{proc.stderr[-4000:]}")


@pytest.fixture(scope="session")
def tiny_bundles(request, tmp_path_factory) -> dict[str, Path]:
    cache = Path(request.config.cache.mkdir("textsort-tiny-bundles")) / _source_key()
    if not all((cache / n).is_file() for n in _NAMES.values()):
        tmp = tmp_path_factory.mktemp("tiny-build")
        _build(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        for n in _NAMES.values():
            shutil.copy2(tmp / n, cache / n)
    dest = tmp_path_factory.mktemp("tiny-bundles")
    return {key: Path(shutil.copy2(cache / n, dest / n)) for key, n in _NAMES.items()}


@pytest.fixture(scope="session")
def tiny_bundle(tiny_bundles) -> Path:
    """Path to a real .textsort: labels ["ham", "spam"], keywords e.g. "free"/"prize" vs "lunch"/"mom"."""
    return tiny_bundles["spam"]


@pytest.fixture(scope="session")
def tiny_zh_bundle(tiny_bundles) -> Path:
    """Path to a real .textsort: labels ["正面", "负面", "neutral"], Chinese keyword characters."""
    return tiny_bundles["zh"]


@pytest.fixture(scope="session")
def tiny_classifier(tiny_bundle):
    from textsort.core.engine import Classifier

    return Classifier(tiny_bundle, threads=1)


@pytest.fixture(scope="session")
def tiny_zh_classifier(tiny_zh_bundle):
    from textsort.core.engine import Classifier

    return Classifier(tiny_zh_bundle, threads=1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data relative to the repo root; skips when it is absent."""
    if not DATA.is_dir():
        pytest.skip(f"{DATA} not found")
    return DATA


@pytest.fixture(scope="module")
def local_ray():
    """Ray's local mode for one test module (the cluster tests), with the runtime importable."""
    import os

    ray = pytest.importorskip("ray")
    repo = Path(__file__).resolve().parents[1]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(repo / "desktop"), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()
