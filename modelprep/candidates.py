"""Shippable models: each exported to int8 LiteRT, verified with the runtime's own code,
measured (accuracy, macro-F1, MB, ms per text), and one chosen as the bundle.

The size ladder (`textsort.core.manifest.LADDER`): `tiny` and `default` are the distilled
student (a run trains one of them, `PipelineConfig.tiny_student` or `.student`);
`accurate` is the fine-tuned BERT teacher as int8. `ShipConfig.size="accurate"` ships
whichever has the better validation accuracy; `max_mb` / `max_ms` ship the most accurate
one within budget.
Every candidate passes the same guard (`evaluate.guard`) against its Keras model on the
validation texts before it can be chosen.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from modelprep import progress
from modelprep.config import PipelineConfig, ShipConfig, config_hash
from modelprep.evaluate import GuardError, classification_metrics, guard
from modelprep.tflite_metadata import with_metadata
from modelprep.workdir import StageFolder
from textsort.core.bundle import write_bundle
from textsort.core.encoding import aggregate, softmax
from textsort.core.engine import Classifier
from textsort.core.manifest import ACCURATE, SIZES, Rung
from textsort.core.protocol import State, verify_stage

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    rung: Rung                    # its place on the size ladder (role, stage folder, metrics key)
    key: str
    model_bytes: bytes
    manifest: dict                # the bundle manifest without metrics
    classifier: object            # textsort.core.engine.Classifier on the candidate bundle
    bundle_bytes: int
    ms_per_text: float            # model time per validation text (every window), this machine
    val_probs: np.ndarray
    val_metrics: dict
    guard: dict
    fp32_val_metrics: dict | None = None
    test_probs: np.ndarray | None = None
    test_metrics: dict | None = None
    notes: dict = field(default_factory=dict)

    @property
    def role(self) -> str:
        return self.rung.role

    @property
    def usable(self) -> bool:
        """May be shipped: the guard passed (or was overridden)."""
        return bool(self.guard.get("passed") or self.guard.get("overridden"))

    @property
    def labels_as_well(self) -> bool:
        """May label the transfer set: no more accuracy lost than the guard allows (the
        agreement and probability limits are for what a user sees, not for soft targets)."""
        return self.usable or self.guard.get("int8_drop_points", 1e9) <= self.guard.get("max_drop_points", 0)

    def summary(self) -> dict:
        out = {"role": self.role, "model": self.manifest["model"]["architecture"], "bytes": self.bundle_bytes,
               "model_bytes": len(self.model_bytes),
               "ms_per_text": round(self.ms_per_text, 4), "guard_passed": bool(self.guard.get("passed")),
               "validation": {k: self.val_metrics[k] for k in ("accuracy", "macro_f1", "n")}}
        if self.test_metrics:
            out["test"] = {k: self.test_metrics[k] for k in ("accuracy", "macro_f1", "n")}
        return out


def timed_probs(classifier, ev) -> tuple[np.ndarray, float]:
    """Runtime probabilities of an EvalSet's texts, and model milliseconds per text."""
    t0 = time.perf_counter()
    logits = classifier.window_logits(ev.windows)
    ms = 1000 * (time.perf_counter() - t0) / max(len(ev.y), 1)
    return aggregate(softmax(logits), ev.owner, len(ev.y))[0], ms


def export_candidate(stages, rung: Rung, upstream_key: str, get_model: Callable[[], object],
                     fp32_val_probs: np.ndarray | None, p, cfg: PipelineConfig, manifest: dict,
                     fp32_val_metrics: dict | None = None) -> Candidate | None:
    """Export (a stage: reused when `upstream_key` is unchanged), then verify with the runtime.

    The student's guard failing raises `GuardError` (unless allowed); the teacher's only
    drops that candidate (the student can still be trained and shipped)."""
    from modelprep.export import LAYOUT, to_tflite
    from modelprep.loop import predict_texts

    qc, name = cfg.quant, rung.stage

    def build(folder: Path) -> dict:
        flat = to_tflite(get_model(), qc)
        try:
            flat = with_metadata(flat, labels=p.labels, tokenizer_json=p.source.tokenizer_json,
                                 name=manifest["name"], description=manifest["description"],
                                 license_=manifest.get("licenses", {}).get("model"))
        except ValueError as e:  # a tokenizer MediaPipe cannot describe: the model still works here
            log.warning("%s: no MediaPipe metadata (%s); Textsort runs it, MediaPipe cannot", name, e)
        (folder / "model.tflite").write_bytes(flat)
        return {"bytes": len(flat)}

    folder, record = stages.run(name, config_hash(upstream_key, qc.mode, LAYOUT, manifest["name"], p.labels),
                                {"mode": qc.mode, "layout": LAYOUT}, build)
    key = StageFolder.identity(record)
    t0 = time.perf_counter()
    verify = verify_stage(name)
    progress.stage(verify, State.START)
    model_bytes = (folder / "model.tflite").read_bytes()
    bundle = write_bundle(folder / "candidate.textsort", model_bytes=model_bytes,
                          tokenizer_json=p.source.tokenizer_json, manifest=manifest)
    classifier = Classifier(bundle, threads=os.cpu_count() or 1)  # XNNPACK runs single-threaded unless told
    int8_val, ms = timed_probs(classifier, p.val)
    if fp32_val_probs is None:
        fp32_val_probs = predict_texts(get_model(), p.val, 128, p.source.pad_id)
    try:
        verdict = guard(p.val.y, fp32_val_probs, int8_val, qc)
    except GuardError as e:
        if rung.student:
            raise
        log.warning("%s not offered: %s", name, e)
        verdict = {**e.result, "message": str(e)}
    cand = Candidate(rung, key, model_bytes, manifest, classifier, bundle.stat().st_size, ms, int8_val,
                     classification_metrics(p.val.y, int8_val, p.labels, "validation"), verdict,
                     fp32_val_metrics or classification_metrics(p.val.y, fp32_val_probs, p.labels, "validation"))
    stages.timings[verify] = round(time.perf_counter() - t0, 1)
    if p.test is not None:  # --test: timed apart, it is not part of what training costs
        t1 = time.perf_counter()
        cand.test_probs, _ = timed_probs(classifier, p.test)
        cand.test_metrics = classification_metrics(p.test.y, cand.test_probs, p.labels, "test")
        stages.timings[f"{name}_test"] = round(time.perf_counter() - t1, 1)
    progress.stage(verify, State.DONE, seconds=stages.timings[verify],
                   passed=bool(verdict.get("passed")), validation_accuracy=cand.val_metrics["accuracy"])
    log.info("%s: %.2f MB, %.3f ms/text, validation accuracy %.4f, guard %s", name, cand.bundle_bytes / 1e6, ms,
             cand.val_metrics["accuracy"], "passed" if verdict.get("passed") else "FAILED")
    return cand


def choose(candidates: list[Candidate], ship: ShipConfig) -> Candidate:
    """The candidate to ship; raises ValueError when none fits the budget."""
    check_size(ship.size)
    usable = [c for c in candidates if c.usable]
    if ship.max_mb is None and ship.max_ms is None:
        if ship.size != ACCURATE.role:
            return next(c for c in usable if c.rung.student)
        fits = usable
    else:
        fits = [c for c in usable if (ship.max_mb is None or c.bundle_bytes <= ship.max_mb * 1e6)
                and (ship.max_ms is None or c.ms_per_text <= ship.max_ms)]
        if not fits:
            have = "; ".join(f"{c.role}: {c.bundle_bytes / 1e6:.2f} MB, {c.ms_per_text:.3f} ms/text" for c in usable)
            raise ValueError(f"no verified model fits --max-size {ship.max_mb} MB / --max-ms {ship.max_ms} ({have})")
    return max(fits, key=lambda c: (c.val_metrics["accuracy"], -c.bundle_bytes))


def check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
