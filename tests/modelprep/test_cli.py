"""`textsort-prep`: bad input is one clear line and exit 2; a tiny real run; inspect."""
from __future__ import annotations

import pytest

from modelprep.cli import main
from tiny_bert_teacher import synthetic_rows, write_csv, write_teacher


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_missing_data_file(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m.textsort")]) == 2
    assert "nope.csv: not found" in _error_line(capsys)


def test_bad_out_suffix(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    assert main(["train", str(data), "--out", str(tmp_path / "m.zip")]) == 2
    assert ".textsort" in _error_line(capsys)


def test_wrong_label_column_names_the_file(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    code = main(["train", str(data), "--out", str(tmp_path / "m.textsort"), "--label-column", "category",
                 "--work", str(tmp_path / "w")])
    assert code == 2 and "d.csv" in _error_line(capsys)
    assert data.read_text().startswith("text,label")  # input untouched


def test_bad_teacher_folder(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    code = main(["train", str(data), "--out", str(tmp_path / "m.textsort"), "--teacher", str(tmp_path / "none"),
                 "--work", str(tmp_path / "w")])
    assert code == 2 and "teacher folder not found" in _error_line(capsys)


def test_bad_numbers(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    assert main(["train", str(data), "--out", str(tmp_path / "m.textsort"), "--max-length", "2"]) == 2
    assert "--max-length" in _error_line(capsys)


def test_inspect_not_a_bundle(tmp_path, capsys):
    junk = tmp_path / "junk.textsort"
    junk.write_bytes(b"not a zip")
    assert main(["inspect", str(junk)]) == 2
    assert "junk.textsort" in _error_line(capsys)


@pytest.mark.slow
def test_train_then_inspect(tmp_path, capsys):
    teacher = write_teacher(tmp_path / "teacher")
    data = write_csv(tmp_path / "d.csv", synthetic_rows(240))
    out = tmp_path / "models" / "topics.textsort"
    code = main(["train", str(data), "--out", str(out), "--teacher", str(teacher), "--work", str(tmp_path / "w"),
                 "--max-length", "16", "--epochs", "1", "--student-epochs", "2", "--augment-copies", "1",
                 "--name", "topics", "-q", "--allow-failed-guard"])  # a 2-epoch tiny student may have an int8
    assert code == 0, capsys.readouterr().err                           # near-tie; the guard has its own tests
    assert "wrote" in capsys.readouterr().out and out.is_file() and out.with_suffix(".md").is_file()
    assert main(["inspect", str(out)]) == 0
    shown = capsys.readouterr().out
    # the one model card (textsort.presentation.card), as the app and `textsort models --card` show it
    assert shown.startswith("# topics\n") and "## How well it does" in shown and "Int8 check" in shown
    assert "food, sport, tech" in shown and "{" not in shown  # no raw JSON


def test_cli_maps_a_guard_refusal_to_exit_3_with_the_numbers(tmp_path, capsys, monkeypatch):
    # Only the CLI's mapping of GuardError: the guard itself refusing a broken export is
    # tested on a real pipeline run in test_pipeline.py.
    import modelprep.pipeline
    from modelprep.evaluate import GuardError

    def refuse(*args, **kwargs):
        raise GuardError("int8 export refused: validation accuracy fp32 0.9000 vs int8 0.8000 (drop 10.00 points)")

    monkeypatch.setattr(modelprep.pipeline, "train", refuse)
    data = write_csv(tmp_path / "d.csv", synthetic_rows(60))
    assert main(["train", str(data), "--out", str(tmp_path / "m.textsort")]) == 3
    assert "drop 10.00 points" in _error_line(capsys) and not (tmp_path / "m.textsort").exists()


def test_teacher_precision_flag_reaches_the_config():
    from modelprep.cli import _config, _parser

    args = _parser().parse_args(["train", "d.csv", "--out", "m.textsort", "--teacher-precision", "float32"])
    assert _config(args).teacher.precision == "float32"
    args = _parser().parse_args(["train", "d.csv", "--out", "m.textsort"])
    assert _config(args).teacher.precision == "auto"
    with pytest.raises(SystemExit):
        _parser().parse_args(["train", "d.csv", "--out", "m.textsort", "--teacher-precision", "fp8"])
