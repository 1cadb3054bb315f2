"""Shrink a teacher's SentencePiece (Unigram) vocabulary to the pieces a data set uses.

multilingual-e5-small has 250k pieces; its 250037 x 384 embedding table is 82 % of
its parameters and dominates fine-tuning memory (the table and its optimizer slots).
A Chinese sentiment data set uses about 10 % of the pieces. `prune_source` keeps

* every piece the tokenizer produces on `texts`,
* every single-character piece (so unseen text still tokenises, into shorter pieces),
* the special tokens (cls/sep/pad, `<unk>`, `<mask>`, ...), and
* the lowest-scoring piece: `tokenizers` scores an unknown character as
  (min piece score - 10), so keeping the minimum keeps unknowns scored as before,

and renumbers them in their old order, in the tokenizer JSON and the embedding rows
alike. Viterbi over a subset that still contains the best segmentation finds that
same segmentation, so the pruned tokenizer gives the same token strings on `texts`.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
from tokenizers import Tokenizer

from modelprep.teacher_source import TeacherSource

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
_CONTROL_PIECE = re.compile(r"^<[/A-Za-z_|]+>$")   # <s>, </s>, <pad>, <unk>, <mask>


def used_ids(tokenizer: Tokenizer, texts: list[str], batch: int = 4096) -> set[int]:
    """Every token id the tokenizer produces on `texts` (specials not added)."""
    ids: set[int] = set()
    for start in range(0, len(texts), batch):
        for enc in tokenizer.encode_batch(texts[start : start + batch], add_special_tokens=False):
            ids.update(enc.ids)
    return ids


def prune_source(source: TeacherSource, texts: list[str],
                 keep_single_chars: bool = True) -> TeacherSource:
    """A copy of `source` whose vocabulary holds only what `texts` need (see module
    doc). Weights other than the word embeddings are shared, not copied."""
    spec = json.loads(source.tokenizer_json)
    model = spec.get("model") or {}
    if model.get("type") != "Unigram":
        raise ValueError(f"{source.name}: vocabulary pruning needs a Unigram (SentencePiece) "
                         f"tokenizer, not {model.get('type')!r}")
    vocab: list[list] = model["vocab"]
    table = source.weights[WORD_EMBEDDINGS]
    if table.shape[0] < len(vocab):
        raise ValueError(f"{source.name}: {len(vocab)} pieces but only {table.shape[0]} embedding rows")

    keep = used_ids(Tokenizer.from_str(source.tokenizer_json), list(texts))
    unk_id = model.get("unk_id")
    keep |= {source.cls_id, source.sep_id, source.pad_id}
    keep |= {unk_id} if unk_id is not None else set()
    keep |= {t["id"] for t in spec.get("added_tokens") or []}
    scores = np.array([s for _, s in vocab], dtype=np.float64)
    keep.add(int(np.argmin(scores)))
    for i, (piece, _score) in enumerate(vocab):
        if (keep_single_chars and len(piece) == 1) or _CONTROL_PIECE.match(piece):
            keep.add(i)

    kept = np.array(sorted(keep), dtype=np.int64)
    new_id = {int(old): new for new, old in enumerate(kept.tolist())}
    model["vocab"] = [vocab[i] for i in kept.tolist()]
    if unk_id is not None:
        model["unk_id"] = new_id[unk_id]
    for tok in spec.get("added_tokens") or []:
        tok["id"] = new_id[tok["id"]]

    weights = dict(source.weights)
    weights[WORD_EMBEDDINGS] = np.ascontiguousarray(table[kept])
    notes = dict(source.notes)
    notes["vocab_pruned"] = {"pieces_before": len(vocab), "pieces_after": int(len(kept)),
                             "texts": len(texts), "single_chars_kept": keep_single_chars}
    return replace(
        source,
        config=replace(source.config, vocab_size=int(len(kept))),
        weights=weights,
        tokenizer_json=json.dumps(spec, ensure_ascii=False),
        cls_id=new_id[source.cls_id],
        sep_id=new_id[source.sep_id],
        pad_id=new_id[source.pad_id],
        notes=notes,
    )
