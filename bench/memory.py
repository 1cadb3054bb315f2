"""Peak RSS and time to classify (and explain) one file, by its size; one fresh process each.

    python bench/memory.py [BUNDLE] [--sizes 65536 1048576 4194304]

Target (issue 10): classifying or explaining any single file stays under 300 MB peak RSS,
in a time proportional to its windows. The RSS of loading the model alone is the first row.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from textsort.core.engine import Classifier
from textsort.files.reading import read_file
clf = Classifier(sys.argv[2])
t0 = time.perf_counter()
if sys.argv[4] != "load":
    ft = read_file(sys.argv[3], max_bytes=int(sys.argv[5]))
    r = clf.explain(ft.text, top_n=10) if sys.argv[4] == "explain" else clf.predict(ft.text)
    windows = (r.prediction if sys.argv[4] == "explain" else r).windows
else:
    windows = 0
print(json.dumps({"seconds": time.perf_counter() - t0, "windows": windows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
WORDS = ("hi are we still on for lunch tomorrow call me when you get home free prize claim now "
         "urgent cash winner text stop to opt out meeting tonight thanks love mom see you soon").split()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bundle", nargs="?", default=str(REPO / "assets" / "models" / "sms_spam-en.textsort"))
    p.add_argument("--sizes", type=int, nargs="+", default=[65536, 1 << 20, 4 << 20])
    args = p.parse_args()
    import random
    import tempfile

    rng = random.Random(0)
    print("| bytes | mode | windows | seconds | peak RSS MB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        runs = [(0, "load")] + [(n, m) for n in args.sizes for m in ("classify", "explain")]
        for size, mode in runs:
            path = Path(d) / f"{size}.txt"
            if size and not path.exists():
                words, total = [], 0
                while total < size:
                    w = rng.choice(WORDS)
                    words.append(w)
                    total += len(w) + 1
                path.write_text(" ".join(words)[:size])
            out = subprocess.run([sys.executable, "-c", CHILD, str(REPO / "desktop"), args.bundle, str(path), mode,
                                  str(max(size, 1))], capture_output=True, text=True, timeout=1800)
            if out.returncode != 0:
                print(f"| {size} | {mode} | failed: {out.stderr.strip().splitlines()[-1:]} | | |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {size} | {mode} | {r['windows']} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
