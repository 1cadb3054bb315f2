"""The `textsort` command.

  textsort classify PATH... [--model BUNDLE] [--format table|json|jsonl|csv] [--explain]
                   [--threshold P] [--top-k K] [--threads N] [--accelerator cpu|gpu|auto]
                   [--include GLOB] [--exclude GLOB]
                   [--max-bytes N] [--sort-into DIR [--move]] [--no-progress]
  textsort evaluate PATH [--model BUNDLE] [--format table|json|csv] [--text-column C] [--label-column C]
                   labelled data (label subfolders, CSV/TSV/JSONL): accuracy, macro-F1, confusion
  textsort classify-dataset INPUT --out DIR [--format parquet|jsonl] [--address RAY] [--workers N]
                   a corpus on Ray (textsort.frontends.cluster; pip install 'textsort[ray]')
  textsort models [--card NAME_OR_PATH]   bundled models and their cards
  textsort self-test       one real inference on the default model, plus versions
  textsort --version

Exit codes: 0 ok; 1 some files had problems (or self-test failed its check);
2 usage error; 3 the model could not be loaded.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import unicodedata
from pathlib import Path

from textsort import __version__
from textsort.presentation.colours import label_colours, rgb
from textsort.presentation.printable import printable as _printable  # every untrusted string printed goes through it

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_MODEL = 0, 1, 2, 3
PROGRESS_MIN_FILES = 50  # show a progress bar (stderr is a terminal) from this many files


def display_width(s: str) -> int:
    """Terminal columns: wide/full-width characters (Chinese, Japanese) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in s)


def pad(s: str, width: int) -> str:
    return s + " " * max(0, width - display_width(s))


def _shown_path(p: Path) -> str:
    """A path as the user gave it (relative stays relative, absolute stays absolute)."""
    return _printable(str(p))


def _one_line(s: str) -> str:
    return " ".join(s.split())


# -- classify ----------------------------------------------------------------
def _load_classifier(args):
    from textsort.appstate.models import require_default_model
    from textsort.core.bundle import BundleError
    from textsort.core.engine import Classifier

    try:
        path = Path(args.model) if args.model else require_default_model()
        clf = Classifier(path, threads=args.threads, threshold=args.threshold, top_k=args.top_k,
                         accelerator=getattr(args, "accelerator", "cpu"))
        if clf.accelerator_note:
            print(f"textsort: {clf.accelerator_note}", file=sys.stderr)
        clf.predict("textsort")  # warm-up: a model that loads but cannot run fails here, not mid-run
        return clf
    except BundleError as e:
        print(f"textsort: model error: {e}", file=sys.stderr)
        return None
    except Exception as e:  # anything else the runtime raises: one line, never a traceback
        print(f"textsort: model error: {_one_line(f'{type(e).__name__}: {e}')}", file=sys.stderr)
        return None


def _wants_colour(out) -> bool:
    """Label colours on a terminal, unless NO_COLOR is set (no-color.org)."""
    return not os.environ.get("NO_COLOR") and bool(getattr(out, "isatty", lambda: False)())


def _word_cell(w, colours: dict[str, str]) -> str:
    """A deciding word as `free ×2 (spam +3.1)`; on a terminal the word is in its label's colour."""
    word = _printable(_one_line(w.text)) + (f" ×{w.count}" if w.count > 1 else "")
    if w.label in colours:
        r, g, b = rgb(colours[w.label])
        word = f"\x1b[1;38;2;{r};{g};{b}m{word}\x1b[0m"
    return f"{word} ({_printable(w.label)} {w.score:+.2g})"


class TableWriter:
    """An aligned table streamed line by line: LABEL, CONF, FILE, then notes or words."""

    def __init__(self, labels: list[str], out, explain: bool, top_k: int | None):
        self.out, self.explain, self.top_k = out, explain, top_k
        self.colour = _wants_colour(out)
        self.w = max([display_width(_printable(x)) for x in labels] + [display_width("uncertain"), 5])
        print(f"{pad('LABEL', self.w)}  {'CONF':>6}  FILE", file=out)

    def write(self, r) -> None:
        p = r.prediction
        if p is None:
            print(f"{pad('-', self.w)}  {'-':>6}  {_shown_path(r.path)}  [problem: {_printable(r.problem)}]",
                  file=self.out)
            return
        # labels come from the bundle and words from the file: neither may move the cursor or fake a line
        label = "uncertain" if r.uncertain else _printable(p.label)
        notes = [f"best guess {_printable(p.label)}"] if r.uncertain else []
        if self.top_k and self.top_k > 1:
            notes.append(", ".join(f"{_printable(lab)} {s:.1%}" for lab, s in p.top))
        if r.file.truncated:
            notes.append(r.note)
        if r.warning:
            notes.append(r.warning)
        extra = f"  [{_printable('; '.join(notes))}]" if notes else ""
        print(f"{pad(label, self.w)}  {p.score:>6.1%}  {_shown_path(r.path)}{extra}", file=self.out)
        if self.explain and r.explanation is not None:
            colours = label_colours(p.scores) if self.colour else {}
            shown = ", ".join(_word_cell(w, colours) for w in r.explanation.deciding)
            print(f"{pad('', self.w)}  {'':>6}    words: {shown or '-'}", file=self.out)


def cmd_classify(args) -> int:
    from textsort.appstate.session import CsvWriter, Session, csv_header, csv_row, json_text, sort_into

    clf = _load_classifier(args)
    if clf is None:
        return EXIT_MODEL
    session = Session(clf, max_bytes=args.max_bytes, include=tuple(args.include), exclude=tuple(args.exclude),
                      explain=args.explain, top_words=args.top_words)
    items = session.expand(args.paths)
    out = sys.stdout
    results = []
    stream = session.run_items(items)
    if not args.no_progress and len(items) >= PROGRESS_MIN_FILES and sys.stderr.isatty():
        from tqdm import tqdm

        stream = tqdm(stream, total=len(items), unit="file", file=sys.stderr, leave=False)
    writer = None
    if args.format == "table":
        writer = TableWriter(clf.labels, out, args.explain, args.top_k)
    elif args.format == "csv":
        writer = CsvWriter(out)
        writer.writerow(csv_header(clf.labels))
    # Results are kept only when needed afterwards (one JSON array, sorting); the
    # text itself is never kept once a row is written (no output format includes it).
    keep = args.format == "json" or bool(args.sort_into)
    count = problems = 0
    for r in stream:
        count += 1
        problems += r.problem is not None
        if args.format == "table":
            writer.write(r)
        elif args.format == "csv":
            writer.writerow(csv_row(r, clf.labels))
        elif args.format == "jsonl":
            print(json_text(r.to_dict()), file=out, flush=True)
        r.file.text = None
        if keep:
            results.append(r)
    if args.format == "json":
        print(json_text([r.to_dict() for r in results], indent=1), file=out)
    if args.format == "table":
        done = count - problems
        print(f"\n{done} file(s) classified, {problems} with problems, model {_printable(clf.bundle.name)}",
              file=sys.stderr)
    if args.sort_into:
        s = sort_into(results, args.sort_into, move=args.move)
        verb = "moved" if args.move else "copied"
        print(f"{s.moved if args.move else s.copied} file(s) {verb} into {_printable(str(args.sort_into))} "
              f"({s.renamed} renamed to avoid overwriting, {s.uncertain} uncertain, {s.skipped} not sorted)",
              file=sys.stderr)
        for path, why in s.problems:
            print(f"  not sorted: {_shown_path(path)}: {_printable(_one_line(why))}", file=sys.stderr)
        problems += len([1 for _, why in s.problems if why.startswith(("could not", "copied but"))])
    if not count:
        print("textsort: no files found", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if problems else EXIT_OK


# -- models and self-test ------------------------------------------------------
def cmd_models(args) -> int:
    """Every bundled model's short summary; with --card NAME_OR_PATH, one model's full card."""
    from textsort.appstate.models import bundled_models, default_model_path, model_card, models_dirs

    if getattr(args, "card", None):
        from textsort.appstate.models import find_model
        from textsort.core.bundle import BundleError, load_bundle
        from textsort.presentation.card import bundle_card

        try:
            print(bundle_card(load_bundle(find_model(args.card))), end="")
        except BundleError as e:
            print(f"textsort: model error: {e}", file=sys.stderr)
            return EXIT_MODEL
        return EXIT_OK
    paths = bundled_models()
    if not paths:
        print(f"No bundled models in {', '.join(map(str, models_dirs()))}")
        return EXIT_OK
    default = default_model_path().resolve()
    bad = 0
    for p in paths:
        c = model_card(p)
        mark = "  (default)" if p.resolve() == default else ""
        print(f"{_printable(p.name)}{mark}  [{c.size / 1e6:.1f} MB]")
        if c.problem:
            bad += 1
            print(f"  unusable: {_printable(_one_line(c.problem))}")
            continue
        for line in c.summary.splitlines():  # textsort.presentation.card.card_summary: plain, escaped text
            print(f"  {line}")
    if not bad:
        print("The full card of one: textsort models --card NAME")
    return EXIT_PROBLEMS if bad else EXIT_OK


def cmd_evaluate(args) -> int:
    """Accuracy, macro-F1, per-class scores and the confusion matrix on labelled data."""
    from textsort.appstate.evaluation import evaluate
    from textsort.appstate.session import json_text
    from textsort.files.labelled import Columns, DataError

    clf = _load_classifier(args)
    if clf is None:
        return EXIT_MODEL
    try:
        ev = evaluate(clf, args.path, Columns(args.text_column, args.label_column))
    except DataError as e:
        print(f"textsort: data error: {_printable(_one_line(str(e)))}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json_text(ev.to_dict(), indent=2))  # names that are not UTF-8 as \udcXX escapes
    elif args.format == "csv":
        sys.stdout.write(ev.to_csv())
    else:
        sys.stdout.write(ev.table())
    if ev.skipped:
        print(f"textsort: skipped {sum(ev.skipped.values())} texts with labels the model does not have: "
              f"{', '.join(map(_printable, ev.skipped))}", file=sys.stderr)
    return EXIT_OK if ev.n else EXIT_PROBLEMS


def cmd_classify_dataset(args) -> int:
    """A corpus on Ray (local, or a cluster with --address): textsort.frontends.cluster."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        print("textsort: classify-dataset needs Ray: pip install 'textsort[ray]'", file=sys.stderr)
        return EXIT_USAGE
    from textsort.appstate.models import require_default_model
    from textsort.core.bundle import BundleError
    from textsort.frontends.cluster import classify_dataset

    try:
        model = Path(args.model) if args.model else require_default_model()
        info = classify_dataset(args.input, args.out, model, out_format=args.format, address=args.address,
                                workers=args.workers, text_column=args.text_column, id_column=args.id_column)
    except BundleError as e:
        print(f"textsort: model error: {e}", file=sys.stderr)
        return EXIT_MODEL
    except (ValueError, OSError) as e:
        print(f"textsort: {_one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    print(f"textsort: classified {args.input} with {info['model']} on {info['workers']} workers into {args.out}",
          file=sys.stderr)
    return EXIT_OK


def cmd_self_test(args) -> int:
    import platform
    import time

    from textsort.core.versions import RUNTIME_PACKAGES, package_versions

    print(f"textsort {__version__}, Python {platform.python_version()} ({platform.system()} {platform.machine()})")
    for pkg, v in package_versions(RUNTIME_PACKAGES[1:]).items():
        if pkg != "python":
            print(f"  {pkg} {v or 'not installed'}")
    t0 = time.perf_counter()
    clf = _load_classifier(args)
    if clf is None:
        return EXIT_MODEL
    t1 = time.perf_counter()
    text = "Hello! Are we still meeting for lunch tomorrow?"
    p = clf.predict(text)
    t2 = time.perf_counter()
    print(f"model {_printable(clf.bundle.path)} ({_printable(clf.bundle.name)}; "
          f"labels {', '.join(map(_printable, clf.labels))})")
    print(f"  loaded in {(t1 - t0) * 1000:.0f} ms; {text!r} -> {_printable(p.label)} ({p.score:.1%}) "
          f"in {(t2 - t1) * 1000:.1f} ms")
    print(f"  ran on: {clf.accelerator}" + (f" ({clf.accelerator_note})" if clf.accelerator_note else ""))
    ok = abs(sum(p.scores.values()) - 1.0) < 1e-3 and p.label in clf.labels
    print("self-test passed" if ok else "self-test FAILED: the model's probabilities do not add up")
    return EXIT_OK if ok else EXIT_PROBLEMS


# -- argument parsing ----------------------------------------------------------
def _probability(s: str) -> float:
    v = float(s)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return v


def _positive_int(s: str) -> int:
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


MAX_BYTES_LIMIT = 16 * 1024 * 1024  # bench/memory.py: one 16 MiB file stays under 300 MB peak RSS


def _max_bytes(s: str) -> int:
    v = _positive_int(s)
    if v > MAX_BYTES_LIMIT:
        raise argparse.ArgumentTypeError(f"at most {MAX_BYTES_LIMIT} (16 MiB): longer files are read in part")
    return v


def cmd_serve(args) -> int:
    from textsort.frontends.server import make_server

    clf = _load_classifier(args)
    if clf is None:
        return EXIT_MODEL
    try:
        server = make_server(clf, args.host, args.port)
    except (ValueError, OSError) as e:
        print(f"textsort: {e}", file=sys.stderr)
        return EXIT_USAGE
    host, port = server.server_address[:2]
    print(f"textsort: serving {_printable(clf.bundle.name)} on http://{host}:{port}/ "
          "(POST /classify, GET /health); Ctrl+C stops", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from textsort.files.reading import DEFAULT_MAX_BYTES

    parser = argparse.ArgumentParser(
        prog="textsort", description="Offline text classifier: files in, labels out.",
        epilog="Exit codes: 0 ok, 1 some files had problems, 2 usage error, 3 model error.")
    parser.add_argument("--version", action="version", version=f"textsort {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("classify", help="classify files and folders")
    c.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched recursively)")
    c.add_argument("--model", help="a .textsort bundle (default: the bundled default model)")
    c.add_argument("--format", choices=["table", "json", "jsonl", "csv"], default="table")
    c.add_argument("--explain", action="store_true", help="show the words that decided")
    c.add_argument("--top-words", type=_positive_int, default=5, help="words shown with --explain (default 5)")
    c.add_argument("--threshold", type=_probability, default=0.0,
                   help="below this confidence a file is 'uncertain' (default 0)")
    c.add_argument("--top-k", type=_positive_int, default=None, help="also show the K most likely labels")
    c.add_argument("--threads", type=_positive_int, default=None, help="CPU threads for the model")
    c.add_argument("--accelerator", choices=["cpu", "gpu", "auto"], default="cpu",
                   help="where the model runs: cpu (default), gpu or auto (a GPU when LiteRT finds one; "
                        "the CPU otherwise, never an error)")
    c.add_argument("--include", action="append", default=[], metavar="GLOB", help="only files matching (repeatable)")
    c.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip files/folders (repeatable)")
    c.add_argument("--max-bytes", type=_max_bytes, default=DEFAULT_MAX_BYTES,
                   help=f"read at most this much of each file (default {DEFAULT_MAX_BYTES})")
    c.add_argument("--sort-into", metavar="DIR", help="copy files into DIR/<label>/, keeping their subfolders (never overwrites)")
    c.add_argument("--move", action="store_true", help="with --sort-into: move instead of copy")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_classify)

    e = sub.add_parser("evaluate", help="accuracy, macro-F1 and confusion matrix on labelled data")
    e.add_argument("path", metavar="PATH", help="a folder with one subfolder per label, or a CSV/TSV/JSONL file")
    e.add_argument("--model", help="a .textsort bundle (default: the bundled default model)")
    e.add_argument("--format", choices=["table", "json", "csv"], default="table",
                   help="table (default), json (accuracy, macro_f1, per_class, confusion_matrix, errors) or "
                        "csv (one row per text)")
    e.add_argument("--text-column", default="text", help="CSV/TSV/JSONL: the text column (default text)")
    e.add_argument("--label-column", default="label", help="CSV/TSV/JSONL: the label column (default label)")
    e.set_defaults(func=cmd_evaluate, threads=None, threshold=0.0, top_k=None)

    d = sub.add_parser("classify-dataset", help="a corpus on Ray (local or a cluster): files or a text column "
                                                "in, Parquet/JSONL out (pip install 'textsort[ray]')")
    d.add_argument("input", metavar="INPUT", help="a folder or glob of text files, or a Parquet/CSV/JSONL dataset")
    d.add_argument("--out", required=True, help="output folder (Parquet or JSONL files)")
    d.add_argument("--model", help="a .textsort bundle (default: the bundled default model)")
    d.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    d.add_argument("--address", help="a Ray cluster to join (ray://HOST:10001 or auto); default: a local Ray")
    d.add_argument("--workers", type=_positive_int, help="classifying actors, one CPU each (default: CPUs - 1)")
    d.add_argument("--text-column", default="text", help="tables: the text column (default text)")
    d.add_argument("--id-column", help="tables: a column to use as the row id (default: file#text-hash)")
    d.set_defaults(func=cmd_classify_dataset)

    m = sub.add_parser("models", help="list bundled models and their cards")
    m.add_argument("--card", metavar="NAME_OR_PATH",
                   help="print one model's full card (Markdown): a bundled model's name or a .textsort file")
    m.set_defaults(func=cmd_models)

    s = sub.add_parser("serve", help="a JSON endpoint on loopback: GET /health, POST /classify")
    s.add_argument("--model", help="a .textsort bundle (default: the bundled default model)")
    s.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    s.add_argument("--threads", type=_positive_int, default=None, help="CPU threads for the model")
    s.add_argument("--accelerator", choices=["cpu", "gpu", "auto"], default="cpu",
                   help="where the model runs: cpu (default), gpu or auto (a GPU when LiteRT finds one; "
                        "the CPU otherwise, never an error)")
    s.add_argument("--threshold", type=_probability, default=0.0, help="below this confidence: uncertain")
    s.set_defaults(func=cmd_serve, top_k=None)

    t = sub.add_parser("self-test", help="check the installation with one real inference")
    t.add_argument("--model", help="a .textsort bundle (default: the bundled default model)")
    t.add_argument("--accelerator", choices=["cpu", "gpu", "auto"], default="cpu",
                   help="where the model runs: cpu (default), gpu or auto (a GPU when LiteRT finds one; "
                        "the CPU otherwise, never an error)")
    t.set_defaults(func=cmd_self_test, threads=None, threshold=0.0, top_k=None)
    return parser


_terminated = [0]


def _on_sigterm(signum, frame):
    _terminated[0] = signum
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C: partial copies are removed


def _terminate_like_interrupt():
    """SIGTERM (kill, systemd stop, a closing session) stops like SIGINT, so every
    `finally`/cleanup runs. Only in the main thread; returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "move", False) and not args.sort_into:
        parser.error("--move needs --sort-into DIR")
    previous = _terminate_like_interrupt()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("textsort: interrupted", file=sys.stderr)
        return 143 if _terminated[0] else 130  # 128 + the signal's number
    except BrokenPipeError:  # e.g. `textsort classify . | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
