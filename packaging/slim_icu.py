"""Replace Qt's ICU data library (libicudata.so.NN, 32 MB) with one holding only what
the app can reach: build.spec runs this on the frozen app (Linux).

QtCore links ICU for collation, time-zone names, codecs and locale formatting that this
app never asks for: its texts are decoded by Python (textsort.files.reading), its table sorts
by plain string order, its locale data is Qt's own. What stays is ICU's core (properties,
normalisation, converter aliases, plural and zone metadata), the root, English and
Chinese locale bundles, the break-iterator rules (not their dictionaries) and the root
collation; what goes: locale display names (curr/ lang/ region/ unit/ zone/), number
spell-out (rbnf/), transliteration, other locales, other collations and the legacy
codecs (*.cnv). An item missing at run time is an ICU error code, which Qt handles
(falls back), never a crash; the frozen self-test and window test run on the result.

The common-data format ("CmnD", icu4c/source/common/ucmndata.h): a data header, then a
table of contents { uint32 count; { uint32 name_offset, data_offset } x count } with
offsets from the table's start, the NUL-terminated names, then each item 16-byte
aligned. Items are sorted by name (ICU binary-searches them).

    python packaging/slim_icu.py LIBICUDATA [--list]   # rewrites the file in place
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

KEEP = ("*.icu", "*.nrm", "*.spp", "*.cfu", "pool.res", "res_index.res", "root.res", "en.res", "en_US.res",
        "en_US_POSIX.res", "en_001.res", "en_GB.res", "zh.res", "zh_Hans*.res", "zh_Hant*.res", "zh_CN.res",
        "zh_TW.res", "zh_HK.res", "likelySubtags.res", "supplementalData.res", "metadata.res", "zoneinfo64.res",
        "metaZones.res", "timezoneTypes.res", "windowZones.res", "keyTypeData.res", "plurals.res",
        "numberingSystems.res", "dayPeriods.res", "parentLocales.res", "brkitr/*.brk", "brkitr/root.res",
        "brkitr/en.res", "brkitr/zh*.res", "coll/root.res", "coll/ucadata.icu")


def read_common(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(header, [(item name without the package prefix, item bytes)]) of a CmnD blob."""
    header_size = struct.unpack_from("<H", data, 0)[0]
    if data[2:4] != b"\xda\x27" or data[12:16] != b"CmnD" or data[8] != 0:  # little-endian only
        raise ValueError("not a little-endian ICU common data package (CmnD)")
    toc = header_size
    count = struct.unpack_from("<I", data, toc)[0]
    offsets = [struct.unpack_from("<II", data, toc + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_off, data_off) in enumerate(offsets):
        end_name = data.index(b"\0", toc + name_off)
        name = data[toc + name_off:end_name].decode("ascii")
        end = toc + offsets[i + 1][1] if i + 1 < count else len(data)
        items.append((name, data[toc + data_off:end]))
    return data[:header_size], items


def write_common(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    items = sorted(items, key=lambda kv: kv[0].encode("ascii"))
    names = b"".join(n.encode("ascii") + b"\0" for n, _ in items)
    table = 4 + 8 * len(items)
    pos = table + len(names)
    data_offsets, blob = [], bytearray()
    for _, item in items:
        pad = (-(pos + len(blob))) % 16
        blob += b"\xaa" * pad  # what icupkg pads with
        data_offsets.append(pos + len(blob))
        blob += item
    out = bytearray(header) + struct.pack("<I", len(items))
    name_off = table
    for (n, _), d in zip(items, data_offsets):
        out += struct.pack("<II", name_off, d)
        name_off += len(n) + 1
    return bytes(out + names + blob)


def slim(items: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    def wanted(name: str) -> bool:
        rel = name.split("/", 1)[1]  # drop the package prefix (icudt73l/)
        return any(fnmatch.fnmatchcase(rel, pat) for pat in KEEP)

    return [(n, d) for n, d in items if wanted(n)]


def library(dat: bytes, symbol: str, soname: str, out: Path) -> None:
    """A shared library exporting `symbol` = dat (what ICU's data library is)."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler (cc) to build the ICU data library")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "data.bin").write_bytes(dat)
        asm = Path(tmp) / "data.S"
        asm.write_text(f'.section .rodata\n.global {symbol}\n.type {symbol}, @object\n.balign 16\n{symbol}:\n'
                       f'.incbin "{Path(tmp) / "data.bin"}"\n.size {symbol}, .-{symbol}\n'
                       '.section .note.GNU-stack,"",@progbits\n')
        subprocess.run([cc, "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-o", str(out), str(asm)], check=True)


def rewrite(path: Path) -> tuple[int, int]:
    """Slim the ICU data library at `path` in place; returns (bytes before, after)."""
    from_elf = subprocess.run(["nm", "-D", "-S", "--defined-only", str(path)], check=True, capture_output=True,
                              text=True).stdout.split()
    i = next(i for i, tok in enumerate(from_elf) if tok.startswith("icudt") and tok.endswith("_dat"))
    addr, size, symbol = int(from_elf[i - 3], 16), int(from_elf[i - 2], 16), from_elf[i]
    raw = path.read_bytes()
    section = subprocess.run(["readelf", "-SW", str(path)], check=True, capture_output=True, text=True).stdout
    rodata = next(line.split() for line in section.splitlines() if ".rodata" in line)
    r_addr, r_off = int(rodata[rodata.index(".rodata") + 2], 16), int(rodata[rodata.index(".rodata") + 3], 16)
    start = addr - r_addr + r_off
    header, items = read_common(raw[start:start + size])
    dat = write_common(header, slim(items))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        library(dat, symbol, path.name, out)
        before = len(raw)
        shutil.copyfile(out, path)
    return before, path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library", type=Path)
    args = ap.parse_args()
    before, after = rewrite(args.library)
    print(f"{args.library}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
