"""Noisy copies of texts to enlarge the distillation transfer set.

The copies are labelled by the teacher, so they only need to look like plausible
inputs, not keep their original label. Each copy applies one or two of: random
masking, adjacent swaps, dropout and an n-gram crop (a contiguous window of 50-90 %
of the units). A unit is a space-separated word, except that every CJK character
(Han, kana, CJK and full-width punctuation) is a unit of its own, so Chinese and
Japanese text is edited per character. Whitespace is rebuilt, not kept: one space
between two non-CJK units, none next to a CJK unit.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

_CJK = "\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f"
_UNIT = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
_IS_CJK = re.compile(f"[{_CJK}]")


@dataclass(frozen=True)
class AugmentConfig:
    mask_prob: float = 0.15     # per unit
    dropout_prob: float = 0.10  # per unit
    swap_fraction: float = 0.10  # adjacent swaps per unit (at least one)
    crop_min: float = 0.5       # n-gram crop keeps this ...
    crop_max: float = 0.9       # ... to this fraction of the units
    max_ops: int = 2            # each copy applies 1..max_ops distinct operations


def units(text: str) -> list[str]:
    """Words, with every CJK character a unit of its own; whitespace is not kept."""
    return _UNIT.findall(text)


def join_units(parts: list[str]) -> str:
    """Inverse of `units` up to whitespace: a space only between two non-CJK units."""
    out = []
    for i, part in enumerate(parts):
        if i and not _IS_CJK.match(part) and not _IS_CJK.match(parts[i - 1]):
            out.append(" ")
        out.append(part)
    return "".join(out)


def _mask(parts, rng, cfg, mask_token):
    out = [mask_token if rng.random() < cfg.mask_prob else p for p in parts]
    if out == parts:
        out[rng.randrange(len(out))] = mask_token
    return out


def _swap(parts, rng, cfg, mask_token):
    out = list(parts)
    n = min(len(out) - 1, max(1, round(len(out) * cfg.swap_fraction)))
    for i in rng.sample(range(len(out) - 1), n):  # distinct positions: never undoes itself
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _dropout(parts, rng, cfg, mask_token):
    out = [p for p in parts if rng.random() >= cfg.dropout_prob]
    if len(out) == len(parts):
        del out[rng.randrange(len(out))]
    return out or [rng.choice(parts)]


def _crop(parts, rng, cfg, mask_token):
    keep = max(1, round(len(parts) * rng.uniform(cfg.crop_min, cfg.crop_max)))
    start = rng.randrange(len(parts) - keep + 1)
    return parts[start:start + keep]


OPERATIONS = {"mask": _mask, "swap": _swap, "dropout": _dropout, "crop": _crop}


def augment_one(text: str, rng: random.Random, mask_token: str = "[MASK]",
                cfg: AugmentConfig = AugmentConfig()) -> str:
    """One noisy copy of `text`; texts of fewer than two units come back unchanged."""
    parts = units(text)
    if len(parts) < 2:
        return text
    for name in rng.sample(sorted(OPERATIONS), rng.randint(1, cfg.max_ops)):
        if len(parts) >= 2:
            parts = OPERATIONS[name](parts, rng, cfg, mask_token)
    return join_units(parts) or text


def augment(texts: list[str], copies: int, seed: int, mask_token: str = "[MASK]",
            cfg: AugmentConfig = AugmentConfig()) -> list[str]:
    """`copies * len(texts)` new texts; element `c * len(texts) + i` is copy `c` of
    `texts[i]` (so labels line up with `np.tile(y, copies)`). Same seed, same output.
    Never returns an empty string: an edit that would leave nothing gives the original."""
    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}")
    rng = random.Random(seed)
    return [augment_one(t, rng, mask_token, cfg) for _ in range(copies) for t in texts]
