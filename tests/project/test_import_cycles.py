"""Issue 22 item 2: no two modules in desktop/ import each other, nor go round in a longer cycle.

Every import counts, wherever it sits: at module level, inside a function (a deferred import is still a
dependency, only a later one), and under `if TYPE_CHECKING:` (a type-only import still means each module
has to know the other). Imports are read with `ast`, never executed, so the check costs no Qt and no driver.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from tests.helpers import REPO

PACKAGE = "desktop"

# Pairs known to import each other, while one is being taken apart: none left. The test fails if a listed pair no
# longer imports each other, so the list cannot go stale.
KNOWN_PAIRS: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((REPO / PACKAGE).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of this package that `name` imports: `from a import b` is module a.b when b is one, else a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            found.update(
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source for alias in node.names
            )
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def mutual_pairs(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset({a, b}) for a, targets in graph.items() for b in targets if a in graph.get(b, set())}


def test_the_import_graph_is_read() -> None:
    """The reader itself: relative imports, `from . import x`, imports inside functions and type-only ones."""
    graph = import_graph()
    assert "desktop.core.db.scope_search" in graph["desktop.core.db.queries"]  # from desktop.core.db import x
    assert "desktop.ui.control.controller" in graph["desktop.ui.window.main_window"]  # inside build()
    assert "desktop.core.store" in graph["desktop.ui.window.main_window"]  # under TYPE_CHECKING
    assert len(graph) > 100


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    """None in desktop/ today; one written tomorrow still counts, from a module and from a package's __init__."""
    ui = "desktop.ui"
    known = {ui, f"{ui}.theme", f"{ui}.dialogs", f"{ui}.dialogs.confirm", f"{ui}.dialogs.parts", "desktop.core.errors"}
    module = tmp_path / "confirm.py"
    module.write_text("from . import parts\nfrom .. import theme\ndef f():\n    from ...core.errors import X\n")
    assert imported(f"{ui}.dialogs.confirm", module, known) == {
        f"{ui}.dialogs.parts",
        f"{ui}.theme",
        "desktop.core.errors",
    }
    package = tmp_path / "__init__.py"
    package.write_text("from . import confirm\nfrom .parts import Y\nfrom ..theme import Z\nfrom . import NAME\n")
    assert imported(f"{ui}.dialogs", package, known) == {f"{ui}.dialogs.confirm", f"{ui}.dialogs.parts", f"{ui}.theme"}


def test_no_two_modules_import_each_other() -> None:
    pairs = mutual_pairs(import_graph())
    new = sorted(" <-> ".join(sorted(pair)) for pair in pairs - KNOWN_PAIRS)
    assert new == [], "these modules import each other: move the shared piece down, or pass it in"
    gone = sorted(" <-> ".join(sorted(pair)) for pair in KNOWN_PAIRS - pairs)
    assert gone == [], "no longer a cycle: take these out of KNOWN_PAIRS"


def test_no_longer_cycle() -> None:
    """Three or more modules going round (a -> b -> c -> a) are the same knot as a pair, only harder to see."""
    graph = import_graph()
    for pair in KNOWN_PAIRS:
        a, b = sorted(pair)
        graph[a].discard(b)
        graph[b].discard(a)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None
