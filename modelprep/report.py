"""The model card: a bundle manifest -> Markdown (+ a confusion-matrix PNG beside it).

`write_report(manifest, Path("x/MODEL.md"))` writes `x/MODEL.md` and
`x/MODEL.confusion.png` and returns the Markdown (which also goes into the bundle as
report.md). Every section is optional: what the manifest lacks is shown as "—".
"""
from __future__ import annotations

import json
from pathlib import Path

DASH = "—"
MODEL_ORDER = ("teacher", "bert", "bert_int8", "ngram", "student_fp32", "student_int8",  # validation
               "teacher_test", "bert_test", "bert_int8_test", "ngram_test", "student_fp32_test",
               "student_int8_test")  # other entries follow
SHIPPED_ORDER = {"small": ("student_int8_test", "student_int8", "student_fp32_test", "student_fp32",
                           "teacher_test", "teacher"),
                 "accurate": ("bert_int8_test", "bert_int8")}
CJK_FONT_HINTS = ("cjk", "wqy", "wenquanyi", "han sans", "hansans", "han serif", "hei", "song",
                  "ming", "gothic", "yahei", "simsun", "pingfang", "hiragino", "droid", "uming",
                  "ukai", "fallback", "noto")


# ---------------------------------------------------------------- formatting helpers

def _get(d, *keys, default=None):
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _cell(value) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _pct(value) -> str:
    return f"{100 * value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else DASH


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _kv_table(d: dict, skip=()) -> str:
    rows = [[k, v] for k, v in d.items() if k not in skip]
    return _table(["", ""], rows) if rows else DASH


def _size(n) -> str:
    if not isinstance(n, (int, float)):
        return DASH
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"


# ---------------------------------------------------------------- sections

def _data_section(data: dict) -> list[str]:
    if not isinstance(data, dict) or not data:
        return ["## Data", DASH]
    out = ["## Data", _table(["", ""], [
        ["Source", data.get("source")], ["Format", data.get("format")],
        ["Columns", data.get("columns")],
        ["Test set", _get(data, "test", "source")],
    ])]
    steps = data.get("steps") or []
    if steps:
        out += ["", "Cleaning (whitespace runs collapsed and stripped; characters kept as written):", "",
                _table(["step", "before", "after", "dropped", "changed"],
                       [[s.get("step"), s.get("before"), s.get("after"), s.get("dropped"), s.get("changed")]
                        for s in steps])]
    counts = data.get("counts") or {}
    if counts.get("longer_than_max_chars"):
        out += ["", f"Texts longer than the character limit (kept): {counts['longer_than_max_chars']}"]
    per_class = data.get("per_class") or {}
    if per_class:
        splits = list(per_class)
        labels = list(dict.fromkeys(label for s in splits for label in per_class[s]))
        rows = [[label] + [per_class[s].get(label) for s in splits] for label in labels]
        rows.append(["**total**"] + [sum(per_class[s].values()) for s in splits])
        out += ["", "Examples per class and split:", "", _table(["label"] + splits, rows)]
    split = data.get("split")
    if isinstance(split, dict):
        out += ["", f"Split: {_cell(split.get('method'))}, validation fraction "
                    f"{_cell(split.get('val_fraction'))}, seed {_cell(split.get('seed'))}."]
    warnings = list(data.get("warnings") or [])
    out += ["", "Warnings:" if warnings else "Warnings: none."]
    out += [f"- {w}" for w in warnings]
    return out


def _teacher_section(teacher) -> list[str]:
    if not isinstance(teacher, dict) or not teacher:
        return ["## Teacher", DASH]
    why = next((teacher[k] for k in ("why", "why_chosen", "reason") if teacher.get(k)), None)
    skip = ("name", "why", "why_chosen", "reason", "config")
    return ["## Teacher", f"**{_cell(teacher.get('name'))}**", "", f"Why this teacher: {_cell(why)}", "",
            _kv_table(teacher, skip=skip)]


def _student_section(m: dict) -> list[str]:
    model = m.get("model") or {}
    tok = m.get("tokenizer") or {}
    rows = [["Architecture", model.get("architecture")],
            ["Model file size", _size(_get(m, "files", model.get("file", "model.tflite"), "bytes"))],
            ["Tokens per window", tok.get("max_length")], ["Window stride", tok.get("window_stride")]]
    rows += [[k, v] for k, v in (_get(m, "config", "student") or {}).items()]
    rows += [[f"distill: {k}", v] for k, v in (_get(m, "config", "distill") or {}).items()]
    dist = m.get("distillation") or {}
    if dist.get("tried"):
        tried = ", ".join(f"{t.get('alpha')}: {_pct(t.get('val_macro_f1'))} %" for t in dist["tried"])
        rows.append(["alpha kept (validation macro-F1 of each tried)", f"{dist.get('alpha')} ({tried})"])
    return ["## Student", _table(["", ""], rows)]


def _guard_section(m: dict) -> list[str]:
    guard = m.get("guard") or {}
    agreement = _get(m, "metrics", "agreement") or {}
    rows = [["Quantization", _get(m, "model", "quantization")],
            ["Guard passed", guard.get("passed")], ["Guard overridden", guard.get("overridden")]]
    rows += [[k, v] for k, v in guard.items() if k not in ("passed", "overridden")]
    rows += [[f"agreement: {k}", v] for k, v in agreement.items()]
    return ["## Quantization and accuracy guard", _table(["", ""], rows)]


def _metric_entries(metrics) -> list[tuple[str, dict]]:
    if not isinstance(metrics, dict):
        return []
    entries = [(k, v) for k, v in metrics.items() if isinstance(v, dict) and "accuracy" in v]
    return sorted(entries, key=lambda kv: (MODEL_ORDER.index(kv[0]) if kv[0] in MODEL_ORDER
                                           else len(MODEL_ORDER), kv[0]))


def shipped_metrics(manifest: dict) -> tuple[str, dict] | None:
    """The metrics of the model the bundle ships (`shipped`: the small student, int8, else
    fp32, else teacher; or the accurate int8 BERT), on the test split where there is one."""
    entries = dict(_metric_entries(manifest.get("metrics")))
    for key in SHIPPED_ORDER.get(manifest.get("shipped"), SHIPPED_ORDER["small"]):
        if key in entries:
            return key, entries[key]
    return next(iter(entries.items()), None)


def _metrics_section(m: dict) -> list[str]:
    entries = _metric_entries(m.get("metrics"))
    if not entries:
        return ["## Metrics", DASH]
    rows = [[k, v.get("split"), v.get("n"), _pct(v.get("accuracy")), _pct(v.get("macro_precision")),
             _pct(v.get("macro_recall")), _pct(v.get("macro_f1"))] for k, v in entries]
    splits = sorted({str(v.get("split")) for _, v in entries if v.get("split")})
    note = (f"Measured on the {' and '.join(splits)} split{'s' if len(splits) > 1 else ''}; every window of each text counted "
            "as the app does.") if splits else ""
    return ["## Metrics", note, "",
            _table(["model", "split", "n", "accuracy %", "macro precision %", "macro recall %",
                    "macro F1 %"], rows)]


def _candidates_section(m: dict) -> list[str]:
    cands = [c for c in (m.get("candidates") or []) if isinstance(c, dict)]
    if not cands:
        return []
    rows = []
    for c in cands:
        val, test = c.get("validation") or {}, c.get("test") or {}
        rows.append([("**shipped** " if c.get("role") == m.get("shipped") else "") + str(c.get("role")),
                     c.get("model"), _size(c.get("bytes")), c.get("ms_per_text"),
                     _pct(val.get("accuracy")), _pct(val.get("macro_f1")),
                     _pct(test.get("accuracy")), _pct(test.get("macro_f1")), c.get("guard_passed")])
    return ["## Candidates (int8, verified with the runtime)",
            "`textsort-prep train --size small|accurate` (or `--max-size MB`, `--max-ms MS`) chooses among them; "
            "ms per text is model time on this machine over the validation texts.", "",
            _table(["size", "model", "bundle", "ms/text", "val accuracy %", "val macro F1 %", "test accuracy %",
                    "test macro F1 %", "guard passed"], rows)]


def _per_class_section(m: dict) -> list[str]:
    shipped = shipped_metrics(m)
    per_class = shipped and shipped[1].get("per_class")
    if not per_class:
        return ["## Per class", DASH]
    rows = [[label, _pct(v.get("precision")), _pct(v.get("recall")), _pct(v.get("f1")), v.get("support")]
            for label, v in per_class.items()]
    return [f"## Per class ({shipped[0]}, {_cell(shipped[1].get('split'))})",
            _table(["label", "precision %", "recall %", "F1 %", "support"], rows)]


def _confusion_section(m: dict, out_md: Path) -> list[str]:
    shipped = shipped_metrics(m)
    matrix = shipped and shipped[1].get("confusion_matrix")
    labels = [str(x) for x in (m.get("labels") or [])]
    if not matrix:
        return ["## Confusion matrix", DASH]
    if len(labels) != len(matrix):
        labels = [str(i) for i in range(len(matrix))]
    png = out_md.with_name(out_md.stem + ".confusion.png")
    used_indices = plot_confusion(matrix, labels, png, title=f"{shipped[0]} ({shipped[1].get('split', '?')})")
    out = [f"## Confusion matrix ({shipped[0]}, {_cell(shipped[1].get('split'))})",
           "Rows: true label; columns: predicted label.", "", f"![confusion matrix]({png.name})", ""]
    if used_indices:
        out += ["No font for these label names was found, so the picture uses indices: "
                + ", ".join(f"{i} = {_cell(label)}" for i, label in enumerate(labels)), ""]
    rows = [[label] + list(row) for label, row in zip(labels, matrix)]
    out.append(_table(["true \\ predicted"] + labels, rows))
    return out


def _timings_section(m: dict) -> list[str]:
    t = m.get("timings_s")
    if not isinstance(t, dict) or not t:
        return ["## Timings", DASH]
    rows = [[k, f"{v:.1f}" if isinstance(v, (int, float)) else v] for k, v in t.items()]
    return ["## Timings", _table(["stage", "seconds"], rows)]


def render_markdown(manifest: dict, out_md: Path) -> str:
    m = manifest if isinstance(manifest, dict) else {}
    labels = m.get("labels") or []
    head = [f"# {_cell(m.get('name'))}", m.get("description") or "", "",
            _table(["", ""], [["Created", m.get("created")], ["Language", m.get("language")],
                              ["Labels", f"{len(labels)}: " + ", ".join(map(str, labels)) if labels else None],
                              ["Bundle format", m.get("format_version")]])]
    sections = [head, _data_section(m.get("data")), _teacher_section(m.get("teacher")),
                _student_section(m), _guard_section(m), _candidates_section(m), _metrics_section(m),
                _per_class_section(m),
                _confusion_section(m, out_md), _timings_section(m),
                ["## Versions", _kv_table(m.get("versions") or {})],
                ["## Licences", _kv_table(m.get("licenses") or {})]]
    if m.get("config"):
        sections.append(["## Configuration", "```json",
                         json.dumps(m["config"], indent=2, ensure_ascii=False, default=str), "```"])
    return "\n\n".join("\n".join(s).strip() for s in sections) + "\n"


def write_report(manifest: dict, out_md) -> str:
    """Write the model card to `out_md` (and its confusion PNG beside it); return the Markdown."""
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    text = render_markdown(manifest, out_md)
    out_md.write_text(text, encoding="utf-8")
    return text


# ---------------------------------------------------------------- the picture

def _covers(font_path: str, chars: set[int]) -> bool:
    from matplotlib.ft2font import FT2Font
    try:
        return chars <= set(FT2Font(font_path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return False


def find_font(text: str) -> str | None:
    """Path of an installed font with a glyph for every character of `text`
    (DejaVu Sans, matplotlib's default, first; then fonts whose name suggests CJK)."""
    from matplotlib import font_manager

    chars = {ord(c) for c in text if not c.isspace()}
    default = font_manager.findfont("DejaVu Sans", fallback_to_default=True)
    if _covers(default, chars):
        return default
    known = [f.fname for f in font_manager.fontManager.ttflist]
    candidates = dict.fromkeys(known + sorted(font_manager.findSystemFonts()))
    for path in candidates:
        if any(h in Path(path).name.lower() for h in CJK_FONT_HINTS) and _covers(path, chars):
            return path
    return None


def plot_confusion(matrix, labels: list[str], png: Path, title: str = "") -> bool:
    """Draw the confusion matrix to `png`. Returns True when label indices had to be
    used because no installed font covers the label names."""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no global state, Agg via savefig
    from matplotlib.font_manager import FontProperties

    cm = np.asarray(matrix, dtype=float)
    k = len(cm)
    font_path = find_font("".join(labels))
    tick_labels = labels if font_path else [str(i) for i in range(k)]
    font = FontProperties(fname=font_path) if font_path else None
    side = min(4 + 0.6 * k, 20)
    fig = Figure(figsize=(side, side * 0.85), dpi=100)
    ax = fig.subplots()
    row_sums = cm.sum(axis=1, keepdims=True)
    ax.imshow(np.divide(cm, row_sums, out=np.zeros_like(cm), where=row_sums > 0), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), tick_labels, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center",
                  fontproperties=font)
    ax.set_yticks(range(k), tick_labels, fontproperties=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    if k <= 30:
        for i in range(k):
            for j in range(k):
                share = cm[i, j] / row_sums[i, 0] if row_sums[i, 0] else 0
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if share > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(png, format="png")
    return font_path is None
