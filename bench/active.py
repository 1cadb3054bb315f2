"""What to label next: the app's picks (modelprep.active) against random picks.

    python bench/active.py [ag_news chnsenticorp] [--seeds 0 1 2] [--json bench/results/active.json]
                           [--work DIR] [--readme]

For each set and seed: 4 labelled texts per class drawn from train.csv; then rounds of 16
texts picked from the rest of train.csv (their labels revealed, as a user labelling them
would) by the app's method, or at random, up to 96 labels. After each round the quick
model (logistic regression on the int8 encoder's embeddings, modelprep.active.quick_model)
is scored on test.csv, which chooses nothing. Mean over the seeds, per round:
{"ag_news": {"labels": [...], "active": [...], "random": [...]}, ...}.
Embeddings are cached in --work (default: a temporary folder).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "bench" / "results" / "active.json"
README_MARK = ("<!-- bench:active -->", "<!-- /bench:active -->")
START_PER_CLASS, ROUND, LAST = 4, 16, 96


def read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [" ".join(r["text"].split()) for r in rows], [r["label"] for r in rows]


def embeddings(name: str, work: Path):
    """(X train, y train, X test, y test, labels), the int8 embedder's, cached in work."""
    cache = work / f"{name}.npz"
    tx, ty = read(DATA / name / "train.csv")
    sx, sy = read(DATA / name / "test.csv")
    labels = sorted(set(ty))
    if not cache.is_file():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from modelprep.fewshot import Embedder
        from modelprep.teachers import choose_teacher
        from modelprep.vocab import prune_source
        from textsort.core.encoding import TextEncoder, TokenizerSpec

        source, _ = choose_teacher(tx[:200])
        if source.config.vocab_size > 60000:
            source = prune_source(source, tx + sx)
        spec = TokenizerSpec(max_length=128, cls_id=source.cls_id, sep_id=source.sep_id, pad_id=source.pad_id)
        e = Embedder(source, TextEncoder.from_json(source.tokenizer_json, spec))
        t = time.perf_counter()
        np.savez(cache, X=e.embed(tx), S=e.embed(sx))
        print(f"{name}: embedded {len(tx) + len(sx)} texts in {time.perf_counter() - t:.0f} s", flush=True)
    d = np.load(cache)
    y = np.array([labels.index(v) for v in ty])
    yt = np.array([labels.index(v) if v in labels else -1 for v in sy])
    return d["X"], y, d["S"], yt, labels


def run(X, y, S, yt, n_labels: int, seed: int, how: str, cfg=None) -> list[float]:
    from dataclasses import replace

    from modelprep.active import ActiveConfig, quick_model, suggest

    cfg = cfg or ActiveConfig()

    rng = np.random.default_rng(seed)
    labelled = [int(i) for c in range(n_labels) for i in rng.permutation(np.flatnonzero(y == c))[:START_PER_CLASS]]
    scores = []
    while True:
        clf, _ = quick_model(X[labelled], y[labelled], n_labels, replace(cfg, seed=seed))
        scores.append(float(np.mean(clf.predict(S) == yt)))
        if len(labelled) >= LAST:
            return scores
        n = min(ROUND, LAST - len(labelled))
        if how == "random":
            rest = np.setdiff1d(np.arange(len(X)), labelled)
            picks = [int(i) for i in rng.permutation(rest)[:n]]
        else:
            picks, _ = suggest(X, np.array(labelled), y[labelled], n_labels, replace(cfg, batch=n, seed=seed))
        labelled += picks


def table(results: dict) -> str:
    lines = []
    for name, r in results.items():
        lines.append(f"| {name} | labels | " + " | ".join(str(n) for n in r["labels"]) + " |")
        lines.append("|---|---|" + "---|" * len(r["labels"]))
        for how in ("active", "random"):
            lines.append(f"| | {how} | " + " | ".join(f"{a:.4f}" for a in r[how]) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("datasets", nargs="*", default=["ag_news", "chnsenticorp"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--json", default=str(RESULTS))
    p.add_argument("--work", default=None)
    p.add_argument("--readme", action="store_true")
    args = p.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="textsort-active-"))
    work.mkdir(parents=True, exist_ok=True)
    store = Path(args.json)
    results = json.loads(store.read_text("utf-8")) if store.is_file() else {}
    for name in args.datasets:
        X, y, S, yt, labels = embeddings(name, work)
        per = {how: np.mean([run(X, y, S, yt, len(labels), seed, how) for seed in args.seeds], axis=0)
               for how in ("active", "random")}
        start = START_PER_CLASS * len(labels)
        results[name] = {"labels": list(range(start, LAST + 1, ROUND)) if (LAST - start) % ROUND == 0
                         else sorted({*range(start, LAST, ROUND), LAST}),
                         "active": [round(float(a), 4) for a in per["active"]],
                         "random": [round(float(a), 4) for a in per["random"]], "seeds": args.seeds}
        print(table({name: results[name]}), flush=True)
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(results, indent=1), "utf-8")
    if args.readme:
        from bench.readme import replace_table

        if not replace_table(README_MARK, table(results)):
            print("bench: README.md has no bench:active markers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
