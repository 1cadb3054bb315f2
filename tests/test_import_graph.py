"""No import circles in desktop/textsort and modelprep, counting every import statement
(function-level ones included): a circle means two modules hold one fact between them."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"textsort": REPO / "desktop" / "textsort", "modelprep": REPO / "modelprep"}


def module_files() -> dict[str, Path]:
    out = {}
    for top, folder in ROOTS.items():
        for path in folder.rglob("*.py"):
            parts = [top, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that `name` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def graph_of_project() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def test_the_walker_sees_function_level_and_relative_imports_and_finds_a_circle(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    from pkg import b\n", "utf-8")
    (tmp_path / "b.py").write_text("from . import c\n", "utf-8")
    (tmp_path / "c.py").write_text("import pkg.a\n", "utf-8")
    known = {"pkg.a", "pkg.b", "pkg.c"}
    graph = {f"pkg.{m}": imports_of(f"pkg.{m}", tmp_path / f"{m}.py", known) for m in "abc"}
    assert graph == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": {"pkg.a"}}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_import_circles():
    graph = graph_of_project()
    assert len(graph) > 60 and graph["modelprep.pipeline"]  # it did read the tree
    assert cycles(graph) == []


def test_architecture_doc_names_every_module():
    """docs/architecture.md names every runtime and pipeline module as `name.py`; the GUI's
    are listed in docs/gui.md's module table."""
    doc = (REPO / "docs" / "architecture.md").read_text("utf-8")
    gui_doc = (REPO / "docs" / "gui.md").read_text("utf-8")
    missing = [name for name, path in module_files().items() if path.name != "__init__.py"
               and f"{path.name}" not in (gui_doc if ".gui." in name else doc)]
    assert missing == []
