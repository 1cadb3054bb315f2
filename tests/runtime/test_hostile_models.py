"""Models and bundles that lie: non-finite outputs, forged manifests. Always a clear
BundleError or a per-file problem, never a traceback, bare NaN in JSON, or a sorted file."""
from __future__ import annotations

import json
import zipfile

import pytest

from textsort.appstate.session import NON_FINITE, Session
from textsort.core.bundle import BundleError, load_bundle, write_bundle
from textsort.core.engine import Classifier

from tinymodel import SPAM, tokenizer_json
from test_textsort_command import textsort


def _bundle(path, logits_of_length) -> str:
    """A bundle whose logits are a function of the window length (TensorFlow, float32)."""
    import tensorflow as tf

    from tinymodel import CLS_ID, MAX_LENGTH, PAD_ID, SEP_ID
    from textsort.core.encoding import TokenizerSpec

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, "input_ids"),
                                  tf.TensorSpec([None, None], tf.int32, "attention_mask")])
    def serve(input_ids, attention_mask):
        n = tf.cast(tf.reduce_sum(attention_mask, axis=1, keepdims=True), tf.float32)
        x = logits_of_length(n)
        return {"logits": tf.concat([x, -x], axis=1)}

    holder = tf.Module()
    holder.serve = serve
    model = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], holder).convert()
    manifest = {"name": "liar", "labels": list(SPAM.labels), "language": "en",
                "tokenizer": TokenizerSpec(max_length=MAX_LENGTH, cls_id=CLS_ID, sep_id=SEP_ID,
                                           pad_id=PAD_ID).to_dict(),
                "model": {"file": "model.tflite", "signature": "serving_default"}}
    return write_bundle(path, model_bytes=model, tokenizer_json=tokenizer_json(), manifest=manifest)


@pytest.fixture(scope="module")
def nan_always(tmp_path_factory):
    import tensorflow as tf

    return _bundle(tmp_path_factory.mktemp("nan") / "nan.textsort", lambda n: tf.sqrt(-n))


@pytest.fixture(scope="module")
def nan_for_longer_texts(tmp_path_factory):
    import tensorflow as tf

    # the probe ("" = [cls, sep], 2 tokens) gives 1.0; any text of 2+ words gives sqrt(<0) = NaN
    return _bundle(tmp_path_factory.mktemp("nan2") / "nan-long.textsort", lambda n: tf.sqrt(3.0 - n))


def test_a_model_that_outputs_nan_is_refused_at_load(nan_always, tmp_path):
    with pytest.raises(BundleError, match="not a number"):
        Classifier(nan_always)
    (tmp_path / "a.txt").write_text("claim your free prize")
    r = textsort("classify", tmp_path / "a.txt", "--model", nan_always)
    assert r.returncode == 3 and "not a number" in r.stderr and "Traceback" not in r.stderr


def test_nan_for_one_text_is_that_file_s_problem_not_a_label(nan_for_longer_texts, tmp_path):
    session = Session(Classifier(nan_for_longer_texts, threshold=0.9))
    src = tmp_path / "in"
    src.mkdir()
    (src / "long.txt").write_text("claim your free prize now")
    (src / "short.txt").write_text("prize")
    results = {r.path.name: r for r in session.run([src])}
    assert results["long.txt"].prediction is None and results["long.txt"].problem == NON_FINITE
    assert results["short.txt"].prediction is not None and results["short.txt"].problem is None
    r = textsort("classify", src, "--model", nan_for_longer_texts, "--format", "json", "--sort-into",
                 tmp_path / "sorted", "--threshold", "0.9", "--no-progress")
    rows = {row["path"].rsplit("/", 1)[1]: row for row in json.loads(r.stdout)}  # strict JSON: no bare NaN
    assert r.returncode == 1 and rows["long.txt"]["label"] is None and rows["long.txt"]["problem"] == NON_FINITE
    assert not list((tmp_path / "sorted").rglob("long.txt"))


def test_the_endpoint_answers_500_for_a_nan_text(nan_for_longer_texts):
    from textsort.frontends.server import RequestError, classify_request
    import threading

    clf = Classifier(nan_for_longer_texts)
    with pytest.raises(RequestError) as e:
        classify_request(clf, {"text": "claim your free prize now"}, threading.Lock())
    assert e.value.status == 500 and "NaN" in str(e.value)


def _fixed_shape_model() -> bytes:
    tf = pytest.importorskip("tensorflow")

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.int32, "input_ids"),
                                      tf.TensorSpec([1, 8], tf.int32, "attention_mask")])
        def serve(self, input_ids, attention_mask):
            x = tf.cast(input_ids + attention_mask, tf.float32)
            return {"logits": tf.stack([tf.reduce_sum(x, 1), -tf.reduce_sum(x, 1)], axis=1)}

    m = M()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([m.serve.get_concrete_function()], m)
    return conv.convert()


def test_fixed_shape_model_refused(tiny_bundle, tmp_path):
    good = load_bundle(tiny_bundle)
    manifest = {k: v for k, v in good.manifest.items() if k != "files"}
    with pytest.raises(BundleError, match="dynamic batch and length"):
        write_bundle(tmp_path / "fixed.textsort", model_bytes=_fixed_shape_model(),
                     tokenizer_json=good.tokenizer_json, manifest=manifest)
    assert not list(tmp_path.glob("fixed*"))


def _rezip(src, dest, manifest_bytes: bytes):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, manifest_bytes if info.filename == "manifest.json" else zin.read(info))
    return dest


def test_forged_manifests_are_always_bundle_errors(tiny_bundle, tmp_path):
    deep = _rezip(tiny_bundle, tmp_path / "deep.textsort", b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(BundleError, match="deep.textsort"):
        load_bundle(deep)
    deep_obj = _rezip(tiny_bundle, tmp_path / "deep2.textsort", b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    with pytest.raises(BundleError, match="deep2.textsort"):
        load_bundle(deep_obj)


def test_models_command_lists_a_forged_bundle_without_a_traceback(tiny_bundle, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    _rezip(tiny_bundle, folder / "deep.textsort", b"{\"a\":" * 100_000 + b"1" + b"}" * 100_000)
    r = textsort("models", env_extra={"TEXTSORT_MODELS": str(folder)})
    assert "Traceback" not in r.stderr and "deep.textsort" in r.stdout + r.stderr
