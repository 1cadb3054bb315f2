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

from modelprep.config import ConfigError, apply_overrides
from modelprep.data import DataConfig, prepare
from modelprep.evaluate import classification_metrics, uncertain_threshold
from modelprep.publish import check_out, publish
from textsort.core.bundle import load_bundle
from textsort.core.engine import Classifier
from textsort.core.manifest import shipped_metrics

log = logging.getLogger(__name__)


class CalibrationError(Exception):
    """The data does not reproduce the bundle's recorded validation numbers."""


def _data_config(manifest: dict) -> DataConfig:
    """The data config the bundle records (fields this version knows), checked like --config."""
    config = manifest.get("config")
    recorded = config.get("data") if isinstance(config, dict) else None
    if not isinstance(recorded, dict):
        raise CalibrationError("the bundle records no data config to rebuild its validation split with")
    names = {f.name for f in fields(DataConfig)}
    try:
        return apply_overrides(DataConfig(), {k: v for k, v in recorded.items() if k in names}, "config.data")
    except ConfigError as e:
        raise CalibrationError(f"the bundle's recorded data config is not valid: {e}") from None


def _recorded_validation(manifest: dict) -> dict:
    found = shipped_metrics(manifest, "validation")
    if not found or "confusion_matrix" not in found[1]:
        raise CalibrationError("the bundle records no validation confusion matrix to check the data against")
    return found[1]


def calibrate(bundle_path, data_path, out_path=None, force: bool = False) -> dict:
    """Returns the calibration written into `out_path` (default: the bundle itself, which the
    user asked to rewrite by naming no other). An `out_path` must be a new `.textsort` name,
    not an input; an existing one is replaced only with `force`."""
    bundle_path = Path(bundle_path)
    if out_path is not None:
        check_out(out_path, (bundle_path, data_path), force)
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
    publish(out, manifest, bundle.model_bytes, bundle.tokenizer_json, force=force or out_path is None)
    log.info("%s: uncertain below %.2f (validation: %d of %d errors below it, %d texts flagged)", out,
             manifest["calibration"]["uncertain_below"], manifest["calibration"]["validation_errors_flagged"],
             manifest["calibration"]["validation_errors"], manifest["calibration"]["validation_flagged"])
    return manifest["calibration"]
