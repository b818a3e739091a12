"""Once the show-once dialog closes, nothing in the window holds the key any more (issue 10.5, the window part).

A Python string cannot be wiped, but every reference to it can be dropped at once, so it is freed and its
memory reused as soon as possible rather than kept for the life of the window.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import types
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core import keys
from desktop.core.values import CreatedKey
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import is_key, secret, wait_for, wait_idle
from tests.ui.widgets import child


def _values(obj: object) -> list[object]:
    """What `obj` refers to directly: items of containers, attributes, closure cells and frame locals."""
    if isinstance(obj, dict):
        return [*obj.values(), *obj.keys()]
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    if isinstance(obj, types.CellType):
        try:
            return [obj.cell_contents]
        except ValueError:  # empty cell
            return []
    if isinstance(obj, types.FrameType):
        return list(obj.f_locals.values())
    values: list[object] = []
    if not isinstance(obj, type | types.ModuleType):
        # Instance attributes: since Python 3.11 they need not live in a dict that gc lists on its own.
        # object.__getattribute__: never a class's __getattr__ fallback (lazy loaders, registries).
        with contextlib.suppress(Exception):
            attributes = object.__getattribute__(obj, "__dict__")
            if isinstance(attributes, dict):
                values.extend(attributes.values())
        for slot in getattr(type(obj), "__slots__", ()):
            with contextlib.suppress(Exception):
                values.append(object.__getattribute__(obj, slot))
    return values


def _holders(canary: str) -> list[str]:
    """Objects that refer to a string equal to the key, other than the test's own reference."""
    found = []
    here = sys._getframe()
    for obj in gc.get_objects():
        if obj is here or (isinstance(obj, types.FrameType) and obj.f_code.co_filename == __file__):
            continue  # this test's own frames hold the canary it compares with
        values = _values(obj)
        if any(value is canary for value in values):
            continue
        if any(isinstance(value, str) and value == canary for value in values):
            found.append(type(obj).__name__)
    return found


def _generate(qtbot: QtBot, window: MainWindow, description: str) -> QDialog:
    window.generate_button.click()
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), description)
    child(dialog, QPushButton, "generateConfirmButton").click()
    return wait_for(qtbot, QDialog, "keyCreatedDialog")


def _gone(widget: QDialog) -> bool:
    try:
        return not widget.isVisible()
    except RuntimeError:  # deleted
        return True


@pytest.fixture
def collected() -> Iterator[None]:
    gc.collect()
    yield


@pytest.mark.parametrize("close", ["copied then Done", "not copied, confirmed", "window closed"])
def test_nothing_holds_the_key_once_the_dialog_closes(
    qtbot: QtBot, make_window: WindowFactory, collected: None, close: str
) -> None:
    window = make_window(clipboard_clear_ms=60_000)
    shown = _generate(qtbot, window, "Canary")
    field = child(shown, QLineEdit, "keyField")
    canary = secret(field.text())
    assert is_key(canary)
    wait_idle(qtbot, window)
    if close == "copied then Done":
        child(shown, QPushButton, "copyKeyButton").click()
        child(shown, QPushButton, "keyCreatedDoneButton").click()
    elif close == "not copied, confirmed":
        child(shown, QPushButton, "keyCreatedDoneButton").click()
        box = wait_for(qtbot, QDialog, "confirmCloseKeyDialog")
        child(box, QPushButton, "confirmButton").click()
    else:
        window.shutdown()
    # At once, before any deferred deletion: the field is empty.
    assert field.text() == ""
    assert window.generate_flow.key_dialog is None
    window.clipboard.clear_if_owned()  # the clipboard's copy is by design (30 s); this test is about the window
    qtbot.waitUntil(lambda: _gone(shown))  # the dialog deletes itself on close
    QApplication.processEvents()
    gc.collect()
    assert [type(o).__name__ for o in gc.get_objects() if isinstance(o, CreatedKey)] == []
    assert _holders(canary) == []  # and the scan does find a copy where there is one: the test below
    for owner in (window, window.runner, window.clipboard, window.notification_area):
        assert all(value != canary for value in vars(owner).values())


def test_the_scan_finds_a_copy_of_a_key_held_in_an_attribute() -> None:
    """So the empty answers above mean something. Once, not in each case above: the scan walks every object of
    the process (about a second of CPU in a worker that imported the whole suite), and what it finds does not
    depend on how a dialog was closed."""
    canary = secret(keys.generate())
    decoy = types.SimpleNamespace(kept="".join(str(canary)))
    assert _holders(canary) == ["SimpleNamespace"]
    del decoy
