"""textsort.appstate.evaluation and `textsort evaluate`: metrics (checked against scikit-learn),
labelled folders decoded like dropped files, unknown labels skipped and said, the
confusion matrix's cells, JSON/CSV output."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from textsort.appstate.evaluation import Evaluation, Judged, evaluate
from textsort.files.labelled import DataError
from textsort.frontends.cli import main as cli


def _evaluation(y_true, y_pred, labels) -> Evaluation:
    items = [Judged(f"f{i}", "t", labels[t], labels[p], 0.9) for i, (t, p) in enumerate(zip(y_true, y_pred))]
    return Evaluation("m", "d", labels, items)


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_scikit_learn(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c", "d"]
    y_true = rng.integers(0, 3, 60)  # "d" never occurs in the data ...
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.integers(0, 4, 60))  # ... but may be predicted
    ev = _evaluation(y_true, y_pred, labels)
    assert ev.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    assert ev.macro_f1 == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert ev.confusion.tolist() == metrics.confusion_matrix(y_true, y_pred, labels=range(4)).tolist()
    p, r, f, s = metrics.precision_recall_fscore_support(y_true, y_pred, labels=range(4), zero_division=0)
    for i, label in enumerate(labels):
        got = ev.per_class()[label]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx((p[i], r[i], f[i], s[i]))


def _labelled_folder(root):
    (root / "spam").mkdir(parents=True)
    (root / "ham").mkdir()
    (root / "other").mkdir()
    (root / "spam" / "1.txt").write_text("claim your free prize now", encoding="utf-8")
    (root / "spam" / "2.txt").write_text("free free prize", encoding="utf-8")
    (root / "ham" / "1.txt").write_text("see you at lunch with mom", encoding="utf-8")
    (root / "ham" / "2.txt").write_bytes("lunch with mom, 妈妈".encode("gbk"))  # decoded, not refused
    (root / "ham" / "3.txt").write_text("free lunch prize prize prize", encoding="utf-8")
    (root / "other" / "x.txt").write_text("a label the model does not have", encoding="utf-8")
    return root


def test_a_labelled_folder_is_evaluated_and_its_cells_list_the_files(tiny_classifier, tmp_path):
    ev = evaluate(tiny_classifier, _labelled_folder(tmp_path / "data"))
    assert ev.labels == ["ham", "spam"] and ev.n == 5 and ev.skipped == {"other": 1}
    by_file = {j.source.split("data/")[1]: j for j in ev.items}
    assert by_file["ham/2.txt"].text == "lunch with mom, 妈妈"
    assert by_file["spam/1.txt"].predicted == "spam" and by_file["ham/1.txt"].predicted == "ham"
    cm = ev.confusion
    assert cm.sum() == 5 and cm[1].sum() == 2  # two spam texts
    for t in ev.labels:
        for p in ev.labels:
            assert len(ev.cell(t, p)) == cm[ev.labels.index(t), ev.labels.index(p)]
    d = ev.to_dict()
    assert d["accuracy"] == ev.accuracy and d["macro_f1"] == ev.macro_f1
    assert len(d["errors"]) == ev.n - int(np.trace(cm))
    rows = list(csv.DictReader(io.StringIO(ev.to_csv())))
    assert len(rows) == 5 and {r["correct"] for r in rows} <= {"0", "1"}


def test_cancelling_keeps_what_was_done(tiny_classifier, tmp_path):
    calls = []
    ev = evaluate(tiny_classifier, _labelled_folder(tmp_path / "data"), batch=2, progress=lambda d, t: calls.append(d),
                  cancelled=lambda: len(calls) >= 1)
    assert calls == [2] and ev.n == 2


def test_unreadable_data_is_a_data_error(tiny_classifier, tmp_path):
    (tmp_path / "d" / "spam").mkdir(parents=True)
    (tmp_path / "d" / "spam" / "bin.dat").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(DataError, match="bin.dat"):
        evaluate(tiny_classifier, tmp_path / "d")


def test_the_cli_prints_json_with_accuracy_and_macro_f1_on_top(tiny_bundle, tmp_path, capsys):
    data = tmp_path / "data.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([["text", "label"], ["claim your free prize", "spam"], ["lunch with mom", "ham"],
                     ["mom says lunch", "ham"]])
    assert cli(["evaluate", str(data), "--model", str(tiny_bundle), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out)[:2] == ["accuracy", "macro_f1"] and out["n"] == 3
    assert out["confusion_matrix"] and set(out["per_class"]) == {"ham", "spam"}
    assert cli(["evaluate", str(data), "--model", str(tiny_bundle)]) == 0
    assert "macro-F1" in capsys.readouterr().out
    assert cli(["evaluate", str(tmp_path / "missing.csv"), "--model", str(tiny_bundle)]) == 2
    assert "no such file" in capsys.readouterr().err
