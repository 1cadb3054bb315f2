"""Which devices can pip-install the runtime: asks PyPI (`pip download --platform`, no
install) for the runtime's dependencies and the GUI's on each target, and prints a table.

    python bench/edge_wheels.py [--python 3.11 3.12 3.13]

Needs network access to pypi.org (a development-time check; Textsort itself never
downloads anything). glibc 2.36 is Raspberry Pi OS Bookworm / Debian 12.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile

RUNTIME = ["ai-edge-litert==2.3.0", "tokenizers>=0.20,<1", "numpy>=1.26", "charset-normalizer>=3.4", "tqdm>=4.66"]
GUI = ["PySide6-Essentials>=6.7,!=6.12.0"]
TARGETS = {  # name -> pip --platform tags (pip does not expand manylinux_2_X to lower X: list them)
    "64-bit ARM Linux, glibc 2.36 (Pi OS Bookworm)": [f"manylinux_2_{m}_aarch64" for m in range(17, 37)]
    + ["manylinux2014_aarch64", "linux_aarch64"],
    "32-bit ARM Linux (armv7l), glibc 2.36": [f"manylinux_2_{m}_armv7l" for m in range(17, 37)]
    + ["manylinux2014_armv7l", "linux_armv7l"],
    "x86-64 Linux, glibc 2.36": [f"manylinux_2_{m}_x86_64" for m in range(17, 37)] + ["manylinux2014_x86_64"],
}


def resolve(requirement: str, platforms: list[str], python: str) -> str:
    """The wheel pip picks for one requirement on one target, or 'none'."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--index-url",
               "https://pypi.org/simple", "--python-version", python, "--implementation", "cp", "-d", tmp,
               *[a for p in platforms for a in ("--platform", p)], requirement]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        saved = re.findall(r"Saved \S*/(\S+\.whl)", out.stdout)
        return saved[0] if saved else "none"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", nargs="+", default=["3.11", "3.12", "3.13"])
    args = ap.parse_args()
    print("| target | Python | " + " | ".join(r.split("=")[0].split(">")[0] for r in RUNTIME + GUI) + " | runtime |")
    print("|---|---|" + "---|" * (len(RUNTIME) + len(GUI) + 1))
    for target, platforms in TARGETS.items():
        for py in args.python:
            wheels = [resolve(r, platforms, py) for r in RUNTIME + GUI]
            cells = [w if w == "none" else "-".join(w.split("-")[1:2]) for w in wheels]
            ok = all(w != "none" for w in wheels[: len(RUNTIME)])
            print(f"| {target} | {py} | " + " | ".join(cells) + f" | {'yes' if ok else 'no'} |")


if __name__ == "__main__":
    main()
