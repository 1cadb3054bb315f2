"""modelprep.vocab.prune_source: on a tiny hand-made Unigram teacher (fast, every rule
visible) and on the real multilingual-e5 vocabulary with ChnSentiCorp texts."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from modelprep.teacher_source import BertConfig, TeacherSource
from modelprep.vocab import WORD_EMBEDDINGS, prune_source

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

# id: 0 <s>, 1 <pad>, 2 </s>, 3 <unk>, then pieces; scores are log-probabilities.
PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0),
          ("▁", -2.0), ("▁the", -3.0), ("▁cat", -4.0), ("▁dog", -4.0), ("▁ca", -6.0),
          ("t", -5.0), ("c", -5.5), ("a", -5.5), ("s", -5.0), ("▁cats", -7.0),
          ("天", -5.0), ("气", -5.0), ("天气", -4.0), ("▁天气", -6.0), ("xyz", -9.0),
          ("<mask>", 0.0), ("rare", -30.0)]


def tiny_source() -> TeacherSource:
    tok = Tokenizer(models.Unigram(PIECES, unk_id=3, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    rng = np.random.default_rng(0)
    table = rng.standard_normal((len(PIECES) + 3, 8)).astype(np.float32)  # spare rows, like e5
    other = rng.standard_normal((8, 8)).astype(np.float32)
    return TeacherSource(
        name="tiny", config=BertConfig(vocab_size=table.shape[0], hidden_size=8),
        weights={WORD_EMBEDDINGS: table, "encoder.layer.0.output.dense.weight": other},
        tokenizer_json=tok.to_str(), cls_id=0, sep_id=2, pad_id=1, languages="multi",
    )


def tokens(source: TeacherSource, text: str) -> list[str]:
    return Tokenizer.from_str(source.tokenizer_json).encode(text, add_special_tokens=False).tokens


def test_keeps_used_pieces_single_chars_and_specials():
    src = tiny_source()
    texts = ["the cat", "天气 the dog"]
    small = prune_source(src, texts)
    vocab = [p for p, _ in json.loads(small.tokenizer_json)["model"]["vocab"]]
    assert vocab == ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁the", "▁cat", "▁dog",
                     "t", "c", "a", "s", "天", "气", "▁天气", "<mask>", "rare"]
    # "▁ca", "▁cats", "天气" and "xyz" were not used and are not single characters;
    # "rare" is the lowest-scoring piece (keeps the unknown score unchanged).
    assert small.config.vocab_size == len(vocab) == 17
    for text in texts:
        assert tokens(small, text) == tokens(src, text)


def test_embedding_rows_follow_their_pieces():
    src = tiny_source()
    small = prune_source(src, ["the cat sat", "天气"])
    full_tok = Tokenizer.from_str(src.tokenizer_json)
    small_tok = Tokenizer.from_str(small.tokenizer_json)
    for piece, _ in PIECES:
        new = small_tok.token_to_id(piece)
        if new is not None:
            np.testing.assert_array_equal(small.weights[WORD_EMBEDDINGS][new],
                                          src.weights[WORD_EMBEDDINGS][full_tok.token_to_id(piece)])
    assert small.weights[WORD_EMBEDDINGS].shape == (small.config.vocab_size, 8)
    assert small.weights["encoder.layer.0.output.dense.weight"] is src.weights["encoder.layer.0.output.dense.weight"]
    assert src.weights[WORD_EMBEDDINGS].shape[0] == len(PIECES) + 3      # input untouched
    assert small.notes["vocab_pruned"]["pieces_before"] == len(PIECES)


def test_special_ids_are_remapped():
    pieces = [("▁a", -1.0), ("<unk>", 0.0), ("▁b", -2.0), ("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=1, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    src = TeacherSource(name="t", config=BertConfig(vocab_size=6, hidden_size=4),
                        weights={WORD_EMBEDDINGS: np.eye(6, 4, dtype=np.float32)},
                        tokenizer_json=tok.to_str(), cls_id=3, sep_id=5, pad_id=4)
    small = prune_source(src, ["b"], keep_single_chars=False)
    vocab = [p for p, _ in json.loads(small.tokenizer_json)["model"]["vocab"]]
    assert vocab == ["▁a", "<unk>", "▁b", "<s>", "<pad>", "</s>"][1:]        # "▁a" unused
    assert (small.cls_id, small.sep_id, small.pad_id) == (2, 4, 3)
    assert json.loads(small.tokenizer_json)["model"]["unk_id"] == 0


def test_unseen_text_falls_back_to_shorter_pieces():
    src = tiny_source()
    small = prune_source(src, ["the"])
    assert tokens(src, "cats") == ["▁cats"]
    assert tokens(small, "cats") == ["▁", "c", "a", "t", "s"]     # no <unk>
    without = prune_source(src, ["the"], keep_single_chars=False)
    unk = json.loads(without.tokenizer_json)["model"]["unk_id"]
    assert Tokenizer.from_str(without.tokenizer_json).encode("cats").ids == [unk]


def test_rejects_a_wordpiece_tokenizer():
    tok = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    src = TeacherSource(name="bert-ish", config=BertConfig(vocab_size=2, hidden_size=4),
                        weights={WORD_EMBEDDINGS: np.zeros((2, 4), np.float32)},
                        tokenizer_json=tok.to_str(), cls_id=0, sep_id=0, pad_id=0)
    with pytest.raises(ValueError, match="bert-ish: .*Unigram.*not 'WordPiece'"):
        prune_source(src, ["a"])


@pytest.mark.slow
def test_e5_pruned_to_chnsenticorp_gives_the_same_tokens():
    train = DATA / "chnsenticorp" / "train.csv"
    if not train.is_file():
        pytest.skip(f"{train} not present")
    from modelprep.e5 import E5Error, read_e5

    try:
        src = read_e5()
    except E5Error as e:
        pytest.skip(str(e))
    with train.open(encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)][:1500]
    small = prune_source(src, texts)
    assert 8_000 < small.config.vocab_size < 30_000          # from 250037
    assert (small.cls_id, small.sep_id, small.pad_id) == (0, 2, 1)
    full_tok = Tokenizer.from_str(src.tokenizer_json)
    small_tok = Tokenizer.from_str(small.tokenizer_json)
    a = full_tok.encode_batch(texts, add_special_tokens=False)
    b = small_tok.encode_batch(texts, add_special_tokens=False)
    assert all(x.tokens == y.tokens for x, y in zip(a, b))
    from textsort.core.encoding import TextEncoder, TokenizerSpec

    spec = TokenizerSpec(max_length=16, cls_id=small.cls_id, sep_id=small.sep_id, pad_id=small.pad_id)
    windows = TextEncoder.from_json(small.tokenizer_json, spec).encode(texts[0])
    assert windows[0][0] == 0 and windows[-1][-1] == 2
    assert list(windows[0][1:-1]) == b[0].ids[:14]
    rows = [e.ids[0] for e in a if e.ids]
    new_rows = [e.ids[0] for e in b if e.ids]
    np.testing.assert_array_equal(small.weights[WORD_EMBEDDINGS][new_rows],
                                  src.weights[WORD_EMBEDDINGS][rows])
