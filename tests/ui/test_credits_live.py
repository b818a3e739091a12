"""Issue 25 item 3, follow-up: the table's Credits column and limited Status cells follow verifies made elsewhere.

A verify in another process or connection spends credits without a change anyone is told of (PostgreSQL's LISTEN
carries changes to the keys, not their use); while the Credits column is shown, the window reads the page's limits
again on a light poll (desktop/ui/window/limits_actions.py). Real widgets, a second real connection spending the
credits, on a real SQLite file (whose file watch already rereads on any commit) and a real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from desktop.ui.control.key_table_model import COL_CREDITS, COL_STATUS
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import row_of, wait_idle

#: The poll's interval in these tests (the window's own is seconds).
POLL_MS = 100


@pytest.fixture
def window_database(database: str) -> str:
    """make_window's windows open the parametrized database: a SQLite file, then a PostgreSQL database."""
    return database


@pytest.fixture
def elsewhere(window_database: str) -> Iterator[KeyStore]:
    """A store of its own on the window's database: another connection, as another process's would be."""
    with KeyStore.open(window_database, create=True) as opened:
        yield opened


def cell(window: MainWindow, key_id: int, column: int) -> str:
    return str(window.model.index(row_of(window, key_id), column).data(Qt.ItemDataRole.DisplayRole))


def test_credits_spent_elsewhere_show_without_a_reload(
    qtbot: QtBot, make_window: WindowFactory, elsewhere: KeyStore
) -> None:
    metered = elsewhere.create("metered", credits=5)
    plain = elsewhere.create("plain")
    window = make_window()
    limits = window.key_actions.limits
    limits.set_poll_interval(POLL_MS)
    qtbot.waitUntil(lambda: cell(window, metered.record.id, COL_CREDITS) == "5")
    assert not window.table.isColumnHidden(COL_CREDITS)

    assert elsewhere.check(metered.key).verdict is Verdict.VALID
    assert elsewhere.check(metered.key).verdict is Verdict.VALID
    qtbot.waitUntil(lambda: cell(window, metered.record.id, COL_CREDITS) == "3")
    while elsewhere.check(metered.key).verdict is Verdict.VALID:
        pass
    qtbot.waitUntil(lambda: cell(window, metered.record.id, COL_STATUS) == "Active · out of credits")
    assert cell(window, metered.record.id, COL_CREDITS) == "0"
    assert cell(window, plain.record.id, COL_STATUS) == "Active"
    assert limits.poll_timer.isActive() or window.runner.pending()  # still following
    wait_idle(qtbot, window)


def test_the_poll_backs_off_when_reads_are_slow_and_stops_without_limits(
    qtbot: QtBot, make_window: WindowFactory, elsewhere: KeyStore
) -> None:
    metered = elsewhere.create("metered", credits=5)
    window = make_window()
    limits = window.key_actions.limits
    limits.set_poll_interval(POLL_MS, slow_ms=0)  # every read counts as slow: each wait twice the last
    qtbot.waitUntil(lambda: limits.poll_wait() >= 4 * POLL_MS, timeout=10_000)
    assert limits.poll_wait() <= 60_000

    limits.set_poll_interval(POLL_MS)
    elsewhere.set_limits(metered.record.id, credits=None)  # a change: the page is read again, with no limits
    window.controller.refresh()  # what the file watch or LISTEN does after a change
    qtbot.waitUntil(lambda: window.table.isColumnHidden(COL_CREDITS))
    wait_idle(qtbot, window)
    assert not limits.poll_timer.isActive()  # nothing to follow: no reads
