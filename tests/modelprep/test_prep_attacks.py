"""textsort-prep under attack (issue 19): bad configs, bad label folders, forged manifests,
read-only outputs and SIGTERM are one clear line (or a clean cancel), found before any
training, and nothing is lost."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelprep.cli import main
from tiny_bert_teacher import synthetic_rows, write_csv, write_teacher

REPO = Path(__file__).resolve().parents[2]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("content, words", [
    (None, "No such file"),
    (b"{not json", "not a JSON file"),
    (b"\xff\xfe{}", "not a JSON file"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"nope": {}}', "unknown field 'nope'"),
    (b'{"teacher": {"hparams": {"epochs": "3"}}}', "config.teacher.hparams.epochs: expected a whole number"),
    (b'{"teacher": {"nope": 1}}', "unknown field 'nope'"),
    (b'{"transfer": {"augment": {"x": 1}}}', "config.transfer.augment: unknown field 'x'"),
    (b'{"teacher": {"epochs": 2}}', "precision, hparams); the training loop's settings are under 'hparams'"),
    (b'{"ngram": {"c_grid": [1, "a"]}}', "config.ngram.c_grid[1]"),
    (b'{"data": {"delimiter": ";;"}}', "delimiter must be one character"),
    (b'{"teacher": {"hparams": {"time_budget_s": 1e999}}}', "expected a number"),
    (b"[" * 100000, "not a JSON file"),
])
def test_a_bad_config_is_one_line_before_anything_runs(tmp_path, capsys, content, words):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    config = tmp_path / "config.json"
    if content is not None:
        config.write_bytes(content)
    work = tmp_path / "w"
    code = main(["train", str(data), "--out", str(tmp_path / "m.textsort"), "--config", str(config),
                 "--work", str(work)])
    assert code == 2 and words in _one_line(capsys)
    assert not work.exists() and not (tmp_path / "m.textsort").exists()
    code = main(["preview", str(data), "--config", str(config), "--no-measure"])
    out = capsys.readouterr()
    events = [json.loads(line) for line in out.out.splitlines()]
    assert code == 2 and events[-1] == {"event": "end", "ok": False} and words in events[0]["message"]


def _label_folders(root: Path, names: list[bytes], per_label: int = 12) -> Path:
    os.makedirs(root, exist_ok=True)
    for n, name in enumerate(names):
        folder = os.path.join(os.fsencode(root), name)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_label):
            with open(os.path.join(folder, b"%d.txt" % i), "w", encoding="utf-8") as fh:
                fh.write(f"text {i} about topic {n} " + " ".join(["goal", "chip", "soup"][n % 3] for _ in range(3)))
    return root


def test_a_label_folder_that_is_not_utf8_is_refused_up_front(tmp_path):
    data = _label_folders(tmp_path / "data", [b"good", b"bad\xff"])
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": os.pathsep.join([str(REPO / "desktop"), str(REPO)])}
    preview = subprocess.run([sys.executable, "-m", "modelprep.cli", "preview", str(data), "--no-measure"],
                             capture_output=True, env=env, timeout=120)
    events = [json.loads(line) for line in preview.stdout.decode("ascii").splitlines()]
    assert preview.returncode == 2 and events[-1] == {"event": "end", "ok": False}
    assert "not valid UTF-8" in events[0]["message"] and "Traceback" not in preview.stderr.decode()
    work = tmp_path / "w"
    train = subprocess.run([sys.executable, "-m", "modelprep.cli", "train", str(data), "--out",
                            str(tmp_path / "m.textsort"), "--work", str(work), "--teacher", str(tmp_path / "none")],
                           capture_output=True, env=env, timeout=120)
    err = train.stderr.decode("utf-8")
    assert train.returncode == 2 and "not valid UTF-8" in err and "bad" in err and "Traceback" not in err
    assert not (work / "teacher").exists()


def test_ten_thousand_labels_are_refused_up_front(tmp_path, capsys):
    rows = [(f"text number {i}", f"label{i // 2}") for i in range(20002)]
    data = write_csv(tmp_path / "d.csv", rows)
    assert main(["train", str(data), "--out", str(tmp_path / "m.textsort"), "--work", str(tmp_path / "w")]) == 2
    assert "10001 different labels" in _one_line(capsys)
    assert main(["preview", str(data), "--no-measure"]) == 2
    assert '"ok": false' in capsys.readouterr().out


def test_an_out_that_cannot_be_written_fails_before_training(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    for out in ("/proc/m.textsort", str(blocker / "m.textsort"), str(tmp_path)):
        work = tmp_path / "w"
        assert main(["train", str(data), "--out", out, "--work", str(work)]) == 2, out
        assert "--out" in _one_line(capsys)
        assert not work.exists()
    assert blocker.read_text() == "a file where a folder should be"


def test_calibrate_refuses_a_forged_manifest_in_one_line(tmp_path, capsys, tiny_bundle):
    from textsort.core.bundle import load_bundle, write_bundle

    b = load_bundle(tiny_bundle)
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    for n, change in enumerate(({"config": {"data": {"val_fraction": "x"}}}, {"config": "x"}, {"data": [1]},
                                {"config": {"data": {"delimiter": ";;"}}}, {"config": {"data": [1]}})):
        forged = write_bundle(tmp_path / f"f{n}.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                              manifest={**{k: v for k, v in b.manifest.items() if k != "files"}, **change})
        before = forged.read_bytes()
        assert main(["calibrate", str(forged), str(data)]) == 2, change
        _one_line(capsys)
        assert forged.read_bytes() == before


def test_a_cancel_request_is_raised_at_the_next_progress_call_not_in_the_handler():
    from modelprep import progress

    progress.reset_cancel()
    try:
        progress.request_cancel()  # what the SIGTERM handler calls: returns, raises nothing
        with pytest.raises(KeyboardInterrupt):
            progress.step("x", 1, 2)
        progress.step("x", 2, 2)  # once only: the cleanup that follows can report freely
    finally:
        progress.reset_cancel()  # and its hard-stop timer never ends this test process


@pytest.mark.slow
def test_sigterm_during_the_teacher_is_a_clean_cancel(tmp_path):
    teacher = write_teacher(tmp_path / "teacher")
    data = write_csv(tmp_path / "d.csv", synthetic_rows(600))
    (tmp_path / "c.json").write_text(json.dumps({"teacher": {"hparams": {"epochs": 50, "patience": 50, "time_budget_s": 600},
                                                             "name": str(teacher), "max_length": 16}}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "desktop"), str(REPO)])}
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "modelprep.cli", "train", str(data), "--out",
                                 str(tmp_path / f"m{attempt}.textsort"), "--work", str(tmp_path / f"w{attempt}"),
                                 "--config", str(tmp_path / "c.json"), "--teacher", str(teacher),
                                 "--progress-json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            event = json.loads(line)
            if event["event"] == "step" and event.get("stage") == "teacher" and event["step"] >= 2 + attempt:
                proc.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() < deadline
        rest = proc.stdout.read()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM, err[-2000:]  # as `textsort` answers it
        assert '"event": "cancelled"' in rest and "SystemError" not in err and "Traceback" not in err
