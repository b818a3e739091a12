"""Dialogs lay out their text without clipping, at any font size, and keep their size while messages change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.values import KeyRecord
from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog
from desktop.ui.platform.clipboard import SecretClipboard
from tests.ui.widgets import child


def clipped_labels(dialog: QWidget) -> list[str]:
    """Labels whose text does not fit the room the layout gave them."""
    bad = []
    for label in dialog.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        size = label.size()
        if label.wordWrap():
            fits = (
                label.heightForWidth(size.width()) <= size.height() and label.minimumSizeHint().width() <= size.width()
            )
        else:
            hint = label.sizeHint()
            fits = hint.width() <= size.width() and hint.height() <= size.height()
        if not fits:
            bad.append(f"{label.objectName() or label.text()[:30]!r}: {label.sizeHint()} in {size}")
    return bad


@pytest.fixture
def app_font(qapp: QApplication) -> Iterator[None]:
    saved = QApplication.font()
    yield
    QApplication.setFont(saved)


def _record(description: str) -> KeyRecord:
    now = datetime.now(UTC)
    return KeyRecord(7, "ak_AbCd…WxYz", description, now, None, True, None)


KEY = "ak_" + "Q" * 38  # shaped like a key; not a real one (its checksum is wrong)


@pytest.mark.parametrize("scale", [1.0, 1.6, 2.2])
def test_show_once_dialog_never_clips_after_copy(qtbot: QtBot, app_font: None, scale: float) -> None:
    font = QFont(QApplication.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    QApplication.setFont(font)
    clipboard = SecretClipboard(clear_after_ms=60_000)
    dialog = KeyCreatedDialog(KEY, _record("Billing service, production " * 3), clipboard)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert clipped_labels(dialog) == []
    child(dialog, QPushButton, "copyKeyButton").click()
    qtbot.waitUntil(lambda: child(dialog, QLabel, "copiedLabel").isVisible())
    QApplication.processEvents()
    assert clipped_labels(dialog) == [], scale
    clipboard.clear_if_owned()
    dialog.discard()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_show_once_dialog_grows_when_the_font_grows_while_open(qtbot: QtBot, app_font: None) -> None:
    clipboard = SecretClipboard(clear_after_ms=60_000)
    dialog = KeyCreatedDialog(KEY, _record("Nightly export"), clipboard)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    child(dialog, QPushButton, "copyKeyButton").click()
    font = QFont(QApplication.font())
    font.setPointSizeF(font.pointSizeF() * 1.8)
    QApplication.setFont(font)
    qtbot.waitUntil(lambda: clipped_labels(dialog) == [])
    clipboard.clear_if_owned()
    dialog.discard()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert isinstance(dialog, QDialog)
