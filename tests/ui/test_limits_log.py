"""Issue 24: a limits change reads in the window's Activity Log as the command line's `log` says it (the window's
own limits dialog is the next issue's)."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDialog, QTableWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import Rate, Refill
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import item_text, wait_for, wait_idle
from tests.ui.widgets import child


def action(window: MainWindow, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def _rows(dialog: QDialog) -> list[list[str]]:
    table = child(dialog, QTableWidget, "eventsTable")
    return [[item_text(table, r, c) for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_a_limits_change_is_in_the_activity_log_and_its_filter(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    key_id = store.create("limited").record.id
    store.set_limits(key_id, rate=Rate(100, 60), refill=Refill(1000, "month"))
    window = make_window()
    action(window, "activityLogAction").trigger()
    log = wait_for(qtbot, QDialog, "activityLogDialog")
    qtbot.waitUntil(lambda: [row[1] for row in _rows(log)] == ["Limits changed", "Created"])
    assert _rows(log)[0][4] == "no limits → rate 100/1m, credits 1,000, refill 1000/month"
    child(log, QComboBox, "actionFilter").setCurrentText("Limits changed")
    qtbot.waitUntil(lambda: [row[1] for row in _rows(log)] == ["Limits changed"])
    log.resize(900, 260)
    log.grab().save("/tmp/limits-activity-log.png")
    log.close()
    wait_idle(qtbot, window)
