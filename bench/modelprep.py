"""Training-pipeline benchmark: default settings, one fresh process per data set, and the
simple baselines (TF-IDF+LR, fastText) on the same splits in the same run.

    python bench/modelprep.py [sms_spam ag_news ...] [--out-dir runs/bench] [--subsample N]
                              [--json bench/results/modelprep.json] [--readme]

A data set is a name under ../shared/data or a folder holding train.csv and test.csv.
It trains on train.csv (test.csv is only passed as --test, for the final numbers) and
prints per data set: teacher (int8 BERT mixed with the n-gram model, the one that
labelled the transfer set), the shipped int8 student and the accurate int8 BERT on
test.csv; retention (student acc / teacher acc); test errors against TF-IDF+LR and
fastText; bundle size, model ms per text, per-stage wall time, peak RSS.
`--unlabelled PATH` also passes a pool of unlabelled texts (stored as "NAME + pool ..."): the
full-data path with more texts than it has labels.
Results are merged into --json by data set name; `--readme` rewrites the table between
the `bench:modelprep` markers in README.md from that file.
Targets (issue 9): >= 10 % fewer test errors than TF-IDF+LR on the four larger sets, no
more on sms_spam; retention >= 99 %; <= 15 min per set of <= 15k rows (<= 20 min for
online_shopping); student <= 5 MB and <= 0.05 ms per text.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_SETS = ["sms_spam", "ag_news", "chnsenticorp", "waimai", "online_shopping"]
RESULTS = REPO / "bench" / "results" / "modelprep.json"
README_MARK = ("<!-- bench:modelprep -->", "<!-- /bench:modelprep -->")


def data_folder(name: str) -> Path:
    folder = Path(name) if Path(name).is_dir() else DATA / name
    if not (folder / "train.csv").is_file() or not (folder / "test.csv").is_file():
        raise SystemExit(f"bench: {folder}: needs train.csv and test.csv")
    return folder


def subsample(src: Path, n: int, dest: Path) -> Path:
    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    body = rows[1:]
    random.Random(0).shuffle(body)
    with dest.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0]] + body[:n])
    return dest


def run_one(name: str, out_dir: Path, sample: int | None, unlabelled: str | None = None) -> dict:
    """Runs in a child process: the pipeline with default settings, then own peak RSS."""
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("modelprep").setLevel(logging.INFO)
    for noisy in ("tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from modelprep.config import PipelineConfig
    from modelprep.pipeline import train

    folder = data_folder(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_csv = folder / "train.csv"
    if sample:
        train_csv = subsample(train_csv, sample, out_dir / f"{folder.name}.sample{sample}.csv")
    start = time.perf_counter()
    tag = run_name(folder.name, unlabelled)
    result = train(train_csv, out_dir / f"{tag}.textsort", PipelineConfig(), work=out_dir / "work" / tag,
                   test_path=folder / "test.csv", name=folder.name, force=True, unlabelled=unlabelled)
    seconds = time.perf_counter() - start
    m = result.manifest
    return {"name": tag, "unlabelled": m.get("unlabelled"), "seconds": round(seconds, 1), "timings": m["timings_s"],
            "stages_run": m["stages_run"], "bytes": result.bundle.stat().st_size, "teacher": m["teacher"]["name"],
            "ensemble": m["teacher"].get("ensemble"), "distillation": m.get("distillation"),
            "transfer": m.get("transfer"), "candidates": m["candidates"],
            "metrics": {k: {x: v[x] for x in ("accuracy", "macro_f1", "n")} for k, v in m["metrics"].items()
                        if k.endswith("_test")},
            "guard": m["guard"], "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def run_name(name: str, unlabelled: str | None) -> str:
    """A run with an unlabelled pool is stored beside the plain one: "waimai + pool online_shopping"."""
    if not unlabelled:
        return name
    where = Path(unlabelled)
    return f"{name} + pool {where.parent.name if where.name in ('train.csv', 'pool.csv') else where.stem}"


def _errors(metric: dict) -> int:
    return round((1 - metric["accuracy"]) * metric["n"])


def table(results: list[dict]) -> str:
    from textsort.core.manifest import rung

    head = ("| data set | teacher acc (BERT int8 + n-grams) | int8 student acc / F1 (errors) | retention "
            "| TF-IDF+LR acc (errors) | fastText acc (errors) | student errors vs TF-IDF+LR | accurate: int8 BERT acc, MB "
            "| student MB, ms/text | wall min | peak RSS MB | measured |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        m, b = r["metrics"], r.get("baselines", {})
        st, te = m["student_int8_test"], m["teacher_test"]
        lr, ft = b.get("tfidf_lr", {}), b.get("fasttext", {})
        vs = f"{_errors(st) / lr['errors'] - 1:+.1%}" if lr.get("errors") else "—"
        bl = lambda x: f"{x['accuracy']:.4f} ({x['errors']})" if "accuracy" in x else "—"  # noqa: E731
        acc = next((c for c in r["candidates"] if c["role"] == "accurate"), None)
        small = next(c for c in r["candidates"] if rung(c["role"]).student)
        acc_cell = f"{acc['test']['accuracy']:.4f}, {acc['bytes'] / 1e6:.1f}" if acc and acc.get("test") else "—"
        lines.append(
            f"| {r['name']} | {te['accuracy']:.4f} | {st['accuracy']:.4f} / {st['macro_f1']:.4f} ({_errors(st)}) | "
            f"{st['accuracy'] / max(te['accuracy'], 1e-9):.2%} | {bl(lr)} | {bl(ft)} | {vs} | {acc_cell} | "
            f"{small['bytes'] / 1e6:.2f}, {small['ms_per_text']:.3f} | {r['seconds'] / 60:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r.get('machine', {}).get('date', '—')} |")
    return "\n".join(lines)


def update_readme(results: list[dict]) -> bool:
    from bench.readme import replace_table

    return replace_table(README_MARK, table(results))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("datasets", nargs="*", default=DEFAULT_SETS)
    p.add_argument("--out-dir", default=str(REPO / "runs" / "bench"))
    p.add_argument("--subsample", type=int, help="train on N random rows (smoke run)")
    p.add_argument("--json", default=str(RESULTS), help="results file, merged by data set name")
    p.add_argument("--readme", action="store_true", help="rewrite README.md's benchmark table from --json")
    p.add_argument("--unlabelled", metavar="PATH", help="also pass an unlabelled pool (textsort-prep train "
                                                        "--unlabelled); stored as 'NAME + pool ...'")
    p.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one data set, JSON on the last line
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, Path(args.out_dir), args.subsample, args.unlabelled)))
        return 0
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    from bench.baselines import run_baselines

    store = Path(args.json)
    saved = json.loads(store.read_text("utf-8")) if store.is_file() else {"results": {}}
    failed = 0
    for name in args.datasets:
        folder = data_folder(name)
        cmd = [sys.executable, __file__, "--one", name, "--out-dir", args.out_dir]
        cmd += ["--subsample", str(args.subsample)] if args.subsample else []
        cmd += ["--unlabelled", args.unlabelled] if args.unlabelled else []
        print(f"== {name}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        if proc.returncode != 0:
            print(f"bench: {name} failed (exit {proc.returncode})", file=sys.stderr)
            failed += 1
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["baselines"] = run_baselines(folder)
        result["machine"] = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                             "date": time.strftime("%Y-%m-%d")}
        if not args.subsample:
            saved["results"][result["name"]] = result
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(table([result]), file=sys.stderr, flush=True)
    ordered = [saved["results"][n] for n in DEFAULT_SETS if n in saved["results"]]
    ordered += [r for n, r in saved["results"].items() if n not in DEFAULT_SETS]
    print(table(ordered))
    if args.readme and not update_readme(ordered):
        print("bench: README.md has no bench:modelprep markers", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
