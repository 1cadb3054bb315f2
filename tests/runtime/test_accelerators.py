"""`accelerator="cpu"|"gpu"|"auto"`: the CompiledModel path gives the interpreter's logits,
and asking for a GPU where there is none runs on the CPU (never fails)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from textsort.core.accelerators import CompiledRunner, make_runner
from textsort.core.bundle import load_bundle
from textsort.core.engine import Classifier

REPO = Path(__file__).resolve().parents[2]

TEXTS = ["claim your free prize now", "see you at lunch with mom", "free lunch", ""]


@pytest.mark.parametrize("which", ["tiny, logits layout", "bundled, MediaPipe layout"])
def test_the_compiled_model_path_matches_the_interpreter(tiny_bundle, which):
    from ai_edge_litert.hardware_accelerator import HardwareAccelerator

    b = load_bundle(tiny_bundle if which.startswith("tiny") else REPO / "assets" / "models" / "sms_spam-en.textsort")
    assert b.layout.name == ("logits" if which.startswith("tiny") else "mediapipe-text-classifier")
    compiled = CompiledRunner(b.model_bytes, b.signature, len(b.labels), HardwareAccelerator.CPU)
    interp = b.interpreter(1).get_signature_runner(b.signature)
    clf = Classifier(b, threads=1)
    for text in TEXTS:
        for window in clf.encoder.encode(text):
            ids = np.stack([window, window]).astype(np.int32)  # a batch of 2, dynamic length
            feed = b.layout.feed(ids, np.ones_like(ids))
            got, want = compiled(**feed)[b.layout.output], interp(**feed)[b.layout.output]
            assert got.shape == want.shape and np.allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("asked", ["gpu", "auto"])
def test_asking_for_a_gpu_never_fails(tiny_bundle, asked):
    clf = Classifier(tiny_bundle, accelerator=asked)
    cpu = Classifier(tiny_bundle, accelerator="cpu")
    assert clf.accelerator in ("gpu", "cpu") and cpu.accelerator == "cpu" and cpu.accelerator_note == ""
    if clf.accelerator == "cpu":
        assert "no usable GPU" in clf.accelerator_note  # this machine: said why
    got, want = clf.predict_proba(TEXTS), cpu.predict_proba(TEXTS)
    assert np.allclose(got, want, atol=1e-3)


def test_an_unknown_accelerator_is_refused(tiny_bundle):
    with pytest.raises(ValueError, match="cpu, gpu, auto"):
        make_runner(load_bundle(tiny_bundle), None, "tpu")
