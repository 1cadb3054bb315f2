"""`textsort-prep calibrate MODEL DATA`: add the suggested "uncertain below" threshold to
a bundle trained before the pipeline recorded one, without retraining it.

The validation split is rebuilt from the bundle's own data config and the training file;
the bundle's model (through the runtime, as the app runs it) must reproduce the
validation confusion matrix recorded in its manifest exactly, or nothing is written:
that is the proof that the split is the one the model was chosen on. Then the threshold
is chosen as the pipeline chooses it (`evaluate.uncertain_threshold`) and the bundle is
rewritten atomically with the same model, tokenizer and a regenerated card.
"""
from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import numpy as np

from modelprep.data import DataConfig, prepare
from modelprep.evaluate import classification_metrics, uncertain_threshold

log = logging.getLogger(__name__)


class CalibrationError(Exception):
    """The data does not reproduce the bundle's recorded validation numbers."""


def _data_config(manifest: dict) -> DataConfig:
    recorded = (manifest.get("config") or {}).get("data") or {}
    names = {f.name for f in fields(DataConfig)}
    return DataConfig(**{k: v for k, v in recorded.items() if k in names})


def _recorded_validation(manifest: dict) -> dict:
    from textsort.card import shipped_metrics

    found = shipped_metrics(manifest, "validation")
    if not found or "confusion_matrix" not in found[1]:
        raise CalibrationError("the bundle records no validation confusion matrix to check the data against")
    return found[1]


def calibrate(bundle_path, data_path, out_path=None) -> dict:
    """Returns the calibration written into `out_path` (default: the bundle itself)."""
    from modelprep.report import write_report
    from textsort.bundle import load_bundle, write_bundle
    from textsort.engine import Classifier

    bundle_path = Path(bundle_path)
    bundle = load_bundle(bundle_path)
    manifest = dict(bundle.manifest)
    recorded = _recorded_validation(manifest)
    data = prepare(data_path, _data_config(manifest))
    if list(data.labels) != bundle.labels:
        raise CalibrationError(f"{data_path}: labels {list(data.labels)} are not the bundle's {bundle.labels}")
    probs = Classifier(bundle, threads=None).predict_proba(list(data.val.texts))
    got = classification_metrics(data.val.y, probs, bundle.labels, "validation")
    if got["confusion_matrix"] != recorded["confusion_matrix"]:
        raise CalibrationError(
            f"{data_path}: the rebuilt validation split does not reproduce the bundle's recorded numbers "
            f"(confusion matrix {got['confusion_matrix']} vs {recorded['confusion_matrix']}): not the data "
            "it was trained on, or not in the same order")
    manifest["calibration"] = uncertain_threshold(probs, np.asarray(data.val.y))
    out = Path(out_path) if out_path else bundle_path
    report = write_report(manifest, out.with_suffix(".md"))
    write_bundle(out, model_bytes=bundle.model_bytes, tokenizer_json=bundle.tokenizer_json, manifest=manifest,
                 extra={"report.md": report})
    log.info("%s: uncertain below %.2f (validation: %d of %d errors below it, %d texts flagged)", out,
             manifest["calibration"]["uncertain_below"], manifest["calibration"]["validation_errors_flagged"],
             manifest["calibration"]["validation_errors"], manifest["calibration"]["validation_flagged"])
    return manifest["calibration"]
