"""`child()`: a widget's named descendant, typed, for the window tests.

`QObject.findChild()` returns `X | None`. A test that clicks the result wants the widget, and the failure it
wants when the widget is missing is one line naming what was looked for, not `'NoneType' object has no attribute
'click'`. `child(window, QPushButton, "generateButton")` is a `QPushButton` to mypy, and the test fails there,
saying so, if the window has none. A test about a widget's absence keeps `findChild(...) is None`.

It raises LookupError, not AssertionError: inside `qtbot.waitUntil(lambda: child(...).isVisible())` an
AssertionError would mean "not yet, try again", and a missing widget must fail at once, as it did before.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

Q = TypeVar("Q", bound=QObject)


def child(parent: QObject, cls: type[Q], name: str = "") -> Q:
    """The descendant of `parent` of that class and objectName (any name if none is given), which must exist."""
    # Not findChild(cls, ""): Qt 6 matches any name only for a null QString, and "" arrives as an empty one.
    found = parent.findChild(cls, name) if name else parent.findChild(cls)
    if found is None:
        what = f"{cls.__name__} named {name!r}" if name else cls.__name__
        raise LookupError(f"no {what} under {describe(parent)}")
    return found


def describe(obj: QObject) -> str:
    """A QObject as a person reads it in a failure: its class, and its objectName if it has one."""
    name = obj.objectName()
    return f"{type(obj).__name__} {name!r}" if name else type(obj).__name__
