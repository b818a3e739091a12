"""Search and filter in team mode: the window on a real PostgreSQL server keeps its query on a LISTEN refresh."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, shown_ids, wait_idle
from tests.ui.test_team_mode import (  # noqa: F401  (the team-mode fixtures)
    APPEARS_MS,
    NO_POLL,
    listening,
    store,
    window_database,
)
from tests.ui.widgets import child


def test_a_search_and_filter_hold_through_a_change_heard_by_listen(
    qtbot: QtBot,
    make_window: WindowFactory,
    store: KeyStore,  # noqa: F811  (the team-mode fixture, imported above)
) -> None:
    seed(store, 30)
    billing = store.create("Billing — production").record.id
    window = make_window(poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    qtbot.keyClicks(window.findChild(QLineEdit, "searchEdit"), "billing")
    combo = child(window, QComboBox, "statusFilter")
    combo.setCurrentIndex(combo.findText("Active"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: shown_ids(window) == [billing])
    wait_idle(qtbot, window)
    banner = child(window, QLabel, "expiryBannerText")
    assert not banner.isVisible()
    # Another process: a matching key that expires soon, a matching inactive one, an unrelated one.
    soon = store.create("billing — expires this week", date.today() + timedelta(days=2)).record.id
    store.set_active(store.create("billing — switched off").record.id, False)
    store.create("unrelated")
    qtbot.waitUntil(lambda: shown_ids(window) == [soon, billing], timeout=APPEARS_MS)
    qtbot.waitUntil(lambda: banner.isVisible() and banner.text().startswith("1 active key"), timeout=APPEARS_MS)
    wait_idle(qtbot, window)
    assert child(window, QLabel, "pageLabel").text() == "1–2 of 2 matching"
