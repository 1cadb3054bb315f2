"""Labelling the user's unsorted texts (the app's Label view; no Qt, no TensorFlow).

The labels go, as the user gives them, into a labels file the user can see and reuse: a
CSV with one row per label given (`path`, `sha256` of the text, `label`, `time`), appended
one whole line at a time with fsync, so a killed app loses at most the label being
written. The last row of a path wins; an empty label is an undo. The labelled files are
never moved or changed: the file lives beside the folder (`inbox` -> `inbox.labels.csv`),
or in the app's data folder when that folder cannot be written.

A `LabelSession` is the state the view draws: the texts (read as `textsort classify`
reads them, textsort.files.unlabelled), the labels so far, the order in which texts are offered
(the app's picks, textsort-prep suggest), the current text, undo and skip.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import os
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from textsort.files.safe_files import create_new, free_name
from textsort.files.unlabelled import load_pool, relative_id

COLUMNS = ("path", "sha256", "label", "time")
SUFFIX = ".labels.csv"
MAX_LABEL_CHARS = 64
PATH_CHARACTERS = set('/\\:*?"<>|')  # a label names a folder when files are sorted: none of these


class LabelsError(ValueError):
    """A labels file or label that cannot be used; the message says why in plain words."""


def check_label(name: str) -> str:
    """The label as it will be stored, or LabelsError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    if not name:
        raise LabelsError("a label needs at least one character")
    if len(name) > MAX_LABEL_CHARS:
        raise LabelsError(f"a label has at most {MAX_LABEL_CHARS} characters ({len(name)} given)")
    bad = sorted({c for c in name if c in PATH_CHARACTERS or unicodedata.category(c)[0] == "C"})
    if bad or name in (".", ".."):
        shown = " ".join(repr(c)[1:-1] for c in bad) or name
        raise LabelsError(f"a label cannot contain path or control characters ({shown}): it names a folder "
                          "when files are sorted")
    return name


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "textsort"


def labels_path_for(source: Path) -> Path:
    """Where the labels of `source` (a folder or a table of texts) are kept: beside it, or in
    the app's data folder when its folder cannot be written."""
    source = Path(os.path.abspath(source))
    name = source.stem if source.is_file() else source.name  # texts.csv -> texts.labels.csv
    beside = source.parent / f"{name}{SUFFIX}"
    if beside.exists() or os.access(source.parent, os.W_OK):
        return beside
    key = hashlib.sha256(str(source).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return data_home() / "labels" / f"{name}-{key}{SUFFIX}"


@dataclass
class Record:
    path: str
    sha256: str
    label: str   # "" : the label was undone
    time: str


def read_labels(path: Path) -> dict[str, Record]:
    """The labels file's state: the last row of each path (undone ones included, as "")."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise LabelsError(f"{path}: cannot read it ({e.strerror or e})") from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LabelsError(f"{path}: not a Textsort labels file (not UTF-8 text)") from None
    if content and not content.endswith("\n"):
        content = content[: content.rfind("\n") + 1]  # a line cut short by a kill: never half a label
    reader = csv.reader(io.StringIO(content, newline=""))
    header = next(reader, None)
    if header is None:
        return {}
    if tuple(header) != COLUMNS:
        raise LabelsError(f"{path}: not a Textsort labels file (its columns are {', '.join(header)[:200]}; "
                          f"expected {', '.join(COLUMNS)})")
    out: dict[str, Record] = {}
    for n, row in enumerate(reader, start=2):
        if len(row) != len(COLUMNS):
            raise LabelsError(f"{path}: line {n} has {len(row)} fields, not {len(COLUMNS)}")
        record = Record(*row)
        if record.label:
            try:
                check_label(record.label)
            except LabelsError as e:
                raise LabelsError(f"{path}: line {n}: {e}") from None
        out[record.path] = record
    return out


def append_label(path: Path, record: Record) -> None:
    """One whole CSV line, appended with one write and flushed to disk; the file (with its
    header) is created on the first label, never over an existing one."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            create_new(path, _line(COLUMNS))
        except FileExistsError:
            pass  # made meanwhile: append to it
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        os.write(fd, _line((record.path, record.sha256, record.label, record.time)))
        os.fsync(fd)
    finally:
        os.close(fd)


def _line(fields) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue().encode("utf-8")


def correct(root: Path, source: str, text: str, label: str, labels_path: Path | None = None) -> Path:
    """A true label given outside the Label view (a row of the results table, a text in
    Evaluate): one row in the labels file of `root` (the folder the text was found in, or
    the data evaluated). Returns that file."""
    label = check_label(label)
    root = Path(os.path.abspath(root))
    path = Path(labels_path) if labels_path else labels_path_for(root)
    ident = relative_id(root if root.is_dir() else None, os.path.abspath(source) if os.path.exists(source) else source)
    append_label(path, Record(ident, text_sha256(text), label, now()))
    return path


def label_names_in(path: Path) -> list[str]:
    """The labels a labels file uses (for a chooser), or none when it cannot be read."""
    try:
        return sorted({r.label for r in read_labels(path).values() if r.label})
    except LabelsError:
        return []


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass
class LabelSession:
    """The texts of one source and their labels; `order` is the sequence in which the
    unlabelled ones are offered, `position` the one on screen."""
    source: Path
    labels_path: Path
    ids: list[str]
    texts: list[str]
    shas: list[str]
    labels: dict[int, str] = field(default_factory=dict)   # text index -> label
    label_names: list[str] = field(default_factory=list)   # in the order they were first used (keys 1-9)
    order: list[int] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set)
    history: list[int] = field(default_factory=list)       # indices labelled in this session, for undo
    notes: list[str] = field(default_factory=list)         # what the labels file had that no longer fits
    changed: set[int] = field(default_factory=set)         # labelled once, text different now
    skipped_files: Counter = field(default_factory=Counter)

    @classmethod
    def open(cls, source, labels_path: Path | None = None, max_texts: int = 20000) -> "LabelSession":
        """Reads every text of `source` and the labels given before (resuming where the user
        stopped). LabelsError for a labels file that belongs to other texts."""
        source = Path(source)
        pool = load_pool(source, max_texts=max_texts)
        if not pool.texts:
            raise LabelsError(f"{source}: no readable text in it ({sum(pool.skipped.values())} files or rows skipped)")
        path = Path(labels_path) if labels_path else labels_path_for(source)
        s = cls(source, path, pool.ids, pool.texts, [text_sha256(t) for t in pool.texts],
                skipped_files=pool.skipped)
        s._resume(read_labels(path))
        s.order = [i for i in range(len(s.texts)) if i not in s.labels]
        return s

    def _resume(self, records: dict[str, Record]) -> None:
        where = {ident: i for i, ident in enumerate(self.ids)}
        given = [r for r in records.values() if r.label]
        missing = [r for r in given if r.path not in where]
        if given and len(missing) == len(given):
            raise LabelsError(f"{self.labels_path} belongs to other texts: none of its {len(given)} labelled files "
                              f"is in {self.source}. Choose the folder it was made for, or another labels file.")
        for r in sorted(given, key=lambda r: r.time):
            if r.path not in where:
                continue
            i = where[r.path]
            if r.sha256 != self.shas[i]:
                self.changed.add(i)  # offered again: the label may no longer fit
                continue
            self.labels[i] = r.label
            if r.label not in self.label_names:
                self.label_names.append(r.label)
        if missing:
            self.notes.append(f"{len(missing)} labelled file(s) are no longer in {self.source.name}; "
                              "their labels are kept in the file but not used")
        if self.changed:
            self.notes.append(f"{len(self.changed)} file(s) changed since they were labelled (their SHA-256 "
                              "differs): they are offered again")

    # -- what the view shows -----------------------------------------------------------
    @property
    def current(self) -> int | None:
        """The text on screen: the first unlabelled, unskipped one in `order` (then skipped ones)."""
        waiting = [i for i in self.order if i not in self.labels]
        fresh = [i for i in waiting if i not in self.skipped]
        return (fresh or waiting or [None])[0]

    def counts(self) -> dict[str, int]:
        c = Counter(self.labels.values())
        return {name: c.get(name, 0) for name in self.label_names}

    @property
    def done(self) -> int:
        return len(self.labels)

    # -- what the user does ------------------------------------------------------------
    def add_label(self, name: str) -> str:
        name = check_label(name)
        if name not in self.label_names:
            self.label_names.append(name)
        return name

    def assign(self, label: str, index: int | None = None) -> int:
        """Labels the current text (or `index`) and writes it to the labels file first."""
        i = self.current if index is None else index
        if i is None:
            raise LabelsError("every text is labelled")
        label = self.add_label(label)
        append_label(self.labels_path, Record(self.ids[i], self.shas[i], label, now()))
        self.labels[i] = label
        self.skipped.discard(i)
        self.changed.discard(i)
        self.history.append(i)
        return i

    def assign_key(self, key: int) -> int | None:
        """Keys 1-9: the label with that number (in the order the labels were added)."""
        if 1 <= key <= len(self.label_names):
            return self.assign(self.label_names[key - 1])
        return None

    def undo(self) -> int | None:
        """Takes back the last label given in this session (written as an empty label)."""
        while self.history:
            i = self.history.pop()
            if i in self.labels:
                append_label(self.labels_path, Record(self.ids[i], self.shas[i], "", now()))
                del self.labels[i]
                if i in self.order:
                    self.order.remove(i)
                self.order.insert(0, i)  # back on screen
                return i
        return None

    def skip(self) -> int | None:
        i = self.current
        if i is not None:
            self.skipped.add(i)
            self.order.remove(i)
            self.order.append(i)
        return i

    def set_order(self, order: list[int]) -> None:
        """The app's picks first (indices), then every other unlabelled text in its old order."""
        picked = [i for i in dict.fromkeys(order) if 0 <= i < len(self.texts) and i not in self.labels]
        rest = [i for i in self.order if i not in set(picked)]
        self.order = picked + rest

    # -- training ------------------------------------------------------------------------
    def write_training_table(self, folder: Path) -> Path:
        """The labelled texts as a text,label CSV for textsort-prep train (a new file of ours)."""
        if len(set(self.labels.values())) < 2:
            raise LabelsError("label texts with at least two different labels first")
        Path(folder).mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["text", "label"])
        for i, label in sorted(self.labels.items()):
            w.writerow([self.texts[i], label])
        return create_new(free_name(Path(folder) / f"{self.source.name}-labelled.csv"), buf.getvalue())
