"""What to label next (modelprep.active, textsort-prep suggest): a diverse first batch, then
the least sure texts spread over the data; embeddings cached so the next request needs no
export; the labelled files untouched."""
from __future__ import annotations

import json

import numpy as np

from modelprep.active import ActiveConfig, quick_model, suggest

from tiny_bert_teacher import synthetic_rows, write_teacher


def _blobs(k=4, n=60, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (k, d))
    X = np.vstack([c + rng.normal(0, 1, (n, d)) for c in centres])
    return X, np.repeat(np.arange(k), n)


def test_the_first_batch_covers_every_region():
    X, y = _blobs()
    picks, info = suggest(X, np.zeros(0, np.int64), np.zeros(0, np.int64), 0, ActiveConfig(batch=8))
    assert info["method"] == "typical" and len(set(picks)) == 8
    assert set(y[picks]) == {0, 1, 2, 3}  # random picks of 8 miss a blob often; k-means never


def test_typical_picks_go_to_uncovered_regions_and_their_dense_middle_not_to_outliers():
    X, y = _blobs(k=4, n=60)
    X = np.vstack([X, X[:2].mean(0) + 40.0, X[:2].mean(0) - 40.0])  # two lone outliers, rows 240 and 241
    labelled = np.array([0, 1, 60, 61])  # labels in blobs 0 and 1 only
    picks, info = suggest(X, labelled, np.array([0, 0, 1, 1]), 4, ActiveConfig(batch=4, min_per_label=3))
    assert info["method"] == "typical" and len(set(picks)) == 4 and not {240, 241} & set(picks)
    assert {2, 3} <= set(y[picks].tolist())  # the regions with no label yet come first

    def crowding(i, members):  # mean distance to the 20 nearest texts of its blob
        return np.sort(np.linalg.norm(X[members] - X[i], axis=1))[1:21].mean()

    for i in picks:
        members = np.flatnonzero(y == y[i])
        assert crowding(i, members) < np.median([crowding(j, members) for j in members])  # dense, not an edge


def test_later_batches_are_unlabelled_least_sure_and_spread():
    X, y = _blobs(k=2, n=100)
    X[:, 0] = np.concatenate([np.linspace(-3, 3, 100), np.linspace(-3, 3, 100)])  # overlapping: a boundary
    y = (X[:, 0] > 0).astype(int)
    rng = np.random.default_rng(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y == c), 4, replace=False) for c in (0, 1)])
    picks, info = suggest(X, labelled, y[labelled], 2, ActiveConfig(batch=6, diverse_share=0.0))
    assert info["method"] == "least sure, typical" and info["cv_accuracy"] is not None
    assert len(set(picks)) == 6 and not set(picks) & set(labelled.tolist())
    clf, _ = quick_model(X[labelled], y[labelled], 2)
    p = clf.predict_proba(X)
    margin = np.abs(p[:, 1] - p[:, 0])
    assert np.max(margin[picks]) < np.median(margin)  # every pick less sure than the typical text
    mixed, _ = suggest(X, labelled, y[labelled], 2, ActiveConfig(batch=6, diverse_share=0.5))
    assert len(set(mixed)) == 6 and not set(mixed) & set(labelled.tolist())
    assert sum(margin[i] < np.median(margin) for i in mixed) >= 3  # half least sure, half for coverage


def test_suggest_command_on_a_folder_with_the_tiny_teacher(tmp_path, capsys):
    from modelprep.cli import main
    from textsort.appstate.labelling import LabelSession

    teacher = write_teacher(tmp_path / "teacher")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = synthetic_rows(60)
    for i, (text, _) in enumerate(rows):
        (inbox / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    args = ["suggest", str(inbox), "--cache", str(cache), "--teacher", str(teacher), "--batch", "6"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["method"] == "typical" and len(first["picks"]) == 6
    encoder = next(cache.glob("encoder-*.tflite"))
    stamp = encoder.stat().st_mtime_ns
    session = LabelSession.open(inbox)
    truth = {f"{i:02d}.txt": label for i, (_, label) in enumerate(rows)}
    for ident in [i for i in session.ids if truth[i] in ("sport", "tech", "food")][:30]:
        if list(session.counts().values()).count(3) == 3:
            break
        if session.counts().get(truth[ident], 0) < 3:
            session.assign(truth[ident], session.ids.index(ident))
    assert main(args) == 0
    later = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert later["method"] == "least sure, typical" and later["labelled"] == 9
    assert not set(later["picks"]) & {session.ids[i] for i in session.labels}
    assert encoder.stat().st_mtime_ns == stamp  # the cached encoder was reused: no second export
    assert sorted(p.name for p in inbox.iterdir()) == [f"{i:02d}.txt" for i in range(60)]  # nothing added there
    assert main(["suggest", str(tmp_path / "missing"), "--cache", str(cache)]) == 2
