"""Bundled models (assets/models/*.textsort) and the default model.

Where models are looked for, first match wins:
  $TEXTSORT_MODELS (folders separated by os.pathsep), else
  sys._MEIPASS/assets/models in a frozen (PyInstaller) app, else
  <repo>/assets/models next to this source tree, and
  <sys.prefix>/share/textsort/models where a wheel installs them.
The default model is $TEXTSORT_MODEL, else sms_spam-en.textsort in those folders.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from textsort.core.bundle import SUFFIX, BundleError, load_bundle
from textsort.core.manifest import shipped_metrics
from textsort.files.assets import asset_dirs, asset_home
from textsort.presentation.card import card_summary

MODELS_ENV = "TEXTSORT_MODELS"
MODEL_ENV = "TEXTSORT_MODEL"
DEFAULT_MODEL_FILE = "sms_spam-en.textsort"


def models_dirs() -> list[Path]:
    env = os.environ.get(MODELS_ENV)
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return asset_dirs("models") or [asset_home("models")]


def bundled_models() -> list[Path]:
    """Every *.textsort in the model folders, sorted by name."""
    found: dict[str, Path] = {}
    for d in models_dirs():
        if d.is_dir():
            for p in sorted(d.glob("*" + SUFFIX)):
                found.setdefault(p.name, p)
    return [found[k] for k in sorted(found)]


def default_model_path() -> Path:
    """Where the default model should be (it may not exist; see require_default_model)."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    dirs = models_dirs()
    for d in dirs:
        if (d / DEFAULT_MODEL_FILE).is_file():
            return d / DEFAULT_MODEL_FILE
    return dirs[0] / DEFAULT_MODEL_FILE


def require_default_model() -> Path:
    """The default model's path, or a BundleError saying what is missing and what to do."""
    path = default_model_path()
    if path.is_file():
        return path
    via = f" (from ${MODEL_ENV})" if os.environ.get(MODEL_ENV) else ""
    others = [p.name for p in bundled_models()]
    hint = f" Bundled models found: {', '.join(others)}." if others else ""
    raise BundleError(
        f"The default model {path}{via} is missing. Build it with modelprep (textsort-prep), "
        f"or choose a model with --model FILE.textsort, or set ${MODEL_ENV}.{hint}"
    )


@dataclass
class ModelCard:
    path: Path
    name: str = ""
    description: str = ""
    language: str = ""
    labels: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # the shipped model's metrics (textsort.core.manifest.shipped_metrics)
    metrics_key: str = ""  # which manifest "metrics" entry that is: student_int8_test, bert_int8_test, ...
    size: int = 0
    summary: str = ""  # textsort.presentation.card.card_summary: a few plain-text lines
    problem: str | None = None  # the bundle cannot be used (BundleError message)


def model_card(path: str | os.PathLike) -> ModelCard:
    """Validate a bundle and summarise its manifest; never raises for a bad bundle."""
    path = Path(path)
    card = ModelCard(path=path, size=path.stat().st_size if path.is_file() else 0)
    try:
        b = load_bundle(path)
    except BundleError as e:
        card.problem = str(e)
        return card
    m = b.manifest
    card.name, card.labels = b.name, b.labels
    card.description, card.language = str(m.get("description", "")), str(m.get("language", ""))
    card.metrics_key, card.metrics = shipped_metrics(m) or ("", {})
    card.summary = card_summary(m)
    return card


def find_model(name_or_path: str | os.PathLike) -> Path:
    """A bundle by path, else a bundled model by file name, stem or manifest name
    ('sms_spam-en', 'sms_spam-en.textsort'); BundleError naming the bundled ones if none."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = bundled_models()
    for p in bundled:
        if str(name_or_path) in (p.name, p.stem):
            return p

    for p in bundled:
        try:
            if load_bundle(p).name == str(name_or_path):
                return p
        except BundleError:
            continue
    have = f" Bundled models: {', '.join(p.stem for p in bundled)}." if bundled else ""
    raise BundleError(f"{name_or_path}: no such file and no bundled model of that name.{have}")
