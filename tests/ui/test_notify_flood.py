"""A burst of `NOTIFY apikeys_changes` from anyone who can connect costs a window at most one reload per
coalescing interval, whatever their number (issue 20, item 8)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from tests.pg import PgCluster
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import wait_idle

NO_POLL = 60_000
APPEARS_MS = 5000
NOTIFICATIONS = 40
_names = itertools.count(1)


@pytest.fixture
def window_database(pg_cluster: PgCluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
def store(window_database: str) -> Iterator[KeyStore]:
    with KeyStore.open(window_database, create=True) as opened:
        yield opened


def test_a_stranger_s_flood_of_notifications_costs_one_reload_per_interval(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, pg_cluster: PgCluster, window_database: str
) -> None:
    import psycopg

    window = make_window(poll_interval_ms=NO_POLL)
    watch = window.controller.watch
    qtbot.waitUntil(lambda: watch.listening, timeout=APPEARS_MS)
    wait_idle(qtbot, window)
    # An interval longer than the test: the first notification reloads at once, every later one waits for it.
    watch.set_coalesce_interval(600_000)
    reloads: list[object] = []
    window.controller.liveReloaded.connect(lambda: reloads.append(None))

    # A role with nothing but PUBLIC's defaults (CONNECT, and with it NOTIFY on any channel).
    stranger = pg_cluster.create_role(f"stranger_{os.getpid()}_{next(_names)}")
    database = window_database.split("/")[3].split("?")[0]
    with psycopg.connect(host=str(pg_cluster.socket), user=stranger, dbname=database, autocommit=True) as conn:
        for _ in range(NOTIFICATIONS):
            heard = watch.heard
            conn.execute("NOTIFY apikeys_changes, 'changed'")

            def heard_more(heard: int = heard) -> bool:
                return watch.heard > heard

            qtbot.waitUntil(heard_more, timeout=APPEARS_MS)  # each heard on its own
            wait_idle(qtbot, window)
    assert len(reloads) == 1
    assert watch.change_due  # what came after the first is one reload, due when the interval ends

    heard = watch.heard
    store.create("made during the flood")  # a real change within the interval is not lost either
    qtbot.waitUntil(lambda: watch.heard > heard, timeout=APPEARS_MS)
    assert len(reloads) == 1
    watch.set_coalesce_interval(0)
    qtbot.waitUntil(lambda: len(reloads) == 2, timeout=APPEARS_MS)
    wait_idle(qtbot, window)
    assert (len(reloads), watch.change_due) == (2, False)
    assert [record.description for record in window.model.records()] == ["made during the flood"]
