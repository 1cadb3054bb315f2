"""data -> teacher fine-tune -> transfer set -> student distillation -> int8 export ->
guard (with the runtime) -> bundle. Stages hand over files in the work folder:

  teacher/   weights + stage.json (config, versions, metrics)
  transfer/  texts.json + soft_targets.npz (teacher logits per transfer text)
  student/   weights + stage.json
  export/    model.tflite + stage.json

A stage whose stage.json holds the same config hash is reused, not re-run.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from modelprep.config import PipelineConfig, config_hash
from modelprep.data import PreparedData, prepare
from modelprep.evaluate import classification_metrics, guard
from modelprep.teachers import choose_teacher, cjk_share
from modelprep.workdir import Stage, versions
from textsort.bundle import FORMAT, FORMAT_VERSION
from textsort.encoding import TextEncoder, TokenizerSpec

log = logging.getLogger(__name__)
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
PRUNE_ABOVE = 60000  # Unigram vocabularies larger than this are pruned to the data's pieces


@dataclass
class RunResult:
    bundle: Path
    manifest: dict
    stages_run: list[str] = field(default_factory=list)
    work: Path | None = None


def _fingerprint(data: PreparedData) -> str:
    h = hashlib.sha256(json.dumps(data.labels).encode())
    for split in (data.train, data.val):
        for t, y in zip(split.texts, split.y.tolist()):
            h.update(f"{y}\t{t}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def default_name(data_path: Path, language: str) -> str:
    """`sms_spam/train.csv` -> `sms_spam-en`; `reviews.csv` -> `reviews-en`."""
    stem = data_path.stem if data_path.suffix else data_path.name
    if stem.lower() in ("train", "data", "dataset", "all") and data_path.parent.name:
        stem = data_path.resolve().parent.name
    return f"{stem}-{language}"


def _eval_set(encoder: TextEncoder, texts, y):
    from modelprep.train import EvalSet

    windows, owner = encoder.encode_batch(list(texts))
    return EvalSet(windows, owner, np.asarray(y))


def _mask_token(tokenizer) -> str:
    return next((t for t in ("[MASK]", "<mask>") if tokenizer.token_to_id(t) is not None), "[UNK]")


class Pipeline:
    def __init__(self, data_path, out_path, cfg: PipelineConfig = PipelineConfig(), work=None,
                 test_path=None, name: str | None = None):
        self.data_path, self.out = Path(data_path), Path(out_path)
        self.cfg, self.test_path = cfg, test_path
        self.name = name
        self.work = Path(work) if work else Path("runs") / (name or self.out.stem)
        self.stages_run: list[str] = []
        self.timings: dict[str, float] = {}
        self._teacher = self._student = None

    # -- stages ------------------------------------------------------------
    def _teacher_stage(self) -> dict:
        from modelprep.bert import build_teacher
        from modelprep.train import Examples, fit, predict_texts, resolve_precision

        tc = self.cfg.teacher
        precision = resolve_precision(tc.precision)
        stage = Stage(self.work / "teacher", config_hash(tc, self.source.card(), self.fingerprint, precision),
                      {**asdict(tc), "precision_used": precision})
        model = build_teacher(self.source, len(self.labels), tc.pooling, tc.dropout, load_pretrained=False,
                              precision=precision)
        record = stage.done()
        if record:
            log.info("teacher: reusing %s", stage.folder)
            model.load_weights(str(stage.folder / "weights")).expect_partial()
        else:
            t0 = time.perf_counter()
            folder = stage.start()
            model.encoder.load_hf_weights(self.source.weights)
            train = Examples(self.train_windows, self.data.train.y.astype(np.int64))
            val = self.val.sample(tc.max_eval_texts, tc.seed)  # early stopping on at most this many
            history, probs = fit(model, train, val, len(self.labels), self._loop(tc, teacher=True),
                                 self.source.pad_id, "teacher")
            if val is not self.val:
                probs = predict_texts(model, self.val, 64, self.source.pad_id, "teacher on validation")
            model.save_weights(str(folder / "weights"))
            metrics = classification_metrics(self.val.y, probs, self.labels, "validation")
            record = stage.finish(time.perf_counter() - t0, metrics=metrics, training=history,
                                  teacher=self.source.card(), reason=self.reason)
            self.stages_run.append("teacher")
        self._teacher = model
        self.timings["teacher"] = record["seconds"]
        return record

    def _transfer_stage(self, teacher_key: str) -> tuple[list[str], np.ndarray, np.ndarray, str]:
        from modelprep.train import predict_logits
        from modelprep.transfer import build_transfer_set

        sc = self.cfg.student
        cfg = {k: getattr(sc, k) for k in ("augment_copies", "max_transfer_texts", "label_time_budget_s", "seed")}
        stage = Stage(self.work / "transfer", config_hash(teacher_key, cfg), cfg)
        record = stage.done()
        if record:
            log.info("transfer set: reusing %s", stage.folder)
        else:
            t0 = time.perf_counter()
            folder = stage.start()

            def label(texts: list[str]) -> np.ndarray:
                windows, _ = self.encoder.encode_batch(texts, first_window_only=True)
                return predict_logits(self.teacher, windows, 64, self.source.pad_id, "teacher labelling")

            ts = build_transfer_set(self.data.train.texts, self.data.train.y, label, len(self.labels), sc,
                                    _mask_token(self.encoder.tokenizer))
            (folder / "texts.json").write_text(json.dumps(ts.texts, ensure_ascii=False), "utf-8")
            np.savez_compressed(folder / "soft_targets.npz", y=ts.y, logits=ts.logits)
            record = stage.finish(time.perf_counter() - t0, counts=ts.counts)
            self.stages_run.append("transfer")
        self.timings["transfer"] = record["seconds"]
        saved = np.load(stage.folder / "soft_targets.npz")
        texts = json.loads((stage.folder / "texts.json").read_text("utf-8"))
        return texts, saved["y"], saved["logits"], Stage.identity(record)

    @property
    def teacher(self):
        if self._teacher is None:
            self._teacher_stage()
        return self._teacher

    def _student_stage(self, transfer) -> tuple[dict, str]:
        from modelprep.student import build_student
        from modelprep.train import Examples, fit

        texts, y, logits, transfer_key = transfer
        sc = self.cfg.student
        stage = Stage(self.work / "student", config_hash(transfer_key, sc), asdict(sc))
        def new_student():
            return build_student(self.source.config.vocab_size, len(self.labels), sc,
                                 teacher_table=self.source.weights[WORD_EMBEDDINGS])

        model = new_student()
        record = stage.done()
        if record:
            log.info("student: reusing %s", stage.folder)
            model.load_weights(str(stage.folder / "weights")).expect_partial()
        else:
            t0 = time.perf_counter()
            folder = stage.start()
            useful = np.flatnonzero((y >= 0) | ~np.isnan(logits).any(axis=1))  # drop unlabelled copies
            windows, _ = self.encoder.encode_batch([texts[i] for i in useful], first_window_only=True)
            examples = Examples(windows, y[useful], logits[useful])
            best, tried = None, []
            # How much to trust the teacher depends on how good it got within its budget:
            # each alpha is trained and the best validation macro-F1 is kept.
            for alpha in dict.fromkeys((sc.alpha, *sc.alpha_alternatives)):
                candidate = model if best is None else new_student()
                history, probs = fit(candidate, examples, self.val, len(self.labels),
                                     replace(self._loop(sc, teacher=False), alpha=alpha), self.source.pad_id,
                                     f"student (alpha {alpha})")
                tried.append({"alpha": alpha, "val_macro_f1": history["best_val_macro_f1"],
                              "seconds": history["seconds"]})
                if best is None or history["best_val_macro_f1"] > best[0]["best_val_macro_f1"]:
                    best = (history, probs, candidate, alpha)
            history, probs, model, alpha = best
            model.save_weights(str(folder / "weights"))
            record = stage.finish(time.perf_counter() - t0, training=history,
                                  distillation={"alpha": alpha, "tried": tried},
                                  metrics=classification_metrics(self.val.y, probs, self.labels, "validation"))
            self.stages_run.append("student")
        self._student = model
        self.timings["distill"] = record["seconds"]
        return record, Stage.identity(record)

    def _export_stage(self, student_key: str) -> bytes:
        from modelprep.export import to_tflite

        qc = self.cfg.quant
        stage = Stage(self.work / "export", config_hash(student_key, qc.mode), {"mode": qc.mode})
        record = stage.done()
        path = stage.folder / "model.tflite"
        if not record:
            t0 = time.perf_counter()
            stage.start()
            path.write_bytes(to_tflite(self._student, qc))
            record = stage.finish(time.perf_counter() - t0, bytes=path.stat().st_size)
            self.stages_run.append("export")
        self.timings["export"] = record["seconds"]
        return path.read_bytes()

    def _loop(self, c, teacher: bool):
        from modelprep.train import LoopSettings

        common = dict(batch_size=c.batch_size, learning_rate=c.learning_rate, epochs=c.epochs,
                      weight_decay=c.weight_decay, warmup_fraction=c.warmup_fraction, patience=c.patience,
                      time_budget_s=c.time_budget_s, seed=c.seed)
        if teacher:
            return LoopSettings(**common, max_steps=c.max_steps, class_weights=c.class_weights)
        return LoopSettings(**common, temperature=c.temperature, alpha=c.alpha)

    # -- the whole run -----------------------------------------------------
    def _prepare(self) -> None:
        tc = self.cfg.teacher
        t0 = time.perf_counter()
        self.data = prepare(self.data_path, self.cfg.data, self.test_path)
        self.labels = list(self.data.labels)
        self.fingerprint = _fingerprint(self.data)
        self.source, self.reason = choose_teacher(self.data.train.texts, tc.name, tc.cjk_threshold)
        if (self.source.config.vocab_size > PRUNE_ABOVE
                and json.loads(self.source.tokenizer_json)["model"].get("type") == "Unigram"):
            from modelprep.vocab import prune_source

            self.source = prune_source(self.source, list(self.data.train.texts) + list(self.data.val.texts))
        if tc.max_length > self.source.config.max_position_embeddings:
            raise ValueError(f"max_length {tc.max_length} exceeds the teacher's "
                             f"{self.source.config.max_position_embeddings} positions")
        spec = TokenizerSpec(max_length=tc.max_length, cls_id=self.source.cls_id, sep_id=self.source.sep_id,
                             pad_id=self.source.pad_id)
        self.encoder = TextEncoder.from_json(self.source.tokenizer_json, spec)
        self.train_windows = self.encoder.encode_batch(self.data.train.texts, first_window_only=True)[0]
        self.val = _eval_set(self.encoder, self.data.val.texts, self.data.val.y)
        self.timings["data"] = round(time.perf_counter() - t0, 1)

    def run(self) -> RunResult:
        from modelprep.train import predict_texts
        from textsort.bundle import write_bundle
        from textsort.engine import Classifier

        self._prepare()
        teacher_record = self._teacher_stage()
        transfer = self._transfer_stage(Stage.identity(teacher_record))
        student_record, student_key = self._student_stage(transfer)
        tflite = self._export_stage(student_key)

        t0 = time.perf_counter()
        manifest = self._core_manifest()
        candidate = write_bundle(self.work / "export" / "candidate.textsort", model_bytes=tflite,
                                 tokenizer_json=self.source.tokenizer_json, manifest=manifest)
        runtime = Classifier(candidate)
        int8_probs = runtime.predict_proba(list(self.data.val.texts))
        fp32_probs = predict_texts(self._student, self.val, 128, self.source.pad_id)
        metrics = {
            "teacher": teacher_record["metrics"],
            "student_fp32": classification_metrics(self.val.y, fp32_probs, self.labels, "validation"),
            "student_int8": classification_metrics(self.val.y, int8_probs, self.labels, "validation"),
        }
        try:
            manifest["guard"] = guard(self.val.y, fp32_probs, int8_probs, self.cfg.quant)
        finally:
            self.timings["guard"] = round(time.perf_counter() - t0, 1)
        metrics["agreement"] = {"keras_litert_top1": manifest["guard"]["agreement"]}
        if self.data.test is not None:
            metrics.update(self._test_metrics(runtime))
        manifest.update(metrics=metrics, timings_s=dict(self.timings), stages_run=list(self.stages_run),
                        distillation=student_record.get("distillation"))
        self.out.parent.mkdir(parents=True, exist_ok=True)
        report = self._write_report(manifest)
        bundle = write_bundle(self.out, model_bytes=tflite, tokenizer_json=self.source.tokenizer_json,
                              manifest=manifest, extra={"report.md": report} if report else None)
        log.info("wrote %s (%d bytes)", bundle, bundle.stat().st_size)
        return RunResult(bundle, manifest, list(self.stages_run), self.work)

    def _test_metrics(self, runtime) -> dict:
        from modelprep.train import predict_texts

        test = _eval_set(self.encoder, self.data.test.texts, self.data.test.y)
        out = {}
        for key, model in (("teacher_test", self.teacher), ("student_fp32_test", self._student)):
            probs = predict_texts(model, test, 128, self.source.pad_id, f"{key} on the test file")
            out[key] = classification_metrics(test.y, probs, self.labels, "test")
        out["student_int8_test"] = classification_metrics(
            test.y, runtime.predict_proba(list(self.data.test.texts)), self.labels, "test")
        return out

    def _language(self) -> str:
        if self.source.languages == "en":
            return "en"
        return "zh" if cjk_share(self.data.train.texts) > self.cfg.teacher.cjk_threshold else "multi"

    def _core_manifest(self) -> dict:
        lang = self._language()
        sc = self.cfg.student
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name or default_name(self.data_path, lang),
            "description": f"Classifies text as {', '.join(self.labels)} ({self.source.name} distilled into a "
                           f"{sc.arch.upper()}, {self.cfg.quant.mode})",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "language": lang,
            "labels": self.labels,
            "tokenizer": self.encoder.spec.to_dict(),
            "model": {"file": "model.tflite", "signature": "serving_default", "quantization": self.cfg.quant.mode,
                      "architecture": f"{sc.arch}: embeddings {sc.embed_dim}, Conv1D widths "
                                      f"{list(sc.conv_widths)} x {sc.filters}, masked max-pool"},
            "data": self.data.summary,
            "config": {"data": asdict(self.cfg.data), "teacher": asdict(self.cfg.teacher),
                       "student": asdict(self.cfg.student), "quantization": asdict(self.cfg.quant)},
            "teacher": {**self.source.card(), "reason": self.reason},
            "versions": versions(),
            "licenses": {"model": f"student distilled from {self.source.name} "
                                  f"({self.source.license or 'see the teacher'})",
                         "data": "as the training data's own licence"},
        }

    def _write_report(self, manifest: dict) -> str | None:
        from modelprep.report import write_report

        try:
            return write_report(manifest, self.out.with_suffix(".md"))
        except Exception as e:  # the card is optional; never lose a trained model over it
            log.warning("no report.md: writing the model card failed (%s: %s)", type(e).__name__, e)
            return None


def train(data_path, out_path, cfg: PipelineConfig = PipelineConfig(), **kw) -> RunResult:
    """Run the whole pipeline; see `Pipeline` for the keyword arguments."""
    return Pipeline(data_path, out_path, cfg, **kw).run()
