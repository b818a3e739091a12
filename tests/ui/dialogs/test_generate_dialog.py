"""The Generate dialog built alone: its date edit, presets, inline errors and counter, on a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDateEdit, QDialog, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.clock import FixedClock
from desktop.ui.dialogs.generate_dialog import ExpiryCalendar, GenerateKeyDialog
from tests.ui.widgets import child


def _clock(day: date) -> FixedClock:
    # Noon UTC is the same calendar day in every time zone from UTC-11 to UTC+11.
    return FixedClock(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


DialogFactory = Callable[..., GenerateKeyDialog]


@pytest.fixture
def make_dialog(qtbot: QtBot) -> Iterator[DialogFactory]:
    def make(day: date = date(2031, 3, 18)) -> GenerateKeyDialog:
        dialog = GenerateKeyDialog(clock=_clock(day))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    yield make


def test_date_edit_starts_today_and_is_off_until_asked(make_dialog: DialogFactory) -> None:
    dialog = make_dialog(date(2031, 3, 18))
    edit = child(dialog, QDateEdit, "expiryEdit")
    assert edit.calendarPopup()
    # The calendar starts today; the edit takes any date typed, and says why a past one cannot be used.
    calendar = edit.calendarWidget()
    assert isinstance(calendar, ExpiryCalendar)
    assert calendar.first.toPython() == date(2031, 3, 18)
    assert edit.date().toPython() == date(2031, 4, 17)
    assert not edit.isEnabled()
    child(dialog, QCheckBox, "expiryEnabled").setChecked(True)
    assert edit.isEnabled()


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2031, 3, 18), date(2032, 3, 18)),
        (date(2028, 2, 29), date(2029, 2, 28)),  # a leap day: a year later there is none
    ],
)
def test_the_one_year_preset_is_a_calendar_year(
    qtbot: QtBot, make_dialog: DialogFactory, today: date, expected: date
) -> None:
    dialog = make_dialog(today)
    qtbot.mouseClick(dialog.findChild(QPushButton, "preset365Button"), Qt.MouseButton.LeftButton)
    assert child(dialog, QDateEdit, "expiryEdit").date().toPython() == expected
    assert dialog.expires_on() == expected


def test_blank_description_is_refused_inline_with_a_counter(qtbot: QtBot, make_dialog: DialogFactory) -> None:
    dialog = make_dialog()
    description = child(dialog, QLineEdit, "descriptionEdit")
    qtbot.keyClicks(description, "   ")
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    assert not confirm.isEnabled()
    error = child(dialog, QLabel, "errorLabel")
    assert error.isVisible() and "required" in error.text()
    assert description.maxLength() > 256  # longer text is refused with a reason, not cut (test_window_tryout)
    assert child(dialog, QLabel, "descriptionCounter").text() == "0 / 256"
    qtbot.keyClicks(description, "ok")
    assert confirm.isEnabled() and not error.isVisible()
    assert child(dialog, QLabel, "descriptionCounter").text() == "2 / 256"


def test_cancel_rejects_and_generate_asks_without_storing(qtbot: QtBot, make_dialog: DialogFactory) -> None:
    dialog = make_dialog()
    requested: list[bool] = []
    dialog.generateRequested.connect(lambda: requested.append(True))
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    qtbot.mouseClick(dialog.findChild(QPushButton, "generateConfirmButton"), Qt.MouseButton.LeftButton)
    assert requested == [True] and dialog.description() == "Billing"
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected


# -- issue 21.6: a typed expiry that is incomplete or past is named inline, never silently undone -----------


def _type_expiry(qtbot: QtBot, dialog: GenerateKeyDialog, text: str) -> QDateEdit:
    """Tick the expiry box, then select the date's whole text and type `text` over it, as a person would."""
    qtbot.mouseClick(dialog.findChild(QCheckBox, "expiryEnabled"), Qt.MouseButton.LeftButton)
    edit = child(dialog, QDateEdit, "expiryEdit")
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)
    return edit


def test_a_past_date_typed_is_kept_named_and_refused(qtbot: QtBot, make_dialog: DialogFactory) -> None:
    dialog = make_dialog(date(2031, 3, 18))
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    hint = child(dialog, QLabel, "expiryHint")
    edit = _type_expiry(qtbot, dialog, "2031-03-01")
    assert edit.text() == "2031-03-01"  # every digit typed is there
    assert hint.text() == "The expiry date 2031-03-01 is in the past; choose 2031-03-18 or later."
    assert hint.property("level") == "error"
    assert not confirm.isEnabled()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)  # leaving the field changes nothing
    qtbot.waitUntil(lambda: not edit.hasFocus())
    assert edit.text() == "2031-03-01" and not confirm.isEnabled()
    assert "in the past" in hint.text()
    # Generate refuses too (Enter), and asks nothing of its owner.
    requested: list[bool] = []
    dialog.generateRequested.connect(lambda: requested.append(True))
    confirm.click()
    assert requested == []
    # Today is fine again.
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, "2031-03-18")
    assert confirm.isEnabled() and hint.property("level") == "hint"
    assert hint.text() == "Valid through the end of 2031-03-18 (local time), then rejected."
    assert dialog.expires_on() == date(2031, 3, 18)


def test_an_incomplete_date_is_named_and_survives_tab(qtbot: QtBot, make_dialog: DialogFactory) -> None:
    dialog = make_dialog(date(2031, 3, 18))
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    hint = child(dialog, QLabel, "expiryHint")
    edit = _type_expiry(qtbot, dialog, "2031-04-0")
    assert edit.text() == "2031-04-0"
    assert hint.text() == "“2031-04-0” is not a whole date: type it as YYYY-MM-DD."
    assert "2031-04-17" not in hint.text()  # no stale "Valid through" beside what was typed
    assert not confirm.isEnabled()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not edit.hasFocus())
    assert edit.text() == "2031-04-0", "the typed text was silently replaced"
    assert "not a whole date" in hint.text() and not confirm.isEnabled()
    # Back in the field, the last digit completes it.
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    assert edit.text() == "2031-04-0"
    qtbot.keyClick(edit, Qt.Key.Key_End)
    qtbot.keyClicks(edit, "5")
    assert edit.text() == "2031-04-05"
    assert confirm.isEnabled() and dialog.expires_on() == date(2031, 4, 5)
    # Unticking the expiry drops its complaint: the key never expires.
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, "2031-0")
    assert "not a whole date" in hint.text() and not confirm.isEnabled()
    child(dialog, QCheckBox, "expiryEnabled").setChecked(False)
    assert confirm.isEnabled() and hint.text() == "The key never expires."
