"""Copy a secret to the clipboard marked as such, and take it back after a while or on quit."""

from __future__ import annotations

import hashlib
import hmac
import logging

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

log = logging.getLogger(__name__)

CLEAR_AFTER_MS = 30_000

# The hints clipboard managers and OS histories honour (as KeePassXC sets them):
# KDE Klipper and others skip x-kde-passwordManagerHint=secret, macOS the
# concealed type, Windows the three registered formats (history and cloud sync).
KDE_HINT = "x-kde-passwordManagerHint"
MAC_CONCEALED = "application/x-nspasteboard-concealed-type"
WINDOWS_EXCLUDE = "ExcludeClipboardContentFromMonitorProcessing"
WINDOWS_NO_HISTORY = "CanIncludeInClipboardHistory"
WINDOWS_NO_CLOUD = "CanUploadToCloudClipboard"
_DWORD_ZERO = b"\x00\x00\x00\x00"


def secret_mime_data(secret: str) -> QMimeData:
    mime = QMimeData()
    mime.setText(secret)
    mime.setData(KDE_HINT, b"secret")
    mime.setData(MAC_CONCEALED, secret.encode("utf-8"))
    mime.setData(WINDOWS_EXCLUDE, b"1")
    mime.setData(WINDOWS_NO_HISTORY, _DWORD_ZERO)
    mime.setData(WINDOWS_NO_CLOUD, _DWORD_ZERO)
    return mime


#: The QMimeData this process last put on the clipboard (the clipboard owns it).
_placed: QMimeData | None = None


def drop_secret_mime_data() -> None:
    """Take our own QMimeData off the clipboard before the interpreter goes.

    A QMimeData made in Python and still owned by the clipboard is destroyed by
    Qt's exit handlers after Python has finalized, which crashes the process.
    """
    global _placed
    clipboard = QGuiApplication.clipboard()
    # The same wrapper comes back only while the clipboard still holds the object we placed.
    if _placed is not None and clipboard.mimeData(QClipboard.Mode.Clipboard) is _placed:
        clipboard.clear(QClipboard.Mode.Clipboard)
    _placed = None


def _fingerprint(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class SecretClipboard(QObject):
    """Remembers only a digest of what it copied, so it can tell whether the clipboard still holds it."""

    #: Seconds left before the clipboard is cleared; 0 when nothing is pending.
    countdown = Signal(int)
    #: The secret was removed from the clipboard (timeout or quit).
    cleared = Signal()

    def __init__(self, parent: QObject | None = None, *, clear_after_ms: int = CLEAR_AFTER_MS) -> None:
        super().__init__(parent)
        self._clear_after_ms = clear_after_ms
        self._fingerprint: bytes | None = None
        self._remaining_ms = 0
        self._tick = QTimer(self)
        self._tick.setInterval(min(1000, clear_after_ms))
        self._tick.timeout.connect(self._on_tick_timeout)

    @property
    def clear_after_ms(self) -> int:
        return self._clear_after_ms

    def copy(self, secret: str) -> None:
        global _placed
        _placed = secret_mime_data(secret)
        QGuiApplication.clipboard().setMimeData(_placed, QClipboard.Mode.Clipboard)
        self._fingerprint = _fingerprint(secret)
        self._remaining_ms = self._clear_after_ms
        self._tick.start()
        self.countdown.emit(self.seconds_left())
        log.info("copied a new API key to the clipboard; it will be cleared in %d s", self.seconds_left())

    def seconds_left(self) -> int:
        return max(0, -(-self._remaining_ms // 1000))

    def holds_secret(self) -> bool:
        return self._holds(QClipboard.Mode.Clipboard)

    def _holds(self, mode: QClipboard.Mode) -> bool:
        if self._fingerprint is None:
            return False
        clipboard = QGuiApplication.clipboard()
        if mode is QClipboard.Mode.Selection and not clipboard.supportsSelection():
            return False
        return hmac.compare_digest(_fingerprint(clipboard.text(mode)), self._fingerprint)

    def clear_if_owned(self) -> bool:
        """Clear the clipboard if it still holds what we copied; leave anything the person copied since."""
        pending = self._fingerprint is not None
        owned = self.holds_secret()
        if owned:
            QGuiApplication.clipboard().clear(QClipboard.Mode.Clipboard)
            log.info("cleared the copied API key from the clipboard")
        if pending and self._holds(QClipboard.Mode.Selection):
            QGuiApplication.clipboard().clear(QClipboard.Mode.Selection)  # X11's PRIMARY, should it hold it
        self._fingerprint = None
        self._remaining_ms = 0
        self._tick.stop()
        if pending:
            self.countdown.emit(0)
        if owned:
            self.cleared.emit()
        return owned

    def _on_tick_timeout(self) -> None:
        self._remaining_ms -= self._tick.interval()
        if self._remaining_ms <= 0:
            self.clear_if_owned()
            return
        if not self.holds_secret():
            # Something else was copied meanwhile: nothing of ours to clear any more.
            self._fingerprint = None
            self._remaining_ms = 0
            self._tick.stop()
            self.countdown.emit(0)
            return
        self.countdown.emit(self.seconds_left())
