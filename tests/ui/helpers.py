"""Helpers for the window tests: seed keys, wait for work, find and answer dialogs, keep secrets out of output."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop.ui.main_window import MainWindow
from tests.helpers import Secret
from tests.helpers import seed as seed  # shared with the core tests; the window tests import it from here

KEY_PATTERN = re.compile(r"ak_[0-9A-Za-z]{38}")

W = TypeVar("W", bound=QWidget)


def wait_idle(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Until no database work is pending and the count is known."""
    qtbot.waitUntil(lambda: window.runner.pending() == 0 and window.total is not None, timeout=5000)


def find_visible(cls: type[W], name: str) -> W | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, cls) and widget.objectName() == name and widget.isVisible():
            return widget
    return None


def wait_for(qtbot, cls: type[W], name: str, timeout: int = 5000) -> W:  # type: ignore[no-untyped-def]
    """The visible top-level widget (dialog) of that class and objectName, once it appears."""
    found: list[W] = []

    def check() -> bool:
        widget = find_visible(cls, name)
        if widget is not None:
            found.append(widget)
            return True
        return False

    qtbot.waitUntil(check, timeout=timeout)
    return found[-1]


def answer_when_modal(callback: Callable[[QWidget], bool], interval_ms: int = 20) -> QTimer:
    """For dialogs run with exec(): poll for the active modal widget and let `callback` answer it.

    `callback` returns True once it has answered; the timer stops then. This is
    the QTimer approach pytest-qt documents for blocking dialogs.
    """
    timer = QTimer()
    timer.setInterval(interval_ms)

    def tick() -> None:
        widget = QApplication.activeModalWidget()
        if widget is not None and callback(widget):
            timer.stop()

    timer.timeout.connect(tick)
    timer.start()
    return timer


def widget_texts() -> list[str]:
    """Every text any live widget shows or holds, to prove a secret is gone."""
    from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit, QTextEdit

    texts: list[str] = []
    for widget in QApplication.allWidgets():
        if isinstance(widget, QLineEdit | QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QPlainTextEdit | QTextEdit):
            texts.append(widget.toPlainText())
        texts.append(widget.toolTip())
        texts.append(widget.accessibleName())
        texts.append(widget.accessibleDescription())
        texts.append(widget.windowTitle())
    return texts


def secret(text: str) -> Secret:
    return Secret(text)


def is_key(text: str) -> bool:
    return KEY_PATTERN.fullmatch(text) is not None


def same_secret(first: str, second: str) -> bool:
    return str(first) == str(second)


def shown_anywhere(key: str) -> bool:
    """Whether any live widget still shows or holds the key."""
    return any(str(key) in text for text in widget_texts())
