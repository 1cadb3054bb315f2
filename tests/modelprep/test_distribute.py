"""The teacher on two workers (MultiWorkerMirroredStrategy, two local CPU processes,
TF_CONFIG on localhost ports, the tiny teacher) reaches the validation accuracy of one
worker within noise; the run stops by itself and the chief writes the bundle."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_bert_teacher import synthetic_rows, write_csv, write_teacher

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "teacher": {"max_length": 16, "max_eval_texts": 40,
                "hparams": {"batch_size": 16, "learning_rate": 2e-3, "epochs": 4, "patience": 2, "time_budget_s": 120}},
    "transfer": {"augment_copies": 1},
    "student": {"embed_dim": 16, "filters": 16, "ngram_buckets": 64, "ngram_dim": 4},
    "distill": {"hparams": {"epochs": 4, "batch_size": 32, "learning_rate": 5e-3, "time_budget_s": 60}},
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _cmd(root: Path, teacher: Path, name: str) -> list[str]:
    return [sys.executable, "-m", "modelprep.cli", "train", str(root / "train.csv"), "--out",
            str(root / f"{name}.textsort"), "--work", str(root / f"work-{name}"), "--teacher", str(teacher),
            "--config", str(root / "tiny.json"), "-q"]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG",)}
    return {**env, "PYTHONPATH": os.pathsep.join([str(REPO / "desktop"), str(REPO)]), "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def _teacher_record(root: Path, name: str) -> dict:
    return json.loads((root / f"work-{name}" / "teacher" / "stage.json").read_text("utf-8"))


@pytest.mark.slow
def test_two_workers_train_the_teacher_to_one_workers_accuracy(tmp_path):
    teacher = write_teacher(tmp_path / "teacher")
    write_csv(tmp_path / "train.csv", synthetic_rows(480))
    (tmp_path / "tiny.json").write_text(json.dumps(TINY), "utf-8")

    one = subprocess.run(_cmd(tmp_path, teacher, "one"), env=_env(), capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]

    workers = [f"localhost:{_port()}", f"localhost:{_port()}"]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(_cmd(tmp_path, teacher, "two"), env=_env(TF_CONFIG=tf_config),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    assert (tmp_path / "two.textsort").is_file() and "the chief writes the bundle" in outs[1][1]

    r1, r2 = _teacher_record(tmp_path, "one"), _teacher_record(tmp_path, "two")
    assert r2["training"]["workers"] == 2 and r2["training"]["replicas"] == 2 and "workers" not in r1["training"]
    assert r2["config_hash"] == r1["config_hash"]  # the same stage: resumable on another worker count
    # half the steps per epoch (global batch 2 x 16), the same number of epochs
    steps1, steps2 = r1["training"]["steps"], r2["training"]["steps"]
    assert abs(steps2 - steps1 / 2) <= r1["training"]["best_epoch"] + 4
    # the two-worker run resumes on one worker: every finished stage is reused, nothing retrains
    again = subprocess.run([c for c in _cmd(tmp_path, teacher, "two") if c != "-q"] + ["--force"], env=_env(),
                           capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "teacher: reusing" in again.stderr and "teacher: done" not in again.stderr
    acc1, acc2 = r1["metrics"]["accuracy"], r2["metrics"]["accuracy"]
    print(f"validation accuracy: one worker {acc1:.4f}, two workers {acc2:.4f}; steps {steps1} vs {steps2}")
    assert acc2 >= 0.85 and abs(acc1 - acc2) <= 0.1
