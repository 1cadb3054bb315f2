"""Text -> token windows, exactly as in training and at run time.

The one place where tokenisation and the long-text window rule live; `modelprep`
imports it too, so a bundle is always read the way it was trained.
See docs/bundle-format.md, "Tokenisation and long texts".
"""
from __future__ import annotations

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
    offsets: list[tuple[int, int]]


def window_starts(n: int, content_length: int, stride: int) -> list[int]:
    """Start positions of the windows over n content tokens (see module doc)."""
    if n <= content_length:
        return [0]
    starts = list(range(0, n - content_length + 1, stride))
    if starts[-1] != n - content_length:
        starts.append(n - content_length)
    return starts


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
    def tokens(self, text: str) -> Tokens:
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return Tokens(np.asarray(enc.ids, dtype=np.int32), list(enc.offsets))

    def windows_of(self, ids: np.ndarray) -> list[np.ndarray]:
        """Content ids -> windows, each `[cls] + window + [sep]` (int32)."""
        s = self.spec
        out = []
        for start in window_starts(len(ids), s.content_length, s.stride):
            chunk = ids[start : start + s.content_length]
            out.append(np.concatenate(([s.cls_id], chunk, [s.sep_id])).astype(np.int32))
        return out

    def encode(self, text: str) -> list[np.ndarray]:
        return self.windows_of(self.tokens(text).ids)

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
        encs = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        windows: list[np.ndarray] = []
        owner: list[int] = []
        for i, enc in enumerate(encs):
            ws = self.windows_of(np.asarray(enc.ids, dtype=np.int32))
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
