"""Issue 14 in the real window on a real SQLite file: rename, roll with grace, scopes, bulk actions, the log."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QLineEdit, QMenu, QMessageBox, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.validation import DESCRIPTION_MAX
from desktop.core.values import Verdict
from desktop.ui.control.key_table_model import COL_DESCRIPTION, COL_EXPIRES, SCOPES_ROLE
from desktop.ui.control.notifications import Level
from desktop.ui.dialogs.scopes_dialog import ScopesDialog
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import (
    answer,
    click,
    find_visible,
    item_text,
    row_of,
    secret,
    select_keys,
    shown_anywhere,
    shown_ids,
    status,
    status_level,
    wait_for,
    wait_idle,
)
from tests.ui.widgets import child


def action(window: MainWindow, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def make_keys(store: KeyStore, *descriptions: str) -> list[int]:
    return [store.create(d).record.id for d in descriptions]


# -- the menus ------------------------------------------------------------------


# A popup menu on the offscreen platform: it cannot raise it or grab the keyboard (the platform, not the app).
@pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|grabbing the keyboard|propagateSizeHints\(\))")
def test_edit_menu_and_context_menu_hold_the_contract_actions(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    make_keys(store, "one")
    window = make_window()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[:3] == ["File", "Edit", "View"]
    names = {
        "renameAction",
        "rollAction",
        "historyAction",
        "activateSelectedAction",
        "deactivateSelectedAction",
        "deleteSelectedAction",
    }
    assert names <= {a.objectName() for a in window.key_actions.edit_menu.actions()}
    assert names <= {a.objectName() for a in window.key_actions.key_menu.actions()}
    assert window.key_actions.key_menu.objectName() == "keyContextMenu"
    assert "activityLogAction" in {a.objectName() for a in window.view_menu.actions()}
    # Nothing selected: nothing to act on.
    window.table.clearSelection()
    assert not action(window, "renameAction").isEnabled()
    assert not action(window, "deleteSelectedAction").isEnabled()
    # A right-click selects the row under it and opens the menu there.
    rect = window.table.visualRect(window.model.index(0, COL_DESCRIPTION))
    window.table.customContextMenuRequested.emit(rect.center())
    menu = find_visible(QMenu, "keyContextMenu")
    assert menu is not None
    menu.close()
    assert window.table.selected_key_ids() == [window.model.record(0).id]
    assert action(window, "renameAction").isEnabled()


# -- 1. rename --------------------------------------------------------------------


def test_rename_through_the_dialog(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    (key_id,) = make_keys(store, "old name")
    window = make_window()
    select_keys(window, key_id)
    action(window, "renameAction").trigger()
    dialog = wait_for(qtbot, QDialog, "renameDialog")
    edit = child(dialog, QLineEdit, "descriptionEdit")
    counter = child(dialog, QLabel, "descriptionCounter")
    confirm = child(dialog, QPushButton, "renameConfirmButton")
    assert edit.text() == "old name" and counter.text() == f"8 / {DESCRIPTION_MAX}"
    # The same rule as generation: empty and too long are refused, with the reason, the button off.
    edit.setText("   ")
    assert not confirm.isEnabled() and child(dialog, QLabel, "errorLabel").text()
    edit.setText("x" * (DESCRIPTION_MAX + 1))
    assert not confirm.isEnabled() and counter.accessibleDescription() == "Too long"
    edit.setText("  new name  ")
    click(qtbot, confirm)
    qtbot.waitUntil(lambda: find_visible(QDialog, "renameDialog") is None)
    wait_idle(qtbot, window)
    assert store.get(key_id).description == "new name"
    qtbot.waitUntil(lambda: window.model.record(row_of(window, key_id)).description == "new name")
    assert "Renamed" in status(window) and "new name" in status(window)


def test_renaming_a_key_deleted_meanwhile_says_so_once(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    (key_id,) = make_keys(store, "doomed")
    window = make_window(poll_interval_ms=60_000)  # no poll: the window still shows the key
    select_keys(window, key_id)
    action(window, "renameAction").trigger()
    dialog = wait_for(qtbot, QDialog, "renameDialog")
    store.delete(key_id)
    child(dialog, QLineEdit, "descriptionEdit").setText("too late")
    click(qtbot, dialog.findChild(QPushButton, "renameConfirmButton"))
    qtbot.waitUntil(lambda: find_visible(QDialog, "renameDialog") is None)
    wait_idle(qtbot, window)
    assert status_level(window) is Level.ERROR and "no longer exists" in status(window)
    assert shown_ids(window) == []


# -- 2. roll ------------------------------------------------------------------------


def test_roll_shows_the_new_key_once_after_the_commit_and_the_old_one_retires(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    created = store.create("rolling")
    old_key = secret(created.key)
    window = make_window()
    select_keys(window, created.record.id)
    action(window, "rollAction").trigger()
    dialog = wait_for(qtbot, QDialog, "rollDialog")
    combo = child(dialog, QComboBox, "graceCombo")
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Immediately",
        "1 hour",
        "24 hours",
        "7 days",
        "30 days",
    ]
    combo.setCurrentIndex(combo.findText("7 days"))
    assert "keeps working until" in child(dialog, QLabel, "graceUntilLabel").text()
    assert len(store.all()) == 1
    click(qtbot, dialog.findChild(QPushButton, "rollConfirmButton"))
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    new_key = secret(child(shown, QLineEdit, "keyField").text())
    # Shown only after the commit: the new key verifies by the time anyone can read it.
    assert store.verify(new_key) is Verdict.VALID
    assert store.verify(old_key) is Verdict.VALID  # still in its grace
    assert find_visible(QDialog, "rollDialog") is None
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)
    assert not shown_anywhere(new_key)
    # The old key: "Retiring <date time>", status still Active.
    row = row_of(window, created.record.id)
    qtbot.waitUntil(lambda: str(window.model.index(row, COL_EXPIRES).data()).startswith("Retiring "))
    assert window.model.record(row).status().value == "active"
    assert len(shown_ids(window)) == 2


def test_roll_immediately_stops_the_old_key(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    created = store.create("now")
    window = make_window()
    select_keys(window, created.record.id)
    action(window, "rollAction").trigger()
    dialog = wait_for(qtbot, QDialog, "rollDialog")
    combo = child(dialog, QComboBox, "graceCombo")
    combo.setCurrentIndex(0)
    assert "immediately" in child(dialog, QLabel, "graceUntilLabel").text()
    click(qtbot, dialog.findChild(QPushButton, "rollConfirmButton"))
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    assert store.verify(created.key) is Verdict.EXPIRED
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)


def test_rolling_an_inactive_key_says_the_new_one_starts_inactive(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    created = store.create("off")
    store.set_active(created.record.id, False)
    window = make_window()
    select_keys(window, created.record.id)
    action(window, "rollAction").trigger()
    dialog = wait_for(qtbot, QDialog, "rollDialog")
    assert "inactive" in child(dialog, QLabel, "graceUntilLabel").text()
    click(qtbot, dialog.findChild(QPushButton, "rollConfirmButton"))
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    new_key = child(shown, QLineEdit, "keyField").text()
    assert store.verify(new_key) is Verdict.INACTIVE
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)


# -- 3. scopes ------------------------------------------------------------------------


def test_scopes_dialog_sets_scopes_refuses_a_bad_one_and_shows_chips(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    key_id, other = make_keys(store, "scoped", "other")
    store.set_scopes(other, ["billing:read", "orders:write"])
    window = make_window()
    select_keys(window, key_id)
    action(window, "scopesAction").trigger()
    dialog = wait_for(qtbot, ScopesDialog, "scopesDialog")
    qtbot.waitUntil(lambda: dialog.known.stringList() == ["billing:read", "orders:write"])  # completion
    edit = child(dialog, QLineEdit, "scopesEdit")
    confirm = child(dialog, QPushButton, "scopesConfirmButton")
    edit.setText("billing:read Bad!")
    assert not confirm.isEnabled() and "Invalid scope" in child(dialog, QLabel, "errorLabel").text()
    click(qtbot, confirm)
    assert store.get(key_id).scopes == ()
    edit.setText("billing:read, orders:write")
    click(qtbot, confirm)
    qtbot.waitUntil(lambda: find_visible(QDialog, "scopesDialog") is None)
    wait_idle(qtbot, window)
    assert store.get(key_id).scopes == ("billing:read", "orders:write")
    index = window.model.index(row_of(window, key_id), COL_DESCRIPTION)
    assert index.data(SCOPES_ROLE) == ("billing:read", "orders:write")
    assert "billing:read orders:write" in index.data(Qt.ItemDataRole.ToolTipRole)


def test_generate_with_scopes(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    window = make_window()
    click(qtbot, window.generate_button)
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "scoped at birth")
    scopes = child(dialog, QLineEdit, "scopesEdit")
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    scopes.setText("orders:write NOPE")
    assert not confirm.isEnabled() and "Invalid scope 'NOPE'" in child(dialog, QLabel, "errorLabel").text()
    scopes.setText("orders:write billing:read")
    click(qtbot, confirm)
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)
    (record,) = store.all()
    assert record.scopes == ("billing:read", "orders:write")


# -- 4. bulk -----------------------------------------------------------------------------


def test_bulk_deactivate_asks_once_naming_the_count_then_changes_all(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = make_keys(store, "a", "b", "c", "d")
    window = make_window()
    select_keys(window, *ids[:3])
    bar = window.selection_bar
    assert bar.isVisible() and bar.label.text() == "3 selected —"
    action(window, "deactivateSelectedAction").trigger()
    box = answer(qtbot, "confirmDeactivateSelectedDialog", "cancelButton")
    assert "3 keys" in box.text()
    assert all(store.get(i).active for i in ids)
    action(window, "deactivateSelectedAction").trigger()
    answer(qtbot, "confirmDeactivateSelectedDialog", "confirmButton")
    qtbot.waitUntil(lambda: "Deactivated 3 keys" in status(window))
    assert [store.get(i).active for i in ids] == [False, False, False, True]
    # The selection survived the reload after the write.
    assert sorted(window.table.selected_key_ids()) == sorted(ids[:3])
    click(qtbot, bar.findChild(QPushButton, "selectionActivateButton"))  # activating asks nothing
    qtbot.waitUntil(lambda: "Activated 3 keys" in status(window))
    assert all(store.get(i).active for i in ids)


def test_bulk_delete_reports_keys_already_gone(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    ids = make_keys(store, "a", "b", "c")
    window = make_window(poll_interval_ms=60_000)
    select_keys(window, *ids)
    store.delete(ids[0])  # someone else, meanwhile
    action(window, "deleteSelectedAction").trigger()
    box = answer(qtbot, "confirmDeleteSelectedDialog", "confirmButton")
    assert "Delete 3 keys" in box.text()
    qtbot.waitUntil(lambda: "2 deleted; 1 was already gone" in status(window))
    assert store.all() == []
    assert not window.selection_bar.isVisible()


def test_selection_survives_a_live_refresh(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    ids = make_keys(store, "a", "b", "c")
    window = make_window()
    select_keys(window, ids[0], ids[2])
    store.create("added elsewhere")  # the poll reloads the page; the rows move down
    qtbot.waitUntil(lambda: len(shown_ids(window)) == 4)
    assert sorted(window.table.selected_key_ids()) == sorted([ids[0], ids[2]])


def test_the_delete_key_with_several_rows_selected_asks_about_all_of_them(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = make_keys(store, "a", "b", "c")
    window = make_window()
    window.table.setFocus()
    select_keys(window, ids[0], ids[2])
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    answer(qtbot, "confirmDeleteSelectedDialog", "confirmButton")
    qtbot.waitUntil(lambda: "Deleted 2 keys" in status(window))
    assert [r.id for r in store.all()] == [ids[1]]


def test_the_confirmation_lists_at_most_ten(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    make_keys(store, *(f"k{i}" for i in range(12)))
    window = make_window()
    window.table.selectAll()
    action(window, "deleteSelectedAction").trigger()
    box = answer(qtbot, "confirmDeleteSelectedDialog", "cancelButton")
    assert box.text().count("<li>") == 10 and "2 more" in box.text()
    assert len(store.all()) == 12


# -- 5. history and the activity log ----------------------------------------------------------


def _rows(dialog: QDialog) -> list[list[str]]:
    table = child(dialog, QTableWidget, "eventsTable")
    return [[item_text(table, r, c) for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_every_change_made_in_the_window_is_in_the_log(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    from desktop.core.identity import actor

    key_id, other = make_keys(store, "logged", "other")
    window = make_window()
    select_keys(window, key_id)
    window.key_actions.open_rename(window.model.record(row_of(window, key_id)))
    dialog = wait_for(qtbot, QDialog, "renameDialog")
    child(dialog, QLineEdit, "descriptionEdit").setText("renamed")
    click(qtbot, dialog.findChild(QPushButton, "renameConfirmButton"))
    qtbot.waitUntil(lambda: store.get(key_id).description == "renamed")
    wait_idle(qtbot, window)
    select_keys(window, key_id)
    action(window, "rollAction").trigger()
    click(qtbot, wait_for(qtbot, QDialog, "rollDialog").findChild(QPushButton, "rollConfirmButton"))
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)
    select_keys(window, other)
    action(window, "deactivateSelectedAction").trigger()
    answer(qtbot, "confirmDeactivateSelectedDialog", "confirmButton")
    qtbot.waitUntil(lambda: not store.get(other).active)
    wait_idle(qtbot, window)
    select_keys(window, other)
    action(window, "deleteSelectedAction").trigger()
    answer(qtbot, "confirmDeleteSelectedDialog", "confirmButton")
    qtbot.waitUntil(lambda: len(store.all()) == 2)
    wait_idle(qtbot, window)

    action(window, "activityLogAction").trigger()
    log = wait_for(qtbot, QDialog, "activityLogDialog")
    qtbot.waitUntil(lambda: len(_rows(log)) > 0)
    actions = [row[1] for row in _rows(log)]
    assert actions[:5] == ["Deleted", "Deactivated", "Rolled", "Created", "Renamed"]
    assert {row[3] for row in _rows(log)} == {actor()}
    # Filtered by action.
    child(log, QComboBox, "actionFilter").setCurrentText("Rolled")
    qtbot.waitUntil(lambda: [row[1] for row in _rows(log)] == ["Rolled"])
    log.close()

    # One key's history.
    select_keys(window, key_id)
    action(window, "historyAction").trigger()
    history = wait_for(qtbot, QDialog, "historyDialog")
    qtbot.waitUntil(lambda: len(_rows(history)) == 3)
    assert [row[1] for row in _rows(history)] == ["Rolled", "Renamed", "Created"]
    assert "“logged” → “renamed”" in _rows(history)[1][4]
    history.close()
    wait_idle(qtbot, window)


def test_an_open_activity_log_shows_a_change_made_meanwhile(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    (key_id,) = make_keys(store, "watched")
    window = make_window()
    action(window, "activityLogAction").trigger()
    log = wait_for(qtbot, QDialog, "activityLogDialog")
    qtbot.waitUntil(lambda: [row[1] for row in _rows(log)] == ["Created"])
    store.rename(key_id, "changed elsewhere")  # another process: the window's poll sees it
    qtbot.waitUntil(lambda: [row[1] for row in _rows(log)] == ["Renamed", "Created"])
    log.close()
    wait_idle(qtbot, window)


def test_the_activity_log_pages_by_keyset(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    from desktop.ui.dialogs.history_dialog import EVENTS_PER_PAGE

    make_keys(store, *(f"k{i}" for i in range(EVENTS_PER_PAGE + 5)))
    window = make_window()
    action(window, "activityLogAction").trigger()
    log = wait_for(qtbot, QDialog, "activityLogDialog")
    next_button = child(log, QPushButton, "eventsNextButton")
    prev_button = child(log, QPushButton, "eventsPrevButton")
    qtbot.waitUntil(lambda: len(_rows(log)) == EVENTS_PER_PAGE and next_button.isEnabled())
    first = _rows(log)
    assert not prev_button.isEnabled()
    click(qtbot, next_button)
    qtbot.waitUntil(lambda: len(_rows(log)) == 5)
    assert not next_button.isEnabled() and prev_button.isEnabled()
    click(qtbot, prev_button)
    qtbot.waitUntil(lambda: _rows(log) == first)
    log.close()
    wait_idle(qtbot, window)


def test_retiring_reads_until_when(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    created = store.create("retire")
    rolled = store.roll(created.record.id, timedelta(hours=1))
    window = make_window()
    row = row_of(window, created.record.id)
    text = window.model.index(row, COL_EXPIRES).data()
    assert text.startswith("Retiring ") and rolled.old.expires_at is not None
    # A grace's end is an instant: a local time, and the day in words while it is near (issue 21.3).
    assert re.fullmatch(r"Retiring \d\d:\d\d (today|tomorrow)", text), text
    assert rolled.old.expires_at.astimezone().strftime("%H:%M") in text
    new_row = row_of(window, rolled.new.record.id)
    assert window.model.index(new_row, COL_EXPIRES).data() == "Never"


def test_a_deleted_file_refuses_every_lifecycle_action_with_one_message(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, db_path: Path, tmp_path: Path
) -> None:
    ids = make_keys(store, "a", "b")
    store.set_active(ids[1], False)  # so Activate Selected applies to the selection (issue 21.11)
    store.close()
    window = make_window()
    away = tmp_path / "moved-away"
    away.mkdir()
    for path in [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]:
        path.rename(away / path.name)
    qtbot.waitUntil(lambda: "deleted or moved away" in status(window), timeout=3000)
    for name, selected in (
        ("renameAction", ids[:1]),
        ("rollAction", ids[:1]),
        ("scopesAction", ids[:1]),
        ("deactivateSelectedAction", ids),
        ("deleteSelectedAction", ids),
        ("activateSelectedAction", ids),
    ):
        window.notification_area.clear()
        select_keys(window, *selected)
        action(window, name).trigger()
        assert all(find_visible(QDialog, n) is None for n in ("renameDialog", "rollDialog", "scopesDialog")), name
        assert find_visible(QMessageBox, "confirmDeleteSelectedDialog") is None
        assert find_visible(QMessageBox, "confirmDeactivateSelectedDialog") is None
        assert "deleted or moved away" in status(window) and status_level(window) is Level.ERROR, name
    wait_idle(qtbot, window)
    assert not db_path.exists()
