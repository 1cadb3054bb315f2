"""The user's unlabelled texts (`textsort-prep train --unlabelled PATH`, the app's Label
view): a folder, a glob, one file, or a CSV/TSV/JSONL table with a text column.

Files are read exactly as `textsort classify` reads them (textsort.files.reading: encodings,
.eml, HTML); binary, empty, unreadable, over-size (`max_bytes`) or text-less files are
skipped and counted by reason, never fatal. Table rows without a usable text are counted
the same way. Nothing is changed on disk. No Qt, no TensorFlow.
"""
from __future__ import annotations

import csv
import glob
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from textsort.files.reading import DEFAULT_MAX_BYTES, has_text, iter_paths, open_regular, os_problem, read_file

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".ndjson": None}
GLOB_CHARS = set("*?[")


class PoolError(ValueError):
    """The unlabelled input cannot be read at all (the message names it)."""


@dataclass
class Pool:
    texts: list[str]
    ids: list[str] = field(default_factory=list)       # per text: its file (relative to a folder) or "row N"
    offered: int = 0                                   # files or table rows seen
    skipped: Counter = field(default_factory=Counter)  # reason -> how many
    capped: int = 0                                    # readable texts left out by `max_texts`

    def summary(self) -> dict:
        return {"offered": self.offered, "read": len(self.texts), "skipped": dict(self.skipped),
                "left_out_over_cap": self.capped}


def _table_texts(path: Path, text_column: str, max_bytes: int):
    """(text or None, problem) per row of a CSV/TSV/JSONL file (UTF-8, BOM allowed)."""
    try:
        with open_regular(path) as fh:
            data = fh.read()
    except OSError as e:
        raise PoolError(f"{path}: {os_problem(e)}") from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PoolError(f"{path}: not UTF-8 text (byte {e.start}); save the table as UTF-8") from None
    delimiter = TABLE_SUFFIXES[path.suffix.lower()]
    if delimiter is None:
        for n, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):
                yield None, "not a JSON object"
                continue
            value = row.get(text_column) if isinstance(row, dict) else None
            yield (value, None) if isinstance(value, str) else (None, f"no '{text_column}' text")
        return
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    if text_column not in (reader.fieldnames or []):
        raise PoolError(f"{path}: no column '{text_column}' (columns: {', '.join(reader.fieldnames or [])})")
    try:
        for row in reader:
            value = row.get(text_column)
            yield (value, None) if isinstance(value, str) else (None, f"no '{text_column}' text")
    except csv.Error as e:
        raise PoolError(f"{path}: line {reader.line_num}: {e}") from None


def _paths(spec: str) -> list:
    if os.path.lexists(spec) or not GLOB_CHARS & set(spec):
        if not os.path.lexists(spec):
            raise PoolError(f"{spec}: no such file or folder")
        return [spec]
    found = sorted(glob.glob(spec, recursive=True))
    if not found:
        raise PoolError(f"{spec}: no file matches")
    return found


def relative_id(root: Path | None, path) -> str:
    """How a text is named in a labels file: its path below `root` ("2024/a.txt"), or the path
    as given when it is not below it."""
    if root is not None:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def load_pool(spec, text_column: str = "text", max_texts: int | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES) -> Pool:
    """The unlabelled texts at `spec` (in order; at most `max_texts`). Raises PoolError only
    when nothing at all can be read from it."""
    spec = str(spec)
    pool = Pool([])

    root = Path(spec) if Path(spec).is_dir() else None

    def item_id(path) -> str:
        return relative_id(root, path)

    def add(text, problem, ident=""):
        pool.offered += 1
        if problem is None and (text is None or not has_text(text)):
            problem = "no text"
        if problem is not None:
            pool.skipped[problem] += 1
        elif max_texts is not None and len(pool.texts) >= max_texts:
            pool.capped += 1
        else:
            pool.texts.append(text)
            pool.ids.append(ident)

    single = Path(spec)
    if single.suffix.lower() in TABLE_SUFFIXES and single.is_file():
        for n, (text, problem) in enumerate(_table_texts(single, text_column, max_bytes), start=1):
            add(text, problem, f"row {n}")
        return pool
    for item in iter_paths(_paths(spec)):
        if isinstance(item, tuple):
            add(None, item[1])
            continue
        ft = read_file(item, max_bytes)
        add(ft.text, ft.problem or (f"over {max_bytes} bytes" if ft.truncated else None), item_id(item))
    return pool
