"""Text -> token windows, exactly as in training and at run time.

The one place where tokenisation and the long-text window rule live; `modelprep`
imports it too, so a bundle is always read the way it was trained.
See docs/bundle-format.md, "Tokenisation and long texts".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer


@dataclass(frozen=True)
class TokenizerSpec:
    """The `tokenizer` section of a bundle manifest."""

    max_length: int = 128
    cls_id: int = 101
    sep_id: int = 102
    pad_id: int = 0
    window_stride: int | None = None  # content tokens between window starts; None = 50 %
    file: str = "tokenizer.json"

    @property
    def content_length(self) -> int:
        return self.max_length - 2

    @property
    def stride(self) -> int:
        return self.window_stride or max(1, self.content_length // 2)

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "max_length": self.max_length,
            "window_stride": self.stride,
            "cls_id": self.cls_id,
            "sep_id": self.sep_id,
            "pad_id": self.pad_id,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TokenizerSpec":
        return cls(
            max_length=int(d["max_length"]),
            cls_id=int(d["cls_id"]),
            sep_id=int(d["sep_id"]),
            pad_id=int(d.get("pad_id", 0)),
            window_stride=int(d["window_stride"]) if d.get("window_stride") else None,
            file=d.get("file", "tokenizer.json"),
        )


@dataclass
class Tokens:
    """Content tokens of one text (no specials) with character offsets."""

    ids: np.ndarray  # int32 [n]
    offsets: np.ndarray  # int64 [n, 2]: start, end character of each token


def window_starts(n: int, content_length: int, stride: int) -> list[int]:
    """Start positions of the windows over n content tokens (see module doc)."""
    if n <= content_length:
        return [0]
    starts = list(range(0, n - content_length + 1, stride))
    if starts[-1] != n - content_length:
        starts.append(n - content_length)
    return starts


SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates: not Unicode text (JSON and os names carry them)


def tokenizable(text: str) -> str:
    """`text` with lone surrogates (not Unicode text; a tokenizer refuses them) replaced
    by U+FFFD, one code point for one, so character offsets stay the same."""
    return SURROGATE.sub("\ufffd", text)  # the same object back when there is none


SEGMENT_CHARS = 32_768  # longer texts are tokenised in segments cut at whitespace


def segments(text: str, size: int = SEGMENT_CHARS) -> list[tuple[int, str]]:
    """(start, piece) covering `text`, each at most about `size` characters, cut after a
    whitespace character where there is one in the last quarter (so no word is split in a
    space-separated script), else at `size`. Memory for tokens stays bounded by a segment,
    whatever the text's length; texts up to `size` are one segment (exactly as trained)."""
    if len(text) <= size:
        return [(0, text)]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(c, start + size * 3 // 4, end) for c in (" ", "\n", "\t", "\u3000"))
            end = cut + 1 if cut > start else end
        out.append((start, text[start:end]))
        start = end
    return out


class TextEncoder:
    def __init__(self, tokenizer: Tokenizer, spec: TokenizerSpec):
        if spec.max_length < 3:
            raise ValueError("max_length must be at least 3")
        self.tokenizer = tokenizer
        self.spec = spec
        # Specials are added here, never by the tokenizer; no truncation/padding there.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    @classmethod
    def from_json(cls, tokenizer_json: str, spec: TokenizerSpec | dict) -> "TextEncoder":
        if isinstance(spec, dict):
            spec = TokenizerSpec.from_dict(spec)
        return cls(Tokenizer.from_str(tokenizer_json), spec)

    # -- single text -------------------------------------------------------
    def _encodings(self, text: str):
        """(start, tokenizer Encoding) per segment of `text` (bounded memory whatever its length)."""
        for start, piece in segments(tokenizable(text)):
            yield start, self.tokenizer.encode(piece, add_special_tokens=False)

    def tokens(self, text: str) -> Tokens:
        ids, offsets = [], []
        for start, enc in self._encodings(text):
            ids.append(np.asarray(enc.ids, dtype=np.int32))
            offsets.append(np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2) + start)
        return Tokens(np.concatenate(ids), np.concatenate(offsets))

    def ids(self, text: str) -> np.ndarray:
        """Content token ids of one text (segment by segment: bounded memory)."""
        return np.concatenate([np.asarray(enc.ids, dtype=np.int32) for _, enc in self._encodings(text)])

    def windows_of(self, ids: np.ndarray) -> list[np.ndarray]:
        """Content ids -> windows, each `[cls] + window + [sep]` (int32)."""
        s = self.spec
        out = []
        for start in window_starts(len(ids), s.content_length, s.stride):
            chunk = ids[start : start + s.content_length]
            out.append(np.concatenate(([s.cls_id], chunk, [s.sep_id])).astype(np.int32))
        return out

    def encode(self, text: str) -> list[np.ndarray]:
        return self.windows_of(self.ids(text))

    # -- batches -----------------------------------------------------------
    def pad(self, windows: list[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Stack windows into (input_ids, attention_mask), padded to the longest."""
        length = length or max((len(w) for w in windows), default=2)
        ids = np.full((len(windows), length), self.spec.pad_id, dtype=np.int32)
        mask = np.zeros((len(windows), length), dtype=np.int32)
        for i, w in enumerate(windows):
            ids[i, : len(w)] = w
            mask[i, : len(w)] = 1
        return ids, mask

    def encode_batch(
        self, texts: list[str], first_window_only: bool = False
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """All windows of all texts, and for each window the index of its text."""
        texts = list(texts)
        short = [i for i, t in enumerate(texts) if len(t) <= SEGMENT_CHARS]
        ids: list[np.ndarray | None] = [None] * len(texts)
        encs = self.tokenizer.encode_batch([tokenizable(texts[i]) for i in short], add_special_tokens=False)
        for i, enc in zip(short, encs):
            ids[i] = np.asarray(enc.ids, dtype=np.int32)
        windows: list[np.ndarray] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            ws = self.windows_of(ids[i] if ids[i] is not None else self.ids(text))
            ids[i] = None
            if first_window_only:
                ws = ws[:1]
            windows.extend(ws)
            owner.extend([i] * len(ws))
        return windows, np.asarray(owner, dtype=np.int64)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def aggregate(window_probs: np.ndarray, owner: np.ndarray, n_texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of per-window probabilities per text -> (probs [n_texts, k], windows [n_texts])."""
    k = window_probs.shape[-1]
    sums = np.zeros((n_texts, k), dtype=np.float64)
    np.add.at(sums, owner, window_probs)
    counts = np.bincount(owner, minlength=n_texts)
    return (sums / np.maximum(counts, 1)[:, None]).astype(np.float32), counts
