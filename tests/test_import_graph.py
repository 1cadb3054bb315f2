"""No import circles in textsort and modelprep, counting every import statement
(function-level ones included, as grimp, import-linter's graph builder, reads them): a
circle means two modules hold one fact between them. Function-level imports only at entry
points or to keep a heavy package out (docs/architecture.md). And docs/architecture.md
names every module."""
from __future__ import annotations

import ast
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


# Function-level imports: only at the entry points (the commands, the app, the cluster
# command), or where they keep a heavy or optional package (or a module that imports one at
# its top) out of a module that does not need it yet; anything else goes at the top, where
# a reader sees the dependency.
ENTRY_POINTS = {"textsort.frontends.cli", "textsort.frontends.cluster", "textsort.gui.app", "modelprep.cli",
                "modelprep.preview"}
HEAVY = {"tensorflow", "tf_keras", "sklearn", "scipy", "matplotlib", "ray", "pyarrow", "pandas", "PySide6",
         "sentencepiece", "safetensors", "tokenizers", "ai_edge_litert", "charset_normalizer", "tqdm", "joblib"}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for root, folder in ROOTS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((root, *parts)).removesuffix(".__init__")
            out[name] = ast.parse(path.read_text("utf-8"))
    return out


def _targets(module: str, node, known) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if module in known and _is_package(module) else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def _is_package(module: str) -> bool:
    root, *rest = module.split(".")
    return (ROOTS[root].joinpath(*rest) / "__init__.py").is_file()


def heavy_closure(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    """The heavy packages each module loads when imported (its top-level imports, followed)."""
    direct = {m: [t for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                  for t in _targets(m, n, modules)] for m, tree in modules.items()}
    out: dict[str, set[str]] = {}

    def visit(m: str, seen: set) -> set[str]:
        if m in out:
            return out[m]
        got = set()
        for t in direct.get(m, []):
            if t.split(".")[0] in HEAVY:
                got.add(t.split(".")[0])
            elif t in modules and t not in seen:
                got |= visit(t, seen | {m})
            parent = t.rsplit(".", 1)[0]
            if t not in modules and parent in modules and parent not in seen:
                got |= visit(parent, seen | {m})
        out[m] = got
        return got

    for m in modules:
        visit(m, set())
    return out


def _inside(fn) -> list:
    """Every statement of a function, in its blocks (if, try, with, loops) too; nested
    functions are visited on their own."""
    out, todo = [], list(fn.body)
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
                        or isinstance(child, ast.excepthandler))
    return out


def needless_lazy_imports(modules: dict[str, ast.Module] | None = None,
                          entry_points: set[str] = ENTRY_POINTS) -> list[str]:
    modules = _modules() if modules is None else modules
    heavy = heavy_closure(modules)
    found = []
    for m, tree in modules.items():
        if m in entry_points:
            continue
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in _inside(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                for t in _targets(m, node, modules):
                    adds = {t.split(".")[0]} & HEAVY if t.split(".")[0] in HEAVY else heavy.get(t, set())
                    if not adds - heavy[m]:
                        found.append(f"{m}.{fn.name}: {ast.unparse(node)}")
    return sorted(set(found))


def test_function_level_imports_keep_a_heavy_package_out_or_sit_at_an_entry_point():
    assert needless_lazy_imports() == []


def test_a_planted_needless_lazy_import_is_found():
    src = {  # as modules of textsort: a light one, one that loads a heavy package at its top
        "textsort.core.light": "X = 1\n",
        "textsort.core.heavyish": "import tensorflow\n",
        "textsort.core.user": ("import os\n"
                               "def a():\n    import json\n"                        # stdlib: needless
                               "def b():\n    if os.name:\n        from textsort.core import light\n"  # light, in a block
                               "def c():\n    from textsort.core import heavyish\n"  # keeps TensorFlow out: fine
                               "def d():\n    import PySide6\n"),                     # heavy package: fine
    }
    found = needless_lazy_imports({m: ast.parse(code) for m, code in src.items()}, set())
    assert found == ["textsort.core.user.a: import json", "textsort.core.user.b: from textsort.core import light"]
