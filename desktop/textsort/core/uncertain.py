"""The one "uncertain" rule, wherever a result is shown, exported or sorted (CLI, JSON,
CSV, `--sort-into`, the endpoint, the window). Plain Python, imported by all of them."""
from __future__ import annotations


def is_uncertain(p, warning: str | None = None, threshold: float = 0.0) -> bool:
    """`p` (an engine.Prediction, or None) is uncertain when it is below the classifier's
    threshold (`p.uncertain`) or a caller's `threshold` (the window's), or when `warning`
    says the text is in another language than the model's (its confidence then says
    nothing)."""
    return p is not None and (bool(p.uncertain) or p.score < threshold or bool(warning))
