"""Classify many files: a stream of FileResult, CSV/JSON export, sorting into folders.

Sorting rule (docs/runtime.md): a file goes to DEST/<label>/; uncertain predictions
(below the threshold) go to DEST/_uncertain/; files with problems go nowhere and are
listed in SortSummary.problems. Nothing is ever overwritten: a clash becomes
"name (1).txt". Originals are only removed with move=True.
"""
from __future__ import annotations

import csv
import errno
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from textsort.core.encoding import SURROGATE
from textsort.core.engine import Classifier, Explanation, Prediction
from textsort.core.language import language_warning
from textsort.core.uncertain import is_uncertain
from textsort.files.reading import DEFAULT_MAX_BYTES, FileText, iter_paths, read_file
from textsort.files.safe_files import free_name
from textsort.presentation.colours import label_colours

UNCERTAIN_FOLDER = "_uncertain"


@dataclass
class FileResult:
    path: Path
    file: FileText
    prediction: Prediction | None = None
    explanation: Explanation | None = None
    problem: str | None = None  # plain words; None when the file was classified
    warning: str | None = None  # e.g. Chinese text given to an English model
    snippet: str = ""  # the text's beginning, one line (kept after the text itself is let go)
    model: str | None = None  # the name of the model that classified it

    @property
    def label(self) -> str | None:
        return self.prediction.label if self.prediction else None

    @property
    def uncertain(self) -> bool:
        """`engine.is_uncertain`: below the classifier's threshold, or the wrong language."""
        return is_uncertain(self.prediction, self.warning)

    @property
    def note(self) -> str:
        """What a user should know besides the label: the problem, or truncation."""
        if self.problem:
            return self.problem
        if self.file.truncated:
            return "file over the size limit: only its beginning was read"
        return self.warning or ""

    def to_dict(self) -> dict:
        """The exported record (JSON as is; CSV flattens `scores` and `top_words`): the same
        fields, in EXPORT_FIELDS order, for every format."""
        p = self.prediction
        d = {
            "file": self.path.name,
            "label": p.label if p else None,
            "confidence_percent": percent(p.score) if p else None,
            "uncertain": self.uncertain if p else None,
            "snippet": self.snippet,
            "top_words": [],
            "problem": self.problem,
            "warning": self.warning,
            "model": self.model,
            "confidence": round(p.score, 6) if p else None,
            "scores": {k: round(v, 6) for k, v in p.scores.items()} if p else {},
            "windows": p.windows if p else 0,
            "truncated": self.file.truncated,
            "encoding": self.file.encoding,
            "kind": self.file.kind,
            "bytes": self.file.size,
            "path": str(self.path),
        }
        if self.explanation is not None and p is not None:
            colours = label_colours(p.scores)
            d["top_words"] = [w.to_dict(colours) for w in self.explanation.deciding]
        if p and p.top and len(p.top) < len(p.scores):
            d["top"] = [[lab, round(s, 6)] for lab, s in p.top]
        return d


SNIPPET_CHARS = 200
EXPORT_FIELDS = ("file", "label", "confidence_percent", "uncertain", "snippet", "top_words", "problem", "warning",
                 "model", "confidence", "scores", "windows", "truncated", "encoding", "kind", "bytes", "path")
# what a spreadsheet user reads first comes first; `path` (the whole path) last


def percent(score: float) -> str:
    """A confidence as the window shows it: "97%"."""
    return f"{score:.0%}"


def snippet(text: str | None, limit: int = SNIPPET_CHARS) -> str:
    """The text's first `limit` characters on one line (runs of white space as one space)."""
    return " ".join((text or "")[: limit * 4].split())[:limit]


@dataclass
class Session:
    classifier: Classifier
    max_bytes: int = DEFAULT_MAX_BYTES
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    explain: bool = False
    top_words: int = 5
    batch_files: int = 128  # files read before one batched model call
    batch_chars: int = 1_000_000  # ... or fewer, once their text reaches this (a huge file goes alone)

    def expand(self, paths: Iterable[str | os.PathLike]) -> list[Path | tuple[Path, str]]:
        """Every file to classify (and every unreadable folder), in order."""
        return list(iter_paths(paths, self.include, self.exclude))

    def run(self, paths: Iterable[str | os.PathLike], cancel: Callable[[], bool] = lambda: False) -> Iterator[FileResult]:
        """Stream one FileResult per file found under `paths`, in order; stops soon after
        cancel() returns True."""
        return self.run_items(iter_paths(paths, self.include, self.exclude), cancel)

    def run_items(
        self, items: Iterable[Path | tuple[Path, str]], cancel: Callable[[], bool] = lambda: False
    ) -> Iterator[FileResult]:
        """Like run(), for the items of expand() (lets a caller count them first)."""
        pending: list[FileText] = []
        chars = 0  # text held by `pending`: bounds memory whatever the files' sizes
        for item in items:
            if cancel():
                return
            if isinstance(item, tuple):
                path, why = item
                f = FileText(path=Path(path), text=None, problem=why)
            else:
                f = read_file(item, self.max_bytes)
            size = len(f.text or "")
            if pending and chars + size > self.batch_chars:
                yield from self._classify(pending, cancel)
                pending, chars = [], 0
            pending.append(f)
            chars += size
            if len(pending) >= (1 if self.explain else self.batch_files) or chars >= self.batch_chars:
                yield from self._classify(pending, cancel)
                pending, chars = [], 0
        if pending and not cancel():
            yield from self._classify(pending, cancel)

    def _classify(self, files: list[FileText], cancel: Callable[[], bool]) -> Iterator[FileResult]:
        ok = [f for f in files if f.problem is None and f.text is not None]
        preds = iter(self.classifier.predict_batch([f.text for f in ok])) if ok and not self.explain else None
        for f in files:
            if f.problem is not None or f.text is None:
                yield FileResult(path=f.path, file=f, problem=f.problem or "no text")
            elif self.explain:
                if cancel():
                    return
                e = self.classifier.explain(f.text, top_n=self.top_words)
                yield self._result(f, e.prediction, e)
            else:
                yield self._result(f, next(preds))

    def _result(self, f: FileText, p: Prediction, explanation: Explanation | None = None) -> FileResult:
        if not p.finite:  # never sorted, exported as a label, or shown as a confidence
            return FileResult(path=f.path, file=f, problem=NON_FINITE)
        return FileResult(path=f.path, file=f, prediction=p, explanation=explanation, warning=self._warning(f.text),
                          snippet=snippet(f.text), model=self.classifier.bundle.name)

    def _warning(self, text: str) -> str | None:
        return language_warning(text, self.classifier.bundle.manifest.get("language")) or None


# -- export ----------------------------------------------------------------
def _labels_of(results: list[FileResult]) -> list[str]:
    for r in results:
        if r.prediction:
            return list(r.prediction.scores)
    return []


NON_FINITE = "the model gave no usable score for this text (NaN or infinity): the model may be damaged"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


def _escape_surrogates(text: str) -> str:
    return SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_text(obj, **kw) -> str:
    """JSON that keeps non-ASCII text readable and is always encodable: a file name that is
    not UTF-8 (decoded with surrogateescape, so lone surrogates) keeps them as `\\udcXX`
    escapes, which a JSON reader turns back into the same name (`os.fsencode` gives the bytes)."""
    return _escape_surrogates(json.dumps(obj, ensure_ascii=False, **kw))


def csv_cell(value):
    """A cell that cannot fake a record or run as a spreadsheet formula: lone surrogates as
    `\\udcXX`, and a leading =, +, -, @, tab or CR guarded by a `'` (OWASP's advice)."""
    if not isinstance(value, str):
        return value
    value = _escape_surrogates(value)
    return "'" + value if value.startswith(FORMULA_START) else value


class CsvWriter:
    """csv.writer that quotes every field of a row holding a CR (with a "\\n" line end a bare
    CR would be written unquoted, and readers split the record there) and guards cells."""

    def __init__(self, fh, lineterminator: str = "\n"):
        self._minimal = csv.writer(fh, lineterminator=lineterminator)
        self._all = csv.writer(fh, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)

    def writerow(self, row) -> None:
        row = [csv_cell(v) for v in row]
        quote_all = any(isinstance(v, str) and "\r" in v for v in row)
        (self._all if quote_all else self._minimal).writerow(row)

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def csv_header(labels: list[str]) -> list[str]:
    """EXPORT_FIELDS with `scores` as one `score_LABEL` column per label."""
    return [c for f in EXPORT_FIELDS for c in ([f"score_{lab}" for lab in labels] if f == "scores" else [f])]


def _csv_value(field: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if field == "confidence":
        return f"{value:.4f}"
    if field == "top_words":
        return " ".join(f"{w['text']}:{w['score']:+.3f}" for w in value)
    return str(value)


def csv_row(r: FileResult, labels: list[str]) -> list:
    """to_dict() as one CSV row, in csv_header's order."""
    d = r.to_dict()
    row = []
    for f in EXPORT_FIELDS:
        if f == "scores":
            row += ["" if lab not in d["scores"] else f"{d['scores'][lab]:.4f}" for lab in labels]
        else:
            row.append(_csv_value(f, d[f]))
    return row


class ExportError(OSError):
    """An export that was refused (e.g. it would overwrite one of the classified files)."""


def _refuse_input(results: list[FileResult], path: Path) -> None:
    if not path.exists():
        return
    for r in results:
        try:
            if os.path.samefile(r.path, path):
                raise ExportError(f"refusing to write the export over {path}: it is one of the classified files")
        except OSError as e:
            if isinstance(e, ExportError):
                raise


def _write_atomic(path: Path, write, encoding: str, newline: str | None = None) -> Path:
    """Write via a temporary file in the same folder + os.replace: never a half-written export."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; an export is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_csv(results: Iterable[FileResult], path: str | os.PathLike) -> Path:
    """UTF-8 CSV (with BOM, so spreadsheet programs read Chinese), one row per file."""
    results = list(results)
    labels = _labels_of(results)
    path = Path(path)
    _refuse_input(results, path)

    def write(fh):
        w = CsvWriter(fh, lineterminator="\r\n")
        w.writerow(csv_header(labels))
        w.writerows(csv_row(r, labels) for r in results)

    return _write_atomic(path, write, "utf-8-sig", newline="")


def export_json(results: Iterable[FileResult], path: str | os.PathLike) -> Path:
    results = list(results)
    path = Path(path)
    _refuse_input(results, path)
    return _write_atomic(
        path, lambda fh: fh.write(json_text([r.to_dict() for r in results], indent=1)), "utf-8"
    )


# -- sorting into folders --------------------------------------------------
@dataclass
class SortSummary:
    copied: int = 0
    moved: int = 0
    renamed: int = 0  # placed under a new name because the name was taken
    skipped: int = 0  # files with problems: not placed anywhere
    uncertain: int = 0  # placed in the _uncertain folder
    problems: list[tuple[Path, str]] = field(default_factory=list)
    placed: list[tuple[Path, Path]] = field(default_factory=list)  # (source, destination)


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_MAX_FOLDER_BYTES = 200  # UTF-8 bytes: under every file system's 255-byte name limit, with room for "_2"


def folder_name(label: str) -> str:
    """A label as a folder name that is valid on Windows, macOS and Linux
    (no reserved characters or names such as CON/NUL, no trailing dot or space)."""
    name = re.sub(r'[<>:"/\\|?*\x00-\x1f\x7f]', "_", label).strip(" .")
    while len(name.encode("utf-8")) > _MAX_FOLDER_BYTES:
        name = name[:-1].rstrip(" .")
    if name.split(".")[0].strip(" ").upper() in _WINDOWS_RESERVED:
        name = f"_{name}"
    return name or "_"


def label_folders(labels: Iterable[str]) -> dict[str, str]:
    """label -> folder name, unique (ignoring case, as on Windows and macOS) and never
    the uncertain folder: labels that sanitise alike ("a/b", "a_b") get "_2", "_3", ...
    in label order; a label named "_uncertain" gets "_uncertain_2"."""
    used = {UNCERTAIN_FOLDER.casefold()}
    out: dict[str, str] = {}
    for label in labels:
        if label in out:
            continue
        base = name = folder_name(label)
        n = 1
        while name.casefold() in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name.casefold())
        out[label] = name
    return out


def _free_name(folder: Path, name: str, n: int) -> Path:
    if n == 0:
        return folder / name
    stem, suffix = os.path.splitext(name)
    return folder / f"{stem} ({n}){suffix}"


class OriginalNotRemoved(OSError):
    """move=True: the file was copied (or linked) into place but the original stays."""

    def __init__(self, dest: Path, err: OSError):
        super().__init__(err.errno, err.strerror or str(err))
        self.dest = dest


def _remove_original(src: Path, dest: Path) -> None:
    try:
        os.unlink(src)
    except OSError as e:
        raise OriginalNotRemoved(dest, e) from None


PARTIAL_SUFFIX = ".textsort-partial"
NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EXDEV)  # this file system cannot link


def _claim_name(tmp: Path, dest: Path) -> bool:
    """Give the finished copy `tmp` the name `dest`, never replacing a file; False when taken."""
    try:
        os.link(tmp, dest)  # atomic and fails if dest exists
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in NO_HARD_LINKS:
            raise
        if dest.exists() or dest.is_symlink():  # no hard links here (FAT, some mounts)
            return False
        os.rename(tmp, dest)
        return True
    tmp.unlink()
    return True


def _partial_name(src: Path, folder: Path) -> Path:
    """A fresh temporary name in folder for a copy of src (hidden, with PARTIAL_SUFFIX)."""
    return folder / f".{src.name[:100]}.{secrets.token_hex(6)}{PARTIAL_SUFFIX}"


def _partial_copy(src: Path, tmp: Path) -> Path:
    """A complete copy of src under the temporary name tmp (deleted if it fails). The
    caller holds the name before the file exists, so an interrupt at any point leaves
    nothing it cannot remove."""
    try:
        with open(src, "rb") as fin:  # the source first: no descriptor to leak if it is gone
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fout:
                shutil.copyfileobj(fin, fout, 1024 * 1024)
        shutil.copystat(src, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # never a partial copy, under any name
        raise
    return tmp


def _place(src: Path, folder: Path, move: bool) -> tuple[Path, bool]:
    """Copy (or move) src into folder under a name nobody uses; returns (dest, renamed).

    A copy that fails part-way is deleted (never left under the real name). With move,
    OriginalNotRemoved means the copy is complete but the original could not be removed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None  # the copy, made once when first needed, then offered name after name
    copied = False
    try:
        for n in range(100000):
            dest = _free_name(folder, src.name, n)
            if move and tmp is None:
                try:
                    os.link(src, dest)  # fails if dest exists: never overwrites
                except FileExistsError:
                    continue
                except OSError as e:
                    if e.errno not in NO_HARD_LINKS:
                        raise
                else:
                    _remove_original(src, dest)
                    return dest, n > 0
            if dest.exists() or dest.is_symlink():
                continue
            # Copy under a temporary name in the same folder, then give it the real name in
            # one step: a kill at any moment leaves no truncated file under the real name.
            if not copied:
                tmp = _partial_name(src, folder)  # named before it exists: the finally below can remove it
                _partial_copy(src, tmp)
                copied = True
            if _claim_name(tmp, dest):
                tmp = None
                if move:
                    _remove_original(src, dest)
                return dest, n > 0
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)  # not placed (no free name, or interrupted)
    raise OSError(f"no free name for {src.name} in {folder}")


def common_folder(paths: Iterable[str | os.PathLike]) -> Path | None:
    """The deepest folder holding every one of `paths` (files), or None for none."""
    folders = [os.path.dirname(os.path.abspath(p)) for p in paths]
    return Path(os.path.commonpath(folders)) if folders else None


def default_sort_folder(results: Iterable[FileResult]) -> Path | None:
    """A new folder beside the sorted files' folder: never the source folder itself."""
    return beside_source(results, "-sorted")


def default_export_path(results: Iterable[FileResult], suffix: str = ".csv") -> Path | None:
    """Where an export goes unless the user says otherwise: beside the classified folder."""
    return beside_source(results, f"-results{suffix}")


def beside_source(results: Iterable[FileResult], tail: str) -> Path | None:
    """A free name beside the folder the results' files are in ("inbox" + "-sorted" ->
    "inbox-sorted", or "inbox-sorted-2"...): never inside the classified folder."""
    root = common_folder(r.path for r in results)
    if root is None:
        return None

    return free_name(root.parent / f"{root.name or 'files'}{tail}")


def sort_into(results: Iterable[FileResult], dest: str | os.PathLike, move: bool = False) -> SortSummary:
    """Copies (or moves) each classified file into dest/LABEL/, keeping its subfolders
    below the folder common to all the files (inbox/2024/a.txt -> dest/spam/2024/a.txt)."""
    dest = Path(dest)
    results = list(results)
    root = common_folder(r.path for r in results if r.prediction is not None)
    summary = SortSummary()
    labels: list[str] = []  # every label seen, in model order: their folders stay stable
    folders: dict[str, str] = {}
    for r in results:
        if r.prediction is None:
            summary.skipped += 1
            summary.problems.append((r.path, r.problem or "not classified"))
            continue
        uncertain = r.uncertain
        if r.prediction.label not in folders:
            labels += [lab for lab in [*r.prediction.scores, r.prediction.label] if lab not in labels]
            folders = label_folders(labels)
        below = Path(os.path.dirname(os.path.abspath(r.path))).relative_to(root)
        folder = dest / (UNCERTAIN_FOLDER if uncertain else folders[r.prediction.label]) / below
        try:
            placed, renamed = _place(r.path, folder, move)
        except OriginalNotRemoved as e:
            summary.copied += 1
            summary.uncertain += uncertain
            summary.placed.append((r.path, e.dest))
            summary.problems.append((r.path, f"copied but the original could not be removed: {e.strerror or e}"))
            continue
        except OSError as e:
            summary.skipped += 1
            summary.problems.append((r.path, f"could not {'move' if move else 'copy'}: {e.strerror or e}"))
            continue
        summary.moved += move
        summary.copied += not move
        summary.renamed += renamed
        summary.uncertain += uncertain
        summary.placed.append((r.path, placed))
    return summary
