"""The show-once dialog built alone: Done after Copy closes it; Done without copying asks first."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core import keys
from desktop.core.values import KeyRecord
from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog
from desktop.ui.platform.clipboard import SecretClipboard
from tests.ui.helpers import deleted, secret, wait_for
from tests.ui.widgets import child

RECORD = KeyRecord(
    id=1,
    masked="ak_Ab3d…Zz9Q",
    description="Billing",
    created_at=datetime(2031, 3, 18, tzinfo=UTC),
    expires_at=None,
    active=True,
    last_used_at=None,
)


def _open(qtbot: QtBot) -> tuple[KeyCreatedDialog, SecretClipboard]:
    clipboard = SecretClipboard(clear_after_ms=60_000)
    dialog = KeyCreatedDialog(keys.generate(), RECORD, clipboard)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog, clipboard


def test_done_after_copy_accepts_and_empties_the_field(qtbot: QtBot) -> None:
    dialog, clipboard = _open(qtbot)
    field = child(dialog, QLineEdit, "keyField")
    results: list[int] = []
    dialog.finished.connect(results.append)
    qtbot.mouseClick(dialog.findChild(QPushButton, "copyKeyButton"), Qt.MouseButton.LeftButton)
    assert dialog.copied()
    qtbot.mouseClick(dialog.findChild(QPushButton, "keyCreatedDoneButton"), Qt.MouseButton.LeftButton)
    assert results == [QDialog.DialogCode.Accepted.value]
    qtbot.waitUntil(lambda: deleted(field))  # deleted on close, the key with it
    clipboard.clear_if_owned()


def test_done_without_copying_asks_and_go_back_keeps_it_open(qtbot: QtBot) -> None:
    dialog, clipboard = _open(qtbot)
    key = secret(child(dialog, QLineEdit, "keyField").text())
    qtbot.mouseClick(dialog.findChild(QPushButton, "keyCreatedDoneButton"), Qt.MouseButton.LeftButton)
    box = wait_for(qtbot, QMessageBox, "confirmCloseKeyDialog")
    qtbot.mouseClick(box.findChild(QPushButton, "cancelButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dialog.isVisible() and child(dialog, QLineEdit, "keyField").text() == key
    dialog.discard()  # as when the window goes away: closes without asking
    assert not dialog.isVisible() and not dialog.copied()
    clipboard.clear_if_owned()
