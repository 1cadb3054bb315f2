"""A SentencePiece model (`ModelProto`) rebuilt from a `tokenizers` Unigram JSON, for
readers that want SentencePiece (MediaPipe's text tasks).

multilingual-e5's tokenizer.json is XLM-R's SentencePiece model in `tokenizers` form
(after `modelprep.vocab` pruning: fewer pieces, renumbered). The same pieces and scores
in id order, its precompiled normalization map and its whitespace handling give a model
whose piece ids are our ids (tests/modelprep/test_tflite_metadata.py encodes with both).
`<s>` and `</s>` are written as "[CLS]" and "[SEP]": MediaPipe's BERT preprocessor looks
those names up to frame the text, and control pieces never come out of tokenising text,
so the names change nothing else.
"""
from __future__ import annotations

import base64

from sentencepiece import sentencepiece_model_pb2 as pb

RENAMED = {"<s>": "[CLS]", "</s>": "[SEP]"}


def _charsmap(spec: dict) -> bytes:
    norm = spec.get("normalizer") or {}
    for n in norm.get("normalizers", [norm]):
        if n.get("type") == "Precompiled":
            return base64.b64decode(n["precompiled_charsmap"])
    return b""


def _collapses_spaces(spec: dict) -> bool:
    """Whether the normalizer turns runs of spaces into one (e5: Replace(' {2,}', ' '))."""
    norm = spec.get("normalizer") or {}
    return any(n.get("type") == "Replace" and n.get("pattern", {}).get("Regex") == " {2,}"
               for n in norm.get("normalizers", [norm]))


def _metaspace(spec: dict) -> dict | None:
    pre = spec.get("pre_tokenizer") or {}
    if pre.get("type") == "Metaspace":
        return pre
    return next((p for p in pre.get("pretokenizers", []) if p.get("type") == "Metaspace"), None)


def from_tokenizer_json(spec: dict) -> bytes:
    """Serialized ModelProto for a parsed `tokenizers` JSON with a Unigram model."""
    model = spec["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"not a Unigram tokenizer: {model.get('type')}")
    if model.get("byte_fallback"):
        raise ValueError("byte-fallback Unigram tokenizers are not supported")
    metaspace = _metaspace(spec)
    if metaspace is None or metaspace.get("replacement", "▁") != "▁":
        raise ValueError("only SentencePiece-style tokenizers (a '▁' Metaspace) can be written as SentencePiece")
    unk_id = int(model["unk_id"])
    special = {t["content"] for t in spec.get("added_tokens") or [] if t.get("special")}
    proto = pb.ModelProto()
    ids = {}
    for i, (piece, score) in enumerate(model["vocab"]):
        ids[piece] = i
        p = proto.pieces.add()
        p.score = float(score)
        if i == unk_id:
            p.piece, p.type = piece, pb.ModelProto.SentencePiece.UNKNOWN
        elif piece in RENAMED or piece in special or (piece.startswith("<") and piece.endswith(">")):
            p.piece, p.type = RENAMED.get(piece, piece), pb.ModelProto.SentencePiece.CONTROL
        else:
            p.piece, p.type = piece, pb.ModelProto.SentencePiece.NORMAL
    t = proto.trainer_spec
    t.model_type, t.vocab_size = pb.TrainerSpec.UNIGRAM, len(model["vocab"])
    t.unk_id, t.bos_id, t.eos_id, t.pad_id = unk_id, ids.get("<s>", -1), ids.get("</s>", -1), ids.get("<pad>", -1)
    n = proto.normalizer_spec
    n.name, n.precompiled_charsmap = "nmt_nfkc", _charsmap(spec)
    prepend = metaspace.get("prepend_scheme", "always" if metaspace.get("add_prefix_space", True) else "never")
    n.add_dummy_prefix, n.escape_whitespaces = prepend != "never", True
    n.remove_extra_whitespaces = _collapses_spaces(spec)
    return proto.SerializeToString()
