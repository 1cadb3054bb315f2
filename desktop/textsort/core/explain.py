"""Which words decided a text's label: occlusion on the runtime's own model.

A word's score is how much the predicted label's log-odds drop when the word is removed
(docs/runtime.md). What a person is shown follows three rules, here and nowhere else:
- punctuation and stop-words (`language.is_filler`) are not scored or shown;
- a word that occurs several times is one entry with a count (its scores summed) and
  every occurrence's span;
- a word is *deciding* (listed, coloured) when its push is at least `DECIDING_SHARE` of
  the strongest word's; each word carries the label it pushes towards, so colours keep
  their meaning per class (`textsort.presentation.colours`).
"""
from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from textsort.core.encoding import softmax, window_starts
from textsort.core.language import is_cjk, is_filler

CANCEL_EVERY = 256  # occluded windows scored between two looks at `cancel`


class Cancelled(Exception):
    """`explain(..., cancel=...)` stopped because `cancel()` turned true."""


DECIDING_SHARE = 0.1  # a word decides when it pushes at least this share of the strongest word


@dataclass
class WordScore:
    start: int  # character offsets of its first occurrence in the explained text
    end: int
    text: str
    score: float  # summed over occurrences; > 0: pushed towards the predicted label
    label: str = ""  # the label this word pushes towards
    count: int = 1  # occurrences (in the explained windows)
    spans: list[tuple[int, int]] = field(default_factory=list)  # every occurrence

    def to_dict(self, colours: dict[str, str] | None = None) -> dict:
        d = {"text": self.text, "start": self.start, "end": self.end, "score": round(self.score, 6),
             "label": self.label, "count": self.count}
        if colours and self.label in colours:
            d["colour"] = colours[self.label]
        return d


@dataclass
class Explanation:
    prediction: object  # engine.Prediction
    words: list[WordScore]  # top_n by |score|, largest first (fillers left out, repeats merged)
    complete: bool = True  # False when the text was too long to score every word

    @property
    def deciding(self) -> list[WordScore]:
        """The words worth showing (at least DECIDING_SHARE of the strongest word's push):
        those that pushed towards the label given first, then those that pushed against it
        (the label won despite them), each group strongest first. Listed by strength alone,
        a text labelled ham at 100 % could open with words pushing towards spam."""
        strongest = max((abs(w.score) for w in self.words), default=0.0)
        shown = [w for w in self.words if strongest > 0 and abs(w.score) >= DECIDING_SHARE * strongest]
        return [w for w in shown if w.score > 0] + [w for w in shown if w.score <= 0]

    @property
    def against(self) -> int:
        """How many deciding words pushed away from the label given."""
        return sum(w.score <= 0 for w in self.deciding)


def log_odds(logits: np.ndarray, target: int) -> np.ndarray:
    """log(p / (1 - p)) of class `target` per row, straight from the logits:
    logit_t - logsumexp(other logits). Stable where p is 1 - 1e-12."""
    others = np.delete(logits, target, axis=-1)
    m = others.max(axis=-1, keepdims=True)
    lse = m[..., 0] + np.log(np.exp(others - m).sum(axis=-1))
    return logits[..., target] - lse


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(softmax(logits), 1e-300))


def _is_wordish(s: str) -> bool:
    return any(unicodedata.category(c)[0] in "LNM" for c in s)


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def word_units(text: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int, list[int]]]:
    """Group tokens into units: (start, end, token indices).

    Space-delimited scripts: a unit is a word (WordPiece `##` pieces and other touching
    word pieces are merged; punctuation glued between words joins them, as in URLs;
    other punctuation stands alone). CJK: one unit per token.
    """
    units: list[list] = []  # [start, end, [token indices]]
    pending: list[int] = []  # zero-width tokens, attached to the next unit
    prev_joinable = False
    for i, (s, e) in enumerate(offsets.tolist() if hasattr(offsets, "tolist") else offsets):
        raw = text[s:e]
        piece = raw.lstrip()
        if not piece:
            pending.append(i)
            continue
        s += len(raw) - len(piece)
        cjk = any(is_cjk(c) for c in piece)
        joinable = _is_wordish(piece) and not cjk
        if units and prev_joinable and joinable and s == units[-1][1] and raw == piece:
            units[-1][1] = e
            units[-1][2].extend(pending + [i])
        else:
            units.append([s, e, pending + [i]])
        pending = []
        prev_joinable = joinable
    if pending and units:
        units[-1][2].extend(pending)
    return [(s, e, idx) for s, e, idx in _join_inner_punctuation(text, units)]


def _join_inner_punctuation(text: str, units: list[list]) -> list[list]:
    """Punctuation glued between two words joins them: "http://x.com", "don't",
    "e-mail" are one unit each; a full stop or "!" after a word stays alone."""
    out: list[list] = []
    i = 0
    while i < len(units):
        u = units[i]
        if (
            out and i + 1 < len(units)
            and not _is_wordish(text[u[0]:u[1]])
            and out[-1][1] == u[0] and units[i + 1][0] == u[1]
            and not any(is_cjk(c) for c in text[out[-1][0]:units[i + 1][1]])
        ):
            nxt = units[i + 1]
            out[-1] = [out[-1][0], nxt[1], out[-1][2] + u[2] + nxt[2]]
            i += 2
            continue
        out.append(u)
        i += 1
    return out


def word_key(word: str) -> str:
    """Occurrences of the same word: NFKC, case-folded ("Free", "FREE", "ｆｒｅｅ")."""
    return unicodedata.normalize("NFKC", word).casefold()


def explain(clf, text: str, top_n: int = 10, cancel=None) -> Explanation:
    """Occlusion: score = log-odds(pred | window) - log-odds(pred | window without the
    word), summed over the windows that hold the word and divided by the number of windows
    explained. Log-odds (computed from the logits, so they never saturate) keep words
    distinguishable when the model is 99.99 % sure. A text of more than
    `clf.limits.explain_windows` windows is explained on the windows with the highest
    log-odds for the predicted label only (`complete` is then False): cost and memory stay
    bounded whatever the text's length. `clf` is an `engine.Classifier`; `cancel()` is
    polled between batches of occluded windows (raises `Cancelled`)."""
    toks = clf.encoder.tokens(text)
    windows = clf.encoder.windows_of(toks.ids)
    base_logits = _scored(clf, windows, cancel)
    probs = softmax(base_logits).mean(axis=0)
    pred = clf._prediction(probs, len(windows))
    target = clf.labels.index(pred.label)
    base_lo = log_odds(base_logits, target)
    base_ls = _log_softmax(base_logits)
    spec = clf.encoder.spec
    starts = window_starts(len(toks.ids), spec.content_length, spec.stride)
    length = spec.content_length
    # A long text is explained on its deciding windows only: those most for the label.
    keep = sorted(np.argsort(-base_lo, kind="stable")[: clf.limits.explain_windows].tolist())
    complete = len(keep) == len(windows)
    units = []
    for a, b in _merge_ranges([(starts[w], min(starts[w] + length, len(toks.ids))) for w in keep]):
        units += [(s, e, [a + t for t in idx]) for s, e, idx in word_units(text, toks.offsets[a:b])
                  if not is_filler(text[s:e])]
    keep_set = set(keep)
    jobs: list[tuple[int, int]] = []  # (unit, window)
    variants: list[np.ndarray] = []
    cap = clf.limits.max_explain_windows
    for u, (_, _, tok_idx) in enumerate(units):
        if not tok_idx:
            continue
        # windows holding a token t start in (t - length, t]; `starts` is ascending,
        # so only those windows are visited (cost ~ words x windows-per-word)
        first = bisect.bisect_right(starts, min(tok_idx) - length)
        last = bisect.bisect_right(starts, max(tok_idx))
        for w in range(first, last):
            if w not in keep_set:
                continue
            start = starts[w]
            inside = [t - start for t in tok_idx if start <= t < start + length]
            if not inside:
                continue
            if len(variants) >= cap:
                complete = False
                break
            content = np.delete(windows[w][1:-1], inside)
            variants.append(np.concatenate(([spec.cls_id], content, [spec.sep_id])).astype(np.int32))
            jobs.append((u, w))
        if len(variants) >= cap and u + 1 < len(units):
            complete = False
            break  # the budget is spent: later words are not scored
    occluded = _scored(clf, variants, cancel)
    occluded_lo, occluded_ls = log_odds(occluded, target), _log_softmax(occluded)
    scores = np.zeros(len(units), dtype=np.float64)
    drops = np.zeros((len(units), len(clf.labels)), dtype=np.float64)  # log-probability lost, per label
    scored = np.zeros(len(units), dtype=bool)
    for j, (u, w) in enumerate(jobs):
        scores[u] += (base_lo[w] - occluded_lo[j]) / len(keep)
        drops[u] += (base_ls[w] - occluded_ls[j]) / len(keep)
        scored[u] = True
    merged: dict[str, list] = {}  # key -> [first unit, score, drops, spans]
    for u, (s, e, _) in enumerate(units):
        if not scored[u]:
            continue
        entry = merged.setdefault(word_key(text[s:e]), [u, 0.0, np.zeros(len(clf.labels)), []])
        entry[1] += scores[u]
        entry[2] += drops[u]
        entry[3].append((s, e))
    words = [WordScore(units[u][0], units[u][1], text[units[u][0]:units[u][1]], float(score),
                       _towards(clf.labels, target, score, drop), len(spans), spans)
             for u, score, drop, spans in merged.values()]
    words.sort(key=lambda ws: -abs(ws.score))
    return Explanation(prediction=pred, words=words[:top_n] if top_n else words, complete=complete)


def _scored(clf, windows: list, cancel) -> np.ndarray:
    """Logits of `windows` [n, k] in float64, looking at `cancel()` every CANCEL_EVERY
    windows (each window is scored on its own, so the chunks change nothing)."""
    step = CANCEL_EVERY if cancel is not None else max(len(windows), 1)
    out = np.zeros((len(windows), len(clf.labels)))
    for i in range(0, len(windows), step):
        if cancel is not None and cancel():
            raise Cancelled
        out[i:i + step] = clf.window_logits(windows[i:i + step])
    return out


def _towards(labels: list[str], target: int, score: float, drop: np.ndarray) -> str:
    """The label a word pushes towards: the predicted one when it raised its odds, else the
    label whose probability fell most without the word (the other one, for two labels)."""
    if score > 0:
        return labels[target]
    others = [i for i in range(len(labels)) if i != target]
    return labels[max(others, key=lambda i: drop[i])] if others else labels[target]
