"""textsort.presentation.card: the one model card (app, `textsort models`, report.md), from real manifests."""
from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from textsort.core.bundle import load_bundle, write_bundle
from textsort.core.manifest import shipped_metrics
from textsort.presentation.card import bundle_card, card_summary, human_size, render_card

REPO = Path(__file__).resolve().parents[2]
BUNDLED = sorted((REPO / "assets" / "models").glob("*.textsort"))
SMS = REPO / "assets" / "models" / "sms_spam-en.textsort"


def pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def readable(md: str) -> None:
    """What users complained about: placeholders, empty header rows, raw JSON/dicts."""
    assert "—" not in md, "a placeholder"
    assert not re.search(r"^\|(\s*\|)+\s*$", md, re.MULTILINE), "an empty table row"
    assert "{" not in md and "}" not in md, "raw JSON or a dict"
    assert "vocab_size" not in md and '"' not in md.replace("“", "").replace("”", "")
    assert "as the training data's own licence" not in md


def section(md: str, title: str) -> str:
    """The text of one '## title' section (up to the next '## ')."""
    start = md.index(f"## {title}\n")
    nxt = md.find("\n## ", start + 3)
    return md[start: nxt if nxt >= 0 else len(md)]


def accurate_manifest() -> dict:
    """The bundled English manifest as `--size accurate` would write it: candidates, shipped =
    "accurate", and int8-BERT numbers that differ from every other model's."""
    m = copy.deepcopy(load_bundle(SMS).manifest)
    labels = m["labels"]
    bert = {"split": "test", "n": 1032, "accuracy": 0.9456, "macro_f1": 0.9123, "macro_precision": 0.9, "macro_recall": 0.9,
            "per_class": {labels[0]: {"precision": 0.961, "recall": 0.972, "f1": 0.966, "support": 904},
                          labels[1]: {"precision": 0.877, "recall": 0.811, "f1": 0.843, "support": 128}},
            "confusion_matrix": [[879, 25], [31, 97]]}
    m["metrics"]["bert_int8_test"] = bert
    m["metrics"]["bert_int8"] = {**bert, "split": "validation", "n": 412, "accuracy": 0.9333, "macro_f1": 0.9011,
                                 "confusion_matrix": [[350, 11], [16, 35]]}
    m["metrics"]["ngram_test"] = {"split": "test", "n": 1032, "accuracy": 0.9077, "macro_f1": 0.8771}
    m["candidates"] = [
        {"role": "small", "model": m["model"]["architecture"], "bytes": 3_429_191, "model_bytes": 4_070_320,
         "ms_per_text": 0.0756, "guard_passed": True,
         "validation": {"accuracy": 0.9951, "macro_f1": 0.9888, "n": 412},
         "test": {"accuracy": 0.9922, "macro_f1": 0.9818, "n": 1032}},
        {"role": "accurate", "model": "all-MiniLM-L6-v2 fine-tuned (BERT, 6 layers x 384)", "bytes": 17_645_367,
         "model_bytes": 23_028_488, "ms_per_text": 7.4435, "guard_passed": True,
         "validation": {"accuracy": 0.9333, "macro_f1": 0.9011, "n": 412},
         "test": {"accuracy": 0.9456, "macro_f1": 0.9123, "n": 1032}},
    ]
    m["shipped"] = "accurate"
    m["calibration"] = {"uncertain_below": 0.62, "validation_flagged": 30, "validation_errors_flagged": 12,
                        "validation_errors": 15, "n": 412}
    m["model"]["architecture"] = "all-MiniLM-L6-v2 fine-tuned (BERT, 6 layers x 384)"
    m["teacher"]["ensemble"] = {"bert_weight": 0.5, "ngram": {"analyzer": "char_wb_2_5", "C": 64.0}}
    del m["files"]
    return m


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_models_cards_show_the_shipped_test_numbers(path):
    b = load_bundle(path)
    m = b.manifest
    md = bundle_card(b)
    readable(md)
    assert md.startswith(f"# {m['name']}\n")
    # the card says it runs in MediaPipe exactly when the model file is in MediaPipe's layout
    assert ("MediaPipe Tasks' TextClassifier" in section(md, "What it classifies")) == (
        b.layout.name == "mediapipe-text-classifier")
    for title in ("What it classifies", "How well it does", "Size and speed", "Where it came from", "Limits",
                  "Versions", "Details"):
        assert f"\n## {title}\n" in md, title
    shipped = m["metrics"]["student_int8_test"]  # no "shipped": the small student
    assert shipped_metrics(m) == ("student_int8_test", shipped)
    how = section(md, "How well it does")
    assert (f"On {shipped['n']} texts of the test set, the shipped model labels {pct(shipped['accuracy'])} correctly "
            f"(macro-F1 {pct(shipped['macro_f1'])})") in how
    assert (f"| **Student, int8 (shipped)** | test ({shipped['n']} texts) | {pct(shipped['accuracy'])} | "
            f"{pct(shipped['macro_f1'])} |") in how
    teacher = m["metrics"]["teacher_test"]
    assert any(("fine-tuned | " in row or "mixed with the TF-IDF model | " in row)
               and f" | test ({teacher['n']} texts) | {pct(teacher['accuracy'])} |" in row for row in how.splitlines())
    for label, v in shipped["per_class"].items():
        assert (f"| {label} | {pct(v['precision'])} | {pct(v['recall'])} | {pct(v['f1'])} | {v['support']} |"
                in how), label
    # the confusion matrix is a table (rows: true label), not a picture that may be missing
    assert "![" not in md
    for i, (label, row) in enumerate(zip(m["labels"], shipped["confusion_matrix"])):
        cells = [f"**{c}**" if i == j else str(c) for j, c in enumerate(row)]
        assert f"| **{label}** | " + " | ".join(cells) + " |" in how
    size = section(md, "Size and speed")
    assert human_size(path.stat().st_size) in size and human_size(len(b.model_bytes)) in size
    where = section(md, "Where it came from")
    assert m["teacher"]["name"] in where and "- **Training data licence:** not recorded" in where
    assert Path(m["data"]["source"]).name in where and "../" not in where
    limits = section(md, "Limits")
    assert f"reads {m['tokenizer']['max_length'] - 2} tokens at a time" in limits
    assert {"en": "English", "zh": "Chinese"}[m["language"]] in limits
    assert "| tensorflow | 2.21.0 |" in section(md, "Versions")
    assert "|  | dropout | 0.5 |" in section(md, "Details")  # config as a readable table


def test_accurate_bundle_shows_the_int8_teacher_as_shipped():
    m = accurate_manifest()
    assert shipped_metrics(m) == ("bert_int8_test", m["metrics"]["bert_int8_test"])
    assert shipped_metrics(m, "validation")[0] == "bert_int8"
    md = render_card(m)
    readable(md)
    how = section(md, "How well it does")
    assert "the shipped model labels 94.6% correctly (macro-F1 91.2%)" in how
    rows = [line for line in how.splitlines() if "(shipped)" in line]
    assert rows[0] == "| **all-MiniLM-L6-v2 fine-tuned, int8 (shipped)** | test (1032 texts) | 94.6% | 91.2% |"
    assert rows[1] == "| **all-MiniLM-L6-v2 fine-tuned, int8 (shipped)** | validation (412 texts) | 93.3% | 90.1% |"
    student = m["metrics"]["student_int8_test"]
    assert f"| Student, int8 | test (1032 texts) | {pct(student['accuracy'])} |" in how  # beside, not shipped
    assert "| TF-IDF n-gram model | test (1032 texts) | 90.8% | 87.7% |" in how
    assert "Teacher: all-MiniLM-L6-v2 fine-tuned, mixed with the TF-IDF model | test" in how
    # per class and confusion matrix: the int8 teacher's, not the student's
    assert "| spam | 87.7% | 81.1% | 84.3% | 128 |" in how
    assert "| **ham** | **879** | 25 |" in how and "| **spam** | 31 | **97** |" in how
    # the candidates table marks the shipped one
    assert ("| **accurate: the fine-tuned teacher, int8 (shipped)** | 17.6 MB | 7.44 | 93.3% | 90.1% | 94.6% | 91.2% "
            "| passed |") in how
    assert "| small: the distilled student | 3.4 MB | 0.08 | 99.5% | 98.9% | 99.2% | 98.2% | passed |" in how
    size = section(md, "Size and speed")
    assert "17.6 MB" in size and "23.0 MB" in size and "7.44 ms" in size
    assert "0.5 × the fine-tuned **all-MiniLM-L6-v2** + 0.5 × a TF-IDF n-gram model (char_wb_2_5)" in md
    assert "- **Model:** all-MiniLM-L6-v2 fine-tuned (BERT, 6 layers x 384)" in md
    summary = card_summary(m, 17_645_367)
    assert ("shipped model (all-MiniLM-L6-v2 fine-tuned, int8): accuracy 0.946, macro-F1 0.912 on test (1032 texts); "
            "17.6 MB") in summary
    assert summary.splitlines()[1] == "labels: ham, spam"


def test_validation_only_numbers_say_so():
    m = accurate_manifest()
    m["metrics"] = {k: v for k, v in m["metrics"].items() if not k.endswith("_test")}
    md = render_card(m)
    assert shipped_metrics(m)[0] == "bert_int8"
    assert "On 412 texts of the validation set, the shipped model labels 93.3% correctly" in md
    assert "a little optimistic" in md and "No separate test file was given" in section(md, "Limits")
    assert "### Confusion matrix (the shipped model on the validation set, 412 texts)" in md
    assert "| **ham** | **350** | 11 |" in md


def test_an_unknown_shipped_role_claims_no_numbers():
    m = accurate_manifest()
    m["shipped"] = "huge"
    assert shipped_metrics(m) is None
    md = render_card(m)
    assert "(shipped)" not in md.split("### The models")[0] and "not recorded" in md
    assert "### Per class" not in md and "### Confusion matrix" not in md


def test_missing_sections_are_left_out():
    md = render_card({"name": "bare", "labels": ["a", "b"]})
    readable(md)
    assert md.startswith("# bare\n") and "- **Labels (2):** a, b" in md
    assert "No metrics recorded in this model file." in md
    for title in ("Size and speed", "Where it came from", "Versions", "Details"):
        assert f"## {title}" not in md
    assert "### Per class" not in md and "### The models it was chosen from" not in md
    assert render_card({}).startswith("# Unnamed model\n") and render_card("not a dict")  # never raises


def test_odd_values_are_escaped_and_shown_as_found():
    m = copy.deepcopy(load_bundle(SMS).manifest)
    m["labels"] = ["a|b", "c"]
    m["name"] = "evil\x1b[2Jname"
    m["description"] = "# not a heading"
    m["metrics"]["student_int8_test"]["per_class"] = {"a|b": {"precision": 0.5, "recall": "high", "f1": None,
                                                             "support": 3}}
    md = render_card(m)
    assert "\x1b" not in md and md.startswith("# evil\\\\x1b[2Jname\n")  # shown as the text \x1b
    assert "\n\\# not a heading\n" in md
    assert "| a\\|b | 50.0% | high | None | 3 |" in md
    cm = m["metrics"]["student_int8_test"]["confusion_matrix"]
    assert f"| **a\\|b** | **{cm[0][0]}** | {cm[0][1]} |" in md
    assert "\x1b" not in card_summary(m)


def test_card_module_stays_light():
    """The runtime's card never pulls in Qt, matplotlib, TensorFlow or modelprep."""
    code = ("import sys; import textsort.presentation.card; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'matplotlib', 'tensorflow', 'tf_keras', 'modelprep')]; print(bad); assert not bad")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO / "desktop", capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_textsort_models_prints_summaries_and_one_full_card(tmp_path, monkeypatch, capsys):
    from textsort.appstate.models import model_card
    from textsort.frontends import cli

    sms = load_bundle(SMS)
    folder = tmp_path / "models"
    accurate = write_bundle(folder / "accurate-en.textsort", model_bytes=sms.model_bytes,
                            tokenizer_json=sms.tokenizer_json, manifest=accurate_manifest())
    (folder / SMS.name).write_bytes(SMS.read_bytes())
    monkeypatch.setenv("TEXTSORT_MODELS", str(folder))
    monkeypatch.delenv("TEXTSORT_MODEL", raising=False)

    card = model_card(accurate)
    assert card.metrics_key == "bert_int8_test" and card.metrics["accuracy"] == 0.9456

    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "accurate-en.textsort  [" in out and "sms_spam-en.textsort  (default)  [" in out
    assert "  shipped model (all-MiniLM-L6-v2 fine-tuned, int8): accuracy 0.946, macro-F1 0.912 on test" in out
    small = sms.manifest["metrics"]["student_int8_test"]
    assert f"  shipped model (Student, int8): accuracy {small['accuracy']:.3f}" in out

    assert cli.main(["models", "--card", "accurate-en"]) == 0
    out = capsys.readouterr().out
    assert out == bundle_card(load_bundle(accurate))
    assert "the shipped model labels 94.6% correctly" in out and human_size(accurate.stat().st_size) in out

    assert cli.main(["models", "--card", str(SMS)]) == 0  # a path works too
    assert capsys.readouterr().out.startswith("# sms_spam-en\n")
    assert cli.main(["models", "--card", "no-such-model"]) == cli.EXIT_MODEL
    err = capsys.readouterr().err
    assert "no-such-model" in err and "accurate-en" in err


def test_models_card_with_non_numeric_metrics(tiny_bundle, tmp_path, monkeypatch, capsys):
    from textsort.frontends import cli

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


ODD_VALUES = [None, float("nan"), True, "x", [1, {"a": 1}], {"a": {"b": [1]}}]


def _paths(value, path=()):
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for k, v in items:
        yield (*path, k)
        yield from _paths(v, (*path, k))


def test_any_field_of_any_type_never_breaks_the_card():
    """Cards are written by hand too: every field of a real manifest, replaced by each odd
    value, still gives a card (and a summary) instead of an exception."""
    base = accurate_manifest()
    for path in _paths(base):
        if path[0] in ("config", "versions") and len(path) > 2:  # shown by one generic loop
            continue
        for odd in ODD_VALUES:
            m = parent = copy.copy(base)  # copies along the path only: the base stays as it is
            for k in path[:-1]:
                parent[k] = copy.copy(parent[k])
                parent = parent[k]
            parent[path[-1]] = odd
            try:
                assert render_card(m).startswith("# ") and card_summary(m)
            except Exception as e:  # pragma: no cover - the message names the field
                raise AssertionError(f"{path} = {odd!r}: {type(e).__name__}: {e}") from e


def test_the_suggested_uncertain_threshold_is_in_the_limits():
    m = accurate_manifest()
    limits = section(render_card(m), "Limits")
    assert ("Suggested when it was trained: uncertain below 62% confidence (chosen on the validation texts: "
            "30 of them fall below it, 12 of its 15 mistakes among them).") in limits
    m["calibration"]["uncertain_below"] = 0.0  # no threshold worth suggesting
    assert "Suggested" not in render_card(m)
