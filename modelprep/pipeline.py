"""Labelled texts -> one `.textsort` bundle, read top to bottom in `train()`:

  data -> teacher (fine-tuned BERT) -> teacher int8 (LiteRT, guarded) -> n-gram model
  -> transfer set (labelled by int8 BERT + n-grams) -> student (distilled) -> student int8
  -> candidates verified by the runtime -> the chosen one written as the bundle

Each stage is a function that takes what it needs and returns a typed result. `StageRunner`
owns reuse, timing and the stage record: a stage whose `stage.json` (in its folder under
the work directory) holds the same key is reused, not re-run; the key includes the keys
of the stages it depends on, so a changed teacher re-runs everything after it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from modelprep import fewshot, progress
from modelprep.candidates import Candidate, check_size, choose, export_candidate, timed_probs
from modelprep.config import PipelineConfig, config_hash, for_few_labels
from modelprep.data import PreparedData, normalise_whitespace, prepare
from modelprep.ensemble import choose_weight, mix, mix_logits
from modelprep.evaluate import classification_metrics, uncertain_threshold
from modelprep.ngram import fit_ngram_model, load_model, out_of_fold_probs, save_model
from modelprep.publish import check_out, publish
from modelprep.teachers import choose_teacher, cjk_share
from modelprep.transfer import build_transfer_set
from modelprep.vocab import prune_source
from modelprep.workdir import StageFolder, versions
from textsort.core.bundle import FORMAT, FORMAT_VERSION, load_bundle
from textsort.core.encoding import TextEncoder, TokenizerSpec
from textsort.core.manifest import ACCURATE, TINY, student_rung
from textsort.core.protocol import Event, StageName, State
from textsort.files.unlabelled import PoolError, load_pool

log = logging.getLogger(__name__)
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
PRUNE_ABOVE = 60000  # Unigram vocabularies larger than this are pruned to the data's pieces


@dataclass
class RunResult:
    bundle: Path
    manifest: dict
    stages_run: list[str] = field(default_factory=list)
    work: Path | None = None
    student: object = None        # the fp32 Keras student (tests compare it with the runtime)
    candidates: list[Candidate] = field(default_factory=list)


class StageRunner:
    """Runs or reuses each stage; remembers which ran and how long each took."""

    def __init__(self, work: Path):
        self.work = Path(work)
        self.ran: list[str] = []
        self.timings: dict[str, float] = {}

    def run(self, name: str, key: str, config: dict, build: Callable[[Path], dict]) -> tuple[Path, dict]:
        """`build(folder) -> extra record fields` runs unless the stage is done with this key."""
        stage = StageFolder(self.work / name, key, config)
        record = stage.done()
        if record:
            log.info("%s: reusing %s", name, stage.folder)
            progress.stage(name, State.REUSED, seconds=record["seconds"])
        else:
            progress.stage(name, State.START)
            t0 = time.perf_counter()
            extra = build(stage.start())
            record = stage.finish(time.perf_counter() - t0, **extra)
            self.ran.append(name)
            log.info("%s: done in %.0f s", name, record["seconds"])
            progress.stage(name, State.DONE, seconds=record["seconds"])
        self.timings[name] = record["seconds"]
        return stage.folder, record

    def time(self, name: str, t0: float) -> None:
        self.timings[name] = round(time.perf_counter() - t0, 1)


# ---------------------------------------------------------------- data

@dataclass
class Prepared:
    data: PreparedData
    labels: list[str]
    fingerprint: str
    source: object                # TeacherSource (pruned where large)
    reason: str                   # why this teacher
    encoder: TextEncoder
    train_windows: list[np.ndarray]
    val: object                   # loop.EvalSet (cross-validated data: the labelled texts themselves)
    test: object | None
    pool: list[str] = field(default_factory=list)  # the user's unlabelled texts, cleaned (--unlabelled)
    pool_summary: dict | None = None


def _fingerprint(data: PreparedData, pool: list[str] = ()) -> str:
    h = hashlib.sha256(json.dumps(data.labels).encode())
    for split in (data.train, data.val):
        for t, y in zip(split.texts, split.y.tolist()):
            h.update(f"{y}\t{t}\n".encode("utf-8", "surrogatepass"))
    for t in pool:
        h.update(f"-1\t{t}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def read_pool(spec, data: PreparedData, cfg: PipelineConfig) -> tuple[list[str], dict]:
    """The unlabelled texts (textsort.files.unlabelled), whitespace-normalised like the labelled
    ones, without duplicates or texts that are also labelled, and without texts in another
    script than the labelled ones (CJK or not: another language would teach nothing)."""
    pc = cfg.pool
    try:
        pool = load_pool(spec, pc.text_column, pc.max_texts, pc.max_bytes)
    except PoolError as e:
        raise ValueError(f"--unlabelled {e}") from None
    labelled = set(data.train.texts) | set(data.val.texts)
    cjk = cjk_share(data.train.texts) > cfg.teacher.cjk_threshold
    texts, duplicates, other_script = [], 0, 0
    seen = set()
    for text in map(normalise_whitespace, pool.texts):
        if text in seen or text in labelled:
            duplicates += 1
        elif (cjk_share([text]) > cfg.teacher.cjk_threshold) != cjk:
            other_script += 1
        else:
            seen.add(text)
            texts.append(text)
    summary = {**pool.summary(), "duplicates_or_labelled": duplicates, "other_script": other_script,
               "used": len(texts), "source": str(spec)}
    if other_script > len(texts):
        log.warning("--unlabelled %s: %d of %d texts are in another script than the labelled texts (%s) and were "
                    "left out", spec, other_script, len(pool.texts), "Chinese/Japanese" if cjk else "not CJK")
    if not texts:
        log.warning("--unlabelled %s: no usable text (%s); training goes on without it", spec, summary)
    log.info("unlabelled: %d offered, %d read, %d used (%s skipped, %d duplicates, %d in another script)",
             pool.offered, len(pool.texts), len(texts), sum(pool.skipped.values()), duplicates, other_script)
    return texts, summary


def eval_set(encoder: TextEncoder, texts, y):
    from modelprep.loop import EvalSet

    windows, owner = encoder.encode_batch(list(texts))
    return EvalSet(windows, owner, np.asarray(y))


def teacher_for(data: PreparedData, cfg: PipelineConfig, pool: list[str] = ()):
    """(TeacherSource, why) for this data: `choose_teacher`, and a large SentencePiece
    vocabulary pruned to the pieces the training, validation and unlabelled texts use."""
    source, reason = choose_teacher(data.train.texts, cfg.teacher.name, cfg.teacher.cjk_threshold)
    if (source.config.vocab_size > PRUNE_ABOVE
            and json.loads(source.tokenizer_json)["model"].get("type") == "Unigram"):

        source = prune_source(source, list(data.train.texts) + list(data.val.texts) + list(pool))
    return source, reason


def prepare_data(stages: StageRunner, data_path, cfg: PipelineConfig, test_path, unlabelled=None) -> Prepared:
    t0, tc = time.perf_counter(), cfg.teacher
    progress.stage(StageName.DATA, State.START)
    data = prepare(data_path, cfg.data, test_path)
    pool, pool_summary = read_pool(unlabelled, data, cfg) if unlabelled is not None else ([], None)
    source, reason = teacher_for(data, cfg, pool)
    if tc.max_length > source.config.max_position_embeddings:
        raise ValueError(f"max_length {tc.max_length} exceeds the teacher's "
                         f"{source.config.max_position_embeddings} positions")
    spec = TokenizerSpec(max_length=tc.max_length, cls_id=source.cls_id, sep_id=source.sep_id, pad_id=source.pad_id)
    encoder = TextEncoder.from_json(source.tokenizer_json, spec)
    val = data.train if data.cross_validated else data.val
    prepared = Prepared(
        data, list(data.labels), _fingerprint(data, pool), source, reason, encoder,
        encoder.encode_batch(data.train.texts, first_window_only=True)[0],
        eval_set(encoder, val.texts, val.y),
        eval_set(encoder, data.test.texts, data.test.y) if data.test is not None else None, pool, pool_summary)
    stages.time(StageName.DATA, t0)
    progress.stage(StageName.DATA, State.DONE, seconds=stages.timings[StageName.DATA])
    return prepared


# ---------------------------------------------------------------- teacher

@dataclass
class Teacher:
    model: object                 # tf-keras BertClassifier
    key: str                      # this run of the stage (what later stages' keys include)
    record: dict
    val_probs: np.ndarray         # the Keras teacher on validation (cross-validated data: out-of-fold)
    pool_logits: np.ndarray | None = None  # few labels: its logits of each pool text (NaN: not reached)


def teacher_stage(stages: StageRunner, p: Prepared, cfg: PipelineConfig, dist=None) -> Teacher | None:
    """`dist` (modelprep.distribute): train on several replicas / workers; the weights and
    the stage record are the same as one worker's, so a run resumes on any worker count.
    None on a non-chief worker when the chief already has the teacher."""
    from modelprep.bert import build_teacher
    from modelprep.loop import Examples, fit, predict_texts, resolve_precision, seed_everything

    tc = cfg.teacher
    precision = resolve_precision(tc.precision)
    seed_everything(tc.hparams.seed)  # the classifier head's initial weights: the same run trains the same teacher
    with dist.strategy.scope() if dist else contextlib.nullcontext():
        model = build_teacher(p.source, len(p.labels), tc.pooling, tc.dropout, load_pretrained=False,
                              precision=precision)

    def build(folder: Path) -> dict:
        model.encoder.load_hf_weights(p.source.weights)
        train = Examples(p.train_windows, p.data.train.y.astype(np.int64))
        val = p.val.sample(tc.max_eval_texts, tc.hparams.seed)  # early stopping on at most this many
        history, probs = fit(model, train, val, len(p.labels), tc.hparams, p.source.pad_id, "teacher", dist)
        if dist is not None:
            history["replicas"], history["workers"] = dist.replicas, dist.workers
        if val is not p.val:
            probs = predict_texts(model, p.val, 64, p.source.pad_id, "teacher on validation")
        model.save_weights(str(folder / "weights"))
        np.save(folder / "val_probs.npy", probs)
        return {"metrics": classification_metrics(p.val.y, probs, p.labels, "validation"), "training": history,
                "teacher": p.source.card(), "reason": p.reason}

    key = config_hash(tc, p.source.card(), p.fingerprint, precision)
    if dist is not None and dist.workers > 1:  # every worker follows the chief's record: train together or not at all
        chief_has_it = dist.sync_max(float(dist.chief and StageFolder(stages.work / "teacher", key, {}).done() is not None))
        if not dist.chief:
            if chief_has_it:
                return None  # the chief reuses its teacher: nothing to train here
            shutil.rmtree(stages.work / "teacher", ignore_errors=True)  # a stale record of this worker's own
    folder, record = stages.run(StageName.TEACHER, key, {**asdict(tc), "precision_used": precision}, build)
    if "teacher" not in stages.ran:
        model.load_weights(str(folder / "weights")).expect_partial()
    probs_file = folder / "val_probs.npy"
    val_probs = np.load(probs_file) if probs_file.is_file() else predict_texts(model, p.val, 64, p.source.pad_id)
    return Teacher(model, StageFolder.identity(record), record, val_probs)


def fewshot_teacher_stage(stages: StageRunner, p: Prepared, cfg: PipelineConfig) -> tuple[Teacher, "Ngram"]:
    """Few labels (cross-validated data): the pretrained encoder + a logistic-regression head,
    self-trained on the pool, mixed with a TF-IDF model trained on the pool's head labels
    (modelprep.fewshot). Its validation numbers are out-of-fold. Returns the teacher (with
    the mixed teacher's log-probabilities of each pool text) and its n-gram half."""
    fc, pc = cfg.fewshot, cfg.pool
    y = p.data.train.y

    def build(folder: Path) -> dict:
        t0 = time.perf_counter()
        embedder = fewshot.Embedder(p.source, p.encoder, cfg.quant)
        export_s = time.perf_counter() - t0
        labelled = embedder.embed(list(p.data.train.texts))
        t1 = time.perf_counter()
        pool = embedder.embed(p.pool, pc.embed_time_budget_s) if p.pool else np.zeros((0, embedder.width), np.float32)
        embed_s = time.perf_counter() - t1
        reached = np.flatnonzero(~np.isnan(pool).any(axis=1))
        head = fewshot.choose_head(labelled, y, pool[reached], len(p.labels), fc, list(p.data.train.texts),
                                   [p.pool[i] for i in reached])
        pool_logits = np.full((len(p.pool), len(p.labels)), np.nan, np.float32)
        if head.pool_probs is not None:
            pool_logits[reached] = np.log(np.maximum(head.pool_probs, 1e-7))
        np.savez(folder / "head.npz", kernel=head.weights, bias=head.bias, oof=head.oof_probs, pool_logits=pool_logits)
        save_model(head.ngram, folder / "ngram.pkl")
        return {"metrics": classification_metrics(y, head.oof_probs, p.labels, "validation"),
                "estimate": fewshot.estimate(y, head.oof_probs, head.record["folds"]),
                "weight": head.weight,
                "training": {"method": "few labels: pretrained encoder + logistic regression, self-trained on the "
                                       "unlabelled texts, mixed with TF-IDF + logistic regression trained on them",
                             **head.record},
                "pool": {"embedded": int(len(reached)), "sent_to_encoder": len(p.pool), "embed_seconds": round(embed_s, 1),
                         "texts_per_s": round(int(len(reached)) / max(embed_s, 1e-9), 1),
                         "encoder_export_seconds": round(export_s, 1)},
                "teacher": p.source.card(), "reason": p.reason}

    key = config_hash(fc, cfg.quant.mode, fewshot.POOLING, p.source.card(), p.fingerprint, pc.embed_time_budget_s)
    folder, record = stages.run(StageName.TEACHER, key, {"fewshot": asdict(fc), "pool": asdict(pc)}, build)
    saved = np.load(folder / "head.npz")
    ngram_model = load_model(folder / "ngram.pkl")  # written by this stage in this work folder
    head = fewshot.Head(saved["kernel"], saved["bias"], record["training"]["C"], saved["oof"], record["training"])
    teacher = Teacher(fewshot.teacher_model(p.source, len(p.labels), head), StageFolder.identity(record), record,
                      saved["oof"], saved["pool_logits"])
    ngram_record = {"weight": record["weight"], **(record["training"].get("ngram") or {})}
    return teacher, Ngram(ngram_model, float(record["weight"]), teacher.key, ngram_record)


def float32_teacher(teacher: Teacher, p: Prepared, cfg: PipelineConfig):
    """The same weights in a float32 model (a bfloat16-computing model does not export)."""
    from modelprep.bert import build_teacher

    if teacher.model.compute_dtype == "float32":
        return teacher.model
    model = build_teacher(p.source, len(p.labels), cfg.teacher.pooling, cfg.teacher.dropout, load_pretrained=False)
    model.set_weights(teacher.model.get_weights())
    return model


# ---------------------------------------------------------------- n-gram half of the teacher

@dataclass
class Ngram:
    model: object | None          # ngram.NgramModel (None when disabled)
    weight: float                 # BERT's share in the mix (1.0: BERT alone)
    key: str
    record: dict


def planned_stages(cfg: PipelineConfig, few: bool) -> list[str]:
    """The stages this run goes through, in order (the app lists them before they start)."""
    skip = {StageName.NGRAM} if few else set()  # a few-label teacher trains its own n-gram half
    if not cfg.quant.teacher_candidate:
        skip |= {StageName.TEACHER_INT8, StageName.TEACHER_INT8_VERIFY}
    return [s for s in StageName if s not in skip]


def ngram_stage(stages: StageRunner, p: Prepared, teacher: Teacher, cfg: PipelineConfig) -> Ngram:
    nc = cfg.ngram

    def build(folder: Path) -> dict:
        if not nc.enabled:
            return {"weight": 1.0}
        model = fit_ngram_model(p.data.train.texts, p.data.train.y, p.data.val.texts, p.data.val.y,
                                len(p.labels), nc)
        probs = model.predict_proba(p.data.val.texts)
        weight, tried = choose_weight(p.val.y, teacher.val_probs, probs, nc)
        save_model(model, folder / "ngram.pkl")
        return {"weight": weight, "weights_tried": tried, "analyzer": model.analyzer, "C": model.C,
                "selection": model.selection,
                "metrics": classification_metrics(p.val.y, probs, p.labels, "validation")}

    folder, record = stages.run(StageName.NGRAM, config_hash(nc, teacher.key), asdict(nc), build)
    model = None
    if nc.enabled:
        model = load_model(folder / "ngram.pkl")  # written by this stage in this work folder
    return Ngram(model, float(record["weight"]), StageFolder.identity(record), record)


# ---------------------------------------------------------------- transfer set

@dataclass
class Transfer:
    texts: list[str]
    y: np.ndarray
    logits: np.ndarray            # the mixed teacher's logits (NaN: not labelled)
    key: str
    record: dict


def _mask_token(tokenizer) -> str:
    return next((t for t in ("[MASK]", "<mask>") if tokenizer.token_to_id(t) is not None), "[UNK]")


def transfer_stage(stages: StageRunner, p: Prepared, bert_label: Callable, bert_key: str, ngram: Ngram,
                   cfg: PipelineConfig, pool: list[str] = ()) -> Transfer:
    tc = cfg.transfer

    def build(folder: Path) -> dict:
        train = p.data.train
        ts = build_transfer_set(train.texts, train.y, bert_label, len(p.labels), tc, _mask_token(p.encoder.tokenizer),
                                unlabelled=pool)
        logits = ts.logits
        if ngram.model is not None and ngram.weight < 1.0:
            labelled = np.flatnonzero(~np.isnan(ts.logits).any(axis=1))
            ngram_probs = out_of_fold_probs(ngram.model, train.texts, train.y, [ts.texts[i] for i in labelled],
                                            ts.source[labelled], cfg.ngram)
            logits = ts.logits.copy()
            logits[labelled] = mix_logits(ts.logits[labelled], ngram_probs, ngram.weight)
        (folder / "texts.json").write_text(json.dumps(ts.texts, ensure_ascii=False), "utf-8")
        np.savez_compressed(folder / "soft_targets.npz", y=ts.y, logits=logits, bert_logits=ts.logits,
                            source=ts.source)
        return {"counts": ts.counts, "teacher_weight": ngram.weight}

    folder, record = stages.run(StageName.TRANSFER, config_hash(bert_key, ngram.key, tc, len(pool)), asdict(tc), build)
    saved = np.load(folder / "soft_targets.npz")
    texts = json.loads((folder / "texts.json").read_text("utf-8"))
    return Transfer(texts, saved["y"], saved["logits"], StageFolder.identity(record), record)


def with_known_logits(label: Callable, texts: list[str], logits: np.ndarray) -> Callable:
    """`label`, except for texts whose logits are already known (rows without NaN)."""
    known = {t: row for t, row in zip(texts, logits) if not np.isnan(row).any()}

    def labelled(batch: list[str]) -> np.ndarray:
        missing = [t for t in batch if t not in known]
        fresh = dict(zip(missing, label(missing))) if missing else {}
        return np.stack([known[t] if t in known else fresh[t] for t in batch]).astype(np.float32)

    return labelled


def mixed_labels(label: Callable, ngram: Ngram) -> Callable:
    """The teacher's logits mixed with its n-gram half's probabilities (log of the mix)."""
    if ngram.model is None or ngram.weight >= 1.0:
        return label
    return lambda texts: mix_logits(label(texts), ngram.model.predict_proba(texts), ngram.weight)


def hold_out(p: Prepared, pool_logits: np.ndarray, pc) -> tuple[list[str], object]:
    """(the pool for the transfer set, the student's stopping set): `pc.student_holdout`
    pool texts the teacher labelled, kept from the student, with the teacher's labels."""
    reached = np.flatnonzero(~np.isnan(pool_logits).any(axis=1))
    n = min(pc.student_holdout, len(reached) // 5)
    if n < 20:
        return p.pool, None
    held = set(np.random.default_rng(pc.seed).permutation(reached)[:n].tolist())
    rest = [t for i, t in enumerate(p.pool) if i not in held]
    held = sorted(held)
    return rest, eval_set(p.encoder, [p.pool[i] for i in held], pool_logits[held].argmax(1))


# ---------------------------------------------------------------- student

@dataclass
class Student:
    model: object
    key: str
    record: dict


def student_stage(stages: StageRunner, p: Prepared, transfer: Transfer, cfg: PipelineConfig, val=None) -> Student:
    """`val`: what stops the student (default the validation split; with few labels, held-out
    unlabelled texts with the teacher's labels: the student learns to agree with its teacher)."""
    from modelprep.distill import distill
    from modelprep.loop import Examples, predict_texts, seed_everything
    from modelprep.student import build_student

    def new_student():
        seed_everything(cfg.distill.hparams.seed)
        return build_student(p.source.config.vocab_size, len(p.labels), cfg.student,
                             teacher_table=p.source.weights[WORD_EMBEDDINGS])

    model = new_student()

    def build(folder: Path) -> dict:
        nonlocal model
        useful = np.flatnonzero((transfer.y >= 0) | ~np.isnan(transfer.logits).any(axis=1))  # drop unlabelled copies
        windows, _ = p.encoder.encode_batch([transfer.texts[i] for i in useful], first_window_only=True)
        result = distill(new_student, Examples(windows, transfer.y[useful], transfer.logits[useful]),
                         val if val is not None else p.val, len(p.labels), cfg.distill, p.source.pad_id)
        model = result.model
        model.save_weights(str(folder / "weights"))
        extra = {}
        probs = result.val_probs
        if val is not None:  # stopped on agreement with the teacher; the metrics are on the labelled texts
            extra["agreement_with_teacher"] = {"accuracy": round(float(np.mean(probs.argmax(1) == val.y)), 4),
                                               "n": int(len(val.y))}
            probs = predict_texts(model, p.val, 128, p.source.pad_id)
        return {"training": result.history, "distillation": {"alpha": result.alpha, "tried": result.tried},
                "metrics": classification_metrics(p.val.y, probs, p.labels, "validation"), **extra}

    folder, record = stages.run(StageName.STUDENT, config_hash(transfer.key, cfg.student, cfg.distill, val is not None),
                                {"student": asdict(cfg.student), "distill": asdict(cfg.distill)}, build)
    if "student" not in stages.ran:
        model.load_weights(str(folder / "weights")).expect_partial()
    return Student(model, StageFolder.identity(record), record)


# ---------------------------------------------------------------- the bundle

def language(p: Prepared, cfg: PipelineConfig) -> str:
    if p.source.languages == "en":
        return "en"
    return "zh" if cjk_share(p.data.train.texts) > cfg.teacher.cjk_threshold else "multi"


def default_name(data_path: Path, language: str) -> str:
    """`sms_spam/train.csv` -> `sms_spam-en`; `reviews.csv` -> `reviews-en`."""
    stem = data_path.stem if data_path.suffix else data_path.name
    if stem.lower() in ("train", "data", "dataset", "all") and data_path.parent.name:
        stem = data_path.resolve().parent.name
    return f"{stem}-{language}"


def core_manifest(p: Prepared, cfg: PipelineConfig, name: str, architecture: str, description: str) -> dict:
    from modelprep.export import LAYOUT

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": description,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "language": language(p, cfg),
        "labels": p.labels,
        "tokenizer": p.encoder.spec.to_dict(),
        "model": {"file": "model.tflite", "signature": "serving_default", "quantization": cfg.quant.mode,
                  "architecture": architecture, "layout": LAYOUT},
        "data": p.data.summary,
        "config": {k: asdict(v) for k, v in (
            ("data", cfg.data), ("teacher", cfg.teacher), ("ngram", cfg.ngram), ("transfer", cfg.transfer),
            ("student", cfg.student), ("distill", cfg.distill), ("quantization", cfg.quant), ("ship", cfg.ship))},
        "teacher": {**p.source.card(), "reason": p.reason},
        "versions": versions(),
        "licenses": {"model": f"trained from {p.source.name} ({p.source.license or 'see the teacher'})",
                     "data": None},  # not known here: the card says "not recorded"
    }


def student_architecture(cfg: PipelineConfig) -> str:
    sc = cfg.student
    wide = f"; hashed token-bigram bag {sc.ngram_buckets} x {sc.ngram_dim}" if sc.ngram_buckets else ""
    return (f"{sc.arch}: embeddings {sc.embed_dim}, Conv1D widths {list(sc.conv_widths)} x {sc.filters}, "
            f"masked max-pool{wide}")


def train(data_path, out_path, cfg: PipelineConfig = PipelineConfig(), work=None, test_path=None,
          name: str | None = None, force: bool = False, unlabelled=None) -> RunResult | None:
    """Run the whole pipeline, reusing finished stages in `work` (default runs/<name>).
    An existing `out_path` is replaced only with `force` (checked before any training).
    `unlabelled`: the user's unlabelled texts (a folder, glob or table; textsort.files.unlabelled).
    None on a non-chief worker of a multi-worker teacher (modelprep.distribute)."""
    from modelprep import distribute
    from modelprep.loop import predict_logits

    dist = distribute.choose(os.environ.get("TEXTSORT_DISTRIBUTE", "auto"))  # before any other TensorFlow op
    out, data_path = Path(out_path), Path(data_path)
    check_out(out, (data_path, test_path), force)
    check_size(cfg.ship.size)
    if student_rung(cfg.ship.size) is TINY:
        cfg = replace(cfg, student=cfg.tiny_student)
    work = Path(work) if work else Path("runs") / (name or out.stem)
    if dist is not None and not dist.chief:
        work = work / f"worker-{dist.task}"  # its own records; the chief's folder holds the run
    stages = StageRunner(work)
    p = prepare_data(stages, data_path, cfg, test_path, unlabelled)
    name = name or default_name(data_path, language(p, cfg))
    few = p.data.cross_validated
    progress.emit(Event.PLAN, stages=planned_stages(cfg, few), few_labels=few)
    if few:
        cfg = for_few_labels(cfg)
        teacher, ngram = fewshot_teacher_stage(stages, p, cfg)
    else:
        teacher = teacher_stage(stages, p, cfg, dist)
    if dist is not None and not dist.chief:
        log.info("worker %d: teacher trained with the chief; the chief finishes the pipeline", dist.task)
        return None
    bert_int8 = None
    made = "with a logistic-regression head" if few else "fine-tuned"
    if cfg.quant.teacher_candidate:
        bert_int8 = export_candidate(
            stages, ACCURATE, teacher.key, lambda: float32_teacher(teacher, p, cfg),
            None if few else teacher.val_probs, p, cfg,
            core_manifest(p, cfg, name, f"{p.source.name} {made} (BERT, {p.source.config.num_hidden_layers} "
                                        f"layers x {p.source.config.hidden_size})",
                          f"Classifies text as {', '.join(p.labels)} ({p.source.name} {made}, int8)"))
    if bert_int8 is not None and bert_int8.labels_as_well:  # the runtime's int8 BERT, on both cores
        bert_key = bert_int8.key
        bert_label = lambda texts: bert_int8.classifier.window_logits(  # noqa: E731
            p.encoder.encode_batch(texts, first_window_only=True)[0])
    else:
        bert_key = teacher.key
        bert_label = lambda texts: predict_logits(  # noqa: E731
            teacher.model, p.encoder.encode_batch(texts, first_window_only=True)[0], 64, p.source.pad_id,
            "teacher labelling")
    pool, agreement_set, mixing = p.pool, None, None
    if few:  # the teacher labelled the pool already (int8 encoder + head, mixed); the rest is mixed here
        bert_label = with_known_logits(mixed_labels(bert_label, ngram), p.pool, teacher.pool_logits)
        pool, agreement_set = hold_out(p, teacher.pool_logits, cfg.pool)
        mixing = Ngram(None, 1.0, ngram.key, {})  # already mixed: the transfer stage mixes nothing more
    else:
        ngram = ngram_stage(stages, p, teacher, cfg)
    transfer = transfer_stage(stages, p, bert_label, bert_key, mixing or ngram, cfg, pool)
    student = student_stage(stages, p, transfer, cfg, agreement_set)
    student_val = student.record["metrics"]
    small = export_candidate(
        stages, student_rung(cfg.ship.size), student.key, lambda: student.model, None, p, cfg,
        core_manifest(p, cfg, name, student_architecture(cfg),
                      f"Classifies text as {', '.join(p.labels)} ({p.source.name} and an n-gram model distilled "
                      f"into a {cfg.student.arch.upper()}, {cfg.quant.mode})"),
        fp32_val_metrics=student_val)

    candidates = [c for c in (small, bert_int8) if c is not None]
    chosen = choose(candidates, cfg.ship)
    manifest = chosen.manifest
    t0 = time.perf_counter()
    manifest["metrics"] = teacher_and_candidate_metrics(p, teacher, ngram, small, student.model, bert_int8,
                                                       chosen)
    if p.test is not None:
        stages.time("metrics_test", t0)  # mostly scoring --test: not part of what training costs
    manifest["guard"] = chosen.guard
    manifest["calibration"] = (uncertain_threshold(teacher.val_probs, p.val.y, small_set=True) if few  # out-of-fold
                               else uncertain_threshold(chosen.val_probs, p.val.y))  # the app's "uncertain below"
    manifest["candidates"] = [c.summary() for c in candidates]
    manifest["shipped"] = chosen.role
    manifest["teacher"]["ensemble"] = {"bert_weight": ngram.weight,
                                       "weights_tried": ngram.record.get("weights_tried"),
                                       "ngram": {k: ngram.record.get(k) for k in ("analyzer", "C")}}
    manifest["distillation"] = student.record.get("distillation")
    manifest["transfer"] = transfer.record.get("counts")
    if p.pool_summary is not None:
        manifest["unlabelled"] = {**p.pool_summary, **teacher.record.get("pool", {}),
                                  "in_transfer_set": (transfer.record.get("counts") or {}).get("unlabelled", 0),
                                  "held_out_to_stop_the_student": len(agreement_set.y) if agreement_set else 0}
    if few:
        manifest["estimate"] = shipped_estimate(teacher, chosen, agreement_set)
    manifest.update(timings_s=dict(stages.timings), stages_run=list(stages.ran))
    bundle = publish(out, manifest, chosen.model_bytes, p.source.tokenizer_json, force)
    log.info("wrote %s (%d bytes, the %s model)", bundle, bundle.stat().st_size, chosen.role)
    return RunResult(bundle, load_bundle(bundle).manifest, list(stages.ran), stages.work, student.model, candidates)


def shipped_estimate(teacher: Teacher, chosen: Candidate, agreement_set) -> dict:
    """Few labels: the teacher's cross-validated accuracy (95 % interval), and how often the
    shipped model agrees with the teacher on unlabelled texts neither trained on."""
    out = dict(teacher.record["estimate"])
    if agreement_set is not None and chosen.rung.student:
        probs, _ = timed_probs(chosen.classifier, agreement_set)
        out["shipped_agrees_with_teacher"] = round(float(np.mean(probs.argmax(1) == agreement_set.y)), 4)
        out["agreement_texts"] = int(len(agreement_set.y))
    return out


def teacher_and_candidate_metrics(p: Prepared, teacher: Teacher, ngram: Ngram, small: Candidate, small_model,
                                  bert_int8: Candidate | None, chosen: Candidate) -> dict:
    """Validation (and, with a test file, test) metrics of the teacher that labelled the
    transfer set (int8 BERT mixed with the n-gram model), its parts, and each candidate."""
    m = lambda y, probs, split: classification_metrics(y, probs, p.labels, split)  # noqa: E731
    cross_validated = p.data.cross_validated  # the candidates' validation texts are their training texts
    bert_val = bert_int8.val_probs if bert_int8 is not None and not cross_validated else teacher.val_probs
    student, accurate = small.rung.metrics_key, ACCURATE.metrics_key  # textsort.core.manifest's keys
    out = {"bert": teacher.record["metrics"], "student_fp32": small.fp32_val_metrics,
           student: small.val_metrics,
           "agreement": {"keras_litert_top1": chosen.guard["agreement"]}}
    if cross_validated:  # the mixed teacher's out-of-fold numbers (its own record)
        out["teacher"] = teacher.record["metrics"]
    else:
        ngram_val = ngram.model.predict_proba(p.data.val.texts) if ngram.model is not None else None
        out["teacher"] = m(p.val.y, mix(bert_val, ngram_val, ngram.weight) if ngram_val is not None else bert_val,
                           "validation")
        if ngram_val is not None:
            out["ngram"] = m(p.val.y, ngram_val, "validation")
    if bert_int8 is not None:
        out[accurate] = bert_int8.val_metrics
    if p.test is not None:
        from modelprep.loop import predict_texts

        out[student + "_test"] = small.test_metrics
        out["student_fp32_test"] = m(p.test.y, predict_texts(small_model, p.test, 128, p.source.pad_id), "test")
        if bert_int8 is not None:
            bert_test = bert_int8.test_probs
            out[accurate + "_test"] = bert_int8.test_metrics
        else:
            bert_test = predict_texts(teacher.model, p.test, 64, p.source.pad_id, "teacher on the test file")
            out["bert_test"] = m(p.test.y, bert_test, "test")
        ngram_test = ngram.model.predict_proba(p.data.test.texts) if ngram.model is not None else None
        out["teacher_test"] = m(p.test.y, mix(bert_test, ngram_test, ngram.weight)
                                if ngram_test is not None else bert_test, "test")
        if ngram_test is not None:
            out["ngram_test"] = m(p.test.y, ngram_test, "test")
    return out
