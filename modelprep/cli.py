"""`textsort-prep`: train a bundle from labelled texts, or show a bundle's card.

  textsort-prep train DATA --out MODEL.textsort [--force] [--unlabelled PATH] [--test FILE] [--teacher auto|minilm|e5|PATH] ...
                     [--progress-json]   (JSON lines on stdout: modelprep.progress)
  textsort-prep preview DATA [--test FILE] [--teacher ...]   labels, cleaning, teacher, time estimate (JSON lines)
  textsort-prep calibrate MODEL.textsort DATA [--out NEW.textsort [--force]]
  textsort-prep inspect MODEL.textsort
  textsort-prep suggest SOURCE --cache DIR [--labels FILE]   what to label next (one JSON line)

Exit status: 0 done, 2 bad input or arguments, 3 the int8 guard refused the export.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from modelprep import progress
from textsort.appstate.training import training_missing
from textsort.core.manifest import DEFAULT, SIZES, shipped_metrics
from textsort.core.protocol import Event
from textsort.presentation.printable import printable as _printable

EXIT_BAD_INPUT, EXIT_GUARD = 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="textsort-prep", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    data = argparse.ArgumentParser(add_help=False)  # what train and preview both read (textsort.appstate.training too)
    data.add_argument("data", help="CSV/TSV/JSONL file or a folder with one subfolder per label")
    data.add_argument("--test", help="held-out file, only for the final report's numbers")
    data.add_argument("--unlabelled", metavar="PATH",
                      help="your unlabelled texts (a folder, a glob, or a CSV/TSV/JSONL with a text column): the "
                           "teacher learns from them when labels are few and labels them for the student")
    data.add_argument("--teacher", default="auto", help="auto | minilm | e5 | path to a HF BERT folder")
    data.add_argument("--text-column", default="text")
    data.add_argument("--label-column", default="label")
    data.add_argument("--config", metavar="JSON",
                      help='a JSON file of config overrides per section, e.g. {"teacher": {"hparams": {"epochs": 2}}} '
                           "(sections and fields: modelprep/config.py); applied before the other options")
    t = sub.add_parser("train", parents=[data], help="fine-tune a teacher, distill, quantize, verify, write a bundle")
    t.add_argument("--out", required=True, help="bundle to write (NAME.textsort); never an existing file "
                                                  "unless --force")
    t.add_argument("--force", action="store_true", help="replace an existing --out bundle (its report beside "
                                                        "it only if this pipeline wrote it)")
    t.add_argument("--work", help="work folder for the stages (default runs/<name>)")
    t.add_argument("--name", help="model name in the bundle (default: data name + language)")
    t.add_argument("--epochs", type=int, help="teacher epochs")
    t.add_argument("--student-epochs", type=int)
    t.add_argument("--max-length", type=int, help="tokens per window (default 128)")
    t.add_argument("--teacher-time-budget", type=float, help="seconds of teacher training at most")
    t.add_argument("--teacher-precision", choices=["auto", "float32", "mixed_bfloat16"],
                   help="auto (default): bfloat16 where the CPU/GPU computes it natively")
    t.add_argument("--augment-copies", type=int, help="augmented copies per row in the transfer set")
    t.add_argument("--no-ngram-teacher", action="store_true",
                   help="the teacher is the fine-tuned BERT alone (default: mixed with a TF-IDF model)")
    t.add_argument("--size", choices=SIZES, default=DEFAULT.role,
                   help="tiny: the smallest, fastest student; default: the distilled student; accurate: the "
                        "verified int8 model with the best validation accuracy (the int8 BERT teacher or the student)")
    t.add_argument("--max-size", type=float, metavar="MB", help="ship the most accurate model of at most MB")
    t.add_argument("--max-ms", type=float, metavar="MS",
                   help="ship the most accurate model of at most MS model milliseconds per text")
    t.add_argument("--allow-failed-guard", action="store_true", help="write the bundle even if int8 is worse")
    t.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    t.add_argument("--progress-json", action="store_true",
                   help="machine-readable progress: one JSON object per line on stdout (the log stays on stderr)")
    v = sub.add_parser("preview", parents=[data],
                       help="what training would do: labels, cleaning, teacher, time (JSON lines)")
    v.add_argument("--no-measure", action="store_true", help="skip the speed measurement (no estimate)")
    c = sub.add_parser("calibrate", help="add the suggested 'uncertain below' threshold to an older bundle "
                                         "(its validation split is rebuilt from DATA and checked)")
    c.add_argument("model")
    c.add_argument("data", help="the training file the bundle was made from")
    c.add_argument("--out", help="write a new bundle here instead of rewriting MODEL")
    c.add_argument("--force", action="store_true", help="replace an existing --out")
    g = sub.add_parser("suggest", help="what to label next in a folder (or table) of texts, and the quick "
                                       "model's accuracy so far (one JSON line; the app's Label view)")
    g.add_argument("source", help="the folder, glob or CSV/TSV/JSONL of texts being labelled")
    g.add_argument("--labels", help="the labels file (default: beside SOURCE, textsort.appstate.labelling)")
    g.add_argument("--cache", required=True, help="a folder for the texts' embeddings (reused by the next call)")
    g.add_argument("--teacher", default="auto")
    g.add_argument("--batch", type=int, default=16)
    i = sub.add_parser("inspect", help="print a bundle's model card")
    i.add_argument("model")
    i.add_argument("--json", action="store_true", help="print the whole manifest as JSON")
    return p


def _overrides(cfg, path):
    """`cfg` with the JSON file's {"section": {"field": value}} overrides applied, every field
    and type checked now (ConfigError, a ValueError: one line, exit 2), before any training."""
    if not path:
        return cfg
    from modelprep.config import ConfigError, apply_overrides

    try:
        with open(path, "rb") as fh:
            text = fh.read(1 << 20).decode("utf-8")
        overrides = json.loads(text)
    except OSError as e:
        raise ConfigError(f"--config {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ConfigError(f"--config {path}: not a JSON file ({str(e)[:120]})") from None
    try:
        return apply_overrides(cfg, overrides, "config")
    except ConfigError as e:
        raise ConfigError(f"--config {path}: {e}") from None


def _config(args):
    from modelprep.config import PipelineConfig

    cfg = _overrides(PipelineConfig(), getattr(args, "config", None))
    data = replace(cfg.data, text_column=args.text_column, label_column=args.label_column)
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731  (options left out: the config's)
    teacher = replace(cfg.teacher, name=args.teacher,
                      hparams=replace(cfg.teacher.hparams, **given(epochs=args.epochs, time_budget_s=args.teacher_time_budget)),
                      **given(max_length=args.max_length, precision=args.teacher_precision))
    distill = replace(cfg.distill, hparams=replace(cfg.distill.hparams, **given(epochs=args.student_epochs)))
    transfer = replace(cfg.transfer, **({"augment_copies": args.augment_copies}
                                        if args.augment_copies is not None else {}))
    quant = replace(cfg.quant, allow_failed_guard=args.allow_failed_guard)
    ngram = replace(cfg.ngram, enabled=not args.no_ngram_teacher)
    ship = replace(cfg.ship, size=args.size, max_mb=args.max_size, max_ms=args.max_ms)
    for what, value in (("--epochs", teacher.hparams.epochs), ("--student-epochs", distill.hparams.epochs),
                        ("--max-length", teacher.max_length - 2), ("--augment-copies", transfer.augment_copies + 1),
                        ("--max-size", 1 if ship.max_mb is None else ship.max_mb),
                        ("--max-ms", 1 if ship.max_ms is None else ship.max_ms)):
        if value <= 0:
            raise ValueError(f"{what} is too small")
    return replace(cfg, data=data, teacher=teacher, ngram=ngram, transfer=transfer, distill=distill, quant=quant,
                   ship=ship)


def _train(args) -> int:
    from modelprep.pipeline import train

    from modelprep.publish import check_out

    out = check_out(args.out, (args.data, args.test), args.force)
    for path in [args.data] + ([args.test] if args.test else []):
        if not Path(path).exists():
            raise ValueError(f"{path}: not found")
    result = train(args.data, out, _config(args), work=args.work, test_path=args.test, name=args.name,
                   force=args.force, unlabelled=args.unlabelled)
    if result is None:  # a non-chief worker of a multi-worker teacher (TF_CONFIG): its part is done
        print("this worker's part (the teacher) is done; the chief writes the bundle", file=sys.stderr)
        return 0
    m = result.manifest["metrics"]
    progress.emit(Event.DONE, bundle=str(result.bundle),
                  validation_accuracy=shipped_metrics(result.manifest, "validation")[1]["accuracy"])
    report = sys.stderr if progress.enabled() else sys.stdout  # stdout holds the JSON lines
    print(f"wrote {result.bundle} ({result.bundle.stat().st_size / 1e6:.2f} MB, the {result.manifest['shipped']} "
          f"model); validation accuracy: teacher {m['teacher']['accuracy']:.4f}, student fp32 "
          f"{m['student_fp32']['accuracy']:.4f}, int8 {m['student_int8']['accuracy']:.4f}", file=report)
    for c in result.manifest["candidates"]:
        print(f"  {c['role']:8s} {c['bytes'] / 1e6:6.2f} MB  {c['ms_per_text']:.3f} ms/text  validation accuracy "
              f"{c['validation']['accuracy']:.4f}  macro-F1 {c['validation']['macro_f1']:.4f}"
              f"{'' if c['guard_passed'] else '  (guard failed)'}", file=report)
    return 0


def _inspect(args) -> int:
    from textsort.core.bundle import load_bundle

    b = load_bundle(args.model)
    m = b.manifest
    if args.json:
        print(json.dumps(m, indent=2, ensure_ascii=False))
        return 0
    from textsort.presentation.card import bundle_card

    print(bundle_card(b), end="")  # the same card as the app's and `textsort models --card`
    return 0


def _preview(args) -> int:
    from modelprep.config import PipelineConfig
    from modelprep.preview import preview

    from modelprep.config import ConfigError

    try:
        cfg = _overrides(PipelineConfig(), getattr(args, "config", None))
    except ConfigError as e:
        from modelprep.preview import refuse

        refuse(sys.stdout, str(e))
        print(f"textsort-prep: error: {_printable(str(e))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    cfg = replace(cfg, data=replace(cfg.data, text_column=args.text_column, label_column=args.label_column),
                  teacher=replace(cfg.teacher, name=args.teacher))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    return 0 if preview(args.data, args.test, cfg, measure=not args.no_measure,
                        unlabelled=args.unlabelled) else EXIT_BAD_INPUT


_terminated = [0]  # the signal that stopped the run, if one did


def _on_sigterm(signum, frame):
    """The app's Cancel: stop like Ctrl-C (finished stages are kept), at the next progress
    call rather than inside TensorFlow's C++ (modelprep.progress.request_cancel). The exit
    status is 128 + the signal's number, as `textsort` answers SIGTERM (143) and Ctrl-C (130)."""
    _terminated[0] = signum
    progress.request_cancel(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "preview":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return _preview(args)
    if getattr(args, "progress_json", False):
        progress.enable(sys.stdout)
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = _main(args)
    except KeyboardInterrupt:
        code = None
    if getattr(args, "progress_json", False):
        if code is None:
            progress.emit(Event.CANCELLED)
    if code is None:
        print("textsort-prep: interrupted; finished stages are kept in the work folder", file=sys.stderr)
        return 128 + _terminated[0] if _terminated[0] else 130
    return code


def _main(args) -> int:
    missing = training_missing()  # the `train` extra; the runtime install has none of it
    if missing:
        from textsort.appstate.training import install_message

        message = install_message(missing)
        print(f"textsort-prep: {message}", file=sys.stderr)
        _progress_error(message)
        return EXIT_BAD_INPUT
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("modelprep").setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    for noisy in ("tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from modelprep.calibrate import CalibrationError
    from modelprep.data import DataError
    from modelprep.evaluate import GuardError
    from modelprep.teachers import TeacherError
    from textsort.core.bundle import BundleError

    try:
        if args.command == "calibrate":
            from modelprep.calibrate import calibrate

            cal = calibrate(args.model, args.data, args.out, args.force)
            print(f"uncertain below {cal['uncertain_below']:.0%}: {cal['validation_errors_flagged']} of "
                  f"{cal['validation_errors']} validation errors fall below it ({cal['validation_flagged']} of "
                  f"{cal['n']} texts flagged)")
            return 0
        if args.command == "suggest":
            return _suggest(args)
        return _train(args) if args.command == "train" else _inspect(args)
    except CalibrationError as e:
        print(f"textsort-prep: {_printable(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except GuardError as e:
        print(f"textsort-prep: {_printable(e)}", file=sys.stderr)
        _progress_error(str(e))
        return EXIT_GUARD
    except (DataError, TeacherError, BundleError, ValueError, OSError) as e:
        print(f"textsort-prep: error: {_printable(e)}", file=sys.stderr)
        _progress_error(str(e))
        return EXIT_BAD_INPUT


def _suggest(args) -> int:
    from modelprep.active import ActiveConfig, suggest_for
    from textsort.appstate.labelling import LabelSession, LabelsError

    if not 1 <= args.batch <= 1000:
        raise ValueError(f"--batch {args.batch}: give 1 to 1000")
    try:
        session = LabelSession.open(args.source, Path(args.labels) if args.labels else None)
    except LabelsError as e:
        raise ValueError(str(e)) from None
    progress.write(sys.stdout, Event.SUGGEST, **suggest_for(session, Path(args.cache), args.teacher,
                                                            ActiveConfig(batch=args.batch)))
    return 0


def _progress_error(message: str) -> None:
    progress.emit(Event.ERROR, message=message)


if __name__ == "__main__":
    sys.exit(main())
