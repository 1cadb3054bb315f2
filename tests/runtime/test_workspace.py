"""The window's state without a window: `textsort.appstate.workspace.Workspace` driven with real
results from the tiny model (no Qt, no qtbot)."""
from __future__ import annotations

from textsort.appstate.session import Session
from textsort.appstate.workspace import PROBLEMS, UNCERTAIN, Workspace


def _results(classifier, folder):
    return list(Session(classifier).run([folder]))


def test_rows_filters_threshold_and_folders_without_qt(tmp_path, tiny_classifier):
    inbox = tmp_path / "mail"
    (inbox / "2024").mkdir(parents=True)
    (inbox / "2024" / "offer.txt").write_text("claim your free prize now", encoding="utf-8")
    (inbox / "lunch.txt").write_text("see you at lunch with mom", encoding="utf-8")
    (inbox / "mixed.txt").write_text("free lunch", encoding="utf-8")
    (inbox / "empty.txt").write_text("", encoding="utf-8")
    (inbox / "review.txt").write_text("房间干净整洁，前台服务热情，早餐种类也多。", encoding="utf-8")
    ws = Workspace()
    ws.add_roots([inbox])
    replaced, new = ws.add(_results(tiny_classifier, inbox))
    assert replaced == [] and len(new) == len(ws.results) == 5
    by_name = {r.path.name: r for r in ws.results}
    assert ws.shown_folder(by_name["offer.txt"].path) == "mail/2024" and ws.shown_folder(by_name["lunch.txt"].path) == "mail"
    assert ws.shown_label(by_name["offer.txt"]) == "spam" and ws.problem_text(by_name["empty.txt"]) == "empty file"
    # the wrong language is uncertain at any threshold; its confidence reads as unreliable
    review = by_name["review.txt"]
    assert ws.is_uncertain(review) and ws.shown_label(review).startswith(UNCERTAIN)
    assert ws.shown_confidence(review).startswith("⚠") and ws.problem_text(review) == "⚠ wrong language"
    # a threshold above the mixed text's confidence makes it uncertain; filters follow
    mixed = by_name["mixed.txt"]
    ws.threshold = mixed.prediction.score + 0.01
    assert ws.filter_key(mixed) == UNCERTAIN
    ws.label_filter = UNCERTAIN
    assert {r.path.name for r in ws.shown()} >= {"mixed.txt", "review.txt"}
    out = {r.path.name: r for r in ws.for_output()}
    assert out["mixed.txt"].prediction.uncertain and not mixed.prediction.uncertain  # the original is untouched
    ws.label_filter, ws.name_filter = PROBLEMS, ""
    assert [r.path.name for r in ws.shown()] == ["empty.txt"]
    ws.label_filter, ws.name_filter = None, "OFF".lower()
    assert [r.path.name for r in ws.shown()] == ["offer.txt"]
    # the same file again replaces its row
    replaced, new = ws.add(_results(tiny_classifier, inbox / "2024"))
    assert new == [] and len(replaced) == 1 and len(ws.results) == 5
    ws.clear()
    assert ws.results == [] and ws.roots == []

