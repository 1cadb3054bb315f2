"""Train and Evaluate windows, driven like a user, with a tiny real data set and the tiny
BERT teacher (tests/modelprep/tiny_bert_teacher.py): drop the folder, see the preview,
train in a subprocess, cancel, resume, finish, evaluate, drill into the confusion matrix,
pick the new model. The training subprocess is real textsort-prep (about a minute here)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import drop_paths

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "modelprep"))

from tiny_bert_teacher import synthetic_rows, write_teacher  # noqa: E402

pytest.importorskip("tensorflow")  # the subprocess trains: the training extra is needed

TINY = {  # tests/modelprep/tiny_bert_teacher.tiny_config, as textsort-prep train --config JSON
    "teacher": {"max_length": 16, "max_eval_texts": 20,
                "hparams": {"batch_size": 16, "learning_rate": 2e-3, "epochs": 4, "patience": 2, "time_budget_s": 60}},
    "transfer": {"augment_copies": 1},
    "student": {"embed_dim": 16, "filters": 16, "ngram_buckets": 64, "ngram_dim": 4},
    "distill": {"hparams": {"epochs": 4, "batch_size": 32, "learning_rate": 5e-3, "time_budget_s": 60}},
}


def _folder(root: Path, rows) -> Path:
    for i, (text, label) in enumerate(rows):
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / f"{i:04d}.txt").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-gui")
    config = root / "tiny.json"
    config.write_text(json.dumps(TINY), "utf-8")
    return {"teacher": write_teacher(root / "teacher"), "config": config,
            "train": _folder(root / "train", synthetic_rows(360)),
            "test": _folder(root / "test", synthetic_rows(60, seed=1)), "out": root / "out" / "tiny-topics.textsort"}


def _stage(w, name):
    return w.run_state.stage(name)


def test_train_cancel_resume_evaluate_and_pick(qtbot, window, tiny_run, messages, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tiny_run["out"].parent.parent / "xdg"))
    tiny_run["out"].parent.mkdir(exist_ok=True)
    w = window.show_train_window()
    w.config = tiny_run["config"]
    w.set_teacher(str(tiny_run["teacher"]))
    w.out_edit.setText(str(tiny_run["out"]))
    drop_paths(w, [tiny_run["train"]])  # a real drop of the folder
    assert w.data_edit.text() == str(tiny_run["train"])
    qtbot.waitUntil(lambda: w.preview_state.finished, timeout=120000)
    p = w.preview_state
    assert p.ok and set(p.labels) == {"food", "sport", "tech"} and sum(p.labels.values()) > 300
    assert p.teacher == "teacher" and "chosen by the user" in p.reason
    assert p.estimate_s and p.estimate_s > 0
    assert "Estimated time on this machine" in w.preview_view.toPlainText()
    assert w.train_button.isEnabled()

    # start, watch progress, cancel once the teacher is done
    w.start_training()
    assert not w.train_button.isEnabled() and w.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: _stage(w, "teacher").state == "done", timeout=180000)
    assert _stage(w, "teacher").total > 0 and w.run_state.curve  # steps and validation points arrived
    w.cancel()
    qtbot.waitUntil(lambda: w.train_proc is None, timeout=60000)
    assert "Cancelled" in w.status.text() and not tiny_run["out"].exists()

    # resume: the teacher is reused, the rest runs, the model is saved and picked
    with qtbot.waitSignal(window.modelLoaded, timeout=300000):
        w.start_training()
    assert _stage(w, "teacher").state == "reused"
    assert tiny_run["out"].is_file() and "Saved" in w.status.text()
    assert window.classifier.bundle.path == tiny_run["out"]
    assert str(tiny_run["out"]) in window.settings.user_models
    names = [window.model_combo.itemText(i) for i in range(window.model_combo.count())]
    assert any(n.startswith("tiny-topics (") for n in names)  # listed with its folder and date

    # evaluate the new model on held-out folders; drill into the confusion matrix
    ev_window = window.show_evaluate_window()
    with qtbot.waitSignal(ev_window.evaluated, timeout=60000) as blocker:
        drop_paths(ev_window, [tiny_run["test"]])
    ev = blocker.args[0]
    assert ev.n == 60 and ev.labels == ["food", "sport", "tech"] and ev.accuracy > 0.6
    assert "Accuracy" in ev_window.summary.text() and ev_window.confusion.rowCount() == 3
    i, j = next(((a, b) for a in range(3) for b in range(3) if ev.confusion[a, b]), (0, 0))
    ev_window.show_cell(i, j)
    assert ev_window.cell_list.count() == ev.confusion[i, j]
    ev_window.cell_list.setCurrentRow(0)
    qtbot.waitUntil(lambda: ev_window.explanation.text.toPlainText().strip() != "", timeout=30000)
    out = tiny_run["out"].parent / "evaluation.json"
    ev_window.export(out)
    saved = json.loads(out.read_text("utf-8"))
    assert saved["accuracy"] == ev.accuracy and saved["macro_f1"] == ev.macro_f1
    ev_window.close()
    w.close()


def test_a_problem_is_shown_before_training(qtbot, gui_settings, tmp_path):
    from textsort.gui.train_window import TrainWindow

    w = TrainWindow(gui_settings)
    qtbot.addWidget(w)
    (tmp_path / "only" / "one").mkdir(parents=True)
    (tmp_path / "only" / "one" / "a.txt").write_text("hello", encoding="utf-8")
    w.set_data(tmp_path / "only", out=tmp_path / "x.textsort")
    qtbot.waitUntil(lambda: w.preview_state.finished, timeout=60000)
    assert not w.preview_state.ok and not w.train_button.isEnabled()
    assert "only one class" in w.preview_view.toPlainText() and "Cannot train" in w.preview_view.toPlainText()


def test_missing_training_extras_say_what_to_install(qtbot, gui_settings, tmp_path, monkeypatch):
    from textsort.appstate import training
    from textsort.gui.train_window import TrainWindow

    monkeypatch.setattr(training, "training_missing", lambda: ["tensorflow"])
    w = TrainWindow(gui_settings)
    qtbot.addWidget(w)
    (tmp_path / "d" / "a").mkdir(parents=True)
    (tmp_path / "d" / "b").mkdir()
    (tmp_path / "d" / "a" / "1.txt").write_text("x", encoding="utf-8")
    (tmp_path / "d" / "b" / "1.txt").write_text("y", encoding="utf-8")
    w.set_data(tmp_path / "d", out=tmp_path / "x.textsort")
    qtbot.waitUntil(lambda: w.preview_state.finished, timeout=60000)
    assert "./dev setup all" in w.preview_view.toPlainText() and not w.train_button.isEnabled()


def test_the_gui_process_never_imports_tensorflow(tmp_path, tiny_bundle):
    """Open the window with the Train and Evaluate windows, run a preview (a subprocess)
    and an evaluation: TensorFlow is never in this process's modules."""
    data = _folder(tmp_path / "d", [("claim your free prize", "spam"), ("lunch with mom", "ham")] * 6)
    code = f"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from textsort.gui.main_window import MainWindow
from textsort.gui.settings import AppSettings
w = MainWindow(AppSettings(QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat)), model_path={str(tiny_bundle)!r})
t = w.show_train_window()
t.set_data({str(data)!r}, out={str(tmp_path / 'm.textsort')!r})
t.preview_proc.waitForFinished(120000)
app.processEvents()
lw = w.show_label_window()
assert lw.open_source({str(data)!r}) and lw.session.texts
lw.session.add_label("spam"); lw.assign("spam")
lw.close()
from textsort.appstate.evaluation import evaluate
from textsort.core.engine import Classifier
e = w.show_evaluate_window()
e.set_classifier(Classifier({str(tiny_bundle)!r}))
ev = evaluate(e.classifier, {str(data)!r})
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras", "keras", "modelprep"))
print("preview ok:", t.preview_state.finished, "evaluated:", ev.n, "imported:", bad)
assert t.preview_state.finished and ev.n == 12 and not bad
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env={**__import__("os").environ, "XDG_DATA_HOME": str(tmp_path / "xdg"),
                                         "PYTHONPATH": f"{REPO / 'desktop'}:{REPO}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "imported: []" in proc.stdout


def test_few_labels_and_an_unlabelled_folder_in_the_preview(qtbot, gui_settings, tmp_path):
    """8 labelled texts per class and a folder of unsorted files: the preview says the accuracy
    will be cross-validated and how many unlabelled texts will teach the model; Train passes
    the folder on as --unlabelled."""
    from textsort.gui.train_window import TrainWindow

    teacher = write_teacher(tmp_path / "teacher")
    rows = synthetic_rows(120)
    data = _folder(tmp_path / "labelled", rows[:24])
    unsorted = tmp_path / "unsorted"
    unsorted.mkdir()
    for i, (text, _) in enumerate(rows[24:]):
        (unsorted / f"{i}.txt").write_text(text, encoding="utf-8")
    (unsorted / "scan.pdf").write_bytes(b"%PDF-1.4\x00\x01\x02" * 50)
    w = TrainWindow(gui_settings)
    qtbot.addWidget(w)
    w.set_teacher(str(teacher))
    w.unlabelled_edit.setText(str(unsorted))
    w.set_data(data, out=tmp_path / "few.textsort")
    qtbot.waitUntil(lambda: w.preview_state.finished, timeout=120000)
    text = w.preview_view.toPlainText()
    assert w.preview_state.ok, text
    assert "cross-validation" in text and "96 will teach the model" in text and "1 unreadable" in text
    args = w.request().train_args()
    assert args[args.index("--unlabelled") + 1] == str(unsorted)


def test_a_typed_model_name_is_saved_absolute_and_never_empty(qtbot, gui_settings, messages, tmp_path, monkeypatch):
    """Issue 20: a typed "Save model as" stayed empty with Train enabled; the model went to the
    working directory as model.textsort and was remembered by a relative path."""
    from textsort.gui.train_window import TrainWindow

    models = tmp_path / "models"
    models.mkdir()
    gui_settings.last_folder = str(models)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = _folder(tmp_path / "mail", [("claim your free prize", "spam"), ("lunch with mom", "ham")] * 6)
    (models / "mail.textsort").write_bytes(b"the user's earlier model")
    w = TrainWindow(gui_settings)
    qtbot.addWidget(w)
    w.data_edit.setText(str(data))  # typed, not dropped
    w.data_edit.editingFinished.emit()
    assert Path(w.out_edit.text()) == models / "mail-2.textsort"  # a free name, absolute
    w.preview_state.finished = w.preview_state.ok = True
    w._update_buttons()
    assert w.train_button.isEnabled()
    w.out_edit.setText("")
    assert not w.train_button.isEnabled() and w.request().out is None
    w.start_training()  # even when called: nothing runs, the user is told
    assert w.train_proc is None and messages and "Save model as" in messages[-1][2]
    with pytest.raises(ValueError):
        w.request().train_args()
    w.out_edit.setText("mine")
    w.out_edit.editingFinished.emit()
    assert w.out_edit.text() == str(models / "mine.textsort") and w.train_button.isEnabled()
    assert w.request().out.is_absolute() and not list(elsewhere.iterdir())
    gui_settings.remember_model("relative.textsort")
    gui_settings.last_model = "relative.textsort"
    assert gui_settings.user_models[0] == str(elsewhere / "relative.textsort")
    assert gui_settings.last_model == str(elsewhere / "relative.textsort")


@pytest.mark.parametrize("answer", ["Folder…", "File…", None])
def test_evaluate_and_train_offer_folder_or_file_in_one_chooser(qtbot, gui_settings, tmp_path, monkeypatch, answer):
    """Issue 20: Evaluate offered folders only; a CSV was reached only by cancelling."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from textsort.gui.evaluate_window import EvaluateWindow
    from textsort.gui.train_window import TrainWindow

    asked = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: [b.click() for b in box.buttons() if b.text() == answer]
                        and 0 or asked.append(box.text()) or 0)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(tmp_path / "folder")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "labelled.csv"), "")))
    chosen = {"Folder…": tmp_path / "folder", "File…": tmp_path / "labelled.csv", None: None}[answer]
    ev = EvaluateWindow()
    qtbot.addWidget(ev)
    evaluated = []
    monkeypatch.setattr(ev, "evaluate", evaluated.append)
    ev._choose()
    assert evaluated == ([chosen] if chosen else [])
    tw = TrainWindow(gui_settings)
    qtbot.addWidget(tw)
    monkeypatch.setattr(tw, "start_preview", lambda: None)
    tw._choose("data")
    assert tw.data_edit.text() == (str(chosen) if chosen else "")


def test_the_stage_bar_never_reads_0_of_1_and_stopping_defaults_to_no(qtbot, gui_settings, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from textsort.appstate import training
    from textsort.gui.train_window import TrainWindow, stage_bar_text

    s = training.RunState()
    assert stage_bar_text(s) == ""
    s.apply({"event": "stage", "stage": "teacher", "state": "start"})
    assert stage_bar_text(s).endswith("…")
    s.apply({"event": "step", "stage": "teacher", "what": "train", "step": 3, "total": 10})
    assert stage_bar_text(s) == "%v / %m"
    s.apply({"event": "stage", "stage": "teacher", "state": "done", "seconds": 1.0})
    s.apply({"event": "done", "bundle": "/x/m.textsort"})
    assert stage_bar_text(s) == "Finished"
    w = TrainWindow(gui_settings)
    qtbot.addWidget(w)
    w.run_state = s
    w._draw_stages()
    assert w.stage_bar.text() == "Finished" and w.stage_bar.value() == w.stage_bar.maximum()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a: asked.append(a) or QMessageBox.StandardButton.No))
    w.train_proc = object()  # as if a run were going on
    w.close()
    assert asked and asked[0][-1] == QMessageBox.StandardButton.No  # Enter answers No: training goes on
    w.train_proc = None
