"""The whole pipeline on a tiny random BERT: manifest, runtime parity, guard, resuming,
the size ladder."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from modelprep.config import apply_overrides
from modelprep.evaluate import GuardError
from modelprep.pipeline import train
from textsort.core.bundle import load_bundle
from textsort.core.engine import Classifier

from tiny_bert_teacher import synthetic_rows, tiny_config, write_csv, write_teacher


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    teacher = write_teacher(root / "teacher")
    train_csv = write_csv(root / "train.csv", synthetic_rows(360))
    test_csv = write_csv(root / "test.csv", synthetic_rows(90, seed=1))
    cfg = tiny_config(teacher)
    result = train(train_csv, root / "out" / "tiny.textsort", cfg, work=root / "work", test_path=test_csv,
                   name="tiny-topics")
    return {"root": root, "cfg": cfg, "result": result, "train": train_csv, "test": test_csv}


def _rerun(trained, tmp_path, force=True, **cfg_changes):
    """Run again on a copy of the work folder (the module's run stays untouched); each run
    replaces the last one's again.textsort unless `force` is False."""
    work = tmp_path / "work"
    if not work.exists():
        shutil.copytree(trained["root"] / "work", work)
    cfg = apply_overrides(trained["cfg"], cfg_changes)  # as textsort-prep train --config applies them
    return (lambda: train(trained["train"], tmp_path / "again.textsort", cfg, work=work, name="tiny-topics",
                          force=force)), work


def test_manifest_is_complete(trained):
    result = trained["result"]
    assert result.stages_run == ["teacher", "teacher_int8", "ngram", "transfer", "student", "student_int8"]
    bundle = load_bundle(result.bundle)
    m = bundle.manifest
    assert m["name"] == "tiny-topics" and m["labels"] == ["food", "sport", "tech"] and m["language"] == "en"
    assert m["tokenizer"]["max_length"] == 16 and m["tokenizer"]["cls_id"] == 2
    assert m["model"]["quantization"] == "dynamic-int8"
    assert set(m["config"]) == {"data", "teacher", "ngram", "transfer", "student", "distill", "quantization", "ship"}
    assert m["teacher"]["name"] == "teacher" and m["teacher"]["parameters"] > 10000 and m["teacher"]["reason"]
    for key in ("teacher", "bert", "bert_int8", "ngram", "student_fp32", "student_int8", "teacher_test",
                "bert_int8_test", "ngram_test", "student_fp32_test", "student_int8_test"):
        metrics = m["metrics"][key]
        assert set(metrics) >= {"accuracy", "macro_precision", "macro_recall", "macro_f1", "per_class",
                                "confusion_matrix", "split", "n"}
        assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n"]
    assert m["metrics"]["student_int8"]["split"] == "validation" and m["metrics"]["student_int8_test"]["n"] == 90
    # early stopping saw 20 validation texts; the reported teacher metrics cover all of them
    assert m["metrics"]["teacher"]["n"] == m["metrics"]["student_int8"]["n"] > 20
    assert m["metrics"]["student_int8_test"]["accuracy"] > 0.7  # keywords are learnable; chance is 1/3
    assert m["guard"]["passed"] and not m["guard"]["overridden"]
    cal = m["calibration"]  # the app's default "uncertain below", from the shipped model on validation
    assert 0 <= cal["uncertain_below"] < 1 and cal["n"] == m["metrics"]["student_int8"]["n"]
    assert cal["validation_errors"] == round((1 - m["metrics"]["student_int8"]["accuracy"]) * cal["n"])
    assert m["metrics"]["agreement"]["keras_litert_top1"] >= 0.995
    assert set(m["timings_s"]) >= {"data", "teacher", "teacher_int8", "ngram", "transfer", "student", "student_int8"}
    # the size ladder: both candidates verified and measured; the default student is shipped by default
    assert [c["role"] for c in m["candidates"]] == ["default", "accurate"] and m["shipped"] == "default"
    small, accurate = m["candidates"]
    assert small["model_bytes"] == m["files"]["model.tflite"]["bytes"] != accurate["model_bytes"]
    assert all(c["ms_per_text"] > 0 and c["guard_passed"] and c["test"]["n"] == 90 for c in m["candidates"])
    assert small["test"]["accuracy"] == m["metrics"]["student_int8_test"]["accuracy"]
    # the teacher that labelled the transfer set: int8 BERT mixed with the n-gram model
    ens = m["teacher"]["ensemble"]
    assert ens["bert_weight"] in (0.25, 0.5, 0.75) and ens["ngram"]["analyzer"] in ("word_1_2", "char_wb_2_5")
    assert m["transfer"]["teacher_labelled"] == m["transfer"]["real"] + m["transfer"]["augmented"]
    # every alpha was trained; the kept one has the best validation macro-F1, which the metrics show
    tried = m["distillation"]["tried"]
    assert [t["alpha"] for t in tried] == [0.7, 0.3]
    kept = next(t for t in tried if t["alpha"] == m["distillation"]["alpha"])
    assert kept["val_macro_f1"] == max(t["val_macro_f1"] for t in tried)
    assert kept["val_macro_f1"] == pytest.approx(m["metrics"]["student_fp32"]["macro_f1"])
    assert m["versions"]["tensorflow"].startswith("2.") and "data" in m and "report.md" in m["files"]
    assert result.bundle.with_suffix(".md").is_file()


def test_runtime_matches_keras(trained):
    """LiteRT int8 log-probabilities (through the app's Classifier) track the fp32 Keras student's."""
    clf = Classifier(trained["result"].bundle)
    assert clf.bundle.layout.name == "mediapipe-text-classifier"
    texts = [t for t, _ in synthetic_rows(40, seed=7)]
    windows, _ = clf.encoder.encode_batch(texts)
    ids, mask = clf.encoder.pad(windows)
    keras_logits = trained["result"].student({"input_ids": ids, "attention_mask": mask}).numpy()
    keras_logits = keras_logits - np.log(np.exp(keras_logits - keras_logits.max(1, keepdims=True)).sum(
        1, keepdims=True)) - keras_logits.max(1, keepdims=True)  # log-softmax: what the model's softmax gives
    lite_logits = clf.logits(ids, mask)
    assert (keras_logits.argmax(1) == lite_logits.argmax(1)).mean() >= 0.95
    assert np.abs(keras_logits - lite_logits).max() < 0.1 * np.abs(keras_logits).max() + 0.05


def test_tampered_export_is_refused(trained, tmp_path):
    """An int8 file whose classes are scrambled (a wrong-labels model) fails the guard."""
    from modelprep.export import to_tflite

    student = trained["result"].student
    kernel, bias = student.head.get_weights()
    student.head.set_weights([np.roll(kernel, 1, axis=1), np.roll(bias, 1)])
    try:
        scrambled = to_tflite(student)
    finally:
        student.head.set_weights([kernel, bias])
    run, work = _rerun(trained, tmp_path)
    (work / "student_int8" / "model.tflite").write_bytes(scrambled)
    records = sorted(work.glob("*/stage.json"))
    before = [r.read_bytes() for r in records]
    with pytest.raises(GuardError, match=r"agreement 0\.\d+ \(required 0.995\)"):
        run()
    assert not (tmp_path / "again.textsort").exists()
    assert [r.read_bytes() for r in records] == before  # nothing retrained: the guard judged the tampered file

    run, _ = _rerun(trained, tmp_path, quant={"allow_failed_guard": True})
    m = run().manifest
    assert m["guard"]["passed"] is False and m["guard"]["overridden"] is True
    assert m["metrics"]["agreement"]["keras_litert_top1"] < 0.5


def test_resume_after_crash_in_distillation(trained, tmp_path):
    run, work = _rerun(trained, tmp_path)
    teacher_weights = sorted((work / "teacher").glob("weights*"))
    mtimes = [p.stat().st_mtime_ns for p in teacher_weights]
    (work / "student" / "stage.json").unlink()  # as if distillation had died half-way
    result = run()
    assert result.stages_run == ["student", "student_int8"]
    assert [p.stat().st_mtime_ns for p in teacher_weights] == mtimes
    assert load_bundle(result.bundle).labels == ["food", "sport", "tech"]


def test_changed_student_config_reruns_only_the_student(trained, tmp_path):
    # A 2-epoch tiny student can have a near-tie that int8 flips (1 of 36 texts fails the
    # guard); this test is about which stages re-run, so the guard may not stop it.
    run, _ = _rerun(trained, tmp_path, distill={"hparams": {"epochs": 2}}, quant={"allow_failed_guard": True})
    assert run().stages_run == ["student", "student_int8"]


def test_size_ladder_ships_the_accurate_model_when_asked(trained, tmp_path):
    run, _ = _rerun(trained, tmp_path, ship={"size": "accurate"})
    result = run()
    assert result.stages_run == []  # choosing another candidate retrains nothing
    m = result.manifest
    best = max(m["candidates"], key=lambda c: c["validation"]["accuracy"])
    assert m["shipped"] == best["role"] and m["files"]["model.tflite"]["bytes"] == best["model_bytes"]
    run, _ = _rerun(trained, tmp_path, ship={"max_mb": 1e-3})
    with pytest.raises(ValueError, match="no verified model fits"):
        run()


def test_size_tiny_trains_and_ships_the_tiny_student(trained, tmp_path):
    run, _ = _rerun(trained, tmp_path, ship={"size": "tiny"}, tiny_student={"embed_dim": 8, "filters": 8},
                    quant={"allow_failed_guard": True})
    result = run()
    assert result.stages_run == ["student", "student_int8"]  # only the student differs
    m = result.manifest
    assert m["shipped"] == "tiny" and [c["role"] for c in m["candidates"]] == ["tiny", "accurate"]
    assert (m["config"]["student"]["embed_dim"], m["config"]["student"]["filters"]) == (8, 8)
    default = trained["result"].manifest["candidates"][0]
    assert m["candidates"][0]["model_bytes"] < default["model_bytes"]


def test_default_name(tmp_path):
    from modelprep.pipeline import default_name

    assert default_name(tmp_path / "sms_spam" / "train.csv", "en") == "sms_spam-en"
    assert default_name(tmp_path / "reviews.csv", "zh") == "reviews-zh"
    assert default_name(tmp_path / "mails", "multi") == "mails-multi"


def test_calibrate_an_older_bundle_only_with_its_own_data(trained, tmp_path):
    """`textsort-prep calibrate`: a bundle without `calibration` gets the one the pipeline
    would have written, and only from data that reproduces its validation numbers."""
    from modelprep.calibrate import CalibrationError, calibrate
    from textsort.core.bundle import write_bundle

    b = load_bundle(trained["result"].bundle)
    old = {k: v for k, v in b.manifest.items() if k not in ("calibration", "files")}
    older = write_bundle(tmp_path / "older.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                         manifest=old)
    other = write_csv(tmp_path / "other.csv", synthetic_rows(300, seed=5))  # another split: other counts
    before = older.read_bytes()
    with pytest.raises(CalibrationError, match="does not reproduce"):
        calibrate(older, other)
    assert older.read_bytes() == before  # nothing written
    cal = calibrate(older, trained["train"])
    assert cal == b.manifest["calibration"]
    again = load_bundle(older)
    assert again.manifest["calibration"] == cal and again.model_bytes == b.model_bytes
    assert again.suggested_threshold == (cal["uncertain_below"] or None)  # 0: nothing worth flagging


# -- never overwrite a file Textsort did not write (textsort.files.safe_files' rule) ------------
def _snapshot(*paths):
    return {p: (p.read_bytes() if p.is_file() else None) for p in paths}


def test_train_never_overwrites_the_users_files_beside_the_bundle(trained, tmp_path):
    """`--out notes.textsort` beside the user's notes.md and notes.confusion.png (and a
    planted link): the report goes to notes-2.md, their files and the link's target stay."""
    run, work = _rerun(trained, tmp_path)
    notes_md, notes_png = tmp_path / "notes.md", tmp_path / "notes.confusion.png"
    notes_md.write_text("my notes\n")
    notes_png.write_bytes(b"my picture")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not yours\n")
    (tmp_path / "notes-2.confusion.png").symlink_to(outside)
    before = _snapshot(notes_md, notes_png, outside)
    result = train(trained["train"], tmp_path / "notes.textsort", trained["cfg"], work=work, name="tiny-topics")
    assert _snapshot(notes_md, notes_png, outside) == before
    assert (tmp_path / "notes-2.confusion.png").is_symlink()  # the link was left alone, the report moved on
    assert (tmp_path / "notes-3.md").read_text("utf-8").startswith("# tiny-topics")
    assert (tmp_path / "notes-3.confusion.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "notes-2.md").exists()
    assert set(result.manifest["beside"]) == {"notes-3.md", "notes-3.confusion.png"}


def test_train_replaces_an_existing_bundle_only_when_forced(trained, tmp_path):
    from modelprep.publish import RefusedWrite

    run, work = _rerun(trained, tmp_path, force=False)
    first = run()  # again.textsort + again.md + again.confusion.png: ours
    md = tmp_path / "again.md"
    before = _snapshot(first.bundle, md)
    with pytest.raises(RefusedWrite, match="exists"):
        run()  # refused before any stage: nothing changed
    assert _snapshot(first.bundle, md) == before
    forced = train(trained["train"], tmp_path / "again.textsort", trained["cfg"], work=work, name="tiny-topics",
                   force=True)
    assert forced.bundle == first.bundle and not (tmp_path / "again-2.md").exists()  # its own report replaced
    md.write_text("edited by the user\n")  # no longer the file Textsort wrote
    train(trained["train"], tmp_path / "again.textsort", trained["cfg"], work=work, name="tiny-topics", force=True)
    assert md.read_text() == "edited by the user\n" and (tmp_path / "again-2.md").is_file()


def test_calibrate_out_refuses_inputs_other_names_and_existing_files(trained, tmp_path, capsys):
    from modelprep.cli import main
    from textsort.core.bundle import write_bundle

    b = load_bundle(trained["result"].bundle)
    old = {k: v for k, v in b.manifest.items() if k not in ("calibration", "files", "beside")}
    older = write_bundle(tmp_path / "older.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                         manifest=old)
    data = tmp_path / "ok.csv"
    data.write_bytes(trained["train"].read_bytes())
    other = write_bundle(tmp_path / "other.textsort", model_bytes=b.model_bytes, tokenizer_json=b.tokenizer_json,
                         manifest=old)
    (tmp_path / "other.md").write_text("the user's notes on other\n")
    (tmp_path / "link.textsort").symlink_to(data)
    watched = _snapshot(older, data, other, tmp_path / "other.md")
    for out, why in ((data, ".textsort"), (tmp_path / "plain.md", ".textsort"), (other, "exists"),
                     (older, "one of the inputs"), (tmp_path / "link.textsort", "one of the inputs")):
        assert main(["calibrate", str(older), str(data), "--out", str(out)]) == 2, out
        err = capsys.readouterr().err.strip()
        assert why in err and "Traceback" not in err and len(err.splitlines()) == 1, err
        assert _snapshot(older, data, other, tmp_path / "other.md") == watched
    assert not (tmp_path / "plain.md").exists()
    assert main(["calibrate", str(older), str(data), "--out", str(tmp_path / "new.textsort")]) == 0
    assert load_bundle(tmp_path / "new.textsort").manifest["calibration"] == b.manifest["calibration"]
    assert main(["calibrate", str(older), str(data), "--out", str(other), "--force"]) == 0  # asked: replaced
    assert load_bundle(other).manifest["calibration"] == b.manifest["calibration"]
    assert (tmp_path / "other.md").read_text() == "the user's notes on other\n"  # never the user's report
    assert (tmp_path / "other-2.md").is_file()
    assert _snapshot(older, data) == {k: v for k, v in watched.items() if k in (older, data)}
