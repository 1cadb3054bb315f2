"""Writing a bundle where the user asked for it, and its report beside it, without
overwriting anything Textsort did not create (the rule in textsort.files.safe_files).

- `check_out(out, inputs, force)` runs before any training: the name ends in
  `.textsort`, it is none of the inputs, nothing is there unless `--force`, and its
  folder can be written (a read-only disk fails now, not after the pipeline).
- `publish(...)` writes the report (`write_report`: only over the report files the
  replaced bundle recorded as its own, else at a free name) and then the bundle, recording
  in its manifest (`beside`) what it wrote next to it.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from modelprep.report import write_report
from textsort.core.bundle import BundleError, load_bundle, write_bundle
from textsort.files.safe_files import RefusedWrite, same_file, taken

log = logging.getLogger(__name__)
BESIDE = "beside"  # manifest key: {file name: sha256} of the report files written beside the bundle
SUFFIX = ".textsort"


def check_out(out, inputs=(), force: bool = False) -> Path:
    """Raises RefusedWrite (an OSError) with a one-line reason, or returns `out`."""
    out = Path(out)
    if out.suffix != SUFFIX:
        raise RefusedWrite(f"--out {out}: a bundle's name ends in {SUFFIX}")
    for path in inputs:
        if path is not None and same_file(out, path):
            raise RefusedWrite(f"--out {out} is one of the inputs ({path}); choose another name")
    if out.is_dir():
        raise RefusedWrite(f"--out {out} is a folder")
    if taken(out) and not force:
        raise RefusedWrite(f"--out {out} exists; choose another name, or add --force to replace it")
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise RefusedWrite(f"--out {out}: cannot write in {folder} ({e.strerror or e})") from None
    return out


def recorded_beside(out: Path) -> dict:
    """What the bundle now at `out` (if any, and readable) says it wrote beside itself."""
    if not out.is_file() or out.is_symlink():
        return {}

    try:
        beside = load_bundle(out).manifest.get(BESIDE)
    except (BundleError, OSError):
        return {}
    return {str(k): str(v) for k, v in beside.items()} if isinstance(beside, dict) else {}


def publish(out, manifest: dict, model_bytes: bytes, tokenizer_json: str, force: bool = False) -> Path:
    """The report beside `out`, then the bundle at `out` (atomically). Returns the bundle."""
    out = Path(out)
    if taken(out) and not force:  # created while training ran
        raise RefusedWrite(f"--out {out} appeared while training; nothing was replaced (add --force to replace it)")
    try:
        report = write_report(manifest, out.with_suffix(".md"), ours=recorded_beside(out))
    except Exception as e:  # the card is optional; never lose a trained model over it
        log.warning("no report.md: writing the model card failed (%s: %s)", type(e).__name__, e)
        report = None
    manifest = dict(manifest)
    manifest[BESIDE] = report.files if report else {}
    bundle = write_bundle(out, model_bytes=model_bytes, tokenizer_json=tokenizer_json, manifest=manifest,
                          extra={"report.md": report.card} if report else None)
    if report and report.md:
        log.info("report: %s", report.md)
    return bundle
