"""Bundles in MediaPipe's layout that lie: labels in the TFLite metadata that are not the
manifest's, no metadata at all (the card must not send the user to MediaPipe), and
probabilities of -inf, which log(max(p, 1e-30)) used to turn into a calm 0.5 / 0.5. And ZIP
containers that lie: a wrong member count, zip64 markers, members bigger than the manifest says."""
from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from textsort.appstate.session import NON_FINITE, Session
from textsort.core import bundle as B
from textsort.core.bundle import FORMAT, FORMAT_VERSION, BundleError, load_bundle
from textsort.core.encoding import TokenizerSpec
from textsort.core.engine import Classifier
from textsort.presentation.card import bundle_card

from tinymodel import CLS_ID, MAX_LENGTH, PAD_ID, SEP_ID, SPAM, tokenizer_json

MEDIAPIPE_CLAIM = "MediaPipe Tasks' TextClassifier"


def _mediapipe_model(probabilities_of_length) -> bytes:
    """A model in MediaPipe's layout whose [batch, 2] probabilities are a function of the
    number of tokens (TensorFlow, float32), without metadata."""
    import tensorflow as tf

    spec = [tf.TensorSpec([None, None], tf.int32, name)
            for name in ("input_word_ids", "input_mask", "input_type_ids")]

    @tf.function(input_signature=spec)
    def serve(input_word_ids, input_mask, input_type_ids):
        n = tf.cast(tf.reduce_sum(input_mask, axis=1, keepdims=True), tf.float32)
        return {"probabilities": probabilities_of_length(n)}

    holder = tf.Module()
    holder.serve = serve
    return tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], holder).convert()


def _with_labels_file(model: bytes, labels_txt: bytes) -> bytes:
    """The model with a metadata ZIP appended, as modelprep.tflite_metadata.with_metadata does."""
    out = io.BytesIO(model)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("vocab.txt", b"[PAD]\n")
        zf.writestr("labels.txt", labels_txt)
    return out.getvalue()


def _forged(path, model: bytes):
    """A self-consistent bundle written by hand (write_bundle would refuse a bad one)."""
    members = {"model.tflite": model, "tokenizer.json": tokenizer_json().encode("utf-8")}
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": "liar", "labels": list(SPAM.labels),
                "language": "en", "model": {"file": "model.tflite", "signature": "serving_default",
                                            "layout": "mediapipe-text-classifier"},
                "tokenizer": TokenizerSpec(max_length=MAX_LENGTH, cls_id=CLS_ID, sep_id=SEP_ID,
                                           pad_id=PAD_ID).to_dict(),
                "files": {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in members.items()}}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def sure_model() -> bytes:
    import tensorflow as tf

    return _mediapipe_model(lambda n: tf.concat([tf.sigmoid(n - 5.0), 1.0 - tf.sigmoid(n - 5.0)], axis=1))


def test_metadata_labels_that_are_not_the_manifest_s_are_refused(sure_model, tmp_path):
    swapped = _forged(tmp_path / "swapped.textsort", _with_labels_file(sure_model, b"spam\nham\n"))
    with pytest.raises(BundleError, match=r"labels in model.tflite's TFLite metadata \(labels.txt: \['spam', 'ham'\]\) "
                                          r"are not the manifest's \['ham', 'spam'\]"):
        load_bundle(swapped)
    extra = _forged(tmp_path / "extra.textsort", _with_labels_file(sure_model, b"ham\nspam\neggs\n"))
    with pytest.raises(BundleError, match="TFLite metadata"):
        load_bundle(extra)


def test_the_card_names_mediapipe_only_when_the_model_carries_its_metadata(sure_model, tmp_path):
    bare = load_bundle(_forged(tmp_path / "bare.textsort", sure_model))  # manifest says the MediaPipe layout
    assert MEDIAPIPE_CLAIM not in bundle_card(bare)
    assert bare.layout.name == "mediapipe-text-classifier" and not bare.runs_in_mediapipe
    good = load_bundle(_forged(tmp_path / "good.textsort", _with_labels_file(sure_model, b"ham\nspam\n")))
    assert good.runs_in_mediapipe and good.metadata_labels == ["ham", "spam"]
    assert MEDIAPIPE_CLAIM in bundle_card(good)


def test_minus_infinite_probabilities_are_refused_like_nan(tmp_path):
    import tensorflow as tf

    minus_inf = _mediapipe_model(lambda n: tf.concat([tf.math.log(0.0 * n), tf.math.log(0.0 * n)], axis=1))
    path = _forged(tmp_path / "minus-inf.textsort", minus_inf)
    with pytest.raises(BundleError, match=r"not a number \(NaN or infinite\)"):
        Classifier(path)


def test_minus_infinite_probabilities_for_one_text_are_that_file_s_problem(tmp_path):
    import tensorflow as tf

    # the probe ("" = [cls, sep], 2 tokens) gives 0.5 / 0.5; 3 tokens or more give -inf / -inf
    def probabilities(n):
        p = tf.where(n < 3.0, 0.5 * tf.ones_like(n), tf.math.log(0.0 * n))
        return tf.concat([p, p], axis=1)

    clf = Classifier(_forged(tmp_path / "minus-inf-long.textsort", _mediapipe_model(probabilities)))
    (tmp_path / "long.txt").write_text("claim your free prize now", encoding="utf-8")
    (result,) = Session(clf).run([tmp_path / "long.txt"])
    assert result.prediction is None and result.problem == NON_FINITE


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rezip(path: Path, items) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


# ZIP directory / member-count lies, bombs within the caps
def test_lying_member_count_refused_before_parsing(tmp_path, monkeypatch):
    p = _rezip(tmp_path / "lie.textsort", [(f"f{i:05d}", b"") for i in range(3000)])
    raw = bytearray(p.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8: at + 12] = (4).to_bytes(2, "little") * 2  # "4 entries"
    p.write_bytes(bytes(raw))
    calls = []
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: calls.append(a) or pytest.fail("parsed"))
    t0 = time.perf_counter()
    with pytest.raises(BundleError, match="ZIP directory"):
        load_bundle(p)
    assert time.perf_counter() - t0 < 1 and not calls


def test_too_many_entries_counted_after_opening(tmp_path, monkeypatch):
    p = _rezip(tmp_path / "lie.textsort", [(f"f{i}", b"") for i in range(40)])
    raw = bytearray(p.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8: at + 12] = (4).to_bytes(2, "little") * 2
    p.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="40 members"):
        load_bundle(p)


def test_zip64_markers_refused(tmp_path):
    p = _rezip(tmp_path / "z64.textsort", [("manifest.json", b"{}")])
    raw = bytearray(p.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 12: at + 16] = b"\xff\xff\xff\xff"
    p.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="zip64"):
        load_bundle(p)


def test_member_size_checked_against_manifest_before_reading(tiny_bundle, tmp_path, monkeypatch):
    m = _members(tiny_bundle)
    bomb = b"\0" * (4 * 1024 * 1024)  # compresses to a few KB, within every cap
    p = _rezip(tmp_path / "bomb.textsort", [(k, bomb if k == "report.md" else v) for k, v in m.items()])
    read = []
    real = B._read_member
    monkeypatch.setattr(B, "_read_member", lambda zf, info, where: read.append(info.filename) or real(zf, info, where))
    with pytest.raises(BundleError, match="size mismatch for report.md"):
        load_bundle(p)
    assert read == ["manifest.json"]
