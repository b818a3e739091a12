"""The rename, roll and scopes dialogs: what they say, and that they never clip at any font size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.clock import FixedClock
from desktop.core.presentation import local_moment
from desktop.core.values import KeyRecord
from desktop.ui.dialogs.rename_dialog import RenameDialog
from desktop.ui.dialogs.roll_dialog import RollDialog
from desktop.ui.dialogs.scopes_dialog import ScopesDialog, parse_scopes
from tests.ui.dialogs.test_dialog_layout import clipped_labels
from tests.ui.widgets import child

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
LONG = "Partner integration: Acme Logistics shipment webhooks and tracking callbacks for all regions " * 2


def _record(*, expires_at: datetime | None = None, active: bool = True, description: str = "Billing") -> KeyRecord:
    return KeyRecord(7, "ak_AbCd…WxYz", description, NOW - timedelta(days=3), expires_at, active, None, ("a:b",))


def _until(dialog: QDialog) -> str:
    return child(dialog, QLabel, "graceUntilLabel").text()


def _local(moment: datetime) -> str:
    """The moment as every expiry is said (`12:00 tomorrow`, else `2031-03-08 12:00`), at local time."""
    return local_moment(moment, NOW)


@pytest.fixture
def app_font(qapp: QApplication) -> Iterator[None]:
    saved = QApplication.font()
    yield
    QApplication.setFont(saved)


def test_roll_dialog_says_until_when_for_each_grace(qtbot: QtBot) -> None:
    dialog = RollDialog(_record(), clock=FixedClock(NOW))
    qtbot.addWidget(dialog)
    combo = child(dialog, QComboBox, "graceCombo")
    assert combo.currentText() == "24 hours"  # the CLI's default too
    assert _local(NOW + timedelta(hours=24)) in _until(dialog)
    combo.setCurrentText("7 days")
    assert dialog.grace() == timedelta(days=7) and _local(NOW + timedelta(days=7)) in _until(dialog)
    combo.setCurrentText("Immediately")
    assert dialog.grace() == timedelta(0) and "immediately" in _until(dialog)


def test_roll_dialog_counts_the_keys_own_expiry_when_sooner(qtbot: QtBot) -> None:
    expiry = NOW + timedelta(hours=5)
    dialog = RollDialog(_record(expires_at=expiry), clock=FixedClock(NOW))
    qtbot.addWidget(dialog)
    child(dialog, QComboBox, "graceCombo").setCurrentText("7 days")
    assert _local(expiry) in _until(dialog) and "own expiry" in _until(dialog)
    child(dialog, QComboBox, "graceCombo").setCurrentText("1 hour")
    assert _local(NOW + timedelta(hours=1)) in _until(dialog) and "own expiry" not in _until(dialog)


@pytest.mark.parametrize(
    ("record", "word"),
    [(_record(active=False), "inactive"), (_record(expires_at=NOW - timedelta(days=1)), "expired")],
)
def test_roll_dialog_says_the_new_key_copies_an_inactive_or_expired_state(
    qtbot: QtBot, record: KeyRecord, word: str
) -> None:
    dialog = RollDialog(record, clock=FixedClock(NOW))
    qtbot.addWidget(dialog)
    assert f"starts {word} too" in _until(dialog)


def test_scopes_are_parsed_by_the_cores_rule() -> None:
    assert parse_scopes(" orders:write,billing:read  billing:read ") == ("billing:read", "orders:write")
    assert parse_scopes("") == ()
    with pytest.raises(Exception, match="Invalid scope 'Bad'"):
        parse_scopes("ok Bad")


def test_rename_dialog_starts_from_the_description_and_refuses_blank(qtbot: QtBot) -> None:
    dialog = RenameDialog(_record(description="Billing"))
    qtbot.addWidget(dialog)
    edit = child(dialog, QLineEdit, "descriptionEdit")
    button = child(dialog, QPushButton, "renameConfirmButton")
    assert edit.text() == "Billing" and button.isEnabled()
    edit.setText("")
    assert not button.isEnabled() and child(dialog, QLabel, "errorLabel").text()
    with qtbot.assertNotEmitted(dialog.renameRequested):
        button.click()


@pytest.mark.parametrize("scale", [1.0, 1.6, 2.2])
@pytest.mark.parametrize("make", ["roll", "rename", "scopes"])
def test_lifecycle_dialogs_never_clip(qtbot: QtBot, app_font: None, scale: float, make: str) -> None:
    font = QFont(QApplication.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    QApplication.setFont(font)
    record = _record(description=LONG)
    dialog: QDialog
    if make == "roll":
        dialog = RollDialog(record, clock=FixedClock(NOW))
    elif make == "rename":
        dialog = RenameDialog(record)
    else:
        dialog = ScopesDialog(record)
        child(dialog, QLineEdit, "scopesEdit").setText("Not A Scope")  # the longest message it shows
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    assert clipped_labels(dialog) == []
