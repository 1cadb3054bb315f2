"""Regression tests for the reviewer's defects (numbered as in the review)."""
from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from textsort import bundle as B
from textsort.bundle import BundleError, load_bundle, write_bundle


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rezip(path: Path, items) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


# -- 1. ZIP directory / member-count lies, bombs within the caps ----------------
def test_1_lying_member_count_refused_before_parsing(tmp_path, monkeypatch):
    p = _rezip(tmp_path / "lie.textsort", [(f"f{i:05d}", b"") for i in range(3000)])
    raw = bytearray(p.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8: at + 12] = (4).to_bytes(2, "little") * 2  # "4 entries"
    p.write_bytes(bytes(raw))
    calls = []
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: calls.append(a) or pytest.fail("parsed"))
    t0 = time.perf_counter()
    with pytest.raises(BundleError, match="ZIP directory"):
        load_bundle(p)
    assert time.perf_counter() - t0 < 1 and not calls


def test_1_too_many_entries_counted_after_opening(tmp_path, monkeypatch):
    p = _rezip(tmp_path / "lie.textsort", [(f"f{i}", b"") for i in range(40)])
    raw = bytearray(p.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8: at + 12] = (4).to_bytes(2, "little") * 2
    p.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="40 members"):
        load_bundle(p)


def test_1_zip64_markers_refused(tmp_path):
    p = _rezip(tmp_path / "z64.textsort", [("manifest.json", b"{}")])
    raw = bytearray(p.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 12: at + 16] = b"\xff\xff\xff\xff"
    p.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="zip64"):
        load_bundle(p)


def test_1_member_size_checked_against_manifest_before_reading(tiny_bundle, tmp_path, monkeypatch):
    m = _members(tiny_bundle)
    bomb = b"\0" * (4 * 1024 * 1024)  # compresses to a few KB, within every cap
    p = _rezip(tmp_path / "bomb.textsort", [(k, bomb if k == "report.md" else v) for k, v in m.items()])
    read = []
    real = B._read_member
    monkeypatch.setattr(B, "_read_member", lambda zf, info, where: read.append(info.filename) or real(zf, info, where))
    with pytest.raises(BundleError, match="size mismatch for report.md"):
        load_bundle(p)
    assert read == ["manifest.json"]


# -- 2. fixed input shapes ---------------------------------------------------------
def _fixed_shape_model() -> bytes:
    tf = pytest.importorskip("tensorflow")

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.int32, "input_ids"),
                                      tf.TensorSpec([1, 8], tf.int32, "attention_mask")])
        def serve(self, input_ids, attention_mask):
            x = tf.cast(input_ids + attention_mask, tf.float32)
            return {"logits": tf.stack([tf.reduce_sum(x, 1), -tf.reduce_sum(x, 1)], axis=1)}

    m = M()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([m.serve.get_concrete_function()], m)
    return conv.convert()


def test_2_fixed_shape_model_refused(tiny_bundle, tmp_path):
    good = load_bundle(tiny_bundle)
    manifest = {k: v for k, v in good.manifest.items() if k != "files"}
    with pytest.raises(BundleError, match="dynamic batch and length"):
        write_bundle(tmp_path / "fixed.textsort", model_bytes=_fixed_shape_model(),
                     tokenizer_json=good.tokenizer_json, manifest=manifest)
    assert not list(tmp_path.glob("fixed*"))


def test_2_cli_model_failure_is_one_line_exit_3(tiny_bundle, monkeypatch, capsys):
    from textsort import cli
    from textsort.engine import Classifier

    def boom(self, text):
        raise RuntimeError("tensorflow/lite/kernels/reshape.cc:92 num_input_elements != num_output_elements\nNode 3 failed")

    monkeypatch.setattr(Classifier, "predict", boom)
    rc = cli.main(["classify", str(tiny_bundle), "--model", str(tiny_bundle)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_MODEL
    assert err.count("\n") == 1 and "model error" in err and "Traceback" not in err


# -- 3. explain on a long text stops at the cap -------------------------------------
def test_3_explain_long_text_with_small_cap_is_fast(tiny_bundle):
    from textsort.engine import Classifier, EngineLimits

    clf = Classifier(tiny_bundle, limits=EngineLimits(max_explain_windows=50))
    text = " ".join(["see you at lunch tonight and thanks mom"] * 6250)  # 50 000 words
    t0 = time.perf_counter()
    e = clf.explain(text, top_n=5)
    took = time.perf_counter() - t0
    assert not e.complete and e.words
    assert took < 10, took


def test_3_explain_scores_unchanged_by_window_lookup(tiny_classifier):
    """Every word of a multi-window text is still scored in every window that holds it."""
    text = " ".join(["see you at lunch tonight"] * 40) + " claim your free prize"
    e = tiny_classifier.explain(text, top_n=0)
    assert e.complete
    # every word but the stop-words ("you", "at", "your"), each repeated word once with its count
    counts = {w.text: w.count for w in e.words}
    assert counts == {"see": 40, "lunch": 40, "tonight": 40, "claim": 1, "free": 1, "prize": 1}
    assert all(len(w.spans) == w.count and all(text[a:b] == w.text for a, b in w.spans) for w in e.words)


# -- 4. memory: batches bounded by text size, text dropped after output ------------
def test_4_batches_bounded_by_characters(tiny_classifier, tmp_path, monkeypatch):
    from textsort.session import Session

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("see you at lunch")
    (d / "b.txt").write_text("free prize " * 120_000)  # 1.3 M characters
    (d / "c.txt").write_text("claim your cash")
    batches = []
    real = tiny_classifier.predict_batch
    monkeypatch.setattr(tiny_classifier, "predict_batch", lambda texts: batches.append(len(texts)) or real(texts))
    results = list(Session(tiny_classifier).run([d]))
    assert [r.label for r in results] == ["ham", "spam", "spam"]
    assert batches == [1, 1, 1]  # the huge file went alone; nothing waited beside it


def test_4_cli_drops_text_and_keeps_results_only_when_needed(tiny_bundle, tmp_path, monkeypatch, capsys):
    from textsort import cli
    from textsort.session import Session

    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):
        (d / f"{i}.txt").write_text("claim your free prize")
    seen = []
    real = Session.run_items

    def spy(self, items, cancel=lambda: False):
        for r in real(self, items, cancel):
            seen.append(r)
            yield r

    monkeypatch.setattr(Session, "run_items", spy)
    for fmt in ("csv", "json", "jsonl", "table"):
        seen.clear()
        assert cli.main(["classify", str(d), "--model", str(tiny_bundle), "--format", fmt]) == 0
        assert len(seen) == 3 and all(r.file.text is None for r in seen)
    out = capsys.readouterr().out
    # only a one-line snippet of each text (at most SNIPPET_CHARS) is carried, by the three export formats
    assert out.count("claim your free prize") == 9


# -- 5. models with odd metrics; names with control characters --------------------
def test_5_models_card_with_non_numeric_metrics(tiny_bundle, tmp_path, monkeypatch, capsys):
    from textsort import cli

    good = load_bundle(tiny_bundle)
    manifest = {k: v for k, v in good.manifest.items() if k != "files"}
    manifest["metrics"] = {"student_int8": {"accuracy": "high", "macro_f1": None, "split": "test"}}
    d = tmp_path / "models"
    write_bundle(d / "odd.textsort", model_bytes=good.model_bytes, tokenizer_json=good.tokenizer_json,
                 manifest=manifest)
    monkeypatch.setenv("TEXTSORT_MODELS", str(d))
    monkeypatch.setenv("TEXTSORT_MODEL", str(d / "odd.textsort"))
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "accuracy high, macro-F1 None on test" in out


def test_5_control_characters_in_names_are_escaped(tiny_bundle, tmp_path, monkeypatch, capsys):
    from textsort import cli

    d = tmp_path / "in"
    d.mkdir()
    evil = "x\nspam     99.9%  fake.txt\x1b[2K"
    (d / evil).write_text("see you at lunch")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["classify", "in"]  + ["--model", str(tiny_bundle)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2 and "\x1b" not in out
    assert repr(str(Path("in") / evil)) in out

    # the "not sorted" lines too
    from textsort.session import SortSummary

    monkeypatch.setattr("textsort.session.sort_into",
                        lambda results, dest, move=False: SortSummary(problems=[(d / evil, "could not copy:\nboom")]))
    cli.main(["classify", "in", "--model", str(tiny_bundle), "--sort-into", str(tmp_path / "out")])
    err = capsys.readouterr().err
    line = [x for x in err.splitlines() if x.startswith("  not sorted:")]
    assert len(line) == 1 and "\x1b" not in err and "boom" in line[0]


# -- 6. sorting leaves no partial copies; atomic exports; never over an input -----------
@pytest.fixture
def two_results(tiny_classifier, tmp_path):
    from textsort.session import Session

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("claim your free prize")
    (d / "b.txt").write_text("see you at lunch")
    return list(Session(tiny_classifier).run([d]))


@pytest.mark.parametrize("where", ["copyfileobj", "copystat"])
def test_6_failed_copy_leaves_nothing(two_results, tmp_path, monkeypatch, where):
    import shutil

    from textsort.session import sort_into

    def half_copy(fin, fout, length=0):
        fout.write(fin.read(3))
        raise OSError(28, "No space left on device")

    def bad_stat(src, dst, **kw):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(shutil, where, half_copy if where == "copyfileobj" else bad_stat)
    s = sort_into(two_results, tmp_path / "out")
    assert s.copied == 0 and len(s.problems) == 2
    assert all(why.startswith("could not copy") for _, why in s.problems)
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_6_move_across_file_systems_original_not_removed(two_results, tmp_path, monkeypatch):
    import errno
    import os

    from textsort.session import sort_into

    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    real_unlink = os.unlink

    def unlink(p, *a, **k):
        if Path(p).parent.name == "in":
            raise PermissionError(13, "Permission denied")
        return real_unlink(p, *a, **k)

    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(os, "unlink", unlink)
    s = sort_into(two_results, tmp_path / "out", move=True)
    assert s.moved == 0 and s.copied == 2
    assert [why for _, why in s.problems] == ["copied but the original could not be removed: Permission denied"] * 2
    for src, dest in s.placed:
        assert src.is_file() and dest.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_6_exports_are_atomic_and_never_over_an_input(two_results, tmp_path, monkeypatch, kind):
    from textsort import session as S

    export = S.export_csv if kind == "csv" else S.export_json
    with pytest.raises(OSError, match="one of the classified files"):
        export(two_results, two_results[0].path)
    assert two_results[0].path.read_text() == "claim your free prize"

    out = tmp_path / f"out.{kind}"
    out.write_text("old")
    monkeypatch.setattr(S.FileResult, "to_dict", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        export(two_results, out)
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir() if p.is_file()] == [out.name]
    monkeypatch.undo()
    export(two_results, out)
    assert "a.txt" in out.read_text(encoding="utf-8-sig")


# -- 7. control characters are binary whatever the decoding path ----------------------
@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_7_control_characters_are_binary(tmp_path, prefix):
    from textsort.reading import decode_bytes, read_file

    data = bytes(range(1, 32)) * 200
    if prefix == b"\xff\xfe":
        data = data.decode("latin-1").encode("utf-16-le")
    p = tmp_path / "ctl.txt"
    p.write_bytes(prefix + data)
    ft = read_file(p)
    assert ft.text is None and ft.problem == "binary file (not text)"
    assert decode_bytes(prefix + data)[2] == "binary file (not text)"
    assert decode_bytes(b"\xef\xbb\xbfline one\r\n\tline two\n")[0] == "line one\r\n\tline two\n"


# -- 8. label folders are unique and safe ---------------------------------------------
def test_8_label_folders_unique_and_safe():
    from textsort.session import folder_name, label_folders

    f = label_folders(["a/b", "a_b", "_uncertain", "CON", "nul.txt", "A_B", "好" * 200, "ok"])
    assert f["a/b"] == "a_b" and f["a_b"] == "a_b_2" and f["A_B"] == "A_B_3"
    assert f["_uncertain"] == "_uncertain_2"
    assert f["CON"] == "_CON" and f["nul.txt"] == "_nul.txt"
    assert len(f["好" * 200].encode()) <= 200 and f["ok"] == "ok"
    assert len({v.casefold() for v in f.values()}) == len(f)
    assert folder_name("com1") == "_com1" and folder_name("console") == "console"


def test_8_sort_into_keeps_clashing_labels_apart(two_results, tmp_path):
    import dataclasses

    from textsort.session import sort_into

    a, b = two_results
    # the same model labels, renamed to clash: "_uncertain" and "a/b" vs "a_b"
    def relabel(r, mapping):
        p = r.prediction
        scores = {mapping[k]: v for k, v in p.scores.items()}
        return dataclasses.replace(r, prediction=dataclasses.replace(p, label=mapping[p.label], scores=scores))

    m = {"ham": "_uncertain", "spam": "a/b"}
    s = sort_into([relabel(a, m), relabel(b, m)], tmp_path / "out")
    assert sorted(str(d.relative_to(tmp_path / "out")) for _, d in s.placed) == ["_uncertain_2/b.txt", "a_b/a.txt"]
    m2 = {"ham": "a_b", "spam": "a/b"}
    s = sort_into([relabel(a, m2), relabel(b, m2)], tmp_path / "out2")
    assert sorted(str(d.relative_to(tmp_path / "out2")) for _, d in s.placed) == ["a_b/b.txt", "a_b_2/a.txt"]
