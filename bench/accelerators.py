"""Which LiteRT accelerators work on this machine, and the model time per text on each
(the same texts, the same run). Prints a table.

    python bench/accelerators.py [MODEL.textsort] [--texts 2000]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "desktop"))


def main() -> None:
    from textsort.core.engine import Classifier

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default=str(REPO / "assets" / "models" / "sms_spam-en.textsort"))
    ap.add_argument("--texts", type=int, default=2000)
    args = ap.parse_args()
    samples = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((REPO / "assets" / "samples").rglob("*"))
               if p.is_file() and p.suffix == ".txt" and "utf16" not in p.name]
    texts = [samples[i % len(samples)] + f" {i}" for i in range(args.texts)]
    print(f"| asked | ran on | ms/text ({args.texts} texts) | note |\n|---|---|---|---|")
    base = None
    for asked in ("cpu", "gpu", "auto"):
        clf = Classifier(args.model, accelerator=asked)
        windows, _ = clf.encoder.encode_batch(texts)
        clf.window_logits(windows[:64])  # warm-up
        t0 = time.perf_counter()
        clf.window_logits(windows)
        ms = 1000 * (time.perf_counter() - t0) / len(texts)
        base = base or ms
        print(f"| {asked} | {clf.accelerator} | {ms:.4f} ({ms / base:.2f}x) | {clf.accelerator_note or '-'} |")


if __name__ == "__main__":
    main()
