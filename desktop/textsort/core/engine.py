"""The classifier: a bundle's LiteRT model behind predict / predict_batch / explain.

Long texts are cut into windows by `textsort.core.encoding.TextEncoder` and the window
probabilities averaged (`aggregate`), exactly as in training and evaluation.
Explanations are by occlusion, in `textsort.core.explain`.
"""
from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field

import numpy as np

from textsort.core.accelerators import make_runner
from textsort.core.bundle import Bundle, BundleError, load_bundle
from textsort.core.encoding import aggregate, softmax
from textsort.core.explain import Explanation, WordScore, explain  # noqa: F401  (re-exported)
from textsort.core.native import quiet_native_stderr


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


@dataclass(frozen=True)
class EngineLimits:
    """Batching and explanation limits (visible defaults)."""

    max_batch_tokens: int = 8192  # windows per model call x window length
    max_batch_windows: int = 256
    max_explain_windows: int = 20000  # occluded windows one explanation may run
    explain_windows: int = 16  # a longer text is explained on its 16 windows most for the label


def by_length(windows: list[np.ndarray], width: int, run, limits: EngineLimits = EngineLimits()) -> np.ndarray:
    """`run(ids, mask) -> [n, width]` over windows batched only with windows of the same
    length: nothing is ever padded, so a window's output never depends on its batch."""
    out = np.zeros((len(windows), width), dtype=np.float32)
    if not windows:
        return out
    lengths = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
    order = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, bounds):
        length = int(lengths[group[0]])
        step = max(1, min(limits.max_batch_windows, limits.max_batch_tokens // length))
        for i in range(0, len(group), step):
            idx = group[i : i + step]
            ids = np.stack([windows[t] for t in idx]).astype(np.int32, copy=False)
            out[idx] = run(ids, np.ones_like(ids))
    return out


class Classifier:
    """A loaded bundle ready to classify texts. Thread-safe (one model call at a time)."""

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike,
        threads: int | None = None,
        threshold: float = 0.0,
        top_k: int | None = None,
        limits: EngineLimits = EngineLimits(),
        accelerator: str = "cpu",
    ):
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        self.labels = self.bundle.labels
        self.encoder = self.bundle.make_encoder()
        self.threads = threads
        self.threshold = float(threshold)
        self.top_k = top_k
        self.limits = limits
        runner = make_runner(self.bundle, threads, accelerator)  # a GPU asked for and missing: the CPU
        self._runner, self.accelerator, self.accelerator_note = runner, runner.used, runner.note
        self._lock = threading.Lock()
        try:
            with quiet_native_stderr():  # the first call sets up the CPU delegate
                probe = self.window_logits(self.encoder.encode(""))
        except (RuntimeError, ValueError) as e:  # a damaged flatbuffer fails when it first runs
            raise BundleError(f"{self.bundle.path}: the model cannot run ({' '.join(str(e).split())[:200]}); "
                              "the model is damaged") from None
        if not np.isfinite(probe).all():
            raise BundleError(f"{self.bundle.path}: the model's output is not a number (NaN or infinite) on a "
                              "probe text; the model is damaged")

    # -- raw model ---------------------------------------------------------
    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Run the model on padded windows: int32 [n, length] each -> float32 [n, k] logits
        (a model with probability outputs gives log-probabilities: the same softmax)."""
        ids = np.ascontiguousarray(input_ids, dtype=np.int32)
        mask = np.ascontiguousarray(attention_mask, dtype=np.int32)
        with self._lock:
            out = self._runner.logits(ids, mask)
        return np.array(out, dtype=np.float32, copy=True)

    def window_logits(self, windows: list[np.ndarray]) -> np.ndarray:
        """Logits of each window [n, k].

        Windows are batched only with windows of the same length, so nothing is ever
        padded and a text's scores never depend on what else is in the batch."""
        return by_length(windows, len(self.labels), self.logits, self.limits)

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
    def explain(self, text: str, top_n: int = 10, cancel=None) -> Explanation:
        """The words that decided `text`'s label (`textsort.core.explain`: occlusion, fillers
        left out, repeats merged, each word with the label it pushes towards); `cancel()`
        turning true stops it with `textsort.core.explain.Cancelled`."""
        return explain(self, text, top_n, cancel)
