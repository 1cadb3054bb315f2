"""The model card: what a bundle is, how well it did, where it came from."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QTextBrowser, QVBoxLayout

METRIC_ROWS = (("teacher", "Teacher (large model it learned from)"),
               ("student_fp32", "Student, full precision"),
               ("student_int8", "Student, int8 (this file)"))


def _e(value) -> str:
    return html.escape(str(value))


def _pct(value) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "—"


def human_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def _nested(value, depth: int = 0) -> str:
    """A dict/list from the manifest as a nested HTML list (shown as found)."""
    if isinstance(value, dict):
        if depth > 3 or not value:
            return _e(value)
        items = "".join(f"<li><b>{_e(k)}</b>: {_nested(v, depth + 1)}</li>" for k, v in value.items())
        return f"<ul>{items}</ul>"
    if isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
        return _e(", ".join(str(v) for v in value))
    if isinstance(value, list) and value and depth <= 3:
        return "<ol>" + "".join(f"<li>{_nested(v, depth + 1)}</li>" for v in value) + "</ol>"
    if isinstance(value, float):
        return _e(f"{value:.4g}")
    return _e(value)


def _metric_items(metrics: dict):
    """(title, metrics) for teacher / fp32 / int8, on validation and on the test file."""
    for suffix in ("", "_test"):
        for key, title in METRIC_ROWS:
            m = metrics.get(key + suffix)
            if isinstance(m, dict) and "accuracy" in m:
                yield title, m


def _metrics_table(metrics: dict) -> str:
    rows = []
    for title, m in _metric_items(metrics):
        where = f"{m.get('split', '')} ({m.get('n', '?')} texts)" if m.get("split") else ""
        rows.append(f"<tr><td>{_e(title)}</td><td align=right>{_pct(m.get('accuracy'))}</td>"
                    f"<td align=right>{_pct(m.get('macro_f1'))}</td><td>{_e(where)}</td></tr>")
    if not rows:
        return "<p>No metrics recorded in this model file.</p>"
    return ("<table border=1 cellspacing=0 cellpadding=4><tr><th>Model</th><th>Accuracy</th>"
            "<th>Macro-F1</th><th>Measured on</th></tr>" + "".join(rows) + "</table>")


def _per_class_table(metrics: dict) -> str:
    for key in ("student_int8_test", "student_int8", "student_fp32"):
        m = metrics.get(key)
        if isinstance(m, dict) and isinstance(m.get("per_class"), dict) and m["per_class"]:
            break
    else:
        return ""
    rows = "".join(
        f"<tr><td>{_e(label)}</td><td align=right>{_pct(v.get('precision'))}</td>"
        f"<td align=right>{_pct(v.get('recall'))}</td><td align=right>{_pct(v.get('f1'))}</td>"
        f"<td align=right>{_e(v.get('support', ''))}</td></tr>"
        for label, v in m["per_class"].items() if isinstance(v, dict))
    return (f"<h3>Per class (the int8 model, {_e(m.get('split', ''))})</h3>"
            "<table border=1 cellspacing=0 cellpadding=4>"
            "<tr><th>Label</th><th>Precision</th><th>Recall</th><th>F1</th><th>Texts</th></tr>"
            + rows + "</table>")


AGREEMENT_NAMES = {
    "keras_litert_top1": "the app (LiteRT) picks the same label as the trained model (Keras)",
}


def _agreement_text(agreement: dict) -> str:
    """metrics.agreement ({'keras_litert_top1': 1.0}) as a sentence: a share of texts."""
    items = []
    for key, value in agreement.items():
        what = AGREEMENT_NAMES.get(str(key), str(key).replace("_", " "))
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
            items.append(f"<li>{_e(what)}: {_e(_pct(value))} of the texts checked</li>")
        else:
            items.append(f"<li>{_e(what)}: {_nested(value, 1)}</li>")
    return "<p>Same answers in training and in this app:</p><ul>" + "".join(items) + "</ul>"


def model_card_html(manifest: dict, path: Path | None = None, model_bytes: int | None = None) -> str:
    m = manifest
    model = m.get("model", {}) if isinstance(m.get("model"), dict) else {}
    size = []
    if path is not None and Path(path).is_file():
        size.append(f"file {human_size(Path(path).stat().st_size)}")
    if model_bytes:
        size.append(f"network {human_size(model_bytes)}")
    facts = [
        ("Labels", ", ".join(str(x) for x in m.get("labels", []))),
        ("Language", m.get("language", "—")),
        ("Student", " · ".join(str(x) for x in (model.get("architecture"), model.get("quantization")) if x) or "—"),
        ("Teacher", (m.get("teacher") or {}).get("name", "—") if isinstance(m.get("teacher"), dict) else m.get("teacher", "—")),
        ("Size", ", ".join(size) or "—"),
        ("Created", m.get("created", "—")),
        ("File", str(path) if path else "—"),
    ]
    parts = [f"<h2>{_e(m.get('name', '?'))}</h2>"]
    if m.get("description"):
        parts.append(f"<p>{_e(m['description'])}</p>")
    parts.append("<table cellpadding=3>" + "".join(
        f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in facts) + "</table>")
    metrics = m.get("metrics") if isinstance(m.get("metrics"), dict) else {}
    parts.append("<h3>How well it does</h3>" + _metrics_table(metrics))
    agreement = metrics.get("agreement")
    if isinstance(agreement, dict) and agreement:
        parts.append(_agreement_text(agreement))
    parts.append(_per_class_table(metrics))
    for key, title in (("data", "Data"), ("teacher", "Teacher details"), ("guard", "Accuracy guard"),
                       ("versions", "Versions"), ("licenses", "Licences")):
        if m.get(key):
            parts.append(f"<h3>{title}</h3>{_nested(m[key])}")
    return "\n".join(p for p in parts if p)


class ModelCardDialog(QDialog):
    def __init__(self, bundle, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model card — {bundle.name}")
        self.resize(720, 640)
        tabs = QTabWidget()
        self.summary = QTextBrowser()
        self.summary.setHtml(model_card_html(bundle.manifest, bundle.path, len(bundle.model_bytes)))
        tabs.addTab(self.summary, "Summary")
        report = getattr(bundle, "report", None)
        if report:
            full = QTextBrowser()
            full.setMarkdown(report)
            tabs.addTab(full, "Full report")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
