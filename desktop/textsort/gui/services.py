"""The GUI's calls into the runtime (no Qt here). Most run on worker threads; the
runtime modules are imported lazily so that the window shows before they load."""
from __future__ import annotations

from pathlib import Path


def load_classifier(path: Path):
    from textsort.core.engine import Classifier

    return Classifier(path)


def explain_result(classifier, result, top_n: int, cancel=None):
    """(text, Explanation) for a classified file; re-reads it if the text was not kept."""
    text = getattr(result.file, "text", None) if getattr(result, "file", None) is not None else None
    if text is None:
        text = read_text(result.path)
    return text, classifier.explain(text, top_n=top_n, cancel=cancel)


def read_text(path) -> str:
    from textsort.files.reading import read_file

    return read_file(path).text or ""


def export_results(results: list, path: Path) -> Path:
    from textsort.appstate.session import export_csv, export_json

    (export_json if path.suffix.lower() == ".json" else export_csv)(results, path)
    return path


def sort_results(results: list, dest: Path, move: bool):
    from textsort.appstate.session import sort_into

    return sort_into(results, dest, move=move)


def bundled_entries() -> list[tuple[str, Path]]:
    """(name, path) of the models that ship with the app."""
    from textsort.appstate.models import bundled_models

    return [(path.stem, path) for path in bundled_models()]


def default_model() -> Path | None:
    from textsort.appstate.models import default_model_path

    path = default_model_path()
    return path if path.is_file() else None


def bundled_licenses() -> list[tuple[str, list[tuple[str, str]]]]:
    """Each bundled model's name and its (whose, licence) pairs, as its model card lists them."""
    from textsort.core.bundle import BundleError, load_bundle
    from textsort.presentation.card import license_facts

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
    from textsort.files.assets import asset_dirs

    lang = "zh" if str(language or "").lower() in ("zh", "ja", "ko") else "en"
    for folder in asset_dirs("samples"):
        if (folder / lang).is_dir():
            return folder / lang
    return None
