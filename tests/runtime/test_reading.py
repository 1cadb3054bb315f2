"""read_file / iter_paths on real files of every awkward kind; inputs stay untouched."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from textsort.files.reading import decode_bytes, html_to_text, iter_paths, read_file

ZH = "这家店的菜很好吃，服务也很周到，下次还会再来。价格实惠，环境干净。"
ZH_TW = "這家餐廳的菜很好吃，服務也很周到，下次還會再來。價格實惠，環境乾淨。"
JA = "このレストランの料理はとても美味しかったです。また来たいと思います。"
FR = "Le café était très bon, le garçon était aimable et l'addition raisonnable. À bientôt, déjà."


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def snapshot(path: Path):
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.mark.parametrize("name, data, text, enc_prefix", [
    ("utf8.txt", "hello wörld 你好".encode(), "hello wörld 你好", "utf-8"),
    ("bom.txt", "\ufeffhello 你好".encode(), "hello 你好", "utf-8-sig"),
    ("u16.txt", ZH.encode("utf-16"), ZH, "utf-16"),
    ("u16le-nobom.txt", "plain ascii in utf16".encode("utf-16-le"), "plain ascii in utf16", "utf-16"),
    ("gbk.txt", ZH.encode("gbk"), ZH, "gb"),
    ("big5.txt", ZH_TW.encode("big5"), ZH_TW, "big5"),
    ("sjis.txt", JA.encode("shift_jis"), JA, ""),
    ("latin1.txt", FR.encode("latin-1"), FR, ""),
])
def test_encodings(tmp_path, name, data, text, enc_prefix):
    p = write(tmp_path / name, data)
    before = snapshot(p)
    ft = read_file(p)
    assert ft.problem is None and ft.text == text, (ft.encoding, ft.text)
    assert ft.encoding.replace("_", "").startswith(enc_prefix.replace("_", ""))
    assert snapshot(p) == before


@pytest.mark.parametrize("name, data, problem", [
    ("empty.txt", b"", "empty file"),
    ("bin.dat", bytes(range(256)) * 40, "binary"),
    ("png.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000), "binary"),
    ("blank.txt", b"   \n\n  ", "no text"),
])
def test_bad_files_get_plain_problems(tmp_path, name, data, problem):
    ft = read_file(write(tmp_path / name, data))
    assert ft.text is None or not ft.text.strip()
    assert problem in ft.problem


def test_cap_truncates_and_says_so(tmp_path):
    p = write(tmp_path / "big.txt", ("你好 world " * 2000).encode())  # multibyte chars across the cut
    ft = read_file(p, max_bytes=1001)
    assert ft.truncated and ft.problem is None and ft.size == p.stat().st_size
    assert len(ft.text.encode()) <= 1001 and ft.text.startswith("你好 world")
    assert not read_file(p).truncated


def test_missing_dir_fifo_loop_and_broken_link(tmp_path):
    assert "not found" in read_file(tmp_path / "nope.txt").problem
    (tmp_path / "dir.txt").mkdir()
    assert "folder" in read_file(tmp_path / "dir.txt").problem
    os.mkfifo(tmp_path / "pipe.txt")
    assert "not a regular file" in read_file(tmp_path / "pipe.txt").problem  # and it did not block
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    assert read_file(tmp_path / "a.txt").problem == "symbolic link loop"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_permission_denied(tmp_path):
    p = write(tmp_path / "secret.txt", b"hi")
    p.chmod(0)
    try:
        assert read_file(p).problem == "permission denied"
    finally:
        p.chmod(0o600)


def test_eml_plain_and_html_fallback(tmp_path):
    plain = (b"From: a@example.com\r\nSubject: =?utf-8?b?5L2g5aW9?= lunch\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n\r\nSee you at noon.\r\n--XX\r\n"
             b"Content-Type: text/html\r\n\r\n<p>HTML version</p>\r\n--XX--\r\n")
    ft = read_file(write(tmp_path / "m.eml", plain))
    assert ft.kind == "email" and ft.problem is None
    assert ft.text == "你好 lunch\n\nSee you at noon."
    html_only = (b"Subject: Win\r\nContent-Type: text/html; charset=gbk\r\n\r\n"
                 + "<html><style>p{}</style><body><p>免费 prize</p><script>x=1</script></body></html>".encode("gbk"))
    ft = read_file(write(tmp_path / "h.eml", html_only))
    assert ft.text == "Win\n\n免费 prize"


def test_html_visible_text(tmp_path):
    html = ("<!doctype html><html><head><title>Title</title><style>body{color:red}</style>"
            "<script>var hidden = 1;</script></head><body><h1>Hello &amp; bye</h1>"
            "<p>First<br>second</p><noscript>ns</noscript></body></html>")
    ft = read_file(write(tmp_path / "page.HTML", html.encode("utf-8")))
    assert ft.kind == "html" and ft.text == "Title\nHello & bye\nFirst\nsecond"
    assert html_to_text("<p>a <b>b</b></p>") == "a b"


def test_decode_bytes_never_raises_on_garbage():
    for data in (b"\xff\xfe\x00", b"\xef\xbb\xbf\xff\xff", os.urandom(500), b"\x00" * 10):
        text, enc, problem = decode_bytes(data)
        assert (text is None) == (problem is not None)


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_control_characters_are_binary(tmp_path, prefix):
    data = bytes(range(1, 32)) * 200
    if prefix == b"\xff\xfe":
        data = data.decode("latin-1").encode("utf-16-le")
    p = tmp_path / "ctl.txt"
    p.write_bytes(prefix + data)
    ft = read_file(p)
    assert ft.text is None and ft.problem == "binary file (not text)"
    assert decode_bytes(prefix + data)[2] == "binary file (not text)"
    assert decode_bytes(b"\xef\xbb\xbfline one\r\n\tline two\n")[0] == "line one\r\n\tline two\n"


def test_iter_paths_recursive_globs_and_loops(tmp_path):
    root = tmp_path / "in"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "skip").mkdir()
    for rel in ["a.txt", "b.md", "sub/c.txt", "sub/deep/d.txt", "skip/e.txt"]:
        (root / rel).write_text("x")
    (root / "sub" / "loop").symlink_to(root)  # folder link loop
    got = list(iter_paths([root], include=["*.txt"], exclude=["skip"]))
    files = sorted(p.relative_to(root).as_posix() for p in got if isinstance(p, Path))
    problems = [(p.name, why) for p in got if isinstance(p, tuple) for p, why in [p]]
    assert files == ["a.txt", "sub/c.txt", "sub/deep/d.txt"]
    assert problems == [("loop", "folder link loop or repeated folder (already visited)")]
    assert list(iter_paths([root / "b.md"], include=["*.txt"])) == [root / "b.md"]  # named files always
    assert list(iter_paths([tmp_path / "missing"])) == [(tmp_path / "missing", "not found (or a broken link)")]
    assert [p.name for p in iter_paths([root], exclude=["sub/*", "skip", "*.md"])] == ["a.txt"]


def test_bundled_samples_read_cleanly():
    samples = Path(__file__).resolve().parents[2] / "assets" / "samples"
    files = sorted(samples.rglob("*.txt"))
    assert len(files) >= 8
    got = {p.name: read_file(p) for p in files}
    assert all(ft.problem is None and ft.text.strip() for ft in got.values())
    assert got["review-zh-gbk.txt"].encoding == "gb18030" and "外卖" in got["review-zh-gbk.txt"].text
    assert got["review-zh-utf16.txt"].encoding == "utf-16" and "手机" in got["review-zh-utf16.txt"].text


@pytest.mark.parametrize("text, codec", [("质量不错", "gbk"), ("好吃", "gbk"), ("ありがとう", "shift_jis"),
                                         ("Grüße aus Köln", "latin-1")])
def test_short_legacy_texts_decode(text, codec):
    assert decode_bytes(text.encode(codec))[0] == text


def test_default_cap_is_4_mib(tmp_path):
    p = write(tmp_path / "huge.txt", b"free prize\n" * 500_000)  # 5.5 MB
    ft = read_file(p)
    assert ft.truncated and len(ft.text) == 4 * 1024 * 1024 and ft.size == 5_500_000


def test_random_bytes_named_eml_are_not_e_mails(tmp_path):
    import random

    rng = random.Random(1)
    accepted = []
    for i, n in enumerate([16, 64, 200, 1000, 5000, 100_000] * 50):
        p = tmp_path / f"{i}.eml"
        p.write_bytes(rng.randbytes(n))
        if read_file(p).problem is None:
            accepted.append(n)
    assert accepted == []
    plain = tmp_path / "note.eml"  # no headers, but UTF-8 text: read as text, not refused
    plain.write_text("just a note saved with the wrong extension", encoding="utf-8")
    assert read_file(plain).text.startswith("just a note")


@pytest.mark.parametrize("text", ["\u200b\u200b\u200c\u2060", "\u0301\u0301\u0301", " \u200b \ufeff \n", "\u00ad\u034f"])
def test_only_invisible_or_combining_characters_is_no_text(tmp_path, text):
    p = tmp_path / "zw.txt"
    p.write_text(text, encoding="utf-8")
    ft = read_file(p)
    assert ft.problem and ft.problem.startswith("no text")
