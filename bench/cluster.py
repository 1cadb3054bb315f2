"""Throughput of `textsort classify-dataset` (Ray Data, local mode) with 1 and 2 workers
against the plain CLI, on the same texts: as N text files, and as one JSONL file with a
text column (the CLI classifies the files; a table has no CLI equivalent).

    python bench/cluster.py [--texts 100000] [--model assets/models/sms_spam-en.textsort]

Texts: sms_spam's train texts repeated (numbered so none repeats). Each run is a fresh
process, start-up included. Needs the ray extra.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "sms_spam" / "train.csv"


def texts(n: int) -> list[str]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        base = [r["text"] for r in csv.DictReader(fh)]
    return [f"{base[i % len(base)]} ({i})" for i in range(n)]


def timed(cmd: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), os.environ.get("PYTHONPATH", "")]))
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=100_000)
    ap.add_argument("--model", default=str(REPO / "assets" / "models" / "sms_spam-en.textsort"))
    args = ap.parse_args()
    ts = [sys.executable, "-m", "textsort.frontends.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = texts(args.texts)
        files = tmp / "files"
        files.mkdir()
        for i, t in enumerate(corpus):
            (files / f"{i:07d}.txt").write_text(t, encoding="utf-8")
        table = tmp / "texts.jsonl"
        table.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(corpus)), "utf-8")
        rows = [("plain CLI, files (classify --format jsonl)",
                 timed([*ts, "classify", str(files), "--model", args.model, "--format", "jsonl", "--no-progress"]))]
        for workers in (1, 2):
            for name, source in (("files", files), ("JSONL table", table)):
                out = tmp / f"out-{workers}-{name[:5]}"
                rows.append((f"Ray Data, {workers} worker{'s' if workers > 1 else ''}, {name}",
                             timed([*ts, "classify-dataset", str(source), "--out", str(out), "--model", args.model,
                                    "--format", "jsonl", "--workers", str(workers), "--id-column", "id"]
                                   if name != "files" else
                                   [*ts, "classify-dataset", str(source), "--out", str(out), "--model", args.model,
                                    "--format", "jsonl", "--workers", str(workers)])))
    base = rows[0][1]
    print(f"{args.texts} texts, {os.cpu_count()} CPUs, model {Path(args.model).name}\n")
    print("| run | seconds | texts/s | vs plain CLI |\n|---|---:|---:|---:|")
    for name, secs in rows:
        print(f"| {name} | {secs:.1f} | {args.texts / secs:.0f} | {base / secs:.2f}x |")


if __name__ == "__main__":
    main()
