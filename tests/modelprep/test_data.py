"""modelprep.data: loading every input format, cleaning counts, splits, clear errors."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from modelprep.data import DataConfig, DataError, load_examples, prepare

SHARED = Path("../shared/data")


def write_csv(path, rows, header=("text", "label"), delimiter=","):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def balanced_rows(n_per_class=20, labels=("ham", "spam")):
    return [(f"{label} message number {i}", label) for label in labels for i in range(n_per_class)]


# ---------------------------------------------------------------- formats

def test_csv_with_quotes_multiline_fields_and_bom(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes('\ufefftext,label\n"hello, ""world""\nsecond line",a\nplain,b\n'.encode("utf-8"))
    ex = load_examples(p, DataConfig())
    assert [(e.text, e.label) for e in ex] == [('hello, "world"\nsecond line', "a"), ("plain", "b")]
    assert ex[0].source == f"{p}:2" and ex[1].source == f"{p}:4"  # a record's first line


def test_tsv_and_custom_columns(tmp_path):
    p = write_csv(tmp_path / "d.tsv", [("a", "x, with comma", "pos")], header=("id", "body", "cat"),
                  delimiter="\t")
    ex = load_examples(p, DataConfig(text_column="body", label_column="cat"))
    assert [(e.text, e.label) for e in ex] == [("x, with comma", "pos")]


def test_jsonl_with_integer_labels_and_blank_lines(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "one", "label": 1}\n\n{"text": "two", "label": "neg", "extra": 3}\n',
                 encoding="utf-8")
    ex = load_examples(p, DataConfig())
    assert [(e.text, e.label, e.source) for e in ex] == [("one", "1", f"{p}:1"), ("two", "neg", f"{p}:3")]


def test_folder_with_chinese_labels_skips_hidden_files(tmp_path):
    for label, texts in {"正面": ["很好", "非常满意"], "负面": ["太差了"]}.items():
        (tmp_path / label).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(t, encoding="utf-8")
    (tmp_path / "正面" / ".DS_Store").write_bytes(b"\x00\x01binary")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x").write_text("ignored")
    (tmp_path / "负面" / "sub").mkdir()
    (tmp_path / "负面" / "sub" / "deep.txt").write_text("不推荐", encoding="utf-8")
    ex = load_examples(tmp_path, DataConfig())
    assert sorted((e.text, e.label) for e in ex) == sorted(
        [("很好", "正面"), ("非常满意", "正面"), ("太差了", "负面"), ("不推荐", "负面")])


def test_chinese_csv_prepare_end_to_end(tmp_path):
    rows = [(f"第{i}条 评论 很好", "好评") for i in range(12)] + [(f"第{i}条 评论 很差", "差评") for i in range(12)]
    data = prepare(write_csv(tmp_path / "zh.csv", rows), DataConfig(val_fraction=0.25, cross_validate_below=0))
    assert data.labels == sorted(["好评", "差评"])
    assert len(data.train) == 18 and len(data.val) == 6
    assert data.summary["per_class"]["validation"] == {"好评": 3, "差评": 3}
    json.dumps(data.summary, ensure_ascii=False)  # goes into the manifest


# ---------------------------------------------------------------- cleaning

def test_every_cleaning_step_is_counted(tmp_path):
    rows = balanced_rows(12) + [
        ("  padded \t text\n", "ham"),   # whitespace normalised
        ("padded text", "ham"),          # -> duplicate of the line above
        ("   ", "spam"),                 # empty after strip
        ("", "ham"),                     # empty
        ("ham message number 0", "ham"),  # exact duplicate
        ("ambiguous", "ham"), ("ambiguous", "spam"), ("ambiguous", "ham"),  # conflicting
        ("x" * 50, "spam"),              # long (max_chars=40)
    ]
    data = prepare(write_csv(tmp_path / "d.csv", rows), DataConfig(max_chars=40))
    c = data.summary["counts"]
    assert c["loaded"] == 24 + 9
    assert c["whitespace_changed"] == 2  # the padded text and the blank one
    assert c["empty_dropped"] == 2
    assert c["duplicates_dropped"] == 3  # padded text, ham message 0, third 'ambiguous'
    assert c["conflicting_texts"] == 1 and c["conflicting_dropped"] == 2
    assert c["kept"] == 24 + 2 and c["longer_than_max_chars"] == 1
    steps = data.summary["steps"]
    assert [s["step"] for s in steps] == ["normalise_whitespace", "drop_empty", "drop_duplicates",
                                          "drop_conflicting_labels"]
    assert all(a["after"] == b["before"] for a, b in zip(steps, steps[1:]))
    all_texts = data.train.texts + data.val.texts
    assert "ambiguous" not in all_texts and "padded text" in all_texts
    assert len(all_texts) == len(set(all_texts)) == 26
    assert any("longer than 40" in w for w in data.summary["warnings"])
    assert any("different labels" in w for w in data.summary["warnings"])


def test_whitespace_is_collapsed_but_characters_are_kept(tmp_path):
    rows = balanced_rows(10) + [("Ｆｕｌｌ\u3000width  Ｔｅｘｔ", "ham")]
    data = prepare(write_csv(tmp_path / "d.csv", rows), DataConfig(val_fraction=0.0))
    assert "Ｆｕｌｌ width Ｔｅｘｔ" in data.train.texts  # no NFKC folding


def test_small_class_warning(tmp_path):
    rows = balanced_rows(20, ("a",)) + balanced_rows(3, ("b",))
    data = prepare(write_csv(tmp_path / "d.csv", rows), DataConfig())
    assert any("'b' has only 3" in w for w in data.summary["warnings"])
    assert not any("'a'" in w for w in data.summary["warnings"])


# ---------------------------------------------------------------- split

def test_stratified_deterministic_split(tmp_path):
    rows = balanced_rows(90, ("a",)) + balanced_rows(30, ("b",)) + balanced_rows(10, ("c",))
    p = write_csv(tmp_path / "d.csv", rows)
    one, two = prepare(p, DataConfig(seed=5, cross_validate_below=0)), prepare(p, DataConfig(seed=5, cross_validate_below=0))
    assert one.val.texts == two.val.texts and np.array_equal(one.train.y, two.train.y)
    assert prepare(p, DataConfig(seed=6, cross_validate_below=0)).val.texts != one.val.texts
    assert one.summary["per_class"]["validation"] == {"a": 9, "b": 3, "c": 1}
    assert one.summary["per_class"]["train"] == {"a": 81, "b": 27, "c": 9}
    assert not set(one.train.texts) & set(one.val.texts)
    for split in (one.train, one.val):  # y matches the text's label
        assert all(t.startswith(one.labels[y]) for t, y in zip(split.texts, split.y))


def test_singleton_class_stays_in_training(tmp_path):
    rows = balanced_rows(20, ("a",)) + [("lonely", "b")]
    data = prepare(write_csv(tmp_path / "d.csv", rows), DataConfig(val_fraction=0.5, cross_validate_below=0))
    assert "lonely" in data.train.texts
    assert any("'b' has no validation" in w for w in data.summary["warnings"])


def test_few_labels_are_cross_validated_not_split(tmp_path):
    """Below `cross_validate_below` texts in the smallest class every text trains; the
    split says so and the warning says what to expect."""
    rows = balanced_rows(99, ("a",)) + balanced_rows(16, ("b",))
    data = prepare(write_csv(tmp_path / "d.csv", rows), DataConfig())
    assert data.cross_validated and len(data.train) == 115 and len(data.val) == 0
    assert data.summary["split"]["method"] == "cross-validation" and data.summary["split"]["val_fraction"] == 0.0
    assert any("fewer than 100" in w and "cross-validation" in w for w in data.summary["warnings"])
    assert not any("no validation examples" in w for w in data.summary["warnings"])
    more = prepare(write_csv(tmp_path / "e.csv", balanced_rows(100, ("a", "b"))), DataConfig())
    assert not more.cross_validated and len(more.val) == 20


def test_test_split_is_cleaned_and_mapped(tmp_path):
    train = write_csv(tmp_path / "train.csv", balanced_rows(10))
    test = write_csv(tmp_path / "test.csv", [("spam  message number 1", "spam"), ("new  text", "ham"),
                                             ("new text", "ham")])
    data = prepare(train, DataConfig(), test_path=test)
    assert data.test.texts == ["spam message number 1", "new text"]
    assert data.test.y.tolist() == [data.labels.index("spam"), data.labels.index("ham")]
    assert data.summary["test"]["counts"]["duplicates_dropped"] == 1
    assert data.summary["test"]["overlap_with_training"] == 1
    assert data.summary["per_class"]["test"] == {"ham": 1, "spam": 1}


# ---------------------------------------------------------------- errors

def error_of(path, cfg=None, **kw) -> str:
    with pytest.raises(DataError) as info:
        prepare(path, cfg or DataConfig(), **kw)
    return str(info.value)


def test_missing_column_lists_columns_found(tmp_path):
    p = write_csv(tmp_path / "d.csv", [("hi", "a")], header=("body", "label"))
    msg = error_of(p)
    assert f"{p}:1" in msg and "'text'" in msg and "'body', 'label'" in msg


def test_label_missing_names_line(tmp_path):
    p = write_csv(tmp_path / "d.csv", [("ok", "a"), ("multi\nline", "b"), ("no label", "")])
    assert f"{p}:5" in error_of(p) and "label missing" in error_of(p)
    j = tmp_path / "d.jsonl"
    j.write_text('{"text": "a", "label": "x"}\n{"text": "b"}\n', encoding="utf-8")
    assert f"{j}:2: label missing" in error_of(j)


def test_wrong_field_count_names_line(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nfine,a\nunquoted, comma,b\n", encoding="utf-8")
    msg = error_of(p)
    assert f"{p}:3" in msg and "3 fields" in msg


def test_bad_json_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a", "label": "x"}\n{"text": "b", label: "y"}\n', encoding="utf-8")
    assert f"{p}:2: bad JSON" in error_of(p)
    p.write_text('{"text": "a", "label": "x"}\n["text", "y"]\n', encoding="utf-8")
    assert f"{p}:2: expected a JSON object" in error_of(p)


def test_only_one_class(tmp_path):
    p = write_csv(tmp_path / "d.csv", balanced_rows(5, ("a",)))
    assert str(p) in error_of(p) and "only one class" in error_of(p)


def test_empty_data_sets(tmp_path):
    header_only = write_csv(tmp_path / "h.csv", [])
    assert str(header_only) in error_of(header_only) and "empty" in error_of(header_only)
    blank = write_csv(tmp_path / "b.csv", [("  ", "a"), ("", "b")])
    assert "no examples left after cleaning" in error_of(blank)
    (tmp_path / "z.csv").write_bytes(b"")
    assert "empty file" in error_of(tmp_path / "z.csv")


def test_missing_and_undecodable_files(tmp_path):
    assert "no such file" in error_of(tmp_path / "nope.csv")
    p = tmp_path / "latin1.csv"
    p.write_bytes("text,label\nok,a\ncaf\u00e9,b\n".encode("latin-1"))
    assert f"{p}:3: not valid UTF-8" in error_of(p)


def test_binary_file_in_label_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "ok.txt").write_text("fine")
    (tmp_path / "b" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    msg = error_of(tmp_path)
    assert str(tmp_path / "b" / "image.png") in msg and "binary" in msg


def test_unknown_label_in_test_set(tmp_path):
    train = write_csv(tmp_path / "train.csv", balanced_rows(10))
    test = write_csv(tmp_path / "test.csv", [("x", "ham"), ("y", "eggs")])
    msg = error_of(train, test_path=test)
    assert f"{test}:3" in msg and "'eggs'" in msg


def test_input_files_are_not_modified(tmp_path):
    p = write_csv(tmp_path / "d.csv", balanced_rows(10) + [("  dup ", "ham"), ("dup", "ham")])
    before = p.read_bytes()
    prepare(p, DataConfig())
    assert p.read_bytes() == before


# ---------------------------------------------------------------- real data

@pytest.mark.skipif(not (SHARED / "sms_spam/train.csv").exists(), reason="../shared/data not present")
def test_sms_spam_train_counts_and_stratification():
    data = prepare(SHARED / "sms_spam/train.csv", DataConfig())
    assert data.labels == ["ham", "spam"]
    counts = data.summary["counts"]
    assert counts["loaded"] == 4128 and counts["kept"] == 4128
    assert counts["duplicates_dropped"] == counts["conflicting_dropped"] == counts["empty_dropped"] == 0
    assert len(data.train) == 3716 and len(data.val) == 412
    pc = data.summary["per_class"]
    assert pc["train"] == {"ham": 3253, "spam": 463} and pc["validation"] == {"ham": 361, "spam": 51}
    spam_share = [pc[s]["spam"] / sum(pc[s].values()) for s in ("train", "validation")]
    assert abs(spam_share[0] - spam_share[1]) < 0.005


def test_jsonl_keeps_line_separator_characters_inside_strings(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a\u2028b", "label": "x"}\r\n{"text": "c", "label": "y"}\n', encoding="utf-8")
    assert [e.text for e in load_examples(p, DataConfig())] == ["a\u2028b", "c"]


def test_folder_warns_about_loose_files(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(10):
            (tmp_path / label / f"{i}.txt").write_text(f"{label} text {i}", encoding="utf-8")
    (tmp_path / "README.txt").write_text("not an example")
    data = prepare(tmp_path, DataConfig())
    assert len(data.train) + len(data.val) == 20
    assert any("1 files directly in" in w for w in data.summary["warnings"])


def test_malformed_quotes_name_line(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('text,label\nfine,a\n"quoted" then more,b\n', encoding="utf-8")
    msg = error_of(p)
    assert f"{p}:3: malformed" in msg and "double quotes" in msg
