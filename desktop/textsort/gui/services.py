"""The GUI's calls into the runtime (no Qt here). Most run on worker threads: the runtime's
modules are imported with the window, but LiteRT and the model itself load on a worker."""
from __future__ import annotations

from pathlib import Path

from textsort.appstate.models import bundled_models, default_model_path
from textsort.appstate.session import export_csv, export_json, sort_into
from textsort.core.bundle import BundleError, load_bundle
from textsort.core.engine import Classifier
from textsort.files.assets import asset_dirs
from textsort.files.reading import read_file
from textsort.presentation.card import license_facts


def load_classifier(path: Path):
    return Classifier(path)


def explain_result(classifier, result, top_n: int, cancel=None):
    """(text, Explanation) for a classified file; re-reads it if the text was not kept."""
    text = getattr(result.file, "text", None) if getattr(result, "file", None) is not None else None
    if text is None:
        text = read_text(result.path)
    return text, classifier.explain(text, top_n=top_n, cancel=cancel)


def read_text(path) -> str:
    return read_file(path).text or ""


def export_results(results: list, path: Path) -> Path:
    (export_json if path.suffix.lower() == ".json" else export_csv)(results, path)
    return path


def sort_results(results: list, dest: Path, move: bool):
    return sort_into(results, dest, move=move)


def bundled_entries() -> list[tuple[str, Path]]:
    """(name, path) of the models that ship with the app."""
    return [(path.stem, path) for path in bundled_models()]


def default_model() -> Path | None:
    path = default_model_path()
    return path if path.is_file() else None


def bundled_licenses() -> list[tuple[str, list[tuple[str, str]]]]:
    """Each bundled model's name and its (whose, licence) pairs, as its model card lists them."""
    out = []
    for name, path in bundled_entries():
        try:
            out.append((name, license_facts(load_bundle(path).manifest)))
        except BundleError as e:
            out.append((name, [("Unreadable", str(e))]))
    return out


def sample_folder(language: str | None) -> Path | None:
    """The bundled sample texts for a model's language (assets/samples/zh for Chinese,
    else assets/samples/en), in a frozen app or a source checkout."""
    lang = "zh" if str(language or "").lower() in ("zh", "ja", "ko") else "en"
    for folder in asset_dirs("samples"):
        if (folder / lang).is_dir():
            return folder / lang
    return None
