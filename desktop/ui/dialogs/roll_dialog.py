"""Roll a key: choose how long the old key keeps working; the new key is shown once after the commit."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QWidget

from desktop.core.clock import SYSTEM_CLOCK, Clock
from desktop.core.presentation import expiry_phrase
from desktop.core.values import Status
from desktop.ui.dialogs.dialog_parts import confirm_buttons, error_label, form, intro_label, say_problem, stack

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord

#: The choices of `graceCombo`, in the contract's words and order.
GRACES = (
    ("Immediately", timedelta(0)),
    ("1 hour", timedelta(hours=1)),
    ("24 hours", timedelta(hours=24)),
    ("7 days", timedelta(days=7)),
    ("30 days", timedelta(days=30)),
)
DEFAULT_GRACE_INDEX = 2


def retire_at(record: KeyRecord, grace: timedelta, now: datetime) -> datetime:
    """When the old key stops working: after the grace, or at its own expiry if that comes first (as the store)."""
    end = now + grace
    return end if record.expires_at is None else min(record.expires_at, end)


def old_key_text(record: KeyRecord, grace: timedelta, now: datetime) -> str:
    status = record.status(now)
    if status is Status.INACTIVE:
        return "This key is inactive: the new key starts inactive too, and the old one stays rejected."
    if status is Status.EXPIRED:
        return "This key has expired: the new key copies its expiry, so it starts expired too."
    end = retire_at(record, grace, now)
    if end <= now:
        return "The old key stops working immediately: clients using it are rejected from now on."
    own = record.expires_at is not None and end == record.expires_at and end < now + grace
    # One rule with the table and the CLI: its own date expiry reads as its last day, a grace's end as a time.
    return (
        f"The old key keeps working {expiry_phrase(end, now).removeprefix('valid ')}"
        + (", its own expiry, which comes first" if own else "")
        + ", then clients using it are rejected."
    )


class RollDialog(QDialog):
    """Asks; does not store. The owner reads `grace()` on `rollRequested` and closes it when the roll is done."""

    rollRequested = Signal()

    def __init__(self, record: KeyRecord, parent: QWidget | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(parent)
        self.setObjectName("rollDialog")
        self.setWindowTitle("Roll API Key")
        self.setModal(True)
        self.record = record
        self._clock = clock

        intro = intro_label(
            self,
            f"Replace <b>{html.escape(record.masked)}</b> (“{html.escape(record.description)}”) with a new key. "
            "The new key keeps its description, expiry, scopes and state; it is shown once.",
            rich=True,
        )
        self.grace_combo = QComboBox(self)
        self.grace_combo.setObjectName("graceCombo")
        self.grace_combo.setAccessibleName("Old key keeps working for")
        for label, grace in GRACES:
            self.grace_combo.addItem(label, grace)
        self.grace_combo.setCurrentIndex(DEFAULT_GRACE_INDEX)
        self.until_label = QLabel(self)
        self.until_label.setObjectName("graceUntilLabel")
        self.until_label.setWordWrap(True)
        self.until_label.setTextFormat(Qt.TextFormat.PlainText)
        self.until_label.setMinimumHeight(self.until_label.fontMetrics().lineSpacing() * 2)
        self.error_label = error_label(self)
        self.error_label.hide()

        self.buttons, self.confirm_button = confirm_buttons(self, "Roll Key", "roll")
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)

        rows = form(self, [("Old key works for:", self.grace_combo)])
        stack(self, intro, rows, self.until_label, self.error_label, self.buttons, min_width=496, chars=64)
        self.grace_combo.currentIndexChanged.connect(self._on_grace_combo_current_index_changed)
        self._refresh()

    def grace(self) -> timedelta:
        value = self.grace_combo.currentData()
        assert isinstance(value, timedelta)
        return value

    def set_busy(self, busy: bool) -> None:
        self.grace_combo.setEnabled(not busy)
        self.confirm_button.setEnabled(not busy)
        self.confirm_button.setText("Rolling…" if busy else "Roll Key")

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        say_problem(self.error_label, message)
        self.error_label.show()

    def _refresh(self) -> None:
        self.until_label.setText(old_key_text(self.record, self.grace(), self._clock.now()))

    def _on_grace_combo_current_index_changed(self, _index: int) -> None:
        self._refresh()

    def _on_confirm_button_clicked(self) -> None:
        self._refresh()  # "until" counted from now, not from when the dialog opened
        self.set_busy(True)
        self.rollRequested.emit()
