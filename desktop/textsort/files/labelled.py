"""Labelled texts from files, for training (modelprep.data) and evaluation
(textsort.appstate.evaluation): no TensorFlow, no Qt.

Formats (docs/data-formats.md):
- a folder with one subfolder per label; every (non-hidden) file below a label folder is
  one text, decoded like a dropped file (textsort.files.reading);
- a CSV or TSV file with a header row (RFC 4180 quoting, multi-line fields), UTF-8;
- a JSONL file, one JSON object per line, UTF-8.
Every problem is a `DataError` whose message names the file (and line); only regular files
are read (a FIFO or device named as the data is refused, never waited on or read).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from textsort.files.reading import EMPTY, has_text, iter_paths, open_regular, os_problem, read_file

csv.field_size_limit(1 << 30)  # long texts in one CSV field are legitimate data


class DataError(Exception):
    """Bad labelled data; the message names the file (and line) and is meant for users."""


@dataclass(frozen=True)
class Columns:
    """Where the text and the label are in a CSV/TSV/JSONL file."""
    text_column: str = "text"
    label_column: str = "label"
    delimiter: str | None = None  # None: .tsv -> tab, anything else -> comma


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str  # "file:line" (CSV/TSV: the line the record starts on); folders: the file


def input_format(path: Path) -> str:
    """'folder', 'jsonl', 'tsv' or 'csv' (any other file suffix is read as CSV)."""
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "tsv" if suffix == ".tsv" else "csv"


def load_examples(path, cfg: Columns | None = None) -> list[Example]:
    """All examples in `path`, uncleaned, in file order. Raises DataError."""
    cfg = cfg or Columns()
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
        with open_regular(path) as fh:
            data = fh.read()
    except OSError as e:
        raise DataError(f"{path}: {os_problem(e)}") from None
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
    """One example per file below each label folder, decoded like any dropped file
    (textsort.files.reading: UTF-8/16, GBK, Big5, ...). A file that cannot be read is a DataError
    naming it: a label folder is training or test data, and nothing in it is skipped quietly."""
    try:
        label_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as e:
        raise DataError(f"{root}: folder {os_problem(e)}") from None
    if not label_dirs:
        raise DataError(f"{root}: no label subfolders (expected one subfolder per label)")
    examples = []
    for label_dir in label_dirs:  # textsort.files.reading's walk: any depth, link loops and special files reported
        for file in iter_paths([label_dir], exclude=[".*"]):
            if isinstance(file, tuple):
                raise DataError(f"{file[0]}: {file[1]}")
            read = read_file(file)
            if read.problem == EMPTY or (read.text is not None and not has_text(read.text)):
                text = ""  # an empty text: cleaning drops and counts it
            elif read.text is None or (read.problem and not read.truncated):
                raise DataError(f"{file}: {read.problem}")
            else:
                text = read.text
            examples.append(Example(text, label_dir.name, str(file)))
    return examples


def _label_of(value, where: str, cfg: Columns) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        if value is None:
            raise DataError(f"{where}: label missing (column '{cfg.label_column}')")
        shown = {list: "an array", dict: "an object"}.get(type(value)) or json.dumps(value)  # never a deep dump
        raise DataError(f"{where}: label must be a string or an integer, got {shown[:60]}")
    label = str(value).strip()
    if not label:
        raise DataError(f"{where}: label missing (column '{cfg.label_column}' is empty)")
    return label


def _load_delimited(path: Path, cfg: Columns, delimiter: str) -> list[Example]:
    text = _read_text(path)
    name = "tab" if delimiter == "\t" else repr(delimiter)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    except (TypeError, ValueError) as e:  # e.g. "" or more than one character
        raise DataError(f"{path}: delimiter {name} cannot be used ({e})") from None
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


def _load_jsonl(path: Path, cfg: Columns) -> list[Example]:
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
        except RecursionError:
            raise DataError(f"{where}: JSON nested too deeply") from None
        except ValueError:  # an integer of more digits than Python converts (4300)
            raise DataError(f"{where}: bad JSON (a number with too many digits)") from None
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
