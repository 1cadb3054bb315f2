"""The classifier: a bundle's LiteRT model behind predict / predict_batch / explain.

Long texts are cut into windows by `textsort.encoding.TextEncoder` and the window
probabilities averaged (`aggregate`), exactly as in training and evaluation.
Explanations are by occlusion (docs/runtime.md): a word's score is how much the
predicted label's log-odds drop when that word is removed.
"""
from __future__ import annotations

import bisect
import math
import os
import sys
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from textsort.bundle import Bundle, BundleError, load_bundle
from textsort.encoding import aggregate, softmax, window_starts
from textsort.language import is_cjk


@dataclass
class Prediction:
    label: str  # arg-max label (also when uncertain)
    score: float  # its probability
    scores: dict[str, float]  # every label's probability, in label order
    windows: int  # how many token windows the text was cut into
    uncertain: bool = False  # score below the classifier's threshold
    top: list[tuple[str, float]] = field(default_factory=list)  # top_k labels, best first

    @property
    def finite(self) -> bool:
        """False when the model produced NaN/infinity for this text: no label may be trusted."""
        return all(math.isfinite(v) for v in self.scores.values())


@dataclass
class WordScore:
    start: int  # character offsets into the explained text
    end: int
    text: str
    score: float  # > 0: pushed towards the predicted label


@dataclass
class Explanation:
    prediction: Prediction
    words: list[WordScore]  # top_n by |score|, largest first
    complete: bool = True  # False when the text was too long to score every word


@dataclass(frozen=True)
class EngineLimits:
    """Batching and explanation limits (visible defaults)."""

    max_batch_tokens: int = 8192  # windows per model call x window length
    max_batch_windows: int = 256
    max_explain_windows: int = 20000  # occluded windows one explanation may run
    explain_windows: int = 16  # a longer text is explained on its 16 windows most for the label


def log_odds(logits: np.ndarray, target: int) -> np.ndarray:
    """log(p / (1 - p)) of class `target` per row, straight from the logits:
    logit_t - logsumexp(other logits). Stable where p is 1 - 1e-12."""
    others = np.delete(logits, target, axis=-1)
    m = others.max(axis=-1, keepdims=True)
    lse = m[..., 0] + np.log(np.exp(others - m).sum(axis=-1))
    return logits[..., target] - lse


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


@contextmanager
def _quiet_native_stderr():
    """Silence LiteRT's native "INFO: Created XNNPACK delegate" line (fd 2) for a moment."""
    try:
        fd = sys.stderr.fileno()
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # no real stderr (pytest capture, GUI app)
        yield
        return
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class Classifier:
    """A loaded bundle ready to classify texts. Thread-safe (one model call at a time)."""

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike,
        threads: int | None = None,
        threshold: float = 0.0,
        top_k: int | None = None,
        limits: EngineLimits = EngineLimits(),
    ):
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        self.labels = self.bundle.labels
        self.encoder = self.bundle.make_encoder()
        self.threads = threads
        self.threshold = float(threshold)
        self.top_k = top_k
        self.limits = limits
        self._runner = self.bundle.interpreter(threads).get_signature_runner(self.bundle.signature)
        self._lock = threading.Lock()
        try:
            with _quiet_native_stderr():  # the first call sets up the CPU delegate
                probe = self.window_logits(self.encoder.encode(""))
        except (RuntimeError, ValueError) as e:  # a damaged flatbuffer fails when it first runs
            raise BundleError(f"{self.bundle.path}: the model cannot run ({' '.join(str(e).split())[:200]}); "
                              "the model is damaged") from None
        if not np.isfinite(probe).all():
            raise BundleError(f"{self.bundle.path}: the model's output is not a number (NaN or infinite) on a "
                              "probe text; the model is damaged")

    # -- raw model ---------------------------------------------------------
    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Run the model on padded windows: int32 [n, length] each -> float32 [n, k]."""
        ids = np.ascontiguousarray(input_ids, dtype=np.int32)
        mask = np.ascontiguousarray(attention_mask, dtype=np.int32)
        with self._lock:
            out = self._runner(input_ids=ids, attention_mask=mask)["logits"]
        return np.array(out, dtype=np.float32, copy=True)

    def window_logits(self, windows: list[np.ndarray]) -> np.ndarray:
        """Logits of each window [n, k].

        Windows are batched only with windows of the same length, so nothing is ever
        padded and a text's scores never depend on what else is in the batch."""
        out = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        if not windows:
            return out
        lengths = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
        order = np.argsort(lengths, kind="stable")
        bounds = np.flatnonzero(np.diff(lengths[order])) + 1
        for group in np.split(order, bounds):
            length = int(lengths[group[0]])
            step = max(1, min(self.limits.max_batch_windows, self.limits.max_batch_tokens // length))
            for i in range(0, len(group), step):
                idx = group[i : i + step]
                ids = np.stack([windows[t] for t in idx]).astype(np.int32, copy=False)
                out[idx] = self.logits(ids, np.ones_like(ids))
        return out

    def window_probs(self, windows: list[np.ndarray]) -> np.ndarray:
        """Softmax probabilities of each window [n, k]."""
        return softmax(self.window_logits(windows))

    # -- texts -------------------------------------------------------------
    def _proba_and_windows(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        windows, owner = self.encoder.encode_batch(list(texts))
        return aggregate(self.window_probs(windows), owner, len(texts))

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Windowed, aggregated probabilities [n_texts, n_labels]."""
        return self._proba_and_windows(texts)[0]

    def _prediction(self, probs: np.ndarray, windows: int) -> Prediction:
        best = int(np.argmax(probs))
        ranked = sorted(((self.labels[i], float(probs[i])) for i in range(len(self.labels))), key=lambda t: -t[1])
        return Prediction(
            label=self.labels[best],
            score=float(probs[best]),
            scores={lab: float(p) for lab, p in zip(self.labels, probs)},
            windows=int(windows),
            uncertain=float(probs[best]) < self.threshold,
            top=ranked[: self.top_k] if self.top_k else ranked,
        )

    def predict_batch(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        probs, counts = self._proba_and_windows(texts)
        return [self._prediction(p, c) for p, c in zip(probs, counts)]

    def predict(self, text: str) -> Prediction:
        return self.predict_batch([text])[0]

    # -- explanation -------------------------------------------------------
    def explain(self, text: str, top_n: int = 10) -> Explanation:
        """Occlusion: score = log-odds(pred | window) - log-odds(pred | window without
        the word), summed over the windows that hold the word and divided by the number
        of windows explained. Log-odds (computed from the logits, so they never saturate)
        keep words distinguishable when the model is 99.99 % sure; > 0 means the word
        pushed the text towards the predicted label. A text of more than
        `limits.explain_windows` windows is explained on the windows with the highest
        log-odds for the predicted label only (`complete` is then False): cost and memory
        stay bounded whatever the text's length."""
        toks = self.encoder.tokens(text)
        windows = self.encoder.windows_of(toks.ids)
        base_logits = self.window_logits(windows).astype(np.float64)
        probs = softmax(base_logits).mean(axis=0)
        pred = self._prediction(probs, len(windows))
        target = self.labels.index(pred.label)
        base_lo = log_odds(base_logits, target)
        spec = self.encoder.spec
        starts = window_starts(len(toks.ids), spec.content_length, spec.stride)
        length = spec.content_length
        # A long text is explained on its deciding windows only: those most for the label.
        keep = sorted(np.argsort(-base_lo, kind="stable")[: self.limits.explain_windows].tolist())
        complete = len(keep) == len(windows)
        units = []
        for a, b in _merge_ranges([(starts[w], min(starts[w] + length, len(toks.ids))) for w in keep]):
            units += [(s, e, [a + t for t in idx]) for s, e, idx in word_units(text, toks.offsets[a:b])]
        keep_set = set(keep)
        jobs: list[tuple[int, int]] = []  # (unit, window)
        variants: list[np.ndarray] = []
        cap = self.limits.max_explain_windows
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
        occluded_lo = log_odds(self.window_logits(variants).astype(np.float64), target) if variants else []
        scores = np.zeros(len(units), dtype=np.float64)
        scored = np.zeros(len(units), dtype=bool)
        for (u, w), lo in zip(jobs, occluded_lo):
            scores[u] += (base_lo[w] - lo) / len(keep)
            scored[u] = True
        words = [
            WordScore(s, e, text[s:e], float(scores[u]))
            for u, (s, e, _) in enumerate(units)
            if scored[u]
        ]
        words.sort(key=lambda ws: -abs(ws.score))
        return Explanation(prediction=pred, words=words[:top_n] if top_n else words, complete=complete)
