"""load_bundle refuses every hostile or damaged bundle with a plain BundleError."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from textsort.core import bundle as B
from textsort.core.bundle import BundleError, load_bundle, write_bundle


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(path: Path, items: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


def with_manifest(m: dict[str, bytes], **changes) -> list[tuple[str, bytes]]:
    man = json.loads(m["manifest.json"])
    man.update(changes)
    return [("manifest.json", json.dumps(man).encode())] + [(k, v) for k, v in m.items() if k != "manifest.json"]


def test_good_bundle_loads(tiny_bundle):
    b = load_bundle(tiny_bundle)
    assert b.labels == ["ham", "spam"] and b.name == "tiny-spam"
    assert b.spec.max_length == 32 and b.report.startswith("# tiny-spam")
    assert set(b.manifest["files"]) == {"model.tflite", "tokenizer.json", "report.md"}


def test_write_roundtrip_and_bad_extra(tiny_bundle, tmp_path):
    b = load_bundle(tiny_bundle)
    man = {k: v for k, v in b.manifest.items() if k not in ("files", "format", "format_version")}
    out = write_bundle(tmp_path / "x.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json, manifest=man)
    assert load_bundle(out).labels == b.labels
    with pytest.raises(BundleError, match="unknown extra"):
        write_bundle(tmp_path / "y.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                     manifest=man, extra={"evil.sh": b"x"})
    with pytest.raises(BundleError, match="outputs but the manifest lists 3 labels"):
        write_bundle(tmp_path / "z.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                     manifest={**man, "labels": ["a", "b", "c"]})
    assert not (tmp_path / "z.textsort").exists() and not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("case, pattern", [
    ("not_zip", "not a ZIP"),
    ("truncated", "not a ZIP"),
    ("traversal", "unsafe name"),
    ("absolute", "unsafe name"),
    ("backslash", "unsafe name"),
    ("unknown", "unknown member"),
    ("duplicate", "duplicate member"),
    ("missing", "missing member"),
    ("checksum", "checksum mismatch for model.tflite"),
    ("version", "format version 2 is not supported"),
    ("labels", "model has 2 outputs but the manifest lists 3 labels"),
    ("bad_json", "not valid UTF-8 JSON"),
    ("not_listed", "lists files"),
    ("empty_labels", "at least two"),
])
def test_hostile_bundles(tiny_bundle, tmp_path, case, pattern):
    m = members(tiny_bundle)
    p = tmp_path / "bad.textsort"
    good = [(k, v) for k, v in m.items()]
    if case == "not_zip":
        p.write_text("hello, I am a text file")
    elif case == "truncated":
        p.write_bytes(tiny_bundle.read_bytes()[: tiny_bundle.stat().st_size // 2])
    elif case == "traversal":
        rezip(p, good + [("../../etc/evil", b"x")])
    elif case == "absolute":
        rezip(p, good + [("/etc/passwd", b"x")])
    elif case == "backslash":
        rezip(p, good + [("..\\evil.txt", b"x")])
    elif case == "unknown":
        rezip(p, good + [("extra.bin", b"x")])
    elif case == "duplicate":
        with pytest.warns(UserWarning):
            rezip(p, good + [("model.tflite", m["model.tflite"])])
    elif case == "missing":
        rezip(p, [(k, v) for k, v in good if k != "tokenizer.json"])
    elif case == "checksum":
        model = bytearray(m["model.tflite"])
        model[-10] ^= 0xFF
        rezip(p, [(k, bytes(model) if k == "model.tflite" else v) for k, v in good])
    elif case == "version":
        rezip(p, with_manifest(m, format_version=2))
    elif case == "labels":
        rezip(p, with_manifest(m, labels=["a", "b", "c"]))
    elif case == "bad_json":
        rezip(p, [("manifest.json", b"{not json")] + good[1:])
    elif case == "not_listed":
        rezip(p, [(k, v) for k, v in good if k != "report.md"])
    elif case == "empty_labels":
        rezip(p, with_manifest(m, labels=["ham"]))
    with pytest.raises(BundleError, match=pattern) as err:
        load_bundle(p)
    assert str(p) in str(err.value)
    assert not any(x.name == "evil" or x.name == "evil.txt" for x in tmp_path.parent.rglob("evil*"))


def test_declared_oversize_member_refused_without_reading(tiny_bundle, tmp_path, monkeypatch):
    monkeypatch.setattr(B, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(BundleError, match="too large"):
        load_bundle(tiny_bundle)


def test_zip_bomb_total_refused(tiny_bundle, tmp_path, monkeypatch):
    monkeypatch.setattr(B, "MAX_TOTAL_BYTES", 2000)
    with pytest.raises(BundleError, match="too large when unpacked"):
        load_bundle(tiny_bundle)


def test_member_larger_than_declared(tiny_bundle, tmp_path):
    """A member whose local data inflates beyond the size in the central directory."""
    m = members(tiny_bundle)
    p = rezip(tmp_path / "lie.textsort", list(m.items()))
    raw = bytearray(p.read_bytes())
    pos = raw.find(b"PK\x01\x02")  # central directory entries
    while raw[pos + 46: pos + 46 + len(b"report.md")] != b"report.md":
        pos = raw.find(b"PK\x01\x02", pos + 4)
    raw[pos + 24: pos + 28] = (5).to_bytes(4, "little")  # uncompressed size
    p.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="report.md"):
        load_bundle(p)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(BundleError, match="no such model file"):
        load_bundle(tmp_path / "nope.textsort")
    with pytest.raises(BundleError, match="not a file"):
        load_bundle(tmp_path)


def test_many_members_refused_before_parsing(tmp_path):
    p = rezip(tmp_path / "many.textsort", [(f"f{i}", b"") for i in range(100)])
    with pytest.raises(BundleError, match="100 members"):
        load_bundle(p)


def test_suggested_threshold_only_when_one_was_worth_setting(tiny_bundle, tmp_path):
    from textsort.core.bundle import load_bundle, write_bundle

    b = load_bundle(tiny_bundle)
    assert b.suggested_threshold is None  # no calibration recorded
    for value, expected in ((0.62, 0.62), (0.0, None), (1.5, None), ("0.6", None), (True, None)):
        m = {**{k: v for k, v in b.manifest.items() if k != "files"}, "calibration": {"uncertain_below": value}}
        again = write_bundle(tmp_path / "c.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                             manifest=m)
        assert load_bundle(again).suggested_threshold == expected
