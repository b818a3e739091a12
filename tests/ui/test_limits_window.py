"""Issue 25 item 3, limits in the window: Generate's limit fields, the Limits dialog (one key, several), and the
table's Credits column and Status cells. Real widgets, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import Limits, Rate, Refill, Verdict
from desktop.ui.control.key_table_model import COL_CREDITS, COL_STATUS
from desktop.ui.window.main_window import MainWindow
from tests.helpers import run_cli
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import click, deleted, row_of, select_keys, status, wait_for, wait_idle
from tests.ui.widgets import child


@pytest.fixture
def window_database(database: str) -> str:
    """make_window's windows open the parametrized database: a SQLite file, then a PostgreSQL database."""
    return database


@pytest.fixture
def store(window_database: str) -> Iterator[KeyStore]:
    with KeyStore.open(window_database, create=True) as opened:
        yield opened


def open_generate(qtbot: QtBot, window: MainWindow, description: str) -> QDialog:
    click(qtbot, window.findChild(QPushButton, "generateButton"))
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), description)
    return dialog


def test_generate_with_limits_gives_the_key_those_limits(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    window = make_window()
    dialog = open_generate(qtbot, window, "metered")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "rateEdit"), "100/1m")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "creditsEdit"), "10,000")
    child(dialog, QComboBox, "refillCombo").setCurrentText("Monthly")
    hint = child(dialog, QLabel, "limitsHint").text()
    assert hint == "At most 100 per minute; 10,000 credits (a verify costs 1), refilled to 10,000 each month (UTC)."
    click(qtbot, dialog.findChild(QPushButton, "generateConfirmButton"))
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    shown.reject()
    wait_idle(qtbot, window)
    (record,) = store.all()
    assert store.limits(record.id) == Limits(Rate(100, 60), 10_000, Refill(10_000, "month"))


def test_generate_without_limits_makes_an_unlimited_key(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    window = make_window()
    dialog = open_generate(qtbot, window, "plain")
    assert child(dialog, QLabel, "limitsHint").text().startswith("No limits")
    click(qtbot, dialog.findChild(QPushButton, "generateConfirmButton"))
    wait_for(qtbot, QDialog, "keyCreatedDialog").reject()
    wait_idle(qtbot, window)
    (record,) = store.all()
    assert store.limits(record.id) == Limits()


def test_a_bad_rate_in_generate_says_the_clis_words_and_keeps_the_dialog(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    key_id = store.create("for the CLI's message").record.id
    cli = run_cli("--database", store.location, "limit", str(key_id), "--rate", "100/1x")
    assert cli.returncode == 2
    window = make_window()
    dialog = open_generate(qtbot, window, "typed with care")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "rateEdit"), "100/1x")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "creditsEdit"), "500")
    hint = child(dialog, QLabel, "limitsHint")
    expected = cli.stderr.strip().removeprefix("apikeys: ").replace("--rate", "Rate limit", 1)
    assert hint.text() == expected and hint.property("level") == "error"
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    assert not confirm.isEnabled()
    click(qtbot, confirm)
    assert dialog.isVisible() and len(store.all()) == 1  # nothing created, nothing lost
    assert child(dialog, QLineEdit, "descriptionEdit").text() == "typed with care"
    assert child(dialog, QLineEdit, "creditsEdit").text() == "500"
    # A refill with no credits to refill to is named too; fixing both lets it through.
    rate = child(dialog, QLineEdit, "rateEdit")
    rate.clear()
    qtbot.keyClicks(rate, "5/1h")
    assert confirm.isEnabled()
    child(dialog, QLineEdit, "creditsEdit").clear()
    child(dialog, QComboBox, "refillCombo").setCurrentText("Daily")
    assert hint.text().startswith("A refill sets the credits") and not confirm.isEnabled()
    child(dialog, QComboBox, "refillCombo").setCurrentText("None")
    click(qtbot, confirm)
    wait_for(qtbot, QDialog, "keyCreatedDialog").reject()
    wait_idle(qtbot, window)
    newest = store.all()[0]
    assert newest.description == "typed with care" and store.limits(newest.id) == Limits(Rate(5, 3600))


def open_limits(qtbot: QtBot, window: MainWindow, *key_ids: int) -> QDialog:
    """Select these keys, Edit ▸ Limits…, and wait until the dialog shows their limits."""
    select_keys(window, *key_ids)
    action = child(window, QAction, "limitsAction")
    assert action.isEnabled()
    action.trigger()
    dialog = wait_for(qtbot, QDialog, "limitsDialog")
    qtbot.waitUntil(lambda: child(dialog, QLineEdit, "rateEdit").isEnabled())
    return dialog


def apply(qtbot: QtBot, window: MainWindow, dialog: QDialog) -> None:
    confirm = child(dialog, QPushButton, "limitsConfirmButton")
    assert confirm.isEnabled(), child(dialog, QLabel, "limitsHint").text()
    click(qtbot, confirm)
    qtbot.waitUntil(lambda: deleted(dialog) or not dialog.isVisible())  # closed (and deleted) once applied
    wait_idle(qtbot, window)


def retype(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_the_limits_dialog_on_one_key_shows_changes_and_clears(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    key_id = store.create("metered", rate=Rate(100, 60), credits=10_000, refill=Refill(10_000, "month")).record.id
    other = store.create("left alone", credits=5).record.id
    window = make_window()
    assert window.findChild(QAction, "limitsAction") in window.key_actions.edit_menu.actions()
    assert window.findChild(QAction, "limitsAction") in window.key_actions.key_menu.actions()
    dialog = open_limits(qtbot, window, key_id)
    rate, credits = child(dialog, QLineEdit, "rateEdit"), child(dialog, QLineEdit, "creditsEdit")
    refill = child(dialog, QComboBox, "refillCombo")
    assert [refill.itemText(i) for i in range(refill.count())] == ["None", "Daily", "Weekly", "Monthly"]
    assert (rate.text(), credits.text(), refill.currentText()) == ("100/1m", "10,000", "Monthly")
    assert not child(dialog, QPushButton, "limitsConfirmButton").isEnabled()  # nothing changed yet
    retype(qtbot, credits, "10000")  # the same number, spelt otherwise: still nothing to apply
    retype(qtbot, rate, "100/60s")
    assert not child(dialog, QPushButton, "limitsConfirmButton").isEnabled()
    retype(qtbot, rate, "5/1s")
    hint = child(dialog, QLabel, "limitsHint").text()
    assert hint == "Applying sets a rate limit of 5 per second; keeps the credits and refill."
    apply(qtbot, window, dialog)
    assert store.limits(key_id) == Limits(Rate(5, 1), 10_000, Refill(10_000, "month"))
    assert "Limits of " in status(window) and "rate 5/1s" in status(window)

    dialog = open_limits(qtbot, window, key_id)  # clearing: empty fields, refill None
    child(dialog, QLineEdit, "rateEdit").clear()
    child(dialog, QLineEdit, "creditsEdit").clear()
    child(dialog, QComboBox, "refillCombo").setCurrentText("None")
    apply(qtbot, window, dialog)
    assert store.limits(key_id) == Limits() and store.limits(other) == Limits(credits=5)
    assert "no limits" in status(window)


def test_a_bad_value_in_the_limits_dialog_keeps_it_open(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    key_id = store.create("careful").record.id
    window = make_window()
    dialog = open_limits(qtbot, window, key_id)
    qtbot.keyClicks(dialog.findChild(QLineEdit, "creditsEdit"), "ten")
    hint = child(dialog, QLabel, "limitsHint")
    assert hint.text().startswith("Credits must be a whole number") and hint.property("level") == "error"
    click(qtbot, dialog.findChild(QPushButton, "limitsConfirmButton"))
    assert dialog.isVisible() and store.limits(key_id) == Limits()
    dialog.reject()
    wait_idle(qtbot, window)


def test_the_limits_dialog_on_three_keys_applies_only_what_changed(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = [
        store.create("first", rate=Rate(10, 60), credits=100).record.id,
        store.create("second", rate=Rate(10, 60), credits=7, refill=Refill(7, "day")).record.id,
        store.create("third", rate=Rate(10, 60)).record.id,
    ]
    window = make_window()
    dialog = open_limits(qtbot, window, *ids)
    rate, credits = child(dialog, QLineEdit, "rateEdit"), child(dialog, QLineEdit, "creditsEdit")
    refill = child(dialog, QComboBox, "refillCombo")
    assert rate.text() == "10/1m"  # the same on all three
    assert credits.text() == "" and "differ" in credits.placeholderText()
    assert refill.currentIndex() == -1 and "differ" in refill.placeholderText()
    assert child(dialog, QLabel, "limitsNowLabel").text().startswith("Now: all 3 keys have limits (ak_")
    retype(qtbot, rate, "100/1h")
    hint = child(dialog, QLabel, "limitsHint").text()
    assert hint == "Applying to 3 keys sets a rate limit of 100 per hour; keeps each key's credits and refill."
    apply(qtbot, window, dialog)
    assert [store.limits(i) for i in ids] == [
        Limits(Rate(100, 3600), 100),
        Limits(Rate(100, 3600), 7, Refill(7, "day")),
        Limits(Rate(100, 3600)),
    ]
    assert "Changed the limits of 3 keys" in status(window)

    dialog = open_limits(qtbot, window, *ids)  # a refill needs a number when the keys' credits differ
    child(dialog, QComboBox, "refillCombo").setCurrentText("Weekly")
    assert child(dialog, QLabel, "limitsHint").text().startswith("A refill sets the credits")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "creditsEdit"), "50")
    apply(qtbot, window, dialog)
    assert all(store.limits(i) == Limits(Rate(100, 3600), 50, Refill(50, "week")) for i in ids)


def credits_cell(window: MainWindow, key_id: int) -> str:
    row = row_of(window, key_id)
    return str(window.model.index(row, COL_CREDITS).data())


def status_cell(window: MainWindow, key_id: int, role: int = Qt.ItemDataRole.DisplayRole) -> str:
    row = row_of(window, key_id)
    return str(window.model.index(row, COL_STATUS).data(role))


def test_the_table_shows_credits_and_a_limited_status(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    plain = store.create("plain")
    window = make_window(poll_interval_ms=100)
    assert window.table.isColumnHidden(COL_CREDITS)  # no key has limits: no empty column

    credited = store.create("credited", credits=3)
    rated = store.create("rated", rate=Rate(2, 3600))
    window.controller.refresh()
    qtbot.waitUntil(lambda: credits_cell(window, credited.record.id) == "3")
    assert not window.table.isColumnHidden(COL_CREDITS)
    assert credits_cell(window, plain.record.id) == "—" and credits_cell(window, rated.record.id) == "—"
    assert status_cell(window, credited.record.id) == "Active"

    while store.check(credited.key).verdict is Verdict.VALID:
        pass
    assert store.check(credited.key).verdict is Verdict.USAGE_EXCEEDED
    while store.check(rated.key).verdict is Verdict.VALID:
        pass
    assert store.check(rated.key).verdict is Verdict.RATE_LIMITED
    window.controller.refresh()  # what the file watch or LISTEN does after a change
    qtbot.waitUntil(lambda: status_cell(window, credited.record.id) == "Active · out of credits")
    qtbot.waitUntil(lambda: status_cell(window, rated.record.id) == "Active · rate limited")
    assert credits_cell(window, credited.record.id) == "0"
    assert status_cell(window, plain.record.id) == "Active"
    tip = status_cell(window, rated.record.id, Qt.ItemDataRole.ToolTipRole)
    assert "Rate limit 2 per hour; reached: the next verify is allowed in " in tip
    assert "Out of credits" in status_cell(window, credited.record.id, Qt.ItemDataRole.ToolTipRole)

    # Setting credits again from the window frees the key at once.
    dialog = open_limits(qtbot, window, credited.record.id)
    retype(qtbot, child(dialog, QLineEdit, "creditsEdit"), "10")
    apply(qtbot, window, dialog)
    qtbot.waitUntil(lambda: status_cell(window, credited.record.id) == "Active")
    assert credits_cell(window, credited.record.id) == "10"


def test_a_key_rate_limited_by_verify_alone_shows_it(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    """verify() of a big rate leaves its latest verifies waiting in the key's row (SQLite, migration 0015): the
    Status cell counts them as the next verify would."""
    rated = store.create("rated", rate=Rate(40, 3600))
    window = make_window()
    assert [store.verify(rated.key) for _ in range(40)] == [Verdict.VALID] * 40  # the last 8 waiting (SQLite)
    window.controller.refresh()
    qtbot.waitUntil(lambda: status_cell(window, rated.record.id) == "Active · rate limited")
    assert "Rate limit 40 per hour; reached" in status_cell(window, rated.record.id, Qt.ItemDataRole.ToolTipRole)
    assert store.verify(rated.key) is Verdict.RATE_LIMITED


def test_none_removes_a_limit_the_selected_keys_differ_on(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = [
        store.create("fast", rate=Rate(10, 1)).record.id,
        store.create("slow", rate=Rate(1, 60), credits=9).record.id,
    ]
    window = make_window()
    dialog = open_limits(qtbot, window, *ids)
    rate = child(dialog, QLineEdit, "rateEdit")
    assert rate.text() == "" and "none: remove" in rate.placeholderText()
    qtbot.keyClicks(rate, "none")
    hint = child(dialog, QLabel, "limitsHint").text()
    assert hint == "Applying to 2 keys sets no rate limit; keeps each key's credits and refill."
    apply(qtbot, window, dialog)
    assert [store.limits(i) for i in ids] == [Limits(), Limits(credits=9)]


def test_limits_for_a_key_deleted_meanwhile_close_the_dialog_and_say_so(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    doomed = store.create("deleted elsewhere").record.id
    window = make_window(poll_interval_ms=60_000)  # the deletion is found by the write, not by a poll
    dialog = open_limits(qtbot, window, doomed)
    qtbot.keyClicks(dialog.findChild(QLineEdit, "rateEdit"), "10/1m")
    store.delete(doomed)
    apply(qtbot, window, dialog)
    qtbot.waitUntil(lambda: "The list has been reloaded" in status(window))
    assert window.model.row_of(doomed) is None
