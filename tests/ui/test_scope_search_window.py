"""Typing a scope in the search box lists the keys that have it (issue 14), through the real window."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, shown_ids, wait_idle
from tests.ui.widgets import child


def _search(qtbot: QtBot, window: MainWindow, text: str) -> None:
    edit = child(window, QLineEdit, "searchEdit")
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_typing_a_scope_shows_the_keys_that_have_it(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    seed(store, 30)
    payments = store.create("Payments", scopes=["read:billing", "write:orders"]).record.id
    reports = store.create("Reports", scopes=["read:reports"]).record.id
    billing = store.create("Billing export").record.id
    window = make_window()
    _search(qtbot, window, "read:billing")
    qtbot.waitUntil(lambda: shown_ids(window) == [payments])
    wait_idle(qtbot, window)
    assert child(window, QLabel, "pageLabel").text() == "1–1 of 1 matching"
    # Part of a scope, beside a description holding it; then a change of scopes made elsewhere appears.
    _search(qtbot, window, "billing")
    qtbot.waitUntil(lambda: shown_ids(window) == [billing, payments])
    store.set_scopes(reports, ["billing:read"])
    qtbot.waitUntil(lambda: shown_ids(window) == [billing, reports, payments])
    wait_idle(qtbot, window)
