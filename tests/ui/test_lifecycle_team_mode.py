"""The lifecycle flows in the window on a real PostgreSQL server (team mode): roll, bulk, the log with roles."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLineEdit, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from desktop.ui.control.key_table_model import COL_EXPIRES
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import answer, item_text, row_of, secret, select_keys, shown_ids, status, wait_for, wait_idle
from tests.ui.test_team_mode import NO_POLL, store, window_database  # noqa: F401  (the team-mode fixtures)
from tests.ui.widgets import child


def test_roll_and_bulk_deactivate_on_postgresql(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:  # noqa: F811
    old = store.create("team key")
    other = store.create("other").record.id
    window = make_window(poll_interval_ms=NO_POLL)
    select_keys(window, old.record.id)
    window.key_actions.roll_action.trigger()
    click = child(wait_for(qtbot, QDialog, "rollDialog"), QPushButton, "rollConfirmButton")
    click.click()
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    new_key = secret(child(shown, QLineEdit, "keyField").text())
    assert store.verify(new_key) is Verdict.VALID and store.verify(old.key) is Verdict.VALID
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)
    row = row_of(window, old.record.id)
    assert str(window.model.index(row, COL_EXPIRES).data()).startswith("Retiring ")

    select_keys(window, old.record.id, other)
    window.key_actions.deactivate_selected_action.trigger()
    answer(qtbot, "confirmDeactivateSelectedDialog", "confirmButton")
    qtbot.waitUntil(lambda: "Deactivated 2 keys" in status(window))
    assert not store.get(old.record.id).active and not store.get(other).active
    assert len(shown_ids(window)) == 3

    window.activity_log.action.trigger()
    log = wait_for(qtbot, QDialog, "activityLogDialog")
    table = child(log, QTableWidget, "eventsTable")
    qtbot.waitUntil(lambda: table.rowCount() >= 5)
    assert "(role " in item_text(table, 0, 3)  # the server's word for who did it
    log.close()
    wait_idle(qtbot, window)
