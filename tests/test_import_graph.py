"""geoplan's modules import each other without cycles, at module level and between its units.

Every import counts: at the top of a module, inside a function (lazy) and under
``TYPE_CHECKING``, because each is a dependency a reader must follow. A unit is a top-level
module or subpackage of geoplan (``geoplan.layers``, ``geoplan.config``, …).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx

import geoplan

ROOT = Path(geoplan.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # ``from pkg import sub`` imports the submodule when it is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


@functools.cache
def _graph() -> nx.DiGraph:
    """The import graph of the package (parsed once: the tests only read it)."""
    mods = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(mods)
    for name, path in mods.items():
        for target in _imports(path, name, set(mods)):
            graph.add_edge(name, target)
    return graph


def _unit(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_the_graph_sees_real_imports():
    graph = _graph()
    assert graph.has_edge("geoplan.coverage.engine", "geoplan.coverage.shares")
    assert graph.has_edge("geoplan.coverage.engine", "geoplan.results")
    assert graph.number_of_nodes() > 50


def test_no_cycle_between_modules():
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle of design
    inner = nx.DiGraph([(a, b) for a, b in graph.edges
                        if not (b.startswith(a + ".") or a.startswith(b + "."))])
    assert _cycles(inner) == []


def test_no_cycle_between_units():
    graph = _graph()
    units = nx.DiGraph()
    for a, b in graph.edges:
        ua, ub = _unit(a), _unit(b)
        if ua != ub and ua != "geoplan":  # the package root re-exports the public API
            units.add_edge(ua, ub)
    assert "geoplan" not in units, "no module may import the package root (import from its module)"
    assert _cycles(units) == []


def test_a_cycle_is_caught():
    graph = nx.DiGraph([("geoplan.a", "geoplan.b"), ("geoplan.b", "geoplan.a")])
    assert _cycles(graph) == [["geoplan.a", "geoplan.b"]]
