"""The unlabelled pool reader (textsort.files.unlabelled): the classify readers, skips counted,
tables by text column, globs; nothing on disk changes."""
from __future__ import annotations

import json
import os

import pytest

from textsort.files.unlabelled import PoolError, load_pool


def _tree(root):
    root.mkdir()
    (root / "a.txt").write_text("first note about lunch", encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "b.txt").write_bytes("第二条：外卖很好吃".encode("gb18030"))
    (root / "mail.eml").write_bytes(b"Subject: Meeting\r\nContent-Type: text/plain\r\n\r\nSee you at noon\r\n")
    (root / "page.html").write_text("<html><body><p>Visible words</p><script>x()</script></body></html>")
    (root / "bin.dat").write_bytes(bytes(range(256)) * 4)
    (root / "empty.txt").write_bytes(b"")
    (root / "emoji.txt").write_text("😀😀🎉", encoding="utf-8")
    (root / "big.txt").write_text("word " * 400, encoding="utf-8")
    return root


def test_a_folder_is_read_like_classify_and_skips_are_counted(tmp_path):
    root = _tree(tmp_path / "pool")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    pool = load_pool(root, max_bytes=1000)
    assert len(pool.texts) == 4
    assert "第二条：外卖很好吃" in pool.texts and "first note about lunch" in pool.texts
    assert any("noon" in t for t in pool.texts) and any(t.strip() == "Visible words" for t in pool.texts)
    assert pool.offered == 8 and sum(pool.skipped.values()) == 4  # binary, empty, emoji-only, over 1000 bytes
    assert any("1000 bytes" in reason for reason in pool.skipped)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_cap_keeps_the_first_texts_and_counts_the_rest(tmp_path):
    root = _tree(tmp_path / "pool")
    pool = load_pool(root, max_texts=2)
    assert len(pool.texts) == 2 and pool.capped == 3 and pool.summary()["left_out_over_cap"] == 3


def test_a_glob(tmp_path):
    root = _tree(tmp_path / "pool")
    pool = load_pool(str(root / "**" / "*.txt"))
    assert "first note about lunch" in pool.texts and "第二条：外卖很好吃" in pool.texts
    with pytest.raises(PoolError, match="no file matches"):
        load_pool(str(root / "*.nothing"))
    with pytest.raises(PoolError, match="no such file"):
        load_pool(tmp_path / "missing")


def test_tables_by_text_column(tmp_path):
    csv_path = tmp_path / "pool.csv"
    csv_path.write_text('id,text\n1,"one, with a comma"\n2,""\n3,"multi\nline"\n', encoding="utf-8")
    pool = load_pool(csv_path)
    assert pool.texts == ["one, with a comma", "multi\nline"] and pool.offered == 3 and pool.skipped["no text"] == 1
    tsv = tmp_path / "pool.tsv"
    tsv.write_text("body\tlabel\nhello there\tx\n", encoding="utf-8")
    assert load_pool(tsv, text_column="body").texts == ["hello there"]
    with pytest.raises(PoolError, match="no column 'text'"):
        load_pool(tsv)
    jsonl = tmp_path / "pool.jsonl"
    jsonl.write_text(json.dumps({"text": "ok"}) + "\n{broken\n" + json.dumps({"text": 5}) + "\n"
                     + "[" * 100000 + "\n", encoding="utf-8")
    pool = load_pool(jsonl)
    assert pool.texts == ["ok"] and pool.offered == 4 and sum(pool.skipped.values()) == 3
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(PoolError, match="not UTF-8"):
        load_pool(latin)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_the_pool_is_skipped_not_waited_on(tmp_path):
    root = tmp_path / "pool"
    root.mkdir()
    (root / "a.txt").write_text("a real note", encoding="utf-8")
    os.mkfifo(root / "pipe.txt")
    pool = load_pool(root)
    assert pool.texts == ["a real note"] and pool.offered == 2 and sum(pool.skipped.values()) == 1
