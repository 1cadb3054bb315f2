"""Size of the frozen app (`pyinstaller build.spec` -> dist/textsort): total, files, the
compressed archive, and the 20 biggest contributors, so the size stays visible.

    python bench/package_size.py [dist/textsort] [--top 20]
"""
from __future__ import annotations

import argparse
import io
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=REPO / "dist" / "textsort")
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    files = [p for p in args.folder.rglob("*") if p.is_file() and not p.is_symlink()]
    if not files:
        raise SystemExit(f"{args.folder}: no build here (run: pyinstaller build.spec)")
    sizes = sorted(((p.stat().st_size, p.relative_to(args.folder).as_posix()) for p in files), reverse=True)
    total = sum(s for s, _ in sizes)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(args.folder, arcname=args.folder.name)
    print(f"| {args.folder.name} | MB |\n|---|---|")
    print(f"| one-folder, {len(files)} files | {total / 1e6:.1f} |")
    print(f"| tar.gz | {len(buf.getvalue()) / 1e6:.1f} |")
    print(f"\n| top {args.top} | MB | share |\n|---|---|---|")
    for size, name in sizes[: args.top]:
        print(f"| {name} | {size / 1e6:.1f} | {size / total:.1%} |")


if __name__ == "__main__":
    main()
