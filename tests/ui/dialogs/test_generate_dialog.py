"""The Generate dialog built alone: its date edit, presets, inline errors and counter, on a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDateEdit, QDialog, QLabel, QLineEdit, QPushButton

from desktop.core.clock import FixedClock
from desktop.ui.dialogs.generate_dialog import GenerateKeyDialog


def _clock(day: date) -> FixedClock:
    # Noon UTC is the same calendar day in every time zone from UTC-11 to UTC+11.
    return FixedClock(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


@pytest.fixture
def make_dialog(qtbot) -> Iterator[object]:  # type: ignore[no-untyped-def]
    def make(day: date = date(2031, 3, 18)) -> GenerateKeyDialog:
        dialog = GenerateKeyDialog(clock=_clock(day))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    yield make


def test_date_edit_starts_today_and_is_off_until_asked(make_dialog) -> None:  # type: ignore[no-untyped-def]
    dialog = make_dialog(date(2031, 3, 18))
    edit = dialog.findChild(QDateEdit, "expiryEdit")
    assert edit.calendarPopup()
    assert edit.minimumDate().toPython() == date(2031, 3, 18)
    assert not edit.isEnabled()
    dialog.findChild(QCheckBox, "expiryEnabled").setChecked(True)
    assert edit.isEnabled()


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2031, 3, 18), date(2032, 3, 18)),
        (date(2028, 2, 29), date(2029, 2, 28)),  # a leap day: a year later there is none
    ],
)
def test_the_one_year_preset_is_a_calendar_year(qtbot, make_dialog, today: date, expected: date) -> None:  # type: ignore[no-untyped-def]
    dialog = make_dialog(today)
    qtbot.mouseClick(dialog.findChild(QPushButton, "preset365Button"), Qt.MouseButton.LeftButton)
    assert dialog.findChild(QDateEdit, "expiryEdit").date().toPython() == expected
    assert dialog.expires_on() == expected


def test_blank_description_is_refused_inline_with_a_counter(qtbot, make_dialog) -> None:  # type: ignore[no-untyped-def]
    dialog = make_dialog()
    description = dialog.findChild(QLineEdit, "descriptionEdit")
    qtbot.keyClicks(description, "   ")
    confirm = dialog.findChild(QPushButton, "generateConfirmButton")
    assert not confirm.isEnabled()
    error = dialog.findChild(QLabel, "errorLabel")
    assert error.isVisible() and "required" in error.text()
    assert description.maxLength() > 256  # longer text is refused with a reason, not cut (test_window_tryout)
    assert dialog.findChild(QLabel, "descriptionCounter").text() == "0 / 256"
    qtbot.keyClicks(description, "ok")
    assert confirm.isEnabled() and not error.isVisible()
    assert dialog.findChild(QLabel, "descriptionCounter").text() == "2 / 256"


def test_cancel_rejects_and_generate_asks_without_storing(qtbot, make_dialog) -> None:  # type: ignore[no-untyped-def]
    dialog = make_dialog()
    requested: list[bool] = []
    dialog.generateRequested.connect(lambda: requested.append(True))
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    qtbot.mouseClick(dialog.findChild(QPushButton, "generateConfirmButton"), Qt.MouseButton.LeftButton)
    assert requested == [True] and dialog.description() == "Billing"
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected
