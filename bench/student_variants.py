"""Student variants on one shared set, reusing the teacher (and, when its settings are
unchanged, the transfer set) of a `bench/modelprep.py` work folder:

    python bench/modelprep.py ag_news --out-dir runs/bench
    python bench/student_variants.py ag_news runs/bench/work/ag_news \\
        'wide={"filters": 256, "embed_dim": 192}' 'more-text={"transfer": {"augment_copies": 6}}'

Each variant is a JSON object of StudentConfig fields (and "transfer" and "distill" objects
of TransferConfig and DistillConfig fields); "base" ({}) is the defaults. Each runs in its own process, one after
the other, and prints one table row: teacher and int8 student test accuracy, retention,
the student's MB and ms per text (model time), the transfer set's size and the wall time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_one(name: str, work: Path, tag: str, spec: dict, out: Path) -> dict:
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench.modelprep import data_folder
    from modelprep.config import PipelineConfig
    from modelprep.pipeline import train
    from textsort.core.manifest import rung

    spec = dict(spec)
    transfer, distill = spec.pop("transfer", {}), spec.pop("distill", {})
    cfg = PipelineConfig()
    cfg = replace(cfg, student=replace(cfg.student, **spec), transfer=replace(cfg.transfer, **transfer),
                  distill=replace(cfg.distill, **distill))
    start = time.perf_counter()
    folder = data_folder(name)
    r = train(folder / "train.csv", out / f"{name}-{tag}.textsort", cfg, work=work,
              test_path=folder / "test.csv", name=name, force=True)
    m = r.manifest["metrics"]
    small = next(c for c in r.manifest["candidates"] if rung(c["role"]).student)
    teacher, student = m["teacher_test"]["accuracy"], m["student_int8_test"]["accuracy"]
    return {"tag": tag, "spec": {**spec, **({"transfer": transfer} if transfer else {}), **({"distill": distill} if distill else {})},
            "teacher": round(teacher, 4), "student_int8": round(student, 4),
            "retention_pct": round(100 * student / teacher, 2), "mb": round(small["bytes"] / 1e6, 2),
            "ms_per_text": small["ms_per_text"], "transfer_texts": (r.manifest.get("transfer") or {}).get("teacher_labelled"),
            "seconds": round(time.perf_counter() - start), "stages_run": r.manifest["stages_run"]}


def main() -> int:
    if sys.argv[1:2] == ["--one"]:
        _, _, name, work, tag, spec, out = sys.argv
        print(json.dumps(run_one(name, Path(work), tag, json.loads(spec), Path(out))))
        return 0
    name, work, *variants = sys.argv[1:]
    out = Path(work).parent.parent / "variants"
    out.mkdir(parents=True, exist_ok=True)
    print("| variant | teacher | int8 student | retention | MB | ms/text | transfer texts | s |\n|---|---|---|---|---|---|---|---|")
    for item in variants:
        tag, _, spec = item.partition("=")
        done = subprocess.run([sys.executable, __file__, "--one", name, work, tag, spec or "{}", str(out)],
                              capture_output=True, text=True)
        if done.returncode:
            print(f"| {tag} | failed: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {tag} `{json.dumps(r['spec'])}` | {r['teacher']:.4f} | {r['student_int8']:.4f} | {r['retention_pct']}% "
              f"| {r['mb']} | {r['ms_per_text']:.3f} | {r['transfer_texts']} | {r['seconds']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
