"""Set the rate limit, credits and refill of one key or of several selected keys.

Opened at once with its fields off while the keys' current limits are read (`set_current`); then it shows the
values the keys share, and for those they differ on an empty field that says so. Only what was changed is applied
(a field left as it is keeps each key's own), and the line under the fields says what applying does.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from desktop.core.errors import InvalidInput
from desktop.core.presentation import limits_text, rate_phrase, shorten
from desktop.core.values import Limits
from desktop.ui.dialogs.dialog_parts import confirm_buttons, error_label, form, intro_label, say_problem, stack
from desktop.ui.widgets.limit_fields import LimitFields, LimitsChange

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord, LimitState

#: Keys named one by one in the "now" line; the rest are counted.
NAMED = 3


def change_summary(given: LimitsChange, count: int) -> str:
    """What applying does, in a sentence: what it sets, and what it keeps."""
    if not given:
        if count > 1:
            return f"Change a field to apply it to all {count:,} keys; an empty field keeps each key's own."
        return "Change a field to apply it; empty means no limit."
    parts = []
    if "rate" in given:
        rate = given["rate"]
        parts.append("no rate limit" if rate is None else f"a rate limit of {rate_phrase(rate)}")
    if "credits" in given:
        credits = given["credits"]
        parts.append("no credits limit" if credits is None else f"the credits to {credits:,} now")
    refill = given.get("refill", given.get("credits", False))  # no credits: no refill either
    if refill is None:
        parts.append("no refill")
    elif "refill" in given:
        parts.append(f"a refill to {refill.amount:,} each {refill.period} (UTC)")
    kept = [name for key, name in (("rate", "rate limit"), ("credits", "credits")) if key not in given]
    if refill is False:
        kept.append("refill")
    whose = "each key's" if count > 1 else "the"
    keeps = f"; keeps {whose} {' and '.join(kept)}" if kept else ""
    keys = f" to {count:,} keys" if count > 1 else ""
    return f"Applying{keys} sets {', '.join(parts)}{keeps}."


class LimitsDialog(QDialog):
    """Asks; does not store. The owner reads `change()` on `limitsRequested`."""

    limitsRequested = Signal()

    def __init__(self, records: Sequence[KeyRecord], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("limitsDialog")
        self.setWindowTitle("API Key Limits")
        self.setModal(True)
        #: The keys it changes (KeyDialogFlow hands them to the controller).
        self.record = tuple(records)
        self._busy = True  # until the current limits are read
        self._loaded = False
        count = len(self.record)
        if count == 1:
            first = self.record[0]
            about = f"Limits of <b>{first.masked}</b> (“{html.escape(shorten(first.description))}”)."
        else:
            about = f"Limits of <b>{count:,} keys</b>. A field you leave as it is keeps each key's own."
        intro = intro_label(
            self,
            f"{about} A verify over the rate limit is rejected as rate limited; one with no credits left, as out of "
            "credits. Empty means no limit.",
            rich=True,
        )
        self.now_label = QLabel("Reading the current limits…", self)
        self.now_label.setObjectName("limitsNowLabel")
        self.now_label.setTextFormat(Qt.TextFormat.PlainText)
        self.now_label.setWordWrap(True)
        self.fields = LimitFields(self)
        self.rate_edit, self.credits_edit, self.refill_combo = self.fields.widgets()
        rows = form(self, self.fields.rows())
        self.error_label = error_label(self, lines=2)
        self.buttons, self.confirm_button = confirm_buttons(self, "Apply Limits", "limits")
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)

        stack(self, intro, self.now_label, rows, self.error_label, self.buttons, min_width=480, chars=72)
        self.fields.changed.connect(self._refresh)
        self.set_busy(True)

    # -- what the owner tells it --

    def set_current(self, states: Mapping[int, LimitState]) -> None:
        """The keys' limits now (a key absent has none): the fields show them, and can be changed."""
        limits = [states[r.id].limits if r.id in states else Limits() for r in self.record]
        self.fields.show_limits(limits)
        if len(limits) == 1:
            self.now_label.setText(f"Now: {limits_text(limits[0])}.")
        else:
            limited = [r for r, lim in zip(self.record, limits, strict=True) if lim.any]
            named = ", ".join(r.masked for r in limited[:NAMED]) + (", …" if len(limited) > NAMED else "")
            how_many = (
                f"all {len(limits):,}" if len(limited) == len(limits) else f"{len(limited):,} of the {len(limits):,}"
            )
            self.now_label.setText(f"Now: {how_many} keys have limits{f' ({named})' if limited else ''}.")
        self._loaded = True
        self.set_busy(False)

    def set_unreadable(self, reason: str) -> None:
        """The current limits could not be read: nothing can be changed (what it would keep is unknown)."""
        self.now_label.setText(f"Could not read the current limits: {reason}")
        self._refresh()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in self.fields.widgets():
            widget.setEnabled(not busy)
        self._refresh()

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        say_problem(self.error_label, message)

    def change(self) -> LimitsChange:
        """What applying sets (only fields changed); raises InvalidInput with the CLI's message."""
        return self.fields.change()

    # -- inside --

    def _refresh(self) -> None:
        if not self._loaded:
            self.confirm_button.setEnabled(False)
            return
        try:
            given = self.change()
        except InvalidInput as err:
            self.fields.show_hint(err.message, error=True)
            self.confirm_button.setEnabled(False)
            return
        self.fields.show_hint(change_summary(given, len(self.record)))
        self.confirm_button.setEnabled(bool(given) and not self._busy)

    def _on_confirm_button_clicked(self) -> None:
        self._refresh()
        if not self.confirm_button.isEnabled():
            return
        say_problem(self.error_label, None)
        self.set_busy(True)
        self.confirm_button.setEnabled(False)
        self.limitsRequested.emit()
