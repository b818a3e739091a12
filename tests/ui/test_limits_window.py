"""Issue 25 item 3, limits in the window: Generate's limit fields, the Limits dialog (one key, several), and the
table's Credits column and Status cells. Real widgets, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QLineEdit, QPushButton

from desktop.core.store import KeyStore
from desktop.core.values import Limits, Rate, Refill
from desktop.ui.window.main_window import MainWindow
from tests.helpers import run_cli
from tests.ui.helpers import click, wait_for, wait_idle


@pytest.fixture
def window_database(database: str) -> str:
    """make_window's windows open the parametrized database: a SQLite file, then a PostgreSQL database."""
    return database


@pytest.fixture
def store(window_database: str) -> Iterator[KeyStore]:
    with KeyStore.open(window_database, create=True) as opened:
        yield opened


def open_generate(qtbot, window: MainWindow, description: str) -> QDialog:  # type: ignore[no-untyped-def]
    click(qtbot, window.findChild(QPushButton, "generateButton"))
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), description)
    return dialog


def test_generate_with_limits_gives_the_key_those_limits(qtbot, make_window, store: KeyStore) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    dialog = open_generate(qtbot, window, "metered")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "rateEdit"), "100/1m")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "creditsEdit"), "10,000")
    dialog.findChild(QComboBox, "refillCombo").setCurrentText("Monthly")
    hint = dialog.findChild(QLabel, "limitsHint").text()
    assert hint == "At most 100 per minute; 10,000 credits (a verify costs 1), refilled to 10,000 each month (UTC)."
    click(qtbot, dialog.findChild(QPushButton, "generateConfirmButton"))
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    shown.reject()
    wait_idle(qtbot, window)
    (record,) = store.all()
    assert store.limits(record.id) == Limits(Rate(100, 60), 10_000, Refill(10_000, "month"))


def test_generate_without_limits_makes_an_unlimited_key(qtbot, make_window, store: KeyStore) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    dialog = open_generate(qtbot, window, "plain")
    assert dialog.findChild(QLabel, "limitsHint").text().startswith("No limits")
    click(qtbot, dialog.findChild(QPushButton, "generateConfirmButton"))
    wait_for(qtbot, QDialog, "keyCreatedDialog").reject()
    wait_idle(qtbot, window)
    (record,) = store.all()
    assert store.limits(record.id) == Limits()


def test_a_bad_rate_in_generate_says_the_clis_words_and_keeps_the_dialog(qtbot, make_window, store: KeyStore) -> None:  # type: ignore[no-untyped-def]
    key_id = store.create("for the CLI's message").record.id
    cli = run_cli("--database", store.location, "limit", str(key_id), "--rate", "100/1x")
    assert cli.returncode == 2
    window = make_window()
    dialog = open_generate(qtbot, window, "typed with care")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "rateEdit"), "100/1x")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "creditsEdit"), "500")
    hint = dialog.findChild(QLabel, "limitsHint")
    expected = cli.stderr.strip().removeprefix("apikeys: ").replace("--rate", "Rate limit", 1)
    assert hint.text() == expected and hint.property("level") == "error"
    confirm = dialog.findChild(QPushButton, "generateConfirmButton")
    assert not confirm.isEnabled()
    click(qtbot, confirm)
    assert dialog.isVisible() and len(store.all()) == 1  # nothing created, nothing lost
    assert dialog.findChild(QLineEdit, "descriptionEdit").text() == "typed with care"
    assert dialog.findChild(QLineEdit, "creditsEdit").text() == "500"
    # A refill with no credits to refill to is named too; fixing both lets it through.
    rate = dialog.findChild(QLineEdit, "rateEdit")
    rate.clear()
    qtbot.keyClicks(rate, "5/1h")
    assert confirm.isEnabled()
    dialog.findChild(QLineEdit, "creditsEdit").clear()
    dialog.findChild(QComboBox, "refillCombo").setCurrentText("Daily")
    assert hint.text().startswith("A refill sets the credits") and not confirm.isEnabled()
    dialog.findChild(QComboBox, "refillCombo").setCurrentText("None")
    click(qtbot, confirm)
    wait_for(qtbot, QDialog, "keyCreatedDialog").reject()
    wait_idle(qtbot, window)
    newest = store.all()[0]
    assert newest.description == "typed with care" and store.limits(newest.id) == Limits(Rate(5, 3600))
