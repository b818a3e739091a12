"""A status-bar message too long for the bar can be read whole, and an error stays reachable until the next
error (issue 21, item 10)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QToolButton
from pytestqt.qtbot import QtBot

from desktop.ui.control.notifications import Level
from desktop.ui.window.main_window import MainWindow
from tests.helpers import make_database
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import click, status_level, wait_for, wait_idle
from tests.ui.widgets import child


def _existing(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / ("a-folder-with-a-rather-long-name-" * 3) / "and-another-level-of-folders"
    folder.mkdir(parents=True, exist_ok=True)
    return make_database(folder / name, keys=1)


def _read_whole(qtbot: QtBot, button: QToolButton) -> str:
    click(qtbot, button)
    box = wait_for(qtbot, QMessageBox, "noticeDetailsDialog")
    text = box.text()
    box.close()
    qtbot.waitUntil(lambda: not box.isVisible())
    return text


def _button(window: MainWindow, name: str) -> QToolButton:
    return child(window.notification_area, QToolButton, name)


def test_a_long_error_is_read_whole_then_stays_reachable_until_the_next(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    window = make_window()
    area = window.notification_area
    first = _existing(tmp_path, "existing.db")
    window.databases.new_database(str(first))  # refused: "… already exists and was not changed. Open it with …"
    error = area.text()
    assert str(first) in error and status_level(window) is Level.ERROR
    assert window.width() == 1160 and area.elided()  # the default width cuts it
    more = _button(window, "noticeMoreButton")
    assert more.isVisible() and error in more.toolTip().replace("&amp;", "&")
    assert _read_whole(qtbot, more) == error

    # Its time on screen ends, and other messages come: the error is still a click away.
    child(area, QTimer, "noticeExpiryTimer").timeout.emit()
    assert area.text() == "" and not more.isVisible()
    last = _button(window, "lastErrorButton")
    assert last.isVisible() and _read_whole(qtbot, last) == error
    window.databases.open_database(str(make_database(tmp_path / "other.db", keys=1)))
    assert status_level(window) is Level.INFO and "Opened" in area.text()
    assert last.isVisible() and _read_whole(qtbot, last) == error

    # Until the next error, which takes its place.
    second = _existing(tmp_path, "second.db")
    window.databases.new_database(str(second))
    assert str(second) in area.text() and not last.isVisible()
    child(area, QTimer, "noticeExpiryTimer").timeout.emit()
    assert str(second) in _read_whole(qtbot, last)
    wait_idle(qtbot, window)


def test_a_short_message_needs_no_button(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    window.controller.notifier.info("Copied.")
    assert not window.notification_area.elided()
    assert not _button(window, "noticeMoreButton").isVisible()
    assert not _button(window, "lastErrorButton").isVisible()
