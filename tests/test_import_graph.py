"""No import circles in textsort and modelprep, counting every import statement
(function-level ones included, as grimp, import-linter's graph builder, reads them): a
circle means two modules hold one fact between them. And docs/architecture.md names
every module."""
from __future__ import annotations

import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"textsort": REPO / "desktop" / "textsort", "modelprep": REPO / "modelprep"}


def circles(*packages: str) -> list[tuple[str, str]]:
    """Every direct import A -> B where B also leads back to A."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    return sorted((a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
                  if graph.chain_exists(importer=b, imported=a))


def test_a_planted_circle_through_a_function_level_import_is_found(tmp_path, monkeypatch):
    pkg = tmp_path / "planted"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", "utf-8")
    (pkg / "a.py").write_text("def f():\n    from planted import b\n", "utf-8")
    (pkg / "b.py").write_text("from . import c\n", "utf-8")
    (pkg / "c.py").write_text("import planted.a\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert circles("planted") == [("planted.a", "planted.b"), ("planted.b", "planted.c"),
                                      ("planted.c", "planted.a")]
    finally:
        sys.modules.pop("planted", None)


def test_no_import_circles():
    assert circles("textsort", "modelprep") == []


def test_architecture_doc_names_every_module():
    """docs/architecture.md names every runtime and pipeline module as `name.py`; the GUI's
    are listed in docs/gui.md's module table."""
    doc = (REPO / "docs" / "architecture.md").read_text("utf-8")
    gui_doc = (REPO / "docs" / "gui.md").read_text("utf-8")
    missing = [str(path) for folder in ROOTS.values() for path in folder.rglob("*.py")
               if path.name != "__init__.py" and path.name not in (gui_doc if path.parent.name == "gui" else doc)]
    assert missing == []
