"""Training-pipeline benchmark: default settings, one fresh process per data set.

    python bench/modelprep.py [sms_spam ag_news ...] [--out-dir runs/bench] [--subsample N]

A data set is a name under ../shared/data or a folder holding train.csv and test.csv.
It trains on train.csv (test.csv is only passed as --test, for the final numbers) and
prints per data set: teacher, student fp32 and student int8 accuracy / macro-F1 on
test.csv, retention (int8 acc / teacher acc), bundle size, per-stage wall time, peak RSS.
Targets on a 2-core CPU: retention >= 99 %, bundle <= 5 MB, <= 15 min per data set.
`--subsample N` trains on N random train rows (a quick smoke run, not a result).
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_SETS = ["sms_spam", "ag_news"]


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


def run_one(name: str, out_dir: Path, sample: int | None) -> dict:
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
    result = train(train_csv, out_dir / f"{folder.name}.textsort", PipelineConfig(),
                   work=out_dir / "work" / folder.name, test_path=folder / "test.csv", name=folder.name)
    m = result.manifest
    return {"name": folder.name, "seconds": time.perf_counter() - start, "timings": m["timings_s"],
            "bytes": result.bundle.stat().st_size, "teacher": m["teacher"]["name"],
            "metrics": {k: m["metrics"][k] for k in ("teacher_test", "student_fp32_test", "student_int8_test")},
            "guard": m["guard"], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def table(results: list[dict]) -> str:
    head = ("| data set | teacher | teacher acc / F1 | fp32 acc / F1 | int8 acc / F1 | retention | bundle MB "
            "| stage seconds | total min | peak RSS MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        m = r["metrics"]
        cell = lambda k: f"{m[k]['accuracy']:.4f} / {m[k]['macro_f1']:.4f}"  # noqa: E731
        retention = m["student_int8_test"]["accuracy"] / max(m["teacher_test"]["accuracy"], 1e-9)
        stages = ", ".join(f"{k} {v:.0f}" for k, v in r["timings"].items())
        lines.append(f"| {r['name']} | {r['teacher']} | {cell('teacher_test')} | {cell('student_fp32_test')} | "
                     f"{cell('student_int8_test')} | {retention:.2%} | {r['bytes'] / 1e6:.2f} | {stages} | "
                     f"{r['seconds'] / 60:.1f} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("datasets", nargs="*", default=DEFAULT_SETS)
    p.add_argument("--out-dir", default=str(REPO / "runs" / "bench"))
    p.add_argument("--subsample", type=int, help="train on N random rows (smoke run)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one data set, JSON on the last line
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, Path(args.out_dir), args.subsample)))
        return 0
    results = []
    for name in args.datasets:
        data_folder(name)
        cmd = [sys.executable, __file__, "--one", name, "--out-dir", args.out_dir]
        cmd += ["--subsample", str(args.subsample)] if args.subsample else []
        print(f"== {name}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        if proc.returncode != 0:
            print(f"bench: {name} failed (exit {proc.returncode})", file=sys.stderr)
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(table(results[-1:]), file=sys.stderr, flush=True)
    print(table(results))
    return 0 if len(results) == len(args.datasets) else 1


if __name__ == "__main__":
    sys.exit(main())
