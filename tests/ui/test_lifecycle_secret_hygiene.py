"""A canary key made by a roll in the window, then renamed, scoped, listed in the log and bulk-changed, leaves no
trace: not in any widget once its dialog closes, not in the log file, the settings or anywhere on disk."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.app import configure_logging, log_path
from desktop.core import keys
from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
from tests.helpers import files_holding
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import answer, row_of, secret, select_keys, shown_anywhere, wait_for, wait_idle
from tests.ui.widgets import child


def _trigger(window: MainWindow, name: str) -> None:
    found = window.findChild(QAction, name)
    assert found is not None
    found.trigger()


def test_a_rolled_canary_leaves_no_trace(
    qtbot: QtBot, make_window: WindowFactory, db_path: Path, settings: QSettings, isolated_home: Path
) -> None:
    configure_logging()
    root = logging.getLogger()
    handlers = [h for h in root.handlers if getattr(h, "_apikeys", False)]
    try:
        window = make_window()
        with KeyStore.open(str(db_path)) as other:
            old = other.create("to roll")
        window.controller.reload()
        select_keys(window, old.record.id)
        _trigger(window, "rollAction")
        click_roll = child(wait_for(qtbot, QDialog, "rollDialog"), QPushButton, "rollConfirmButton")
        click_roll.click()
        shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
        canary = secret(child(shown, QLineEdit, "keyField").text())
        assert keys.is_well_formed(canary)
        child(shown, QPushButton, "copyKeyButton").click()
        shown.accept()
        wait_idle(qtbot, window)
        new_id = window.table.selected_key_ids()[0]
        assert new_id != old.record.id

        # Rename, scopes, the history and the log, then both keys deleted in bulk.
        window.key_actions.open_rename(window.model.record(row_of(window, new_id)))
        rename = wait_for(qtbot, QDialog, "renameDialog")
        child(rename, QLineEdit, "descriptionEdit").setText("renamed canary")
        child(rename, QPushButton, "renameConfirmButton").click()
        qtbot.waitUntil(lambda: "Renamed" in window.notification_area.text())
        wait_idle(qtbot, window)
        select_keys(window, new_id)
        _trigger(window, "scopesAction")
        scopes = wait_for(qtbot, QDialog, "scopesDialog")
        child(scopes, QLineEdit, "scopesEdit").setText("billing:read")
        child(scopes, QPushButton, "scopesConfirmButton").click()
        qtbot.waitUntil(lambda: "Scopes of" in window.notification_area.text())
        wait_idle(qtbot, window)
        select_keys(window, new_id)
        _trigger(window, "historyAction")
        history = wait_for(qtbot, QDialog, "historyDialog")
        _trigger(window, "activityLogAction")
        log = wait_for(qtbot, QDialog, "activityLogDialog")
        wait_idle(qtbot, window)
        assert not shown_anywhere(canary)
        history.close()
        log.close()
        select_keys(window, new_id, old.record.id)
        _trigger(window, "deleteSelectedAction")
        answer(qtbot, "confirmDeleteSelectedDialog", "confirmButton")
        qtbot.waitUntil(lambda: "Deleted 2 keys" in window.notification_area.text())
        wait_idle(qtbot, window)
        assert not shown_anywhere(canary)

        window.shutdown()
        settings.sync()
        for handler in handlers:
            handler.flush()
        logs = log_path()
        assert logs.exists() and "rolled" in logs.read_text()
        needles = [str(canary).encode(), str(canary)[3:35].encode(), keys.digest(str(canary))]
        places = (db_path.parent, isolated_home, logs.parent, Path(settings.fileName()).parent)
        assert files_holding(needles, *places) == []
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
