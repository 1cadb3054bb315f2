"""What to label next (the app's Label view, `textsort-prep suggest`, bench/active.py).

Every text is embedded once by the pretrained encoder (the few-label teacher's int8
embedder, modelprep.fewshot.Embedder). Then:
- **before each label has `min_per_label` examples**: a diverse batch: k-means on the
  unlabelled texts' embeddings, the text nearest each centre, so that every region of the
  data is shown early;
- **after that**: the quick model (logistic regression on the embeddings, balanced class
  weights, C by cross-validation) scores the unlabelled texts; for half the batch the
  `uncertain_pool` x that many least sure of them (smallest margin between the two best
  labels) are clustered, and the least sure text of each group is picked (uncertain, but
  not near-copies of one confusing text); the other half is the diverse pick again, over
  the rest. Least-sure alone gained up to 4 points on ag_news but lost up to 1.7 on
  chnsenticorp (bench/active.py); the half-and-half mix stayed within 0.4 of random or
  above it on both.
The quick model's cross-validated accuracy on the labels so far is reported each time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modelprep.config import FewShotConfig


@dataclass(frozen=True)
class ActiveConfig:
    batch: int = 16               # texts picked per request
    min_per_label: int = 2        # below this many examples of some label: diversity only
    uncertain_pool: int = 4       # candidates: this many x batch of the least sure texts
    diverse_share: float = 0.5    # share of a later batch still picked for coverage alone (half: measured on
                                  # ag_news and chnsenticorp, bench/active.py; least-sure alone lost on chnsenticorp)
    class_weight: str | None = "balanced"  # the quick model: uncertain picks skew the classes; without it a
                                           # flat fit predicts the labels' majority (0.41 on chnsenticorp)
    c_grid: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
    seed: int = 0


def _kmeans_picks(X: np.ndarray, candidates: np.ndarray, n: int, seed: int, score: np.ndarray | None = None):
    """One candidate per k-means cluster: the one nearest its centre, or (with `score`) the
    lowest-scoring one of the cluster."""
    from sklearn.cluster import KMeans

    n = min(n, len(candidates))
    if n <= 0:
        return []
    if n == len(candidates):
        return list(candidates)
    km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(X[candidates])
    picks = []
    for c in range(n):
        members = candidates[km.labels_ == c]
        if not len(members):
            continue
        if score is None:
            d = np.linalg.norm(X[members] - km.cluster_centers_[c], axis=1)
            picks.append(int(members[np.argmin(d)]))
        else:
            picks.append(int(members[np.argmin(score[members])]))
    return picks


def quick_model(X: np.ndarray, y: np.ndarray, n_labels: int, cfg: "ActiveConfig | None" = None):
    """Logistic regression on the labelled embeddings (balanced class weights), C by
    cross-validated log-loss; with its k-fold accuracy (None when a label has one example)."""
    from sklearn.linear_model import LogisticRegression

    from modelprep.fewshot import _proba, folds_for

    cfg = cfg or ActiveConfig()

    def lr(C):
        return LogisticRegression(C=C, max_iter=3000, random_state=cfg.seed, class_weight=cfg.class_weight)

    counts = np.bincount(y, minlength=n_labels)
    if counts[counts > 0].min() < 2 or (counts > 0).sum() < 2:
        return lr(cfg.c_grid[0]).fit(X, y), None
    folds = folds_for(y, FewShotConfig(seed=cfg.seed))
    best = None
    for C in cfg.c_grid:
        probs = np.zeros((len(y), n_labels))
        for fit_idx, held in folds:
            probs[held] = _proba(lr(C).fit(X[fit_idx], y[fit_idx]), X[held], n_labels)
        loss = -np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12)))
        if best is None or loss < best[0]:
            best = (loss, C, float(np.mean(probs.argmax(1) == y)))
    return lr(best[1]).fit(X, y), best[2]


def suggest(X: np.ndarray, labelled: np.ndarray, y: np.ndarray, n_labels: int,
            cfg: ActiveConfig = ActiveConfig()) -> tuple[list[int], dict]:
    """Indices of X to label next (never a labelled one), and what the choice was based on."""
    from modelprep.fewshot import _proba

    labelled = np.asarray(labelled, np.int64)
    rest = np.setdiff1d(np.arange(len(X)), labelled)
    counts = np.bincount(y, minlength=n_labels) if len(y) else np.zeros(n_labels, np.int64)
    if n_labels < 2 or counts.min() < cfg.min_per_label:
        return _kmeans_picks(X, rest, cfg.batch, cfg.seed), {"method": "diverse", "cv_accuracy": None,
                                                             "labelled": int(len(labelled))}
    clf, cv = quick_model(X[labelled], y, n_labels, cfg)
    probs = _proba(clf, X[rest], n_labels)
    top2 = np.sort(probs, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    order = np.argsort(margin, kind="stable")
    n_diverse = int(round(cfg.diverse_share * cfg.batch))
    n_sure = cfg.batch - n_diverse
    candidates = rest[order[: cfg.uncertain_pool * n_sure]]
    score = np.full(len(X), np.inf)
    score[rest] = margin
    picks = _kmeans_picks(X, candidates, n_sure, cfg.seed, score)
    if n_diverse:
        others = np.setdiff1d(rest, picks)
        picks += _kmeans_picks(X, others, n_diverse, cfg.seed)
    return picks, {"method": "least sure, diverse", "cv_accuracy": cv, "labelled": int(len(labelled))}


# ---------------------------------------------------------------- the app's request
def embed_source(session, cache: Path, teacher: str = "auto") -> np.ndarray:
    """Every text of a `textsort.labelling.LabelSession`, embedded by the teacher's int8
    encoder. Kept in `cache` by text SHA-256 (with the exported encoder and its tokenizer),
    so that the next request embeds only new or changed texts and needs no TensorFlow."""
    import hashlib
    import json

    from modelprep.fewshot import Embedder
    from modelprep.teachers import choose_teacher
    from modelprep.vocab import prune_source
    from textsort.encoding import TextEncoder, TokenizerSpec

    cache.mkdir(parents=True, exist_ok=True)
    source, _ = choose_teacher(session.texts[:500], teacher)
    key = hashlib.sha256(f"{source.name}|{teacher}|{session.source}".encode("utf-8", "surrogateescape")).hexdigest()[:12]
    store, model, tok = cache / f"embeddings-{key}.npz", cache / f"encoder-{key}.tflite", cache / f"tokenizer-{key}.json"
    known: dict[str, np.ndarray] = {}
    if store.is_file():
        d = np.load(store)
        known = dict(zip((str(s) for s in d["sha"]), d["X"]))
    todo = [i for i, sha in enumerate(session.shas) if sha not in known]
    if todo:
        if model.is_file() and tok.is_file():
            tokenizer_json, flatbuffer = tok.read_text("utf-8"), model.read_bytes()
            cfg = json.loads(tokenizer_json).get("textsort_spec") or {}
        else:
            flatbuffer = None
        if flatbuffer is None:
            if source.config.vocab_size > 60000:
                source = prune_source(source, session.texts)
            tokenizer_json = source.tokenizer_json
            cfg = {"cls_id": source.cls_id, "sep_id": source.sep_id, "pad_id": source.pad_id}
        spec = TokenizerSpec(max_length=128, **{k: int(v) for k, v in cfg.items()})
        encoder = TextEncoder.from_json(tokenizer_json, spec)
        embedder = Embedder(source, encoder, flatbuffer=flatbuffer)
        if flatbuffer is None:
            spec_json = json.loads(tokenizer_json)
            spec_json["textsort_spec"] = cfg
            tok.write_text(json.dumps(spec_json), "utf-8")
            model.write_bytes(embedder.flatbuffer)
        X = embedder.embed([session.texts[i] for i in todo])
        for i, row in zip(todo, X):
            known[session.shas[i]] = row
        shas = list(known)
        np.savez(store, sha=np.array(shas), X=np.stack([known[s] for s in shas]))
    return np.stack([known[s] for s in session.shas])


def suggest_for(session, cache: Path, teacher: str = "auto", cfg: ActiveConfig = ActiveConfig()) -> dict:
    """The app's request: the next texts to label (their ids), and the quick model's
    cross-validated accuracy on the labels so far."""
    import time

    t0 = time.perf_counter()
    X = embed_source(session, cache, teacher)
    labelled = np.array(sorted(session.labels), np.int64)
    names = list(session.label_names)
    y = np.array([names.index(session.labels[i]) for i in labelled], np.int64)
    picks, info = suggest(X, labelled, y, max(len(names), 1), cfg)
    return {"picks": [session.ids[i] for i in picks], **info, "seconds": round(time.perf_counter() - t0, 1)}
