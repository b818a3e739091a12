"""The show-once dialog's "Copied" line stays true: it counts down, and says so once the clipboard is cleared
(issue 21, item 12)."""

from __future__ import annotations

import re

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from tests.ui.conftest import WindowFactory
from tests.ui.helpers import click, generate
from tests.ui.widgets import child


def test_the_copied_line_counts_down_then_says_the_clipboard_was_cleared(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window(clipboard_clear_ms=3000)
    shown = generate(qtbot, window, "Copy me")
    line = child(shown, QLabel, "copiedLabel")
    click(qtbot, shown.findChild(QPushButton, "copyKeyButton"))
    assert "will be cleared in 3 s" in line.text()
    qtbot.waitUntil(lambda: "will be cleared in 2 s" in line.text(), timeout=5000)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=5000)
    assert shown.isVisible()
    assert re.search(r"cleared in \d", line.text()) is None
    assert "cleared from the clipboard" in line.text()
    click(qtbot, shown.findChild(QPushButton, "keyCreatedDoneButton"))
    qtbot.waitUntil(lambda: not shown.isVisible())


def test_the_copied_line_says_when_something_else_was_copied(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(clipboard_clear_ms=3000)
    shown = generate(qtbot, window, "Copy me")
    line = child(shown, QLabel, "copiedLabel")
    click(qtbot, shown.findChild(QPushButton, "copyKeyButton"))
    QGuiApplication.clipboard().setText("something else")
    qtbot.waitUntil(lambda: "no longer on the clipboard" in line.text(), timeout=5000)
    click(qtbot, shown.findChild(QPushButton, "keyCreatedDoneButton"))
    qtbot.waitUntil(lambda: not shown.isVisible())
