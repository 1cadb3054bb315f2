"""Why classify-dataset runs on Ray: the same texts through Apache Spark (`mapInPandas`,
local[1] and local[2]) to compare with bench/cluster.py's Ray rows. Needs pyspark and a
Java runtime (not a Textsort extra: this script exists to measure the alternative).

    python bench/engine_choice.py [--texts 100000]

Prints Spark's session start-up and the seconds for the whole job (start-up included,
like bench/cluster.py), on a JSONL table of sms_spam texts.
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

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "sms_spam" / "train.csv"
MODEL = REPO / "assets" / "models" / "sms_spam-en.textsort"
_CLF = {}


def classify_partitions(frames):
    """mapInPandas: one Classifier per Python worker (cached), batches of texts -> rows."""
    import pandas as pd

    from textsort.core.engine import Classifier

    clf = _CLF.get("clf") or _CLF.setdefault("clf", Classifier(MODEL, threads=1))
    for df in frames:
        preds = clf.predict_batch([str(t) for t in df["text"]])
        yield pd.DataFrame({"id": df["id"].astype(str), "label": [p.label for p in preds],
                            "confidence": [float(p.score) for p in preds]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=100_000)
    args = ap.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "desktop"), str(REPO / "bench")])
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    with DATA.open(encoding="utf-8", newline="") as fh:
        base = [r["text"] for r in csv.DictReader(fh)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "texts.jsonl"
        table.write_text("".join(json.dumps({"id": i, "text": f"{base[i % len(base)]} ({i})"}) + "\n"
                                 for i in range(args.texts)), "utf-8")
        for cores in (1, 2):
            t0 = time.perf_counter()
            from pyspark.sql import SparkSession

            spark = (SparkSession.builder.master(f"local[{cores}]").appName("textsort-bench")
                     .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", str(cores))
                     .getOrCreate())
            started = time.perf_counter() - t0
            df = spark.read.json(str(table)).repartition(cores * 4)
            out = df.mapInPandas(classify_partitions, schema="id string, label string, confidence double")
            out.write.mode("overwrite").json(str(Path(tmp) / f"out{cores}"))
            total = time.perf_counter() - t0
            spark.stop()
            rows.append((cores, started, total))
    print(f"{args.texts} texts, model {MODEL.name}, Python {sys.version.split()[0]}\n")
    print("| Spark | session start s | job s (start-up included) | texts/s |\n|---|---:|---:|---:|")
    for cores, started, total in rows:
        print(f"| local[{cores}], mapInPandas, JSONL table | {started:.1f} | {total:.1f} | {args.texts / total:.0f} |")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "desktop"))
    main()
