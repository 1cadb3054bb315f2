"""MediaPipe text-classifier metadata (modelprep.tflite_metadata) and the SentencePiece
model rebuilt from a Unigram tokenizer (modelprep.sentencepiece_model).

The metadata is read back here with flatbuffers' generic Table reader, slot by slot, so
a wrong slot in the writer shows up as a wrong field. That MediaPipe itself accepts the
result is checked by the opt-in tests/interop/test_mediapipe.py."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from flatbuffers.table import Table

from modelprep.config import QuantConfig, StudentConfig
from modelprep.export import to_tflite
from modelprep.student import build_student
from modelprep.tflite_metadata import read_metadata, with_metadata

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


# -- a generic flatbuffer reader (slot numbers from metadata_schema.fbs) -----------------
def _root(buf: bytes) -> Table:
    return Table(bytearray(buf), flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))


def _off(t: Table, slot: int) -> int:
    return t.Offset(4 + 2 * slot)


def _str(t: Table, slot: int) -> str | None:
    o = _off(t, slot)
    return t.String(o + t.Pos).decode() if o else None


def _sub(t: Table, slot: int) -> Table | None:
    o = _off(t, slot)
    return Table(t.Bytes, t.Indirect(o + t.Pos)) if o else None


def _subs(t: Table, slot: int) -> list[Table]:
    o = _off(t, slot)
    if not o:
        return []
    start = t.Vector(o)
    return [Table(t.Bytes, t.Indirect(start + 4 * i)) for i in range(t.VectorLen(o))]


def _byte(t: Table, slot: int) -> int:
    o = _off(t, slot)
    return t.Get(flatbuffers.number_types.Uint8Flags, o + t.Pos) if o else 0


def _wordpiece_json(vocab: list[str]) -> str:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tok.to_str()


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "free", "prize", "lunch", "mom", "now", "##s", "you", "at"]


@pytest.fixture(scope="module")
def exported():
    model = build_student(len(VOCAB), 2, StudentConfig(embed_dim=8, filters=8, conv_widths=(2, 3)))
    plain = to_tflite(model, QuantConfig(mode="float32"))
    tagged = with_metadata(plain, labels=["ham", "spam"], tokenizer_json=_wordpiece_json(VOCAB), name="tiny-spam",
                           description="Classifies text as ham, spam", license_="MIT")
    return plain, tagged


def _run(flat: bytes, ids: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    from textsort.core.bundle import MEDIAPIPE_LAYOUT

    runner = Interpreter(model_content=flat).get_signature_runner("serving_default")
    return runner(**MEDIAPIPE_LAYOUT.feed(ids, np.ones_like(ids)))["probabilities"]


def test_the_model_runs_the_same_with_its_metadata(exported):
    plain, tagged = exported
    ids = np.array([[2, 4, 5, 8, 3], [2, 6, 10, 7, 3]], np.int32)
    assert np.array_equal(_run(plain, ids), _run(tagged, ids))
    assert read_metadata(plain) == (None, {})


def test_metadata_describes_the_inputs_in_the_models_order_the_labels_and_the_vocabulary(exported):
    from ai_edge_litert.interpreter import Interpreter

    _, tagged = exported
    meta, files = read_metadata(tagged)
    assert meta[4:8] == b"M001"
    root = _root(meta)
    assert (_str(root, 0), _str(root, 1), _str(root, 5), _str(root, 7)) == (
        "tiny-spam", "Classifies text as ham, spam", "MIT", "1.1.0")
    [graph] = _subs(root, 3)
    model_inputs = [d["name"] for d in sorted(Interpreter(model_content=tagged).get_input_details(),
                                              key=lambda d: d["index"])]
    expected = [{"input_word_ids": "ids", "input_mask": "mask", "input_type_ids": "segment_ids"}[
        next(k for k in ("input_word_ids", "input_mask", "input_type_ids") if k in name)] for name in model_inputs]
    assert [_str(t, 0) for t in _subs(graph, 2)] == expected
    [output] = _subs(graph, 3)
    [labels] = _subs(output, 6)
    assert (_str(output, 0), _str(labels, 0), _byte(labels, 2)) == ("score", "labels.txt", 2)  # TENSOR_AXIS_LABELS
    assert _byte(_sub(output, 3), 0) == 1  # FeatureProperties
    [unit] = _subs(graph, 5)
    assert _byte(unit, 0) == 4  # BertTokenizerOptions
    [vocab] = _subs(_sub(unit, 1), 0)
    assert (_str(vocab, 0), _byte(vocab, 2)) == ("vocab.txt", 5)  # VOCABULARY
    assert files["labels.txt"].decode().splitlines() == ["ham", "spam"]
    assert files["vocab.txt"].decode().splitlines() == VOCAB


def test_an_unknown_tokenizer_is_refused(exported):
    plain, _ = exported
    bpe = json.dumps({"model": {"type": "BPE", "vocab": {}, "merges": []}})
    with pytest.raises(ValueError, match="no MediaPipe tokenizer for a BPE"):
        with_metadata(plain, labels=["a", "b"], tokenizer_json=bpe, name="x", description="x")


# -- SentencePiece -------------------------------------------------------------------------
def _unigram_json() -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0), ("▁the", -3.0),
              ("▁cat", -4.0), ("▁ca", -6.0), ("t", -5.0), ("c", -5.5), ("a", -5.5), ("s", -5.0), ("▁cats", -7.0),
              ("天", -5.0), ("气", -5.0), ("天气", -4.0), ("▁天气", -6.0), ("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return tok.to_str()


def _same_ids(tokenizer_json: str, texts: list[str]) -> tuple[int, list]:
    import sentencepiece as spm
    from tokenizers import Tokenizer

    from modelprep.sentencepiece_model import from_tokenizer_json

    sp = spm.SentencePieceProcessor(model_proto=from_tokenizer_json(json.loads(tokenizer_json)))
    tok = Tokenizer.from_str(tokenizer_json)
    diff = [(t, tok.encode(t, add_special_tokens=False).ids, sp.encode(t)) for t in texts]
    diff = [d for d in diff if d[1] != d[2]]
    return len(texts) - len(diff), diff


def test_sentencepiece_model_gives_the_tokenizers_ids_and_names_cls_and_sep():
    import sentencepiece as spm

    from modelprep.sentencepiece_model import from_tokenizer_json

    spec = _unigram_json()
    texts = ["the cats", "the cat", "天气 the", "dogs?", "", "cattle 天天气"]
    same, diff = _same_ids(spec, texts)
    assert same == len(texts), diff
    sp = spm.SentencePieceProcessor(model_proto=from_tokenizer_json(json.loads(spec)))
    assert (sp.piece_to_id("[CLS]"), sp.piece_to_id("[SEP]"), sp.unk_id(), sp.get_piece_size()) == (0, 2, 3, 18)
    assert sp.is_control(17)  # <mask>
    _, files = read_metadata(with_metadata(to_tflite(build_student(18, 2, StudentConfig(
        embed_dim=4, filters=4, conv_widths=(2,))), QuantConfig(mode="float32")), labels=["a", "b"],
        tokenizer_json=spec, name="x", description="x"))
    assert set(files) == {"sentencepiece.model", "labels.txt"}


def test_the_real_e5_vocabulary_as_sentencepiece_tokenises_chnsenticorp_the_same():
    test = DATA / "chnsenticorp" / "test.csv"
    if not test.is_file():
        pytest.skip(f"{test} not present")
    from modelprep.e5 import E5Error, read_e5

    try:
        src = read_e5()
    except E5Error as e:
        pytest.skip(str(e))
    with test.open(encoding="utf-8") as fh:
        texts = [r["text"] for r in csv.DictReader(fh)][:400]
    same, diff = _same_ids(src.tokenizer_json, texts + ["Mixed English 和中文, 123 ！", "ｆｕｌｌｗｉｄｔｈ　空格", "两个  空格"])
    assert not diff, diff[:3]
