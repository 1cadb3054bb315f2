"""Start-up time of the desktop app: process start -> interactive window.

Launches `python -m textsort.gui.app` offscreen N times; the app prints a timestamp
when its event loop is first idle after show() (TEXTSORT_STARTUP_PROBE=window), or
when the model has finished loading in the background (=model). Prints a table.

    python bench/gui_startup.py [--runs 5] [--model PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def launch(probe: str, model: Path | None, config_home: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TEXTSORT_STARTUP_PROBE=probe,
               XDG_CONFIG_HOME=config_home,  # never touch the user's settings
               PYTHONPATH=os.pathsep.join([str(REPO / "desktop"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "textsort.gui.app"] + (["--model", str(model)] if model else [])
    start = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    ready = [line for line in proc.stdout.splitlines() if line.startswith("ready ")]
    if proc.returncode != 0 or not ready:
        raise SystemExit(f"the app did not report ready (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return float(ready[-1].split()[1]) - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", type=Path, help="model to load (default: the app's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as config_home:
        print(f"| measure (runs={args.runs}) | median s | min s | max s |")
        print("|---|---|---|---|")
        for probe, title in (("window", "process start -> interactive window"),
                             ("model", "process start -> model loaded")):
            times = [launch(probe, args.model, config_home) for _ in range(args.runs)]
            print(f"| {title} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")


if __name__ == "__main__":
    main()
