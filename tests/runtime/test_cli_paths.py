"""The CLI shows paths as the user gave them: no `../../..` for an absolute path."""
from __future__ import annotations

from textsort.frontends.cli import main


def test_paths_are_shown_as_given(tmp_path, tiny_bundle, monkeypatch, capsys):
    inbox = tmp_path / "deep" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "a.txt").write_text("free prize", encoding="utf-8")
    elsewhere = tmp_path / "x" / "y" / "z"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert main(["classify", "--model", str(tiny_bundle), str(inbox)]) == 0
    out = capsys.readouterr().out
    assert str(inbox / "a.txt") in out and ".." not in out
    monkeypatch.chdir(tmp_path / "deep")
    assert main(["classify", "--model", str(tiny_bundle), "inbox"]) == 0
    assert "  inbox/a.txt" in capsys.readouterr().out
