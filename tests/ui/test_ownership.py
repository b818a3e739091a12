"""Every Qt object in the window and its dialogs belongs to its Qt parent, never to a Python variable.

A child that Python owns is freed when its variable goes out of scope while
Qt still points at it: a crash much later, at an unrelated moment.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.dialogs.confirm import confirm_deactivate, confirm_delete
from desktop.ui.dialogs.generate_dialog import GenerateKeyDialog
from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed


def python_owned_children(root: QObject) -> list[str]:
    found = []
    for child in root.findChildren(QObject):
        if shiboken6.ownedByPython(child):
            found.append(f"{type(child).__name__} {child.objectName()!r} under {type(child.parent()).__name__}")
    return found


def test_no_python_owned_children(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    seed(store, 3)
    window = make_window()
    record = window.model.record(0)
    dialogs = [
        GenerateKeyDialog(window),
        KeyCreatedDialog("ak_" + "0" * 38, record, window.clipboard, window),
        confirm_deactivate(window, record),
        confirm_delete(window, record),
    ]
    assert python_owned_children(window) == []
    for dialog in dialogs:
        assert python_owned_children(dialog) == []
        dialog.deleteLater()
