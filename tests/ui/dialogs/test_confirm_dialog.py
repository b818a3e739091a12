"""The deactivate and delete confirmations built alone: only the confirm button accepts (napari's pattern)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.core.values import KeyRecord
from desktop.ui.dialogs.confirm import ConfirmDialog, confirm_deactivate, confirm_delete

RECORD = KeyRecord(
    id=7,
    masked="ak_Ab3d…Zz9Q",
    description="<b>Billing</b>",
    created_at=datetime(2031, 3, 18, tzinfo=UTC),
    expires_at=None,
    active=True,
    last_used_at=None,
)
MAKERS: dict[str, Callable[[QWidget | None, KeyRecord], ConfirmDialog]] = {
    "deactivate": confirm_deactivate,
    "delete": confirm_delete,
}


def _open(qtbot: QtBot, which: str) -> ConfirmDialog:
    dialog = MAKERS[which](None, RECORD)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.mark.parametrize("which", list(MAKERS))
def test_confirm_button_accepts(qtbot: QtBot, which: str) -> None:
    dialog = _open(qtbot, which)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.confirmed()
    assert not dialog.isVisible()


@pytest.mark.parametrize("which", list(MAKERS))
def test_cancel_escape_and_enter_do_not_confirm(qtbot: QtBot, which: str) -> None:
    presses: list[Callable[[ConfirmDialog], None]] = [
        lambda d: qtbot.mouseClick(d.cancel_button, Qt.MouseButton.LeftButton),
        lambda d: qtbot.keyClick(d, Qt.Key.Key_Escape),
        lambda d: qtbot.keyClick(d, Qt.Key.Key_Return),  # destructive: Enter means Cancel
    ]
    for press in presses:
        dialog = _open(qtbot, which)
        press(dialog)
        assert dialog.clickedButton() is dialog.cancel_button and not dialog.confirmed()
        assert not dialog.isVisible()


@pytest.mark.parametrize("which", list(MAKERS))
def test_the_description_is_shown_as_typed(qtbot: QtBot, which: str) -> None:
    dialog = _open(qtbot, which)
    assert "&lt;b&gt;Billing&lt;/b&gt;" in dialog.text() and RECORD.masked in dialog.text()
