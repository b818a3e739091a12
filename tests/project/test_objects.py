"""Issue 22 item 1: objects that own their state, not mixins. A class in desktop/ is one object given what it needs,
never assembled from mixins that each declare what they expect of their host.

Read with `ast`, never imported. The scope is every class in desktop/. A base counts unless it is Qt's (a name
imported from PySide6: a QObject subclass that is also a widget's model is Qt's business), an exception (one of
Python's, or a class of ours that derives from one: `class InvalidScope(InvalidInput, ValueError)` is how an
error is both ours and what a caller catches) or typing's (Generic[...], Protocol): at most one base counts.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "desktop"
TYPING_BASES = {"Generic", "Protocol"}
#: The named-tuple API is public, whatever its underscore says.
NAMED_TUPLE_API = {"_asdict", "_fields", "_replace", "_make", "_field_defaults"}


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def classes() -> Iterator[tuple[Path, ast.ClassDef]]:
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                yield path, node


def base_name(base: ast.expr) -> str:
    """`QtCore.QObject` -> QObject, `Generic[T]` -> Generic."""
    if isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else ast.unparse(base)


def qt_names() -> set[str]:
    """Every name imported from PySide6 anywhere in desktop/ (QObject, QWidget, QtCore, ...)."""
    found: set[str] = set()
    for _, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("PySide6"):
                found.update(alias.asname or alias.name for alias in node.names)
    return found


def exception_names() -> set[str]:
    """Python's exceptions, and every class of ours that derives from one (to a fixed point)."""
    found = {
        name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
    }
    ours = [(node.name, {base_name(b) for b in node.bases}) for _, node in classes()]
    grew = True
    while grew:
        grew = False
        for name, bases in ours:
            if name not in found and bases & found:
                found.add(name)
                grew = True
    return found


def counted_bases(node: ast.ClassDef, qt: set[str], exceptions: set[str]) -> list[str]:
    names = [base_name(b) for b in node.bases]
    return [n for n in names if n not in qt and n not in exceptions and n not in TYPING_BASES]


def test_no_class_is_a_mixin_or_made_of_several() -> None:
    qt, exceptions = qt_names(), exception_names()
    found = []
    for path, node in classes():
        where = f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
        bases = counted_bases(node, qt, exceptions)
        if node.name.endswith("Mixin") or any(b.endswith("Mixin") for b in bases):
            found.append(f"{where}: a mixin ({', '.join(bases) or node.name})")
        elif len(bases) > 1:
            found.append(f"{where}: made of {len(bases)} classes ({', '.join(bases)})")
    assert found == [], "compose objects, each given what it needs, instead of inheriting:\n" + "\n".join(found)


def test_no_class_declares_what_it_expects_of_a_host() -> None:
    """A class body with `if TYPE_CHECKING:` is a mixin's list of type-only stubs of what its host provides."""
    found = [
        f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
        for path, node in classes()
        for statement in node.body
        if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test)
    ]
    assert found == [], "type-only stubs of a host's attributes:\n" + "\n".join(found)


def own_kind(node: ast.ClassDef) -> set[str]:
    """The names that stand for the class itself or one of its objects: self, cls, its name, and the parameters of
    its methods annotated with it (`def adopt(self, other: Pager)`: a Pager reads a Pager's state)."""
    names = {"self", "cls", "super", node.name}
    for function in ast.walk(node):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = function.args
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                if arg.annotation is not None and ast.unparse(arg.annotation).strip("'\"") == node.name:
                    names.add(arg.arg)
    return names


def test_no_class_reads_another_objects_private_attributes() -> None:
    """In a class, `x._name` only on the object itself (self, cls, super()) or another of its own class."""
    found = []
    for path, node in classes():
        own = own_kind(node)
        for child in ast.walk(node):
            if not isinstance(child, ast.Attribute):
                continue
            name = child.attr
            if not name.startswith("_") or name.startswith("__") or name in NAMED_TUPLE_API:
                continue
            receiver = child.value.func if isinstance(child.value, ast.Call) else child.value
            if isinstance(receiver, ast.Name) and receiver.id in own:
                continue
            found.append(f"{path.relative_to(REPO)}:{child.lineno} {node.name}: {ast.unparse(child)}")
    assert found == [], "another object's private attribute read:\n" + "\n".join(found)
