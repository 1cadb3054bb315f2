"""Runtime benchmark: cold start, per-text latency, throughput on many files, peak RSS.

    python bench/runtime.py [BUNDLE] [--files 10000] [--repeats 5]

BUNDLE defaults to the default model (assets/models/sms_spam-en.textsort) and, when
that does not exist yet, to the tiny test model built by tests/tinymodel.py (needs
TensorFlow). Targets: cold start <= 1 s, >= 2000 files/s, peak RSS <= 150 MB.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "desktop"))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), os.environ.get("PYTHONPATH", "")]))

WORDS = ("hi are we still on for lunch tomorrow call me when you get home free prize claim now "
         "urgent cash winner text stop to opt out meeting tonight thanks love mom see you soon").split()


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "textsort.frontends.cli", *map(str, args)]


def run_measured(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def default_bundle(tmp: Path) -> Path:
    from textsort.appstate.models import default_model_path

    p = default_model_path()
    if p.is_file():
        return p
    print(f"{p} does not exist yet: building the tiny test model instead", file=sys.stderr)
    subprocess.run([sys.executable, str(REPO / "tests" / "tinymodel.py"), str(tmp)], env=ENV, check=True,
                   capture_output=True)
    return tmp / "tiny-spam.textsort"


def short_text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", nargs="?")
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    rng = random.Random(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = Path(args.bundle) if args.bundle else default_bundle(tmp)
        one = tmp / "one.txt"
        one.write_text("Congratulations! You have won a free prize. Call now to claim.")

        # cold start: process start to output, one file
        walls = []
        for _ in range(args.repeats):
            wall, rss1, rc = run_measured(cli("classify", one, "--model", bundle, "--format", "jsonl"))
            assert rc == 0, f"textsort exited {rc}"
            walls.append(wall)
        cold = statistics.median(walls)
        rows.append(("cold start, classify 1 file (median of %d)" % args.repeats, f"{cold * 1000:.0f} ms",
                     "<= 1000 ms", cold <= 1.0))

        # per-text latency in process
        from textsort.core.engine import Classifier

        clf = Classifier(bundle, threads=args.threads)
        texts = [short_text(rng) for _ in range(500)]
        lat, lat_model = [], []
        for t in texts:
            t0 = time.perf_counter()
            clf.predict(t)
            lat.append(time.perf_counter() - t0)
            ids, mask = clf.encoder.pad(clf.encoder.encode(t))
            t0 = time.perf_counter()
            clf.logits(ids, mask)
            lat_model.append(time.perf_counter() - t0)
        rows.append(("latency per text, with tokenization (median)", f"{statistics.median(lat) * 1e3:.3f} ms", "", None))
        rows.append(("latency per text, model only (median)", f"{statistics.median(lat_model) * 1e3:.3f} ms", "", None))
        long_text = " ".join(short_text(rng) for _ in range(200))
        t0 = time.perf_counter()
        p = clf.predict(long_text)
        rows.append((f"one long text ({len(long_text)} chars, {p.windows} windows)",
                     f"{(time.perf_counter() - t0) * 1e3:.1f} ms", "", None))
        t0 = time.perf_counter()
        e = clf.explain(texts[0])
        rows.append((f"explain one short text ({len(e.words)} words shown)",
                     f"{(time.perf_counter() - t0) * 1e3:.1f} ms", "", None))

        # throughput on many short files: in process, and the CLI end to end (with its RSS)
        folder = tmp / "many"
        folder.mkdir()
        for i in range(args.files):
            (folder / f"msg{i:05d}.txt").write_text(short_text(rng), encoding="utf-8")
        from textsort.appstate.session import Session

        t0 = time.perf_counter()
        n = sum(1 for r in Session(clf).run([folder]) if r.prediction is not None)
        dt = time.perf_counter() - t0
        assert n == args.files
        rows.append((f"throughput, {args.files} files, in process", f"{n / dt:.0f} files/s", ">= 2000", n / dt >= 2000))
        wall, rss, rc = run_measured(cli("classify", folder, "--model", bundle, "--format", "jsonl", "--no-progress"))
        assert rc == 0, f"textsort exited {rc}"
        rows.append((f"throughput, {args.files} files, `textsort classify` incl. start",
                     f"{args.files / wall:.0f} files/s", ">= 2000", args.files / wall >= 2000))
        rows.append((f"peak RSS of `textsort classify` on {args.files} files", f"{rss:.0f} MB", "<= 150 MB", rss <= 150))
        rows.append(("peak RSS, cold start on 1 file", f"{rss1:.0f} MB", "<= 150 MB", rss1 <= 150))

    print(f"\nbundle: {bundle.name} ({bundle.stat().st_size / 1e6:.2f} MB), CPUs: {os.cpu_count()}, threads: {args.threads}")
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>14}  {'target':>11}  ok")
    for name, value, target, ok in rows:
        print(f"{name:<{w}}  {value:>14}  {target:>11}  {'' if ok is None else 'yes' if ok else 'NO'}")
    return 0 if all(r[3] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
