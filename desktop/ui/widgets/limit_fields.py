"""The limit fields Generate and the Limits dialog share: a rate limit, credits and their refill period.

Checked as typed by the command line's own rules and words (core/limit_input.py: `apikeys limit` and `create`),
each message naming the field as the window labels it. A refill period refills to the credits typed, as the
contract has it. Not a widget of its own: the dialogs add its rows (`rows()`) to their forms, so that the labels
line up with the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from desktop.core.errors import InvalidInput
from desktop.core.limit_input import parse_credits, parse_rate, parse_refill
from desktop.core.presentation import rate_phrase
from desktop.core.values import Limits, Rate, Refill
from desktop.ui import theme

#: The refill combo's items and the periods they stand for (`apikeys limit --refill N/PERIOD`).
REFILL_CHOICES = (("None", None), ("Daily", "day"), ("Weekly", "week"), ("Monthly", "month"))
#: What a message calls each field: the labels' words.
RATE_FIELD, CREDITS_FIELD, REFILL_FIELD = "Rate limit", "Credits", "Refill"
#: A refill period chosen with no credits typed.
REFILL_NEEDS_CREDITS = "A refill sets the credits to the number in Credits each period: type one, or choose None."

#: What the fields ask for: rate, credits, refill given (absent: leave as each key has it).
LimitsChange = dict[str, Any]


def _norm(text: str) -> str:
    return text.strip().lower()


def _changed(parse: Callable[[str], object], text: str, shown: str, differ: bool) -> bool:
    """Whether `text` says something else than `shown` did (`10000` is `10,000`, `100/60s` is `100/1m`); where
    the keys differ (`differ`, the field shown empty), anything typed, `none` too, is a change."""
    if differ:
        return bool(_norm(text))
    if _norm(text) == shown:
        return False
    try:
        return parse(text) != parse(shown)
    except InvalidInput:
        return True


def limits_summary(rate: Rate | None, credits: int | None, refill: Refill | None) -> str:
    """What a key with these limits accepts, in a sentence."""
    if rate is None and credits is None:
        return "No limits: every verify of an active key is accepted."
    parts = []
    if rate is not None:
        parts.append(f"at most {rate_phrase(rate)}")
    if credits is not None:
        each = "" if refill is None else f", refilled to {refill.amount:,} each {refill.period} (UTC)"
        parts.append(f"{credits:,} credit{'' if credits == 1 else 's'} (a verify costs 1){each}")
    text = "; ".join(parts)
    return f"{text[0].upper()}{text[1:]}."


class LimitFields(QObject):
    """The three fields and a line under them that says what they mean, or why they cannot be used."""

    #: A field changed (typed or chosen): the dialog checks again.
    changed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.rate_edit = QLineEdit(parent)
        self.rate_edit.setObjectName("rateEdit")
        self.rate_edit.setAccessibleName(RATE_FIELD)
        self.rate_edit.setPlaceholderText("none, or e.g. 100/1m for 100 per minute")
        self.rate_edit.setToolTip(
            "At most N valid verifies in any window of the period: a number and s, m, h or d (100/1m, 5000/1h). "
            "Empty: no rate limit."
        )
        self.credits_edit = QLineEdit(parent)
        self.credits_edit.setObjectName("creditsEdit")
        self.credits_edit.setAccessibleName(CREDITS_FIELD)
        self.credits_edit.setPlaceholderText("none, or e.g. 10000")
        self.credits_edit.setToolTip("A balance of credits; each valid verify costs 1. Empty: no credits limit.")
        self.refill_combo = QComboBox(parent)
        self.refill_combo.setObjectName("refillCombo")
        self.refill_combo.setAccessibleName("Refill period")
        self.refill_combo.setToolTip("Set the credits back to the number typed at the start of each period (UTC)")
        for text, period in REFILL_CHOICES:
            self.refill_combo.addItem(text, period)
        self.credits_row = QWidget(parent)
        row = QHBoxLayout(self.credits_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.credits_edit, 1)
        refill_label = QLabel("Re&fill:", self.credits_row)
        refill_label.setBuddy(self.refill_combo)
        row.addWidget(refill_label)
        row.addWidget(self.refill_combo)
        self.hint = QLabel(parent)
        self.hint.setObjectName("limitsHint")
        self.hint.setWordWrap(True)
        #: What the fields showed when filled (`show_limits`): only a field changed from it is applied.
        self._shown: tuple[str, str, int] = ("", "", 0)
        #: Whether the keys shown differ in their rate, their credits (an empty field then keeps each key's).
        self._rate_differ = self._credits_differ = False
        self.rate_edit.textChanged.connect(self.changed)
        self.credits_edit.textChanged.connect(self.changed)
        self.refill_combo.currentIndexChanged.connect(self.changed)

    def rows(self) -> list[tuple[str, QWidget]]:
        """(label, widget) for the dialog's form."""
        return [("Rate &limit:", self.rate_edit), ("C&redits:", self.credits_row), ("", self.hint)]

    def widgets(self) -> tuple[QWidget, ...]:
        return self.rate_edit, self.credits_edit, self.refill_combo

    def show_limits(self, limits: Sequence[Limits], *, differ: str = "differs") -> None:
        """Filled with these keys' limits: a value they share is shown; one they differ on is left empty, its
        placeholder saying so (`differ`), and left as each key has it unless typed in. The credits shown are
        what a refill sets them to, where there is one (the balance left is said beside the fields)."""
        rates = {str(lim.rate) if lim.rate is not None else "" for lim in limits}
        credits = {
            "" if lim.credits is None else f"{lim.refill.amount if lim.refill is not None else lim.credits:,}"
            for lim in limits
        }
        periods = {None if lim.refill is None else lim.refill.period for lim in limits}
        if len(rates) == 1:
            self.rate_edit.setText(rates.pop())
        else:
            self.rate_edit.setPlaceholderText(f"{differ} (empty: keep each; none: remove)")
            self._rate_differ = True
        if len(credits) == 1:
            self.credits_edit.setText(credits.pop())
        else:
            self.credits_edit.setPlaceholderText(f"{differ} (empty: keep each; none: remove)")
            self._credits_differ = True
        if len(periods) == 1:
            self.refill_combo.setCurrentIndex(self.refill_combo.findData(periods.pop()))
        else:
            self.refill_combo.setPlaceholderText(differ)
            self.refill_combo.setCurrentIndex(-1)
        self._shown = (_norm(self.rate_edit.text()), _norm(self.credits_edit.text()), self.refill_combo.currentIndex())

    def values(self) -> tuple[Rate | None, int | None, Refill | None]:
        """Every field as typed (Generate); raises InvalidInput with the command line's message."""
        rate = parse_rate(self.rate_edit.text(), RATE_FIELD)
        credits = parse_credits(self.credits_edit.text(), CREDITS_FIELD)
        return rate, credits, self._refill(credits, known=True)

    def change(self) -> LimitsChange:
        """Only what was changed from what `show_limits` showed (the Limits dialog); raises InvalidInput."""
        rate_text, credits_text, index = (
            self.rate_edit.text(),
            self.credits_edit.text(),
            self.refill_combo.currentIndex(),
        )
        shown_rate, shown_credits, shown_index = self._shown
        given: LimitsChange = {}
        if _changed(parse_rate, rate_text, shown_rate, self._rate_differ):
            given["rate"] = parse_rate(rate_text, RATE_FIELD)
        credits_changed = _changed(parse_credits, credits_text, shown_credits, self._credits_differ)
        if credits_changed or index != shown_index:
            credits = parse_credits(credits_text, CREDITS_FIELD)
            # Empty where the keys differ means "keep": no number to refill to.
            known = bool(_norm(credits_text)) or not self._credits_differ
            if credits_changed:
                given["credits"] = credits
            if index >= 0:  # -1: the keys' refills differ and none was chosen: each keeps its own
                given["refill"] = self._refill(credits, known=known)
        return given

    def show_hint(self, text: str, *, error: bool = False) -> None:
        """The line under the fields: what they mean, or (`error`) why they cannot be used, in the error colour."""
        self.hint.setText(text)
        self.hint.setStyleSheet(f"color: {theme.error_text(self.hint.palette()).name()};" if error else "")
        self.hint.setProperty("level", "error" if error else "hint")

    def _refill(self, credits: int | None, *, known: bool) -> Refill | None:
        period = self.refill_combo.currentData()
        if period is None:
            return None
        if credits is None or not known:
            raise InvalidInput(REFILL_NEEDS_CREDITS)
        return parse_refill(f"{credits}/{period}", REFILL_FIELD)
