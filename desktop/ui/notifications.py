"""One notifier for every outcome (it logs as it shows), the status-bar area that shows it, the slot guard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from desktop.ui import theme
from desktop.ui.error_policy import Level as Level  # the notices' levels, imported from here by the UI
from desktop.ui.error_policy import Outcome, decide
from desktop.ui.guard import guarded as guarded  # where the UI has always imported it from
from desktop.ui.text import plain_tooltip

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Notice:
    level: Level
    text: str
    #: Stays until released (`NotificationArea.release`), e.g. while the dialog it speaks of is open.
    sticky: bool = False

    @property
    def duration_ms(self) -> int:
        """Long enough to read: about 15 characters a second, never less than a floor."""
        floor = 12_000 if self.level is Level.ERROR else 5_000
        per_char = 90 if self.level is Level.ERROR else 65
        return max(floor, len(self.text) * per_char)


class Notifier(QObject):
    """The bridge every part of the UI reports through; it logs what it shows (as qutebrowser's message.error).

    Only the status area listens. Texts name keys only masked, so the log holds no secret either.
    """

    posted = Signal(object)  # Notice

    def info(self, text: str, *, sticky: bool = False) -> Notice:
        log.info("%s", text)
        return self._post(Notice(Level.INFO, text, sticky))

    def error(self, text: str, *, sticky: bool = False) -> Notice:
        log.error("%s", text)
        return self._post(Notice(Level.ERROR, text, sticky))

    def report(self, err: BaseException, action: str, record: KeyRecord | None = None) -> Outcome:
        """Decide (error_policy.decide), log the decision with the error, show it; the caller acts on `reload`."""
        outcome = decide(err, action, record)
        log.log(outcome.log_level, "%s", outcome.log_text, exc_info=err if outcome.traceback else None)
        self._post(Notice(outcome.level, outcome.text))
        return outcome

    def _post(self, notice: Notice) -> Notice:
        self.posted.emit(notice)
        return notice


class ElidedLabel(QLabel):
    """One line that ends in "…" when the status bar is narrower than the text (the tool tip has it whole)."""

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())


class NotificationArea(QWidget):
    """Icon plus text in the status bar; errors in the palette's error colour, shown longer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusMessage")
        self._notice: Notice | None = None
        #: The latest sticky notice not yet released: it comes back when a passing notice times out.
        self._sticky: Notice | None = None
        self._icon = QLabel(self)
        self._icon.setFixedSize(16, 16)
        self._text = ElidedLabel(self)
        self._text.setObjectName("statusText")
        self._text.setTextFormat(Qt.TextFormat.PlainText)  # descriptions are text, never markup
        self._text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(6)
        layout.addWidget(self._icon)
        layout.addWidget(self._text, 1)
        self._expiry = QTimer(self)
        self._expiry.setObjectName("noticeExpiryTimer")
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self._on_expiry_timeout)
        self._icon.hide()

    def text(self) -> str:
        return self._text.text()

    def notice(self) -> Notice | None:
        return self._notice

    def show_notice(self, notice: Notice) -> None:
        if notice.sticky:
            self._sticky = notice
        self._display(notice)

    def _display(self, notice: Notice) -> None:
        self._notice = notice
        self._text.setText(notice.text)
        # A tool tip's format is guessed: a description holding `<b>` would be rendered. Show it as typed.
        self._text.setToolTip(plain_tooltip(notice.text))
        self.setAccessibleName("Error" if notice.level is Level.ERROR else "Status")
        self.setAccessibleDescription(notice.text)
        name = "error" if notice.level is Level.ERROR else "success"
        self._icon.setPixmap(theme.icon(name).pixmap(16, 16))
        self._icon.show()
        self._apply_colour()
        if notice.sticky:
            self._expiry.stop()
        else:
            self._expiry.start(notice.duration_ms)

    def release(self, notice: Notice) -> None:
        """A sticky notice may go now: it gets its usual time on screen from here, if it is still shown."""
        if self._sticky is notice:
            self._sticky = None
        if self._notice is notice:
            self._expiry.start(notice.duration_ms)

    def clear(self) -> None:
        self._notice = None
        self._text.clear()
        self._text.setToolTip("")
        self._icon.hide()
        self._expiry.stop()

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if event.type() in (event.Type.PaletteChange, event.Type.StyleChange):
            self._apply_colour()

    def _apply_colour(self) -> None:
        if self._notice is not None and self._notice.level is Level.ERROR:
            colour = theme.error_text(self.palette()).name()
            self._text.setStyleSheet(f"color: {colour}; font-weight: bold;")
        else:
            self._text.setStyleSheet("")

    def _on_expiry_timeout(self) -> None:
        if self._sticky is not None and self._sticky is not self._notice:
            self._display(self._sticky)  # what still holds (a missing file, a key on screen) comes back
            return
        self.clear()
