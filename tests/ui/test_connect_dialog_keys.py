"""File ▸ Connect to Server… from the keyboard: Enter connects once the URL is valid, Esc cancels (issue 21, item 1)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.ui.window.main_window import MainWindow
from tests.pg import PgCluster
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import find_visible, open_store, wait_for, wait_idle
from tests.ui.widgets import child

NO_POLL = 60_000
OPENS_MS = 10_000


def _connect_dialog(qtbot: QtBot, window: MainWindow) -> QDialog:
    child(window, QAction, "connectServerAction").trigger()
    return wait_for(qtbot, QDialog, "connectServerDialog")


def test_enter_in_the_url_field_connects(qtbot: QtBot, make_window: WindowFactory, pg_cluster: PgCluster) -> None:
    server = pg_cluster.new_database()
    window = make_window(poll_interval_ms=NO_POLL)
    dialog = _connect_dialog(qtbot, window)
    edit = dialog.findChild(QLineEdit, "serverUrlEdit")
    assert dialog.focusWidget() is edit  # typing goes to the URL at once
    assert child(dialog, QPushButton, "connectButton").isDefault()
    qtbot.keyClicks(edit, server)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: find_visible(QDialog, "connectServerDialog") is None)
    name = server.split("/")[3].split("?")[0]
    qtbot.waitUntil(lambda: name in open_store(window).location, timeout=OPENS_MS)
    wait_idle(qtbot, window)


def test_enter_on_a_bad_url_says_why_and_esc_cancels(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(poll_interval_ms=NO_POLL)
    before = open_store(window).location
    dialog = _connect_dialog(qtbot, window)
    edit = dialog.findChild(QLineEdit, "serverUrlEdit")
    qtbot.keyClicks(edit, "keys.db")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    error = child(dialog, QLabel, "serverUrlError")
    assert dialog.isVisible() and error.isVisible() and "starts with postgresql://" in error.text()
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: find_visible(QDialog, "connectServerDialog") is None)
    wait_idle(qtbot, window)
    assert open_store(window).location == before
