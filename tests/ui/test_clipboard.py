"""The secret clipboard: marked for clipboard managers, cleared after its timeout only if still ours, and on quit."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop.core import keys
from desktop.ui.platform.clipboard import (
    KDE_HINT,
    MAC_CONCEALED,
    WINDOWS_EXCLUDE,
    WINDOWS_NO_CLOUD,
    WINDOWS_NO_HISTORY,
    SecretClipboard,
    secret_mime_data,
)
from tests.ui.helpers import same_secret, secret


def test_mime_data_carries_every_secret_hint() -> None:
    key = secret(keys.generate())
    mime = secret_mime_data(key)
    assert same_secret(mime.text(), key)
    assert bytes(mime.data(KDE_HINT).data()) == b"secret"
    assert same_secret(bytes(mime.data(MAC_CONCEALED).data()).decode(), key)
    assert bytes(mime.data(WINDOWS_EXCLUDE).data()) == b"1"
    assert bytes(mime.data(WINDOWS_NO_HISTORY).data()) == b"\0\0\0\0"
    assert bytes(mime.data(WINDOWS_NO_CLOUD).data()) == b"\0\0\0\0"
    assert MAC_CONCEALED == "application/x-nspasteboard-concealed-type"
    assert KDE_HINT == "x-kde-passwordManagerHint"
    assert WINDOWS_EXCLUDE == "ExcludeClipboardContentFromMonitorProcessing"


def test_copy_puts_hints_on_the_system_clipboard(qtbot: QtBot) -> None:
    clipboard = SecretClipboard(clear_after_ms=60_000)
    key = secret(keys.generate())
    clipboard.copy(key)
    mime = QGuiApplication.clipboard().mimeData()
    assert same_secret(mime.text(), key)
    assert bytes(mime.data(KDE_HINT).data()) == b"secret"
    assert mime.hasFormat(MAC_CONCEALED) and mime.hasFormat(WINDOWS_EXCLUDE)
    assert clipboard.holds_secret()
    clipboard.clear_if_owned()


def test_cleared_after_timeout_with_countdown(qtbot: QtBot) -> None:
    clipboard = SecretClipboard(clear_after_ms=300)
    seen: list[int] = []
    clipboard.countdown.connect(seen.append)
    with qtbot.waitSignal(clipboard.cleared, timeout=3000):
        clipboard.copy(secret(keys.generate()))
    assert QGuiApplication.clipboard().text() == ""
    assert seen[0] == 1 and seen[-1] == 0
    assert not clipboard.holds_secret()


def test_not_cleared_when_the_person_copied_something_else(qtbot: QtBot) -> None:
    clipboard = SecretClipboard(clear_after_ms=300)
    clipboard.copy(secret(keys.generate()))
    QGuiApplication.clipboard().setText("something the person copied")
    with qtbot.assertNotEmitted(clipboard.cleared, wait=600):
        pass
    assert QGuiApplication.clipboard().text() == "something the person copied"
    assert clipboard.seconds_left() == 0


def test_clear_if_owned_on_quit(qtbot: QtBot) -> None:
    clipboard = SecretClipboard(clear_after_ms=60_000)
    clipboard.copy(secret(keys.generate()))
    assert clipboard.clear_if_owned() is True
    assert QGuiApplication.clipboard().text() == ""
    QGuiApplication.clipboard().setText("mine")
    assert clipboard.clear_if_owned() is False
    assert QGuiApplication.clipboard().text() == "mine"
