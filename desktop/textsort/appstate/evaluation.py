"""Evaluate any bundle on labelled data (a folder of label subfolders, or CSV/TSV/JSONL):
accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix and, per cell,
the texts that landed there. Plain Python for the CLI (`textsort evaluate`) and the
app's Evaluate view.

Metrics are computed here with numpy (scikit-learn would add ~100 MB to the runtime and
the frozen app); tests/runtime/test_evaluation.py checks them against scikit-learn.
Macro-F1 averages over the labels that occur in the data or the predictions, as
scikit-learn's `f1_score(average="macro")` does.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from textsort.appstate.session import _write_atomic, csv_cell, json_text
from textsort.files.labelled import Columns, load_examples
from textsort.presentation.printable import printable


@dataclass(frozen=True)
class Judged:
    source: str       # the file, or "file:line"
    text: str
    label: str        # the true label
    predicted: str
    confidence: float

    @property
    def correct(self) -> bool:
        return self.label == self.predicted


@dataclass
class Evaluation:
    model: str
    data: str
    labels: list[str]                 # the model's labels: rows and columns of `confusion`
    items: list[Judged]
    skipped: dict[str, int] = field(default_factory=dict)  # labels the model does not know -> texts

    @property
    def n(self) -> int:
        return len(self.items)

    @cached_property
    def confusion(self) -> np.ndarray:
        """[true, predicted] counts over the model's labels (items are fixed once evaluated)."""
        index = {label: i for i, label in enumerate(self.labels)}
        cm = np.zeros((len(self.labels), len(self.labels)), dtype=np.int64)
        for j in self.items:
            cm[index[j.label], index[j.predicted]] += 1
        return cm

    @property
    def accuracy(self) -> float:
        return float(np.mean([j.correct for j in self.items])) if self.items else 0.0

    def per_class(self) -> dict[str, dict]:
        cm = self.confusion
        out = {}
        for i, label in enumerate(self.labels):
            tp, predicted, support = cm[i, i], cm[:, i].sum(), cm[i, :].sum()
            precision = tp / predicted if predicted else 0.0
            recall = tp / support if support else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[label] = {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                          "support": int(support), "predicted": int(predicted)}
        return out

    @property
    def macro_f1(self) -> float:
        seen = [v["f1"] for v in self.per_class().values() if v["support"] or v["predicted"]]
        return float(np.mean(seen)) if seen else 0.0

    def cell(self, true_label: str, predicted: str) -> list[Judged]:
        """The texts with this true label that the model gave `predicted`."""
        return [j for j in self.items if j.label == true_label and j.predicted == predicted]

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy, "macro_f1": self.macro_f1, "n": self.n,
            "model": self.model, "data": self.data, "labels": self.labels,
            "per_class": {k: {m: v[m] for m in ("precision", "recall", "f1", "support")}
                          for k, v in self.per_class().items()},
            "confusion_matrix": self.confusion.tolist(),
            "skipped_labels": self.skipped,
            "errors": [{"source": j.source, "label": j.label, "predicted": j.predicted,
                        "confidence": round(j.confidence, 4)} for j in self.items if not j.correct],
        }

    def to_csv(self) -> str:
        """One row per text: source, label, predicted, confidence, correct."""
        buf = io.StringIO()

        w = csv.writer(buf)
        w.writerow(["source", "label", "predicted", "confidence", "correct"])
        for j in self.items:  # csv_cell: no spreadsheet formulas, names that are not UTF-8 escaped
            w.writerow([csv_cell(j.source), csv_cell(j.label), csv_cell(j.predicted), f"{j.confidence:.4f}",
                        int(j.correct)])
        return buf.getvalue()

    def export(self, path) -> Path:
        """Write the evaluation: .json -> to_dict(), anything else -> to_csv(); atomically, and
        never over the data it evaluated."""
        path = Path(path)
        if path.exists() and path.resolve() == Path(self.data).resolve():
            raise ValueError(f"{path} is the evaluated data; choose another file to export to")
        if path.suffix.lower() == ".json":
            return _write_atomic(path, lambda fh: fh.write(json_text(self.to_dict(), indent=2)), "utf-8")
        return _write_atomic(path, lambda fh: fh.write(self.to_csv()), "utf-8-sig", newline="")

    def table(self) -> str:
        """Plain-text summary for a terminal."""
        lines = [f"{self.n} texts from {printable(self.data)}, model {printable(self.model)}",
                 f"accuracy {self.accuracy:.4f}   macro-F1 {self.macro_f1:.4f}", ""]
        labels = [printable(label) for label in self.labels]  # a bundle's labels: no raw controls
        width = max([len(label) for label in labels] + [5])
        lines.append(f"{'label':<{width}}  precision  recall      f1  support")
        for label, v in zip(labels, self.per_class().values()):
            lines.append(f"{label:<{width}}  {v['precision']:9.4f}  {v['recall']:6.4f}  {v['f1']:6.4f}  "
                         f"{v['support']:7d}")
        lines += ["", "confusion matrix (rows: true label, columns: predicted)"]
        cm = self.confusion
        cw = max(width, *(len(str(x)) for x in cm.flat)) if cm.size else width
        lines.append(" " * (width + 2) + "  ".join(f"{label:>{cw}}" for label in labels))
        for label, row in zip(labels, cm):
            lines.append(f"{label:<{width}}  " + "  ".join(f"{x:>{cw}}" for x in row))
        for label, count in self.skipped.items():
            lines.append(f"skipped: {count} texts labelled {printable(label)}, a label the model does not have")
        return "\n".join(lines) + "\n"


def evaluate(classifier, path, columns: Columns = Columns(), batch: int = 64, progress=None,
             cancelled=None) -> Evaluation:
    """Classify every labelled text in `path` with `classifier` (textsort.core.engine.Classifier).

    `progress(done, total)` is called after each batch; `cancelled()` returning True stops
    early (the evaluation then covers the texts done so far). Raises DataError for data
    that cannot be read."""
    examples = load_examples(path, columns)
    known = set(classifier.labels)
    skipped = Counter(e.label for e in examples if e.label not in known)
    usable = [e for e in examples if e.label in known]
    items: list[Judged] = []
    for start in range(0, len(usable), batch):
        if cancelled is not None and cancelled():
            break
        chunk = usable[start:start + batch]
        probs = classifier.predict_proba([e.text for e in chunk])
        for e, p in zip(chunk, probs):
            k = int(np.argmax(p))
            items.append(Judged(e.source, e.text, e.label, classifier.labels[k], float(p[k])))
        if progress is not None:
            progress(len(items), len(usable))
    return Evaluation(classifier.bundle.name, str(path), list(classifier.labels), items, dict(skipped))
