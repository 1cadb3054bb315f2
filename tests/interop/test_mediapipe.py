"""The bundled models in MediaPipe Tasks' TextClassifier (opt-in: pytest -m mediapipe;
needs `pip install mediapipe`, the `interop` extra, and ../shared/data).

The bundle's model.tflite is what MediaPipe loads: Model Maker's three int32 inputs,
softmax scores, and TFLite metadata with labels and tokenizer (modelprep.tflite_metadata).
The same file runs on Android, iOS and the web through MediaPipe."""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from textsort.core.bundle import MEDIAPIPE_LAYOUT, load_bundle
from textsort.core.engine import Classifier

pytestmark = pytest.mark.mediapipe
REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"


def _texts(name: str) -> list[str]:
    path = DATA / name / "test.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    with path.open(encoding="utf-8", newline="") as fh:
        return [r["text"] for r in csv.DictReader(fh)]


def _mediapipe(bundle: Path, texts: list[str], tmp_path: Path) -> list[tuple[str, float]]:
    text_classifier = pytest.importorskip("mediapipe.tasks.python.text.text_classifier")
    from mediapipe.tasks.python.core.base_options import BaseOptions

    model = tmp_path / "model.tflite"
    model.write_bytes(zipfile.ZipFile(bundle).read("model.tflite"))  # the bundle's own file, unchanged
    options = text_classifier.TextClassifierOptions(base_options=BaseOptions(model_asset_path=str(model)))
    with text_classifier.TextClassifier.create_from_options(options) as clf:
        tops = [clf.classify(t).classifications[0].categories[0] for t in texts]
    return [(c.category_name, c.score) for c in tops]


def _compare(bundle: Path, texts: list[str], tmp_path: Path):
    b = load_bundle(bundle)
    assert b.layout == MEDIAPIPE_LAYOUT, f"{bundle.name} is in the {b.layout.name} layout"
    ours = Classifier(b).predict_proba(texts)
    theirs = _mediapipe(bundle, texts, tmp_path)
    same = np.array([b.labels[int(p.argmax())] == label for p, (label, _) in zip(ours, theirs)])
    gap = np.array([abs(float(p.max()) - score) for p, (_, score) in zip(ours, theirs)])
    return b, same, gap


def test_sms_spam_en_in_mediapipe_agrees_with_textsort(tmp_path):
    texts = _texts("sms_spam")
    _, same, gap = _compare(REPO / "assets" / "models" / "sms_spam-en.textsort", texts, tmp_path)
    print(f"sms_spam-en: MediaPipe agrees on {same.sum()}/{len(texts)} = {same.mean():.4%}; "
          f"top score differs by {np.median(gap):.5f} (median), {gap.max():.4f} (max)")
    assert same.mean() >= 0.995


def test_reviews_zh_in_mediapipe_agrees_where_the_text_is_one_window(tmp_path):
    """SentencePiece: the same ids as our tokenizer. A text longer than one window (128
    tokens) is averaged over windows by textsort but read whole by MediaPipe (the model
    takes any length), so only one-window texts must agree."""
    texts = _texts("chnsenticorp")
    b, same, _ = _compare(REPO / "assets" / "models" / "reviews-zh.textsort", texts, tmp_path)
    encoder = b.make_encoder()
    one = np.array([len(encoder.encode(t)) == 1 for t in texts])
    print(f"reviews-zh on chnsenticorp: all {same.mean():.4%} ({same.sum()}/{len(texts)}); one-window texts "
          f"{same[one].mean():.4%} ({same[one].sum()}/{one.sum()}); longer {same[~one].mean():.4%}")
    assert same[one].mean() >= 0.995
