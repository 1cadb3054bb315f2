"""Labelled texts from files -> cleaned, split training data (no TensorFlow).

Loading is textsort.files.labelled's (the app's evaluation reads the same formats): a folder
with one subfolder per label, or a CSV/TSV/JSONL file (docs/data-formats.md). Every
problem is a `DataError` whose message names the file (and line).

Cleaning (each step counted in `PreparedData.summary`): whitespace runs are collapsed
to one space and the text is stripped (characters themselves are kept as written:
no Unicode normalisation, no case folding); empty texts are dropped; exact duplicates
(same text and label) keep their first copy; texts that occur with different labels
are dropped entirely; classes with few examples and very long texts are reported.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textsort.presentation.card import CROSS_VALIDATION
from textsort.files.labelled import Columns, DataError, Example, input_format  # noqa: F401 (re-exported)
from textsort.files.labelled import load_examples as _load


MAX_LABELS = 1000  # a classifier with more is not what this tool trains (usually a wrong label column)


@dataclass(frozen=True)
class DataConfig(Columns):
    """Where the texts are (text_column, label_column, delimiter: `textsort.files.labelled.Columns`,
    the same rule the app's evaluation reads with), and how they are split."""
    val_fraction: float = 0.1        # per class, stratified
    cross_validate_below: int = 100  # fewer labelled texts in the smallest class: no validation split,
                                     # k-fold cross-validation instead (modelprep.fewshot)
    seed: int = 13                   # same seed -> same split
    min_examples_per_class: int = 10  # warn below this
    max_chars: int = 20000           # longer texts are kept but reported

    def __post_init__(self):
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), not {self.val_fraction!r}")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, not {self.delimiter!r}")


@dataclass
class Split:
    texts: list[str]
    y: np.ndarray  # int64 indices into PreparedData.labels

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class PreparedData:
    labels: list[str]
    train: Split
    val: Split
    test: Split | None
    summary: dict = field(default_factory=dict)  # JSON-serialisable; manifest["data"]

    @property
    def cross_validated(self) -> bool:
        """No validation split: too few labelled texts (DataConfig.cross_validate_below)."""
        return self.summary.get("split", {}).get("method") == CROSS_VALIDATION


# ---------------------------------------------------------------- loading

def is_text(s: str) -> bool:
    """Encodable as UTF-8 (no lone surrogates from undecodable file or folder names)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load_examples(path, cfg: DataConfig | None = None) -> list[Example]:
    """All examples in `path`, uncleaned, in file order (textsort.files.labelled). Raises DataError."""
    cfg = cfg or DataConfig()
    return _load(path, cfg)


# ---------------------------------------------------------------- cleaning

def normalise_whitespace(text: str) -> str:
    """Collapse every run of (Unicode) whitespace to one space and strip the ends."""
    return " ".join(text.split())


def clean(examples: list[Example], cfg: DataConfig) -> tuple[list[Example], dict]:
    """Cleaned examples (file order kept) and the numbers of every step."""
    steps = []

    def step(name, before, after, **extra):
        steps.append({"step": name, "before": before, "after": after, **extra})

    normalised = [Example(normalise_whitespace(e.text), e.label, e.source) for e in examples]
    changed = sum(a.text != b.text for a, b in zip(examples, normalised))
    step("normalise_whitespace", len(examples), len(normalised), changed=changed)

    non_empty = [e for e in normalised if e.text]
    step("drop_empty", len(normalised), len(non_empty), dropped=len(normalised) - len(non_empty))

    seen, unique = set(), []
    for e in non_empty:
        if (e.text, e.label) not in seen:
            seen.add((e.text, e.label))
            unique.append(e)
    step("drop_duplicates", len(non_empty), len(unique), dropped=len(non_empty) - len(unique))

    labels_of = defaultdict(set)
    for e in unique:
        labels_of[e.text].add(e.label)
    conflicting = {t for t, ls in labels_of.items() if len(ls) > 1}
    kept = [e for e in unique if e.text not in conflicting]
    step("drop_conflicting_labels", len(unique), len(kept), dropped=len(unique) - len(kept),
         texts=len(conflicting))

    long_texts = sum(len(e.text) > cfg.max_chars for e in kept)
    counts = {
        "loaded": len(examples),
        "whitespace_changed": changed,
        "empty_dropped": steps[1]["dropped"],
        "duplicates_dropped": steps[2]["dropped"],
        "conflicting_dropped": steps[3]["dropped"],
        "conflicting_texts": len(conflicting),
        "kept": len(kept),
        "longer_than_max_chars": long_texts,
    }
    return kept, {"counts": counts, "steps": steps}


def stratified_split(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx), both sorted. Each class gives round(n_c * val_fraction)
    examples to validation, but always keeps at least one for training."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = min(int(round(len(idx) * val_fraction)), len(idx) - 1)
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(val, dtype=np.int64))


# ---------------------------------------------------------------- prepare

def _to_split(examples: list[Example], index: dict[str, int]) -> Split:
    return Split([e.text for e in examples], np.array([index[e.label] for e in examples], dtype=np.int64))


def _per_class(split: Split, labels: list[str]) -> dict[str, int]:
    counts = np.bincount(split.y, minlength=len(labels))
    return {label: int(n) for label, n in zip(labels, counts)}


def prepare(path, cfg: DataConfig | None = None, test_path=None) -> PreparedData:
    """Load, clean and split `path`; load and clean `test_path` (if any) the same way.

    The test split is only for the final report; nothing here looks at it to choose
    anything. Raises DataError with a message naming the file (and line).
    """
    cfg = cfg or DataConfig()
    if not 0.0 <= cfg.val_fraction < 1.0:
        raise DataError(f"val_fraction must be in [0, 1), got {cfg.val_fraction}")
    path = Path(path)
    examples, cleaning = clean(load_examples(path, cfg), cfg)
    warnings = []
    if not examples:
        raise DataError(f"{path}: no examples left after cleaning (empty data set)")
    class_counts = Counter(e.label for e in examples)
    labels = sorted(class_counts)
    for label in labels:
        if not is_text(label):
            where = next(e.source for e in examples if e.label == label)
            raise DataError(f"{where}: the label {label.encode('utf-8', 'surrogateescape')!r} is not valid UTF-8 "
                            "text (a folder or label name in another encoding); rename it")
    if len(labels) > MAX_LABELS:
        raise DataError(f"{path}: {len(labels)} different labels (at most {MAX_LABELS}); "
                        f"check column '{cfg.label_column}' holds the label and not an id or text")
    if len(labels) < 2:
        hint = "add a subfolder per label" if input_format(path) == "folder" else (
            f"check column '{cfg.label_column}'")
        raise DataError(f"{path}: only one class ({labels[0]!r}); a classifier needs at least two ({hint})")
    for label in labels:
        if class_counts[label] < cfg.min_examples_per_class:
            warnings.append(
                f"class {label!r} has only {class_counts[label]} examples "
                f"(fewer than {cfg.min_examples_per_class})"
            )
    if input_format(path) == "folder":
        loose = [p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
        if loose:
            warnings.append(f"{len(loose)} files directly in {path} were ignored (not in a label subfolder)")
    if cleaning["counts"]["longer_than_max_chars"]:
        warnings.append(
            f"{cleaning['counts']['longer_than_max_chars']} texts are longer than {cfg.max_chars} "
            "characters (kept; they are read in several windows)"
        )
    if cleaning["counts"]["conflicting_texts"]:
        warnings.append(
            f"{cleaning['counts']['conflicting_texts']} texts occur with different labels; "
            f"all {cleaning['counts']['conflicting_dropped']} copies were dropped"
        )

    index = {label: i for i, label in enumerate(labels)}
    everything = _to_split(examples, index)
    smallest = min(class_counts.values())
    cross_validate = smallest < cfg.cross_validate_below
    if cross_validate:
        warnings.append(
            f"few labelled texts (the smallest class has {smallest}, fewer than {cfg.cross_validate_below}): "
            "no validation split; every text trains, and the reported accuracy is a cross-validation estimate "
            "with a wide interval. Unlabelled texts (--unlabelled) help most here")
    train_idx, val_idx = stratified_split(everything.y, 0.0 if cross_validate else cfg.val_fraction, cfg.seed)
    train = _to_split([examples[i] for i in train_idx], index)
    val = _to_split([examples[i] for i in val_idx], index)
    if cfg.val_fraction > 0 and not cross_validate:
        for label, n in _per_class(val, labels).items():
            if n == 0:
                warnings.append(f"class {label!r} has no validation examples (too few examples)")

    summary = {
        "source": str(path),
        "format": input_format(path),
        "columns": {"text": cfg.text_column, "label": cfg.label_column},
        **cleaning,
        "labels": labels,
        "split": {"method": CROSS_VALIDATION if cross_validate else "stratified",
                  "val_fraction": 0.0 if cross_validate else cfg.val_fraction, "seed": cfg.seed,
                  "train": len(train), "validation": len(val)},
        "per_class": {"train": _per_class(train, labels), "validation": _per_class(val, labels)},
        "warnings": warnings,
        "test": None,
    }
    test = None
    if test_path is not None:
        test, summary["test"] = _prepare_test(Path(test_path), cfg, index, set(everything.texts))
        summary["per_class"]["test"] = _per_class(test, labels)
        summary["warnings"].extend(summary["test"]["warnings"])
    return PreparedData(labels, train, val, test, summary)


def _prepare_test(path: Path, cfg: DataConfig, index: dict[str, int], train_texts: set[str]):
    examples, cleaning = clean(load_examples(path, cfg), cfg)
    if not examples:
        raise DataError(f"{path}: no examples left after cleaning (empty test set)")
    for e in examples:
        if e.label not in index:
            raise DataError(
                f"{e.source}: label {e.label!r} does not occur in the training data "
                f"(training labels: {', '.join(map(repr, index))})"
            )
    warnings = []
    overlap = sum(e.text in train_texts for e in examples)
    if overlap:
        warnings.append(f"{overlap} test texts also occur in the training data (test metrics are optimistic)")
    summary = {"source": str(path), "format": input_format(path), **cleaning, "n": len(examples),
               "overlap_with_training": overlap, "warnings": warnings}
    return _to_split(examples, index), summary
