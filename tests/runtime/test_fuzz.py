"""Property tests (hypothesis) on everything that reads untrusted input: file readers,
the tokenizer front end, the classifier, bundle loading, the endpoint's request parser and
the labelled-data reader (CSV/TSV/JSONL files, label-folder trees).

Each property runs twice: a quick version in every test run (QUICK examples), and a long
version behind the opt-in marker `fuzz` (`./dev test -m fuzz`; LONG examples each,
`TEXTSORT_FUZZ_EXAMPLES` to change it). Properties: never an exception other than the
documented ones (labelled data: examples or a DataError, never a hang); spans inside the
text; probabilities finite and summing to 1; a batch equals its texts one by one.
"""
from __future__ import annotations

import re

import contextlib
import csv
import io
import json
import os
import signal
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from textsort.core.bundle import BundleError, load_bundle
from textsort.files.labelled import Columns, DataError, load_examples
from textsort.files.reading import decode_bytes, read_file
from textsort.frontends.server import RequestError, classify_request, host_allowed, predict_request

from fuzzing import QUICK, SETTINGS as _SETTINGS, fuzz  # noqa: E402,F401


# any Unicode, lone surrogates included (they arrive from JSON and from surrogateescape names)
ANY_TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=300)
MIXED_TEXT = st.one_of(ANY_TEXT, st.text(st.sampled_from(list("free prize lunch 好差 \n\t.,!?\u200b\u0301")),
                                         max_size=200))


# -- readers ---------------------------------------------------------------
def _encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "replace") if not any(0xD800 <= ord(c) <= 0xDFFF for c in text) else b""


FILE_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.builds(_encoded, MIXED_TEXT, st.sampled_from(["utf-8", "utf-16", "gb18030", "big5", "latin-1"])),
    st.builds(lambda b: b"From: a@b\r\nSubject: " + b, st.binary(max_size=500)))


def prop_read_file(data, suffix):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"f{suffix}"
        p.write_bytes(data)
        ft = read_file(p, max_bytes=1024)
        assert p.read_bytes() == data  # read, never changed
    if ft.problem is None:
        assert ft.text and ft.text.strip()
        ft.text.encode("utf-8")  # decoded text is real Unicode
    else:
        assert isinstance(ft.problem, str) and ft.problem


test_read_file_never_raises, test_read_file_never_raises_long = fuzz(
    FILE_BYTES, st.sampled_from([".txt", ".eml", ".html", ".csv", ".md", ""]))(prop_read_file)


def prop_decode(data, truncated):
    text, enc, problem = decode_bytes(data, truncated)
    assert text is not None or problem is not None


test_decode_bytes_never_raises, test_decode_bytes_never_raises_long = fuzz(FILE_BYTES, st.booleans())(prop_decode)


# -- tokenizer front end and classifier ---------------------------------------
def prop_encoder(tiny_classifier, texts):
    enc = tiny_classifier.encoder
    spec = enc.spec
    windows, owner = enc.encode_batch(texts)
    assert sorted(set(owner.tolist())) == list(range(len(texts)))
    for w in windows:
        assert w.dtype == np.int32 and w[0] == spec.cls_id and w[-1] == spec.sep_id and 2 <= len(w) <= spec.max_length
    singles = [w for t in texts for w in enc.encode(t)]
    assert len(singles) == len(windows) and all((a == b).all() for a, b in zip(singles, windows))


test_encoder_on_any_unicode, test_encoder_on_any_unicode_long = fuzz(
    st.lists(MIXED_TEXT, min_size=1, max_size=5))(prop_encoder)


def prop_classifier(tiny_classifier, texts):
    preds = tiny_classifier.predict_batch(texts)
    for p, t in zip(preds, texts):
        probs = np.array(list(p.scores.values()))
        assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-4 and p.label in tiny_classifier.labels
        single = tiny_classifier.predict(t)
        assert single.label == p.label and np.allclose(list(single.scores.values()), probs, atol=1e-5)


test_classifier_probabilities, test_classifier_probabilities_long = fuzz(
    st.lists(MIXED_TEXT, min_size=1, max_size=4))(prop_classifier)


def prop_explain(tiny_classifier, text):
    e = tiny_classifier.explain(text, top_n=5)
    for w in e.words:
        assert 0 <= w.start < w.end <= len(text) and text[w.start:w.end] == w.text and np.isfinite(w.score)
    assert np.isfinite(list(e.prediction.scores.values())).all()


test_explain_spans_inside_the_text, test_explain_spans_inside_the_text_long = fuzz(
    st.text(st.sampled_from(list("free prize lunch mom 好差 ,.!'\u200b\u0301\ud800")), max_size=120))(prop_explain)


# -- bundles ---------------------------------------------------------------
def _mutated_bundle(base: bytes, key, value, flips) -> bytes:
    """A bundle whose manifest has one field replaced, then some bytes flipped: the ZIP,
    JSON, manifest and flatbuffer checks all get a turn."""
    zin = zipfile.ZipFile(io.BytesIO(base))
    members = {i.filename: zin.read(i) for i in zin.infolist()}
    manifest = json.loads(members["manifest.json"])
    if key is not None:
        manifest[key] = value
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, json.dumps(manifest).encode() if name == "manifest.json" else data)
    data = bytearray(out.getvalue())
    for pos, byte in flips:
        data[pos % len(data)] = byte
    return bytes(data)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3), max_leaves=10)
MANIFEST_KEYS = st.sampled_from(["name", "labels", "tokenizer", "model", "files", "format_version", "language"])


def prop_bundle(tiny_bundle, key, value, flips):
    data = _mutated_bundle(Path(tiny_bundle).read_bytes(), key, value, flips)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.textsort"
        p.write_bytes(data)
        try:
            b = load_bundle(p)
        except BundleError as e:
            assert str(e)
            return
        assert len(b.labels) >= 2


test_load_bundle_only_raises_bundle_error, test_load_bundle_only_raises_bundle_error_long = fuzz(
    st.one_of(st.none(), MANIFEST_KEYS), JSON_VALUES,
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4))(prop_bundle)


# -- the endpoint's request parser --------------------------------------------
def prop_request(tiny_classifier, body):
    lock = threading.Lock()
    for handle in (classify_request, predict_request):
        try:
            reply = handle(tiny_classifier, body, lock)
        except RequestError as e:
            assert e.status in (400, 413) and str(e)
            continue
        json.dumps(reply, allow_nan=False).encode("utf-8")  # strict JSON, always encodable


REQUESTS = st.one_of(JSON_VALUES, st.fixed_dictionaries(
    {}, optional={"text": st.one_of(MIXED_TEXT, JSON_VALUES),
                  "texts": st.one_of(st.lists(MIXED_TEXT, max_size=3), JSON_VALUES),
                  "explain": st.one_of(st.booleans(), JSON_VALUES), "top_words": JSON_VALUES}))
test_request_parser, test_request_parser_long = fuzz(REQUESTS)(prop_request)


def prop_host(host):
    if host_allowed(host):  # a loopback name and at most an ASCII port number, nothing else
        assert re.fullmatch(r"(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?", host.strip().lower())


test_host_check, test_host_check_long = fuzz(st.one_of(ANY_TEXT, st.sampled_from(
    ["127.0.0.1:1", "127.0.0.1", "[::1]:8", "localhost", "localhost:²", "evil.com", "localhost.evil.com:80"])))(prop_host)


# -- labelled data (textsort.files.labelled: CSV/TSV/JSONL files and label-folder trees) -----
# Property: load_examples returns examples (a text, a non-empty label) or raises DataError
# with a message; never another exception, never a hang (a 20 s alarm per example).
@contextlib.contextmanager
def _deadline(seconds: int):
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum, frame):
        raise TimeoutError(f"load_examples ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _loads_or_data_error(path: Path, columns: Columns | None = None) -> None:
    with _deadline(20):
        try:
            examples = load_examples(path, columns)
        except DataError as e:
            assert str(e)
            return
    assert examples
    for e in examples:
        assert isinstance(e.text, str) and isinstance(e.label, str) and e.label and isinstance(e.source, str)


ODD = ['"', '""', ",", "\t", ";", "|", "\n", "\r\n", "\r", '"a,b"', 'a"b', " ", "", "\ufeff", "\u2028", "\x1b"]
CELL = st.one_of(MIXED_TEXT, st.sampled_from(ODD), st.integers().map(str), st.sampled_from(["ham", "spam", "好"]))
HEADER = st.lists(st.one_of(st.sampled_from(["text", "label", " text ", "Label", ""]), st.text(max_size=5)),
                  max_size=4).map(lambda h: h if len(h) > 2 else ["text", "label", *h])
WRITE_DELIMITERS = st.sampled_from([",", "\t", ";", "|", " ", '"', "\n", "é", "\x00"])


def _delimited(header, rows, delimiter, proper) -> str:
    """Rows as csv.writer writes them, or cells joined as they are (so quotes break)."""
    if proper:
        try:
            buf = io.StringIO()
            csv.writer(buf, delimiter=delimiter).writerows([header, *rows])
            return buf.getvalue()
        except (csv.Error, TypeError, ValueError):
            pass
    return "\n".join(delimiter.join(row) for row in [header, *rows])


DELIMITED = st.builds(_delimited, HEADER, st.lists(st.lists(CELL, max_size=4), max_size=6), WRITE_DELIMITERS,
                      st.booleans())


def _nested(n: int, opener: str) -> str:
    return "[" * n + "]" * n if opener == "[" else '{"a":' * n + "1" + "}" * n


JSON_LINE = st.one_of(
    st.builds(lambda text, label, ascii_: json.dumps({"text": text, "label": label}, ensure_ascii=ascii_),
              st.one_of(MIXED_TEXT, JSON_VALUES), st.one_of(MIXED_TEXT, st.integers(), JSON_VALUES), st.booleans()),
    st.builds(lambda v: json.dumps(v), JSON_VALUES),
    st.builds(_nested, st.integers(1, 200_000), st.sampled_from(["[", "{"])),
    st.builds(lambda n, key: f'{{"text": "a", "{key}": {"9" * n}}}', st.integers(1, 6000),
              st.sampled_from(["label", "text"])),
    st.builds(lambda n: '{"text": "a", "label": ' + "[" * n + "]" * n + "}", st.integers(1, 5000)),
    st.sampled_from(['{"text": "a", "label": 1e99999}', '{"text": NaN, "label": Infinity}', '{"text": "a"}',
                     '{"text": "a", "label": null}', '{"text": "a", "label": true}', "[]", "{", "", "\r"]),
    MIXED_TEXT)
JSONL = st.lists(JSON_LINE, max_size=6).map("\n".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "gb18030"])


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


LABELLED_BYTES = st.one_of(st.binary(max_size=2000), st.builds(_encode, st.one_of(DELIMITED, JSONL, MIXED_TEXT),
                                                                ENCODINGS))
COLUMNS = st.builds(Columns, st.sampled_from(["text", "Text", "", " text"]), st.sampled_from(["label", "text", "x"]),
                    st.one_of(st.none(), st.sampled_from([",", "\t", ";", "", "ab", '"', "\n", "\r", "\x00", "é"]),
                              st.text(max_size=2)))
NOT_A_FILE = st.sampled_from(["file"] * 6 + ["fifo", "dev-zero", "link-loop", "folder", "missing"])


def prop_labelled_file(data, suffix, columns, kind):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"data{suffix}"
        if kind == "file":
            p.write_bytes(data)
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind == "dev-zero":
            p.symlink_to(os.devnull if not os.path.exists("/dev/zero") else "/dev/zero")
        elif kind == "link-loop":
            p.symlink_to(p)
        elif kind == "folder":
            p.mkdir()
        _loads_or_data_error(p, columns)
        if kind == "file":
            assert p.read_bytes() == data  # read, never changed


test_labelled_file_loads_or_data_error, test_labelled_file_loads_or_data_error_long = fuzz(
    LABELLED_BYTES, st.sampled_from([".csv", ".tsv", ".jsonl", ".ndjson", ".txt", ""]), st.one_of(st.none(), COLUMNS),
    NOT_A_FILE if os.name == "posix" else st.just("file"))(prop_labelled_file)


# label-folder trees: odd names (not UTF-8 too), empty and binary files, symlinks, FIFOs
NAME = st.one_of(
    st.sampled_from(["ham", "spam", ".hidden", "a b", "好", "\u202eevil", "-x", "x\n", "*", "[a]", "...", " "]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=12),
    st.binary(min_size=1, max_size=8).filter(lambda b: b"/" not in b and b"\x00" not in b).map(os.fsdecode),
).filter(lambda n: n not in (".", "..") and len(os.fsencode(n)) <= 200)
LEAF = st.one_of(st.tuples(st.just("file"), st.one_of(FILE_BYTES, st.builds(_encode, MIXED_TEXT, ENCODINGS))),
                 st.tuples(st.sampled_from(["empty", "binary", "fifo", "dir", "dev", "link-root", "link-self",
                                            "link-missing", "link-sibling"]), st.just(b"")))
TREE = st.lists(st.tuples(st.lists(NAME, min_size=1, max_size=4), LEAF), max_size=8)


def _make(root: Path, path: Path, kind: str, data: bytes) -> None:
    """One entry; "xb": never through a link or into a FIFO made by an earlier entry."""
    if kind in ("file", "empty", "binary"):
        with path.open("xb") as fh:
            fh.write({"file": data, "empty": b"", "binary": b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256))}[kind])
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "dev":
        path.symlink_to("/dev/zero" if os.path.exists("/dev/zero") else os.devnull)
    else:
        target = {"link-root": root, "link-self": path,
                  "link-missing": path.parent / "missing", "link-sibling": path.parent}[kind]
        path.symlink_to(target)


def prop_label_tree(tree):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "data"
        root.mkdir()
        for parts, (kind, data) in tree:
            path = root.joinpath(*parts)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                _make(root, path, kind, data)
            except OSError:  # a name taken by a file, a link in the way, ...: that entry is left out
                continue
        _loads_or_data_error(root)


_POSIX = pytest.mark.skipif(os.name != "posix", reason="FIFOs, symbolic links and names that are not UTF-8")
test_label_tree_loads_or_data_error, test_label_tree_loads_or_data_error_long = map(_POSIX, fuzz(TREE)(prop_label_tree))
