"""Counting all keys (100 ms at a million on PostgreSQL) never holds up a page: counts run aside, on a worker
of their own, and a live change's page lands while a count is still running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.control.controller import Controller
from desktop.ui.control.tasks import TaskRunner
from tests.pg import PgCluster


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    opened = threading.Event()
    yield opened
    opened.set()  # never leave a worker blocked, whatever failed


def failed(err: Exception) -> None:
    """A task's error fails the test, naming the error."""
    pytest.fail(repr(err))


def test_work_runs_while_work_aside_is_in_flight(qtbot: QtBot, gate: threading.Event) -> None:
    runner = TaskRunner()
    done: list[str] = []
    try:
        runner.submit(lambda: gate.wait(10) and "count", done.append, failed, aside=True)
        runner.submit(lambda: "page", done.append, failed)
        qtbot.waitUntil(lambda: done == ["page"], timeout=5000)
        assert runner.pending() == 1  # the count still counts as pending work
        gate.set()
        qtbot.waitUntil(lambda: done == ["page", "count"], timeout=5000)
        assert runner.pending() == 0
    finally:
        runner.shutdown()


def test_a_live_change_shows_before_the_count_lands(qtbot: QtBot, pg_cluster: PgCluster, gate: threading.Event) -> None:
    url = pg_cluster.new_database()
    store = KeyStore.open(url, create=True)
    store.create("first")
    controller = Controller(page_size=25, poll_interval_ms=3_600_000)
    try:
        controller.set_store(store)
        qtbot.waitUntil(lambda: controller.watch.listening and controller.runner.pending() == 0, timeout=5000)
        assert controller.total == 1
        real_count = store.query_count
        counting = threading.Event()

        def held_count(*args: Any, **kwargs: Any) -> int:
            counting.set()
            gate.wait(10)  # a count that takes as long as the test wants
            return real_count(*args, **kwargs)

        store.query_count = held_count  # type: ignore[method-assign]  # the count the controller asks for
        shown: list[str] = []
        controller.pageChanged.connect(lambda records, _select: shown.append(records[0].description))
        with KeyStore.open(url) as other:
            other.create("second")
            qtbot.waitUntil(lambda: "second" in shown and counting.is_set(), timeout=5000)
            other.create("third")  # its reload must not queue behind the held count
            qtbot.waitUntil(lambda: "third" in shown, timeout=5000)
        assert not gate.is_set() and controller.total == 1  # the count is still out
        gate.set()
        qtbot.waitUntil(lambda: controller.total == 3 and controller.runner.pending() == 0, timeout=5000)
    finally:
        gate.set()
        controller.shutdown()
