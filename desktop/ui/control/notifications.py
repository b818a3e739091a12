"""One notifier for every outcome (it logs as it shows), the status-bar area that shows it, the slot guard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QSizePolicy, QToolButton, QWidget

from desktop.ui import theme
from desktop.ui.control.error_policy import Level as Level  # the notices' levels, imported from here by the UI
from desktop.ui.control.error_policy import Outcome, decide
from desktop.ui.control.guard import guarded as guarded  # where the UI has always imported it from
from desktop.ui.text import plain_tooltip

if TYPE_CHECKING:
    from desktop.core.operations import Operation
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

    def report(self, err: BaseException, operation: Operation, record: KeyRecord | None = None) -> Outcome:
        """Decide (error_policy.decide), log the decision with the error, show it; the caller acts on `reload`."""
        outcome = decide(err, operation, record)
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
    """Icon plus text in the status bar; errors in the palette's error colour, shown longer.

    Nothing said is ever out of reach: a message too long for the bar gets a "More…" button (and its tool tip)
    that shows it whole, and the last error stays a click away (the red button) after it times out or another
    message takes its place, until the next error.
    """

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
        #: The error said last: reachable until the next error (lastErrorButton), whatever is shown meanwhile.
        self._last_error: Notice | None = None
        self.more_button = QToolButton(self)
        self.more_button.setObjectName("noticeMoreButton")
        self.more_button.setText("More…")
        self.more_button.setAutoRaise(True)
        self.more_button.setAccessibleName("Show the whole message")
        self.more_button.clicked.connect(self._on_more_button_clicked)
        self.more_button.hide()
        self.last_error_button = QToolButton(self)
        self.last_error_button.setObjectName("lastErrorButton")
        self.last_error_button.setAutoRaise(True)
        self.last_error_button.setText("Last error")
        self.last_error_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.last_error_button.setAccessibleName("Show the last error")
        self.last_error_button.clicked.connect(self._on_last_error_button_clicked)
        self.last_error_button.hide()
        self.details_box: QMessageBox | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(6)
        layout.addWidget(self._icon)
        layout.addWidget(self._text, 1)
        layout.addWidget(self.more_button)
        layout.addWidget(self.last_error_button)
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

    def last_error(self) -> Notice | None:
        return self._last_error

    def _display(self, notice: Notice) -> None:
        self._notice = notice
        if notice.level is Level.ERROR:
            self._last_error = notice
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
        self._update_buttons()

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
        self._update_buttons()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._update_buttons()

    def elided(self) -> bool:
        """Whether the message shown is cut short at the bar's width now."""
        return bool(self._text.text()) and self._text.shown_text() != self._text.text()

    def _update_buttons(self) -> None:
        # With the button shown the text only has less room: shown while the text does not fit, never flickering.
        self.more_button.setVisible(self._notice is not None and self.elided())
        if self._notice is not None:
            self.more_button.setToolTip(plain_tooltip(self._notice.text))
        error = self._last_error
        self.last_error_button.setVisible(error is not None and error is not self._notice)
        if error is not None:
            self.last_error_button.setIcon(theme.icon("error"))
            self.last_error_button.setToolTip(plain_tooltip(f"Last error: {error.text}"))

    def _on_more_button_clicked(self) -> None:
        if self._notice is not None:
            self.show_whole(self._notice)

    def _on_last_error_button_clicked(self) -> None:
        if self._last_error is not None:
            self.show_whole(self._last_error)

    def show_whole(self, notice: Notice) -> None:
        """The whole text in a small window of its own, selectable (to copy into a bug report or a search)."""
        box = self.details_box
        if box is None:
            box = QMessageBox(self.window())
            box.setObjectName("noticeDetailsDialog")
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setStandardButtons(QMessageBox.StandardButton.Close)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.destroyed.connect(self._on_details_box_destroyed)
            self.details_box = box
        error = notice.level is Level.ERROR
        box.setIcon(QMessageBox.Icon.Critical if error else QMessageBox.Icon.Information)
        box.setWindowTitle("Error" if error else "Message")  # Qt appends the app name
        box.setText(notice.text)
        box.open()

    def _on_details_box_destroyed(self) -> None:
        self.details_box = None

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
