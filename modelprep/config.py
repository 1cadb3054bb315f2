"""Every knob of the pipeline, one small dataclass per stage, with visible defaults.

`DataConfig` belongs to `modelprep.data`; it is re-exported here so a caller finds all
stage configs in one place. Each stage records `asdict(config)` in its work folder and
in the bundle manifest, and is re-run only when that dict (hashed) changes.
"""
from __future__ import annotations

import hashlib
import json
import math
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace

from modelprep.augment import AugmentConfig
from modelprep.data import DataConfig  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class HParams:
    """The training loop's hyperparameters (`loop.fit`), handed to it as they are: one set
    for the teacher's fine-tune (`TeacherConfig.hparams`), one for the student
    (`DistillConfig.hparams`). Model options stay in those configs (mediapipe model_maker's
    split of `HParams` and model options)."""
    batch_size: int = 32
    learning_rate: float = 5e-5
    epochs: int = 3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    patience: int = 1               # epochs without a better validation macro-F1
    class_weights: bool = False     # inverse-frequency weights on the cross-entropy
    max_steps: int | None = None    # hard cap on optimizer steps
    time_budget_s: float | None = None  # stop (keeping the best epoch) after this long
    seed: int = 0


@dataclass(frozen=True)
class TeacherConfig:
    name: str = "auto"              # "auto" | "minilm" | "e5" | path to a HF BERT folder
    max_length: int = 128           # tokens per window, specials included (also the bundle's)
    dropout: float = 0.1            # classifier-head dropout (the encoder keeps its own)
    pooling: str = "mean"           # "mean" (sentence-transformers style) or "cls"
    max_eval_texts: int = 2000      # validation texts scored for early stopping (all for the metrics)
    cjk_threshold: float = 0.2      # "auto": share of CJK characters that selects e5
    precision: str = "auto"         # "auto" (bfloat16 where the hardware has it) | "float32" | "mixed_bfloat16"
    hparams: HParams = HParams(class_weights=True, time_budget_s=480.0)


@dataclass(frozen=True)
class StudentConfig:
    """The student's architecture (`modelprep.student`). These defaults are the default rung
    of the size ladder (about 5 MB, 0.3 ms per text); `PipelineConfig.tiny_student` the tiny one."""
    arch: str = "cnn"
    embed_dim: int = 192            # initialised from a PCA of the teacher's table
    freeze_embeddings: bool = False  # keep the PCA table fixed (fewer weights to overfit)
    conv_widths: tuple[int, ...] = (2, 3, 4)
    filters: int = 256              # per conv width
    ngram_buckets: int = 0          # wide branch: hashed token-bigram table rows (0 = none)
    ngram_dim: int = 16
    dropout: float = 0.5


@dataclass(frozen=True)
class FewShotConfig:
    """The teacher when labels are few (`modelprep.fewshot`): used whenever the data is
    cross-validated instead of split (`DataConfig.cross_validate_below`)."""
    folds: int = 5                  # k-fold cross-validation (at most the smallest class's count)
    c_grid: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0)  # logistic-regression C, chosen by cross-validation
    self_training_rounds: int = 1   # rounds of labelling the pool and refitting (0: labelled texts only)
    pseudo_share: float = 0.6       # share of each predicted class added, its most confident texts
    pool_weight: float = 2.0        # total weight of the pool's texts, relative to the labelled texts'
    self_training_pool: int = 5000  # pool texts the teacher learns from (a random sample)
    ngram_weight: float = 0.5       # the encoder head's share; the rest: TF-IDF + LR on the pool's head labels
    ngram_C: float = 4.0
    labelled_weight: float = 3.0    # a labelled text counts this many pool texts in the n-gram fit
    student_alternatives: bool = False  # also train DistillConfig.alpha_alternatives (they weigh hard labels,
                                        # which are a few dozen here against thousands of teacher-labelled texts)
    seed: int = 0


@dataclass(frozen=True)
class PoolConfig:
    """The user's unlabelled texts (`--unlabelled`, textsort.files.unlabelled): the teacher learns from
    them with few labels (self-training) and labels them for the student's transfer set."""
    text_column: str = "text"       # in a CSV/TSV/JSONL pool
    max_texts: int = 10000          # read at most this many (in order)
    max_bytes: int = 4 * 1024 * 1024  # a larger file is skipped (counted)
    embed_time_budget_s: float = 300.0  # the few-label teacher embeds the pool for at most this long
    student_holdout: int = 1000     # pool texts kept from the student to stop it (agreement with the teacher)
    seed: int = 0


@dataclass(frozen=True)
class NgramConfig:
    """The TF-IDF + logistic-regression half of the teacher (`modelprep.ngram`)."""
    enabled: bool = True            # the teacher = BERT and this n-gram model, probabilities mixed
    teacher_weight: float | None = None  # BERT's share of the mix; None: chosen on validation
    weight_grid: tuple[float, ...] = (0.25, 0.5, 0.75)
    analyzers: tuple[str, ...] | None = None  # None: by script (see `analyzers_for`)
    c_grid: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
    min_df: int = 1
    max_features: int | None = 2_000_000
    folds: int = 3                  # out-of-fold teacher labels
    jobs: int | None = None         # processes fitting C values and folds side by side (None: one per core)
    seed: int = 0


@dataclass(frozen=True)
class TransferConfig:
    """The teacher-labelled transfer set (`modelprep.transfer`, `modelprep.augment`)."""
    augment_copies: int = 3         # augmented copies per real row
    max_transfer_texts: int = 40000  # teacher-labelled texts (real rows first), caps labelling time
    label_time_budget_s: float = 150.0  # labelling stops here; augmented rows come last
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0


@dataclass(frozen=True)
class DistillConfig:
    """How the student learns from the teacher (`modelprep.distill`, `loop.fit`)."""
    temperature: float = 2.0
    alpha: float = 0.7              # weight of the soft loss; 1 - alpha on CE
    soft_loss: str = "kl"           # "kl": T^2 * KL(teacher_T || student_T); "mse": squared logit distance
    alpha_alternatives: tuple[float, ...] = (0.3,)  # also trained; best validation macro-F1 is kept
    # the student overfits the transfer set after an epoch or two (weight decay 0.1);
    # the time budget is per student trained
    hparams: HParams = HParams(epochs=8, batch_size=64, learning_rate=2e-3, weight_decay=0.1,
                               warmup_fraction=0.05, patience=2, time_budget_s=300.0)


@dataclass(frozen=True)
class QuantConfig:
    mode: str = "dynamic-int8"      # TFLite Optimize.DEFAULT, no representative data
    max_drop_points: float = 0.5    # int8 accuracy may be at most this far below fp32
    min_agreement: float = 0.995    # Keras fp32 vs LiteRT int8 top-1 agreement
    max_mean_prob_diff: float = 0.02  # mean |p_int8 - p_fp32|: the confidence the app shows
    allow_failed_guard: bool = False
    teacher_candidate: bool = True  # also export the fine-tuned BERT as int8: it labels the transfer
                                    # set (faster than Keras) and is the "accurate" candidate


@dataclass(frozen=True)
class ShipConfig:
    """Which verified candidate becomes the bundle (`modelprep.candidates.choose`)."""
    size: str = "default"           # textsort.core.manifest.SIZES: "tiny" | "default": that student (PipelineConfig
                                    # .tiny_student | .student); "accurate": the best validation accuracy
    max_mb: float | None = None     # with a budget: the most accurate candidate within it
    max_ms: float | None = None     # model milliseconds per text (validation texts, this machine)


@dataclass(frozen=True)
class PipelineConfig:
    data: DataConfig = field(default_factory=DataConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    fewshot: FewShotConfig = field(default_factory=FewShotConfig)
    ngram: NgramConfig = field(default_factory=NgramConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    student: StudentConfig = field(default_factory=StudentConfig)            # the default rung's student
    tiny_student: StudentConfig = field(default_factory=lambda: StudentConfig(embed_dim=128, filters=128))  # --size tiny:
                                    # about 3.5 MB, 0.1 ms per text
    distill: DistillConfig = field(default_factory=DistillConfig)
    quant: QuantConfig = field(default_factory=QuantConfig)
    ship: ShipConfig = field(default_factory=ShipConfig)


def for_few_labels(cfg: PipelineConfig) -> PipelineConfig:
    """What a run with few labels (cross-validated data) changes: the n-gram half is the
    few-label teacher's own (trained on the pool), not the n-gram stage's; and the student's
    alpha alternatives are trained only with `FewShotConfig.student_alternatives`."""
    cfg = replace(cfg, ngram=replace(cfg.ngram, enabled=False))
    if not cfg.fewshot.student_alternatives:
        cfg = replace(cfg, distill=replace(cfg.distill, alpha_alternatives=()))
    return cfg


def to_dict(cfg) -> dict:
    return asdict(cfg) if is_dataclass(cfg) else dict(cfg)


def config_hash(*parts) -> str:
    """Stable short hash of configs / plain values (dataclasses become dicts)."""
    blob = json.dumps([to_dict(p) if is_dataclass(p) else p for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class ConfigError(ValueError):
    """An override that does not fit the config (unknown section or field, wrong type)."""


def _convert(value, hint, where: str):
    """`value` (parsed JSON) as the annotated type `hint`, or ConfigError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:  # "X or null": X's own message says what is wrong
            return _convert(value, options[0], where)
        for arg in options:
            try:
                return _convert(value, arg, where)
            except ConfigError:
                pass
        raise ConfigError(f"{where}: {value!r} is not {' or '.join(getattr(a, '__name__', str(a)) for a in args)}")
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, not {type(value).__name__}")
        return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
    if is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an object of fields, not {type(value).__name__}")
        return apply_overrides(hint(), value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}: expected a number, not {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, not {value!r}")
        return value
    raise ConfigError(f"{where}: cannot be set from a config file")


def apply_overrides(cfg, overrides: dict, where: str = "config"):
    """`cfg` (a dataclass) with `overrides` ({"field": value or {nested fields}}) applied and
    every value checked against the field's annotated type; ConfigError names the field."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: expected a JSON object, not {type(overrides).__name__}")
    hints = typing.get_type_hints(type(cfg))
    names = [f.name for f in fields(cfg)]
    changes = {}
    for key, value in overrides.items():
        if key not in names:
            moved = ("; the training loop's settings are under 'hparams' since 2026-12-07"
                     if "hparams" in names and key in HParams.__dataclass_fields__ else "")
            raise ConfigError(f"{where}: unknown field {key!r} (fields: {', '.join(names)}){moved}")
        hint = hints[key]
        if is_dataclass(hint) and isinstance(value, dict):
            changes[key] = apply_overrides(getattr(cfg, key), value, f"{where}.{key}")
        else:
            changes[key] = _convert(value, hint, f"{where}.{key}")
    try:
        return replace(cfg, **changes)
    except (TypeError, ValueError) as e:  # a config's own check (__post_init__)
        raise ConfigError(f"{where}: {e}") from None
