"""The model card beside a trained bundle: textsort.presentation.card's Markdown + a confusion-matrix PNG.

The card itself is rendered by the runtime (`textsort.presentation.card.render_card`): the app, the
`textsort models --card` command and this report show the same text. Here it gets a
picture: `write_report(manifest, Path("x/MODEL.md"))` writes `x/MODEL.md` (the card,
with `MODEL.confusion.png` shown under the confusion-matrix table) and the PNG, and
returns the card without the picture, for the bundle (report.md), where no PNG is beside
it. The card reads fine without the picture: the table has the same numbers.

A file already at either name is replaced only when it is the one an earlier run wrote
there (its SHA-256 is in the replaced bundle's `beside` record); otherwise the report goes
to the first free `MODEL-N.md` and the log says so (textsort.files.safe_files's rule).
"""
from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np

from textsort.files.safe_files import create_new, replace_atomically, taken
from textsort.presentation.card import confusion_matrix, escape_markdown, render_card  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)
CJK_FONT_HINTS = ("cjk", "wqy", "wenquanyi", "han sans", "hansans", "han serif", "hei", "song",
                  "ming", "gothic", "yahei", "simsun", "pingfang", "hiragino", "droid", "uming",
                  "ukai", "fallback", "noto")


class Report(NamedTuple):
    card: str            # the card without the picture, as it goes into the bundle (report.md)
    md: Path | None      # where the card with its picture was written (None: nowhere)
    files: dict          # {file name: sha256} of what was written beside the bundle (the bundle records it)


def _draw_confusion(manifest: dict, stem: str) -> tuple[dict, bytes] | None:
    """The card's picture arguments for STEM.confusion.png and the PNG's bytes, or None."""
    found = confusion_matrix(manifest)
    if not found:
        return None
    where, labels, matrix = found
    png = io.BytesIO()
    try:
        used_indices = plot_confusion(matrix, labels, png, title=where[:1].upper() + where[1:])
    except Exception as e:  # the picture is an extra; never lose the card over it
        log.warning("no confusion-matrix picture (%s: %s)", type(e).__name__, e)
        return None
    note = None
    if used_indices:
        note = ("No font for these label names was found, so the picture uses indices: "
                + ", ".join(f"{i} = {escape_markdown(label)}" for i, label in enumerate(labels)) + ".")
    return {"confusion_picture": f"{stem}.confusion.png", "confusion_note": note}, png.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ours(path: Path, ours: dict) -> bool:
    """Nothing is at `path`, or it is the very file an earlier write recorded (same bytes)."""
    if not taken(path):
        return True
    want = ours.get(path.name)
    if not want:
        return False
    try:
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return False
    return data is not None and _sha256(data) == want


def write_report(manifest: dict, out_md, ours: dict | None = None) -> Report:
    """Write the card (with its confusion PNG beside it) to `out_md`, or, when a file that
    Textsort did not write is at that name or the picture's, to the first free `stem-N.md`.
    `ours` ({name: sha256}, what the bundle being replaced recorded) names the files that
    may be replaced. Never writes through a link."""
    out_md = Path(out_md)
    ours = ours or {}
    out_md.parent.mkdir(parents=True, exist_ok=True)
    plain = render_card(manifest)
    stem = out_md.stem
    for n in range(1, 1000):
        name = stem if n == 1 else f"{stem}-{n}"
        md = out_md.with_name(f"{name}.md")
        png = out_md.with_name(f"{name}.confusion.png")
        if _ours(md, ours) and _ours(png, ours):
            break
    else:
        log.warning("no report beside %s: no free name", out_md)
        return Report(plain, None, {})
    picture = _draw_confusion(manifest, name)
    text = (render_card(manifest, **picture[0]) if picture else plain).encode("utf-8")
    files = {}
    for path, data in ((png, picture[1] if picture else None), (md, text)):
        if data is None:
            continue
        (replace_atomically if taken(path) else create_new)(path, data)
        files[path.name] = _sha256(data)
    if md != out_md:
        log.warning("%s is not a file Textsort wrote, so the report went to %s", out_md, md)
    return Report(plain, md, files)


# ---------------------------------------------------------------- the picture

def _covers(font_path: str, chars: set[int]) -> bool:
    from matplotlib.ft2font import FT2Font
    try:
        return chars <= set(FT2Font(font_path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return False


def find_font(text: str) -> str | None:
    """Path of an installed font with a glyph for every character of `text`
    (DejaVu Sans, matplotlib's default, first; then fonts whose name suggests CJK)."""
    from matplotlib import font_manager

    chars = {ord(c) for c in text if not c.isspace()}
    default = font_manager.findfont("DejaVu Sans", fallback_to_default=True)
    if _covers(default, chars):
        return default
    known = [f.fname for f in font_manager.fontManager.ttflist]
    candidates = dict.fromkeys(known + sorted(font_manager.findSystemFonts()))
    for path in candidates:
        if any(h in Path(path).name.lower() for h in CJK_FONT_HINTS) and _covers(path, chars):
            return path
    return None


def plot_confusion(matrix, labels: list[str], png, title: str = "") -> bool:
    """Draw the confusion matrix to `png` (a path or a binary file). Returns True when label indices had to be
    used because no installed font covers the label names."""
    from matplotlib.figure import Figure  # no pyplot: no global state, Agg via savefig
    from matplotlib.font_manager import FontProperties

    cm = np.asarray(matrix, dtype=float)
    k = len(cm)
    font_path = find_font("".join(labels))
    tick_labels = labels if font_path else [str(i) for i in range(k)]
    font = FontProperties(fname=font_path) if font_path else None
    side = min(4 + 0.6 * k, 20)
    fig = Figure(figsize=(side, side * 0.85), dpi=100)
    ax = fig.subplots()
    row_sums = cm.sum(axis=1, keepdims=True)
    ax.imshow(np.divide(cm, row_sums, out=np.zeros_like(cm), where=row_sums > 0), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), tick_labels, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center",
                  fontproperties=font)
    ax.set_yticks(range(k), tick_labels, fontproperties=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    if k <= 30:
        for i in range(k):
            for j in range(k):
                share = cm[i, j] / row_sums[i, 0] if row_sums[i, 0] else 0
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if share > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(png, format="png")
    return font_path is None
