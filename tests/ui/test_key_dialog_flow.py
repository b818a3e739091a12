"""Issue 22 item 5: rename, roll and scopes are one "change one key in a dialog" flow, and behave as one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.control.notifications import Level
from desktop.ui.window.key_dialog_flow import KeyDialogFlow
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import click, find_visible, select_keys, shown_ids, status, status_level, wait_for, wait_idle

#: (the flow's attribute, its action, its dialog, the dialog's confirm button, what a refusal says it could not do)
FLOWS = [
    ("rename_flow", "renameAction", "renameDialog", "renameConfirmButton", "rename the key"),
    ("roll_flow", "rollAction", "rollDialog", "rollConfirmButton", "roll the key"),
    ("scopes_flow", "scopesAction", "scopesDialog", "scopesConfirmButton", "change the key's scopes"),
]


def trigger(window: MainWindow, name: str) -> None:
    found = window.findChild(QAction, name)
    assert found is not None and found.isEnabled(), name
    found.trigger()


def test_rename_roll_and_scopes_are_one_flow_each(make_window: WindowFactory) -> None:
    actions = make_window().key_actions
    flows = [getattr(actions, attribute) for attribute, *_ in FLOWS]
    assert all(type(flow) is KeyDialogFlow for flow in flows)
    assert len({id(flow) for flow in flows}) == len(FLOWS)


@pytest.mark.parametrize(("attribute", "action", "dialog_name", "confirm", "_what"), FLOWS)
def test_a_key_deleted_while_its_dialog_is_open_closes_the_dialog_and_says_so_once(
    qtbot: QtBot,
    make_window: WindowFactory,
    store: KeyStore,
    attribute: str,
    action: str,
    dialog_name: str,
    confirm: str,
    _what: str,
) -> None:
    key_id = store.create("doomed").record.id
    window = make_window(poll_interval_ms=60_000)  # no poll: the window still shows the key
    select_keys(window, key_id)
    trigger(window, action)
    dialog = wait_for(qtbot, QDialog, dialog_name)
    assert getattr(window.key_actions, attribute).dialog is dialog
    trigger(window, action)  # one dialog of a kind at a time
    assert [d for d in dialog.parent().findChildren(QDialog, dialog_name) if d.isVisible()] == [dialog]
    store.delete(key_id)
    if dialog_name != "rollDialog":
        edit = dialog.findChild(QLineEdit, "descriptionEdit" if dialog_name == "renameDialog" else "scopesEdit")
        edit.setText("too-late")
    click(qtbot, dialog.findChild(QPushButton, confirm))
    qtbot.waitUntil(lambda: find_visible(QDialog, dialog_name) is None)
    wait_idle(qtbot, window)
    assert getattr(window.key_actions, attribute).dialog is None
    assert status_level(window) is Level.ERROR and "no longer exists" in status(window)
    assert shown_ids(window) == []


@pytest.mark.parametrize(("attribute", "action", "dialog_name", "_confirm", "what"), FLOWS)
def test_no_dialog_opens_while_the_database_file_is_gone(
    qtbot: QtBot,
    make_window: WindowFactory,
    store: KeyStore,
    db_path: Path,
    attribute: str,
    action: str,
    dialog_name: str,
    _confirm: str,
    what: str,
) -> None:
    key_id = store.create("kept").record.id
    window = make_window(poll_interval_ms=60_000)
    select_keys(window, key_id)
    os.replace(db_path, db_path.with_name("moved-away.db"))
    trigger(window, action)
    assert f"Could not {what}: the database file" in status(window) and status_level(window) is Level.ERROR
    assert find_visible(QDialog, dialog_name) is None and getattr(window.key_actions, attribute).dialog is None
    os.replace(db_path.with_name("moved-away.db"), db_path)
