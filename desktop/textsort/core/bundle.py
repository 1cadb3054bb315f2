"""Read and write `.textsort` model bundles (docs/bundle-format.md).

`load_bundle` checks everything the format promises before anything runs: the
container, member names and sizes (read with a cap, never extracted to disk), the
checksums, the manifest, the tokenizer and the model's signature and output width.
Every failure is a `BundleError` with a plain message that names the file.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from textsort.core.encoding import TextEncoder, TokenizerSpec

FORMAT = "textsort-bundle"
FORMAT_VERSION = 1
SUFFIX = ".textsort"
MANIFEST = "manifest.json"
MODEL = "model.tflite"
TOKENIZER = "tokenizer.json"
REPORT = "report.md"
METADATA_LABELS = "labels.txt"  # in the ZIP appended to model.tflite (modelprep.tflite_metadata)
REQUIRED_MEMBERS = (MANIFEST, MODEL, TOKENIZER)
OPTIONAL_MEMBERS = (REPORT,)
KNOWN_MEMBERS = REQUIRED_MEMBERS + OPTIONAL_MEMBERS
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
SIGNATURE = "serving_default"
MAX_MEMBERS = 16  # checked before the ZIP directory is parsed (a directory can be huge)
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_DIRECTORY_BYTES = 64 * 1024  # the central directory of a real bundle is a few hundred bytes
_READ_CHUNK = 1024 * 1024


class BundleError(Exception):
    """A bundle that cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class ModelLayout:
    """How a model's signature names its tensors (docs/bundle-format.md, "The model").

    Each takes int32 [batch, length] token ids and a 1/0 mask; `type_ids`, when present,
    is fed zeros. The output is logits, or softmax probabilities that `to_logits` turns
    back into log-probabilities (logits up to a constant: the same softmax, the same
    log-odds)."""
    name: str
    ids: str
    mask: str
    type_ids: str | None
    output: str
    probabilities: bool

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(n for n in (self.ids, self.mask, self.type_ids) if n)

    def feed(self, ids, mask) -> dict:
        """The signature runner's keyword arguments for padded ids and mask."""
        feed = {self.ids: ids, self.mask: mask}
        if self.type_ids:
            feed[self.type_ids] = np.zeros_like(ids)
        return feed

    def to_logits(self, out):
        """Logits; a probability that is not finite (NaN, ±inf) stays so (NaN), never
        log(1e-30): a model that gives -inf for every label must not look sure of 1/k."""
        out = np.asarray(out, dtype=np.float32)
        if not self.probabilities:
            return out
        return np.where(np.isfinite(out), np.log(np.maximum(out, np.float32(1e-30))), np.float32(np.nan))


# MediaPipe Tasks' TextClassifier (BERT models): Model Maker's three inputs, scores out.
MEDIAPIPE_LAYOUT = ModelLayout("mediapipe-text-classifier", "input_word_ids", "input_mask", "input_type_ids",
                               "probabilities", True)
# Bundles written before the MediaPipe layout (still loaded).
LOGITS_LAYOUT = ModelLayout("logits", "input_ids", "attention_mask", None, "logits", False)
LAYOUTS = (MEDIAPIPE_LAYOUT, LOGITS_LAYOUT)


@dataclass
class Bundle:
    path: Path | None
    manifest: dict
    model_bytes: bytes
    tokenizer_json: str
    report: str | None = None
    layout: ModelLayout = LOGITS_LAYOUT  # found by load_bundle from the model's signature
    metadata_labels: list[str] | None = None  # labels.txt of the model's TFLite metadata (load_bundle)
    _interpreters: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def runs_in_mediapipe(self) -> bool:
        """Its model.tflite runs as it is in MediaPipe Tasks' TextClassifier: MediaPipe's
        layout, and the labels in its TFLite metadata (load_bundle checks them against the
        manifest's). A model without that metadata runs in Textsort only."""
        return self.layout is MEDIAPIPE_LAYOUT and self.metadata_labels is not None

    @property
    def suggested_threshold(self) -> float | None:
        """The "uncertain below" confidence chosen on validation when the model was trained
        (manifest `calibration.uncertain_below`); None for a model without one, or when
        no threshold was worth setting (0)."""
        cal = self.manifest.get("calibration")
        value = cal.get("uncertain_below") if isinstance(cal, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
            return float(value)
        return None

    @property
    def spec(self) -> TokenizerSpec:
        return TokenizerSpec.from_dict(self.manifest["tokenizer"])

    @property
    def signature(self) -> str:
        return str(self.manifest["model"].get("signature", SIGNATURE))

    def make_encoder(self) -> TextEncoder:
        return TextEncoder.from_json(self.tokenizer_json, self.spec)

    def interpreter(self, threads: int | None = None):
        """A LiteRT interpreter for the model (cached per thread count)."""
        if threads not in self._interpreters:
            from ai_edge_litert.interpreter import Interpreter

            self._interpreters[threads] = Interpreter(model_content=self.model_bytes, num_threads=threads)
        return self._interpreters[threads]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- writing ---------------------------------------------------------------
def write_bundle(
    path: str | os.PathLike,
    *,
    model_bytes: bytes,
    tokenizer_json: str,
    manifest: dict,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """Write a bundle atomically, filling in `format`, `format_version` and `files`.

    `extra` may hold the optional members (only `report.md`). The written file is
    read back with `load_bundle`, so a bundle that this returns is one the app loads.
    """
    path = Path(path)
    extra = dict(extra or {})
    unknown = sorted(set(extra) - set(OPTIONAL_MEMBERS))
    if unknown:
        raise BundleError(f"Cannot write {path}: unknown extra member(s) {unknown}; allowed: {list(OPTIONAL_MEMBERS)}")
    payload: dict[str, bytes] = {MODEL: bytes(model_bytes), TOKENIZER: tokenizer_json.encode("utf-8")}
    for name, data in extra.items():
        payload[name] = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    manifest = json.loads(json.dumps(manifest))  # a deep copy; also proves it is JSON
    manifest["format"] = FORMAT
    manifest["format_version"] = FORMAT_VERSION
    manifest.setdefault("model", {}).setdefault("file", MODEL)
    manifest["model"].setdefault("signature", SIGNATURE)
    manifest["files"] = {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in payload.items()}
    _check_manifest(manifest, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            for name, data in payload.items():
                zf.writestr(name, data)
        load_bundle(tmp)  # refuse to publish a bundle the reader would refuse
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a bundle is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- reading ---------------------------------------------------------------
def _bad_member_name(name: str) -> bool:
    if not name or "/" in name or "\\" in name or ".." in name or ":" in name:
        return True
    return PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute()


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """Read one member into memory, never more than its declared size (and the cap)."""
    cap = min(info.file_size, MAX_MEMBER_BYTES)
    buf = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(min(_READ_CHUNK, cap + 1 - buf.tell()))
                if not chunk:
                    break
                buf.write(chunk)
                if buf.tell() > cap:
                    raise BundleError(f"{where}: member {info.filename} is larger than it declares ({info.file_size} bytes)")
    except BundleError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise BundleError(f"{where}: member {info.filename} is damaged ({e})") from None
    except (NotImplementedError, RuntimeError) as e:  # unknown compression, encryption
        raise BundleError(f"{where}: member {info.filename} cannot be read ({e})") from None
    data = buf.getvalue()
    if len(data) != info.file_size:
        raise BundleError(f"{where}: member {info.filename} is shorter than it declares")
    return data


def _check_manifest(m: Any, where: str | Path) -> None:
    if not isinstance(m, dict):
        raise BundleError(f"{where}: {MANIFEST} is not a JSON object")
    if m.get("format") != FORMAT:
        raise BundleError(f"{where}: not a Textsort bundle ({MANIFEST} format is {m.get('format')!r}, expected {FORMAT!r})")
    version = m.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise BundleError(
            f"{where}: bundle format version {version!r} is not supported (this Textsort reads version {FORMAT_VERSION}); "
            "update Textsort or re-export the model"
        )
    for key in ("name", "labels", "tokenizer", "model", "files"):
        if key not in m:
            raise BundleError(f"{where}: {MANIFEST} has no {key!r}")
    if not isinstance(m["name"], str) or not m["name"].strip():
        raise BundleError(f"{where}: {MANIFEST} 'name' must be a non-empty string")
    labels = m["labels"]
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x.strip() for x in labels):
        raise BundleError(f"{where}: {MANIFEST} 'labels' must be a list of at least two non-empty strings")
    if len(set(labels)) != len(labels):
        raise BundleError(f"{where}: {MANIFEST} 'labels' has duplicates: {labels}")
    try:
        spec = TokenizerSpec.from_dict(m["tokenizer"])
        if spec.max_length < 3 or spec.stride < 1 or spec.stride > spec.content_length:
            raise ValueError("max_length must be >= 3 and 1 <= window_stride <= max_length - 2")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise BundleError(f"{where}: {MANIFEST} 'tokenizer' section is invalid ({e})") from None
    if spec.file != TOKENIZER:
        raise BundleError(f"{where}: {MANIFEST} tokenizer file must be {TOKENIZER!r}, not {spec.file!r}")
    model = m["model"]
    if not isinstance(model, dict) or model.get("file", MODEL) != MODEL:
        raise BundleError(f"{where}: {MANIFEST} 'model' must name the file {MODEL!r}")
    files = m["files"]
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("bytes"), int) for v in files.values()
    ):
        raise BundleError(f"{where}: {MANIFEST} 'files' must map member names to {{sha256, bytes}}")


def _check_model(bundle: Bundle, where: str) -> ModelLayout:
    """The model's layout, after checking its inputs (int32, dynamic [batch, length]) and
    that its output width matches the labels."""
    try:
        interp = bundle.interpreter(None)
    except (ValueError, RuntimeError) as e:
        raise BundleError(f"{where}: {MODEL} is not a valid LiteRT model ({e})") from None
    try:
        runner = interp.get_signature_runner(bundle.signature)
    except ValueError:
        raise BundleError(f"{where}: {MODEL} has no signature {bundle.signature!r}") from None
    inputs = runner.get_input_details()
    outputs = runner.get_output_details()
    layout = next((lay for lay in LAYOUTS if sorted(inputs) == sorted(lay.inputs)), None)
    if layout is None:
        expected = " or ".join(str(list(lay.inputs)) for lay in LAYOUTS)
        raise BundleError(f"{where}: {MODEL} inputs are {sorted(inputs)}, expected {expected}")
    for name, d in inputs.items():
        if d["dtype"].__name__ != "int32" or len(d["shape_signature"]) != 2:
            raise BundleError(f"{where}: {MODEL} input {name!r} must be int32 [batch, length]")
        if [int(x) for x in d["shape_signature"]] != [-1, -1]:
            raise BundleError(
                f"{where}: {MODEL} inputs must have dynamic batch and length "
                f"(input {name!r} has the fixed shape {[int(x) for x in d['shape_signature']]})"
            )
    if layout.output not in outputs:
        raise BundleError(f"{where}: {MODEL} has no output {layout.output!r} (outputs: {sorted(outputs)})")
    shape = outputs[layout.output]["shape_signature"]
    width = int(shape[-1]) if len(shape) == 2 else None
    if width != len(bundle.labels):
        raise BundleError(
            f"{where}: the model has {width} outputs but the manifest lists {len(bundle.labels)} labels {bundle.labels}"
        )
    return layout


def _zip_directory_problem(tail: bytes) -> str | None:
    """Why the ZIP that ends with `tail` (its last 64 KiB and 21 bytes) is no small plain
    ZIP, found before zipfile parses its central directory (which can be huge); None if it is.

    The end-of-central-directory record (EOCD) gives the entry count (bytes 10-12)
    and the directory's size (bytes 12-16). The count can lie, the size bounds what
    zipfile will read. Zip64 markers (0xFFFF / 0xFFFFFFFF) are refused: a bundle
    never needs zip64 (it has at most 4 members and is far below 4 GiB).
    """
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None  # zipfile reports "not a ZIP file"
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    dir_size = int.from_bytes(tail[at + 12 : at + 16], "little")
    dir_offset = int.from_bytes(tail[at + 16 : at + 20], "little")
    if count == 0xFFFF or dir_size == 0xFFFFFFFF or dir_offset == 0xFFFFFFFF or b"PK\x06\x07" in tail[max(0, at - 20) : at]:
        return "a zip64 archive; a bundle is a small plain ZIP"
    if count > MAX_MEMBERS:
        return f"{count} members; a bundle has at most 4"
    if dir_size > MAX_DIRECTORY_BYTES:
        return f"its ZIP directory is {dir_size} bytes; a bundle's is under {MAX_DIRECTORY_BYTES}"
    return None


def _check_zip_directory(path: Path, where: str) -> None:
    """Refuse a bundle whose ZIP directory is too big, before zipfile parses it."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 65557))
        tail = fh.read()
    problem = _zip_directory_problem(tail)
    if problem:
        raise BundleError(f"{where}: not a Textsort bundle ({problem})")


def _metadata_labels(model_bytes: bytes, where: str) -> list[str] | None:
    """The labels.txt of the TFLite metadata (the ZIP modelprep.tflite_metadata appends to
    model.tflite: what MediaPipe names the outputs by), one label a line; None without one
    (or with no small plain ZIP there: its directory is not parsed)."""
    if _zip_directory_problem(model_bytes[-65557:]):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(model_bytes)) as zf:
            info = zf.getinfo(METADATA_LABELS)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise BundleError(f"{where}: {METADATA_LABELS} in the TFLite metadata of {MODEL} is too large")
            raw = _read_member(zf, info, where)
    except (zipfile.BadZipFile, KeyError):
        return None  # no metadata files, or none with the labels
    try:
        return raw.decode("utf-8").removesuffix("\n").split("\n")
    except UnicodeDecodeError:
        raise BundleError(f"{where}: {METADATA_LABELS} in the TFLite metadata of {MODEL} is not UTF-8") from None


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Open and validate a bundle; raises BundleError with a plain message, and only that:
    whatever a damaged or forged file makes a parser raise (deep JSON nesting, a mutated
    flatbuffer, bad UTF-8) is reported as a BundleError naming the file."""
    try:
        return _load_bundle(path)
    except BundleError:
        raise
    except MemoryError:
        raise BundleError(f"{path}: not a usable Textsort bundle (it needs more memory than is available)") from None
    except RecursionError:
        raise BundleError(f"{path}: not a usable Textsort bundle (nested too deeply to read)") from None
    except Exception as e:
        raise BundleError(f"{path}: not a usable Textsort bundle ({type(e).__name__}: "
                          f"{' '.join(str(e).split())[:300]})") from None


def _load_bundle(path: str | os.PathLike) -> Bundle:
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise BundleError(f"{where}: no such model file" if not path.exists() else f"{where}: not a file")
    try:
        if path.stat().st_size > MAX_TOTAL_BYTES + 1024 * 1024:
            raise BundleError(f"{where}: file is too large to be a model bundle ({path.stat().st_size} bytes)")
        _check_zip_directory(path, where)
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BundleError(f"{where}: not a Textsort bundle (not a ZIP file, or the file is truncated)") from None
    except OSError as e:
        raise BundleError(f"{where}: cannot be read ({e.strerror or e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BundleError(f"{where}: not a Textsort bundle ({len(infos)} members; a bundle has at most 4)")
        names = [i.filename for i in infos]
        for name in names:
            if _bad_member_name(name):
                raise BundleError(f"{where}: refusing member with an unsafe name {name!r}")
        dupes = sorted(n for n, c in Counter(names).items() if c > 1)
        if dupes:
            raise BundleError(f"{where}: duplicate member(s) {dupes}")
        unknown = sorted(set(names) - set(KNOWN_MEMBERS))
        if unknown:
            raise BundleError(f"{where}: unknown member(s) {unknown}; a bundle holds only {list(KNOWN_MEMBERS)}")
        missing = [n for n in REQUIRED_MEMBERS if n not in names]
        if missing:
            raise BundleError(f"{where}: missing member(s) {missing}")
        for info in infos:
            if info.file_size > MAX_MEMBER_BYTES:
                raise BundleError(f"{where}: member {info.filename} is too large ({info.file_size} bytes; limit {MAX_MEMBER_BYTES})")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise BundleError(f"{where}: bundle is too large when unpacked ({total} bytes; limit {MAX_TOTAL_BYTES})")
        by_name = {i.filename: i for i in infos}
        # The manifest first (it is small): every other member's declared size must
        # match the manifest before a byte of it is decompressed.
        if by_name[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            raise BundleError(f"{where}: {MANIFEST} is too large ({by_name[MANIFEST].file_size} bytes)")
        manifest_raw = _read_member(zf, by_name[MANIFEST], where)
        try:
            manifest = json.loads(manifest_raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BundleError(f"{where}: {MANIFEST} is not valid UTF-8 JSON ({e})") from None
        _check_manifest(manifest, where)
        listed = set(manifest["files"])
        present = set(by_name) - {MANIFEST}
        if listed != present:
            raise BundleError(
                f"{where}: {MANIFEST} lists files {sorted(listed)} but the bundle holds {sorted(present)}"
            )
        for name in sorted(present):
            if by_name[name].file_size != manifest["files"][name]["bytes"]:
                raise BundleError(f"{where}: size mismatch for {name}: the bundle is damaged or was altered")
        data = {name: _read_member(zf, by_name[name], where) for name in sorted(present)}

    for name in sorted(present):
        entry = manifest["files"][name]
        if entry["bytes"] != len(data[name]) or entry["sha256"] != _sha256(data[name]):
            raise BundleError(f"{where}: checksum mismatch for {name}: the bundle is damaged or was altered")
    try:
        tokenizer_json = data[TOKENIZER].decode("utf-8")
        report = data[REPORT].decode("utf-8") if REPORT in data else None
    except UnicodeDecodeError as e:
        raise BundleError(f"{where}: a text member is not UTF-8 ({e})") from None
    bundle = Bundle(path=path, manifest=manifest, model_bytes=data[MODEL], tokenizer_json=tokenizer_json, report=report)
    try:
        encoder = bundle.make_encoder()
    except Exception as e:  # tokenizers raises its own exception types for bad JSON
        raise BundleError(f"{where}: {TOKENIZER} cannot be loaded ({e})") from None
    vocab = encoder.tokenizer.get_vocab_size(with_added_tokens=True)
    spec = bundle.spec
    for key, tid in (("cls_id", spec.cls_id), ("sep_id", spec.sep_id), ("pad_id", spec.pad_id)):
        if not 0 <= tid < vocab:
            raise BundleError(f"{where}: tokenizer {key}={tid} is outside the vocabulary (size {vocab})")
    bundle.layout = _check_model(bundle, where)
    bundle.metadata_labels = _metadata_labels(bundle.model_bytes, where)
    if bundle.metadata_labels not in (None, bundle.labels):
        raise BundleError(
            f"{where}: the labels in {MODEL}'s TFLite metadata ({METADATA_LABELS}: {bundle.metadata_labels}) "
            f"are not the manifest's {bundle.labels}: MediaPipe and Textsort would name the classes differently"
        )
    return bundle
