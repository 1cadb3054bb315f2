"""Labelled texts from files -> cleaned, split training data (no TensorFlow).

Input formats (see docs/data-formats.md):
- a folder with one subfolder per label; every (non-hidden) file below a label
  folder is one text;
- a CSV or TSV file with a header row (RFC 4180 quoting, multi-line fields);
- a JSONL file, one JSON object per line.
Files are read as UTF-8 (a BOM is allowed). Every problem is a `DataError` whose
message names the file (and line); nothing here raises a bare traceback for bad data.

Cleaning (each step counted in `PreparedData.summary`): whitespace runs are collapsed
to one space and the text is stripped (characters themselves are kept as written:
no Unicode normalisation, no case folding); empty texts are dropped; exact duplicates
(same text and label) keep their first copy; texts that occur with different labels
are dropped entirely; classes with few examples and very long texts are reported.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

csv.field_size_limit(1 << 30)  # long texts in one CSV field are legitimate data


class DataError(Exception):
    """Bad training data; the message names the file (and line) and is meant for users."""


@dataclass
class DataConfig:
    text_column: str = "text"
    label_column: str = "label"
    val_fraction: float = 0.1        # per class, stratified
    seed: int = 13                   # same seed -> same split
    min_examples_per_class: int = 10  # warn below this
    max_chars: int = 20000           # longer texts are kept but reported
    delimiter: str | None = None     # None: .tsv -> tab, anything else -> comma

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str  # "file:line" (CSV/TSV: the line the record starts on); folders: the file


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


# ---------------------------------------------------------------- loading

def input_format(path: Path) -> str:
    """'folder', 'jsonl', 'tsv' or 'csv' (any other file suffix is read as CSV)."""
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "tsv" if suffix == ".tsv" else "csv"


def load_examples(path, cfg: DataConfig | None = None) -> list[Example]:
    """All examples in `path`, uncleaned, in file order. Raises DataError."""
    cfg = cfg or DataConfig()
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    fmt = input_format(path)
    if fmt == "folder":
        examples = _load_folder(path)
    elif fmt == "jsonl":
        examples = _load_jsonl(path, cfg)
    else:
        delimiter = cfg.delimiter or ("\t" if fmt == "tsv" else ",")
        examples = _load_delimited(path, cfg, delimiter)
    if not examples:
        raise DataError(f"{path}: no examples found (empty data set)")
    return examples


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e.strerror or e})") from None
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise DataError(f"{path}:{line}: binary file (NUL byte), or UTF-16 text; expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "save the file as UTF-8"
        ) from None


def _load_folder(root: Path) -> list[Example]:
    label_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not label_dirs:
        raise DataError(f"{root}: no label subfolders (expected one subfolder per label)")
    examples = []
    for label_dir in label_dirs:
        for file in sorted(label_dir.rglob("*")):
            rel = file.relative_to(root).parts
            if any(part.startswith(".") for part in rel) or not file.is_file():
                continue
            examples.append(Example(_read_text(file), label_dir.name, str(file)))
    return examples


def _label_of(value, where: str, cfg: DataConfig) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        if value is None:
            raise DataError(f"{where}: label missing (column '{cfg.label_column}')")
        raise DataError(f"{where}: label must be a string or an integer, got {json.dumps(value)[:60]}")
    label = str(value).strip()
    if not label:
        raise DataError(f"{where}: label missing (column '{cfg.label_column}' is empty)")
    return label


def _load_delimited(path: Path, cfg: DataConfig, delimiter: str) -> list[Example]:
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    name = "tab" if delimiter == "\t" else repr(delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file (expected a header row)")
        header = [h.strip() for h in header]
        for column in (cfg.text_column, cfg.label_column):
            if column not in header:
                raise DataError(
                    f"{path}:1: no column '{column}' in the header; columns found: "
                    f"{', '.join(repr(h) for h in header)} (delimiter {name})"
                )
        ti, li = header.index(cfg.text_column), header.index(cfg.label_column)
        examples = []
        start = reader.line_num + 1
        for row in reader:
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                continue  # blank line
            if len(row) != len(header):
                raise DataError(
                    f"{where}: {len(row)} fields, the header has {len(header)} "
                    "(a field with the delimiter or a line break must be in double quotes)"
                )
            examples.append(Example(row[ti], _label_of(row[li], where, cfg), where))
    except csv.Error as e:
        raise DataError(
            f"{path}:{reader.line_num}: malformed {name}-separated data ({e}); a field that contains "
            'quotes must be enclosed in double quotes, with each " inside written as ""'
        ) from None
    return examples


def _load_jsonl(path: Path, cfg: DataConfig) -> list[Example]:
    examples = []
    for number, line in enumerate(_read_text(path).split("\n"), start=1):  # not splitlines():
        # JSON strings may hold U+2028 and other characters splitlines() breaks on
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: bad JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{where}: expected a JSON object per line, got {type(obj).__name__}")
        if cfg.text_column not in obj:
            raise DataError(
                f"{where}: no key '{cfg.text_column}'; keys found: {', '.join(map(repr, obj)) or 'none'}"
            )
        text = obj[cfg.text_column]
        if not isinstance(text, str):
            raise DataError(f"{where}: '{cfg.text_column}' must be a string")
        examples.append(Example(text, _label_of(obj.get(cfg.label_column), where, cfg), where))
    return examples


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
    train_idx, val_idx = stratified_split(everything.y, cfg.val_fraction, cfg.seed)
    train = _to_split([examples[i] for i in train_idx], index)
    val = _to_split([examples[i] for i in val_idx], index)
    if cfg.val_fraction > 0:
        for label, n in _per_class(val, labels).items():
            if n == 0:
                warnings.append(f"class {label!r} has no validation examples (too few examples)")

    summary = {
        "source": str(path),
        "format": input_format(path),
        "columns": {"text": cfg.text_column, "label": cfg.label_column},
        **cleaning,
        "labels": labels,
        "split": {"method": "stratified", "val_fraction": cfg.val_fraction, "seed": cfg.seed,
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
