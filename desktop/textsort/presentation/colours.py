"""One colour per label, the same in the app, the CLI (`--explain` on a terminal) and JSON.

Okabe-Ito colours (told apart with the common colour-vision deficiencies), in label
order; labels that plainly mean "bad" or "good" get the warm and the cool colour, so a
review model paints negative words vermillion and positive words blue wherever it shows them.
"""
from __future__ import annotations

import colorsys

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#7F7F7F")
WARM, COOL = "#D55E00", "#0072B2"
NEGATIVE = {"negative", "neg", "bad", "spam", "junk", "toxic", "complaint", "负面", "差评", "消极", "垃圾"}
POSITIVE = {"positive", "pos", "good", "ham", "clean", "praise", "正面", "好评", "积极"}


def _extra(i: int) -> str:
    """Colours past the palette: hues spread by the golden angle, mid lightness."""
    r, g, b = colorsys.hls_to_rgb((i * 0.618033988749895) % 1.0, 0.45, 0.65)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def label_colours(labels) -> dict[str, str]:
    """label -> "#RRGGBB" for a model's labels (stable for the same label list): a label
    that plainly means "bad" gets the warm colour, one that means "good" the cool one
    (when the model has one of each), the rest the palette's colours in label order."""
    labels = [str(x) for x in labels]
    keys = [x.strip().casefold() for x in labels]
    fixed: dict[str, str] = {}
    bad = next((lab for lab, k in zip(labels, keys) if k in NEGATIVE), None)
    good = next((lab for lab, k in zip(labels, keys) if k in POSITIVE), None)
    if bad is not None and good is not None:
        fixed = {bad: WARM, good: COOL}
    rest = iter(c for c in PALETTE if c not in fixed.values())
    out: dict[str, str] = {}
    for i, label in enumerate(labels):
        if label not in out:
            out[label] = fixed.get(label) or next(rest, None) or _extra(i)
    return out


def rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
