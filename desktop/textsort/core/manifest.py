"""The facts a bundle manifest's writer (`modelprep`) and its readers (the card, the model
list, the app, `textsort-prep`'s summary, calibration) must agree on, kept once.

The size ladder: each rung is a role (manifest["shipped"], candidates[].role), the stage
folder `modelprep` exports it in, and the key of its numbers in manifest["metrics"]
("<key>_test" holds them on the test file). One student is trained per run, tiny or
default; both are read back under the student's keys.

  rung(role)                    -> the Rung of a manifest role (None: not one this version knows)
  shipped_rung(manifest)        -> the shipped model's Rung (bundles from before "shipped": "small")
  shipped_metrics(manifest, split) -> (metrics key, metrics) of the shipped model, never another's
  data_license(manifest)        -> the training data's licence, None where it was not recorded

Only the standard library: the frozen app, the CLI and modelprep all import it.
"""
from __future__ import annotations

from dataclasses import dataclass

from textsort.core.protocol import StageName


@dataclass(frozen=True)
class Rung:
    role: str           # manifest["shipped"] and candidates[].role
    stage: StageName    # modelprep's stage (and work folder) for its int8 export
    metrics_key: str    # manifest["metrics"][metrics_key] (validation), [metrics_key + "_test"] (test file)
    title: str          # how the card names it
    student: bool       # distilled (else the fine-tuned teacher itself)


TINY = Rung("tiny", StageName.STUDENT_INT8, "student_int8", "tiny: the smallest distilled student", True)
DEFAULT = Rung("default", StageName.STUDENT_INT8, "student_int8", "default: the distilled student", True)
ACCURATE = Rung("accurate", StageName.TEACHER_INT8, "bert_int8", "accurate: the fine-tuned teacher, int8", False)
LADDER = (TINY, DEFAULT, ACCURATE)          # what `textsort-prep train --size` offers, smallest first
SIZES = tuple(r.role for r in LADDER)
# bundles written before the ladder: their one student was "small" (the tiny CNN of today)
OLDER = (Rung("small", StageName.STUDENT_INT8, "student_int8", "small: the distilled student", True),)
_BY_ROLE = {r.role: r for r in LADDER + OLDER}

# Older bundles wrote this prose where the data's licence was unknown; newer ones write None.
DATA_LICENSE_NOT_RECORDED = (None, "", "as the training data's own licence")


def rung(role) -> Rung | None:
    return _BY_ROLE.get(role) if isinstance(role, str) else None


def student_rung(size: str) -> Rung:
    """The student a run trains for `--size`: tiny for tiny, else the default one."""
    return TINY if size == TINY.role else DEFAULT


def shipped_rung(manifest) -> Rung | None:
    """The shipped model's rung; bundles without "shipped" ship their student ("small")."""
    role = manifest.get("shipped") if isinstance(manifest, dict) else None
    return rung(role or OLDER[0].role)


def shipped_metrics(manifest, split: str | None = None) -> tuple[str, dict] | None:
    """(metrics key, metrics) of the model the bundle ships, or None when not recorded.

    split: "test" (the "<key>_test" entry), "validation" (the bare key), or None: the test
    numbers where there are some, else validation. Never another model's numbers."""
    metrics = manifest.get("metrics") if isinstance(manifest, dict) else None
    r = shipped_rung(manifest)
    if not isinstance(metrics, dict) or r is None:
        return None
    base = r.metrics_key
    for key in {"test": (base + "_test",), "validation": (base,), None: (base + "_test", base)}[split]:
        entry = metrics.get(key)
        if isinstance(entry, dict) and "accuracy" in entry:
            return key, entry
    return None


def data_license(manifest) -> str | None:
    lic = manifest.get("licenses") if isinstance(manifest, dict) else None
    value = lic.get("data") if isinstance(lic, dict) else None
    text = str(value).strip() if value is not None else None
    return None if text in DATA_LICENSE_NOT_RECORDED else text
