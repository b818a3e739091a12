"""The controller alone: no widget, a real SQLite file, its signals awaited with qtbot.waitSignal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import CreatedKey, KeyRecord
from desktop.ui.control.controller import Controller
from desktop.ui.control.notifications import Level, Notice
from tests.helpers import seed
from tests.ui.helpers import open_pager


@pytest.fixture
def controller(qtbot: QtBot, db_path: Path) -> Iterator[Controller]:
    made = Controller(page_size=25, poll_interval_ms=50)
    yield made
    made.shutdown()
    assert made.runner.pending() == 0


def _open(db_path: Path, keys: int = 0) -> KeyStore:
    store = KeyStore.open(str(db_path), create=True)
    seed(store, keys)
    return store


def test_no_store_is_a_state_every_request_accepts(controller: Controller, qtbot: QtBot) -> None:
    with qtbot.assertNotEmitted(controller.pageChanged), qtbot.assertNotEmitted(controller.notice):
        controller.next()
        controller.previous()
        controller.reload()
        controller.resize(50)
    assert controller.store is None and controller.total is None
    assert controller.create("x", None) == "no database is open."
    assert not [child for child in controller.findChildren(QObject) if isinstance(child, QWidget)]


def test_a_store_shows_its_first_page_and_total(controller: Controller, qtbot: QtBot, db_path: Path) -> None:
    store = _open(db_path, 30)
    pages: list[list[KeyRecord]] = []
    controller.pageChanged.connect(lambda records, _select: pages.append(records))
    with qtbot.waitSignal(controller.storeChanged) as changed, qtbot.waitSignal(controller.totalChanged) as total:
        controller.set_store(store)
    assert changed.args == [store.location] and total.args == [30]
    assert len(pages[-1]) == 25
    with qtbot.waitSignal(controller.pageChanged) as page:
        controller.next()
    assert len(page.args[0]) == 5


def test_a_background_count_arrives_as_total_changed(controller: Controller, qtbot: QtBot, db_path: Path) -> None:
    # set_store says "not known yet" (None) at once; the worker's count follows.
    with qtbot.waitSignal(controller.totalChanged, check_params_cb=lambda total: total == 3):
        controller.set_store(_open(db_path, 3), count_now=False)
    assert controller.total == 3


def test_create_emits_the_key_then_the_new_page(controller: Controller, qtbot: QtBot, db_path: Path) -> None:
    controller.set_store(_open(db_path))
    with qtbot.waitSignal(controller.created) as created, qtbot.waitSignal(controller.pageChanged) as page:
        assert controller.create("Billing", None) is None
    key: CreatedKey = created.args[0]
    records, select = page.args
    assert select == key.record.id and [r.id for r in records] == [key.record.id]


def test_a_key_deleted_elsewhere_is_reported_and_reloaded(controller: Controller, qtbot: QtBot, db_path: Path) -> None:
    store = _open(db_path, 2)
    controller.set_store(store)
    record = open_pager(controller).items[0]
    with KeyStore.open(str(db_path)) as other:
        other.delete(record.id)
    notices: list[Notice] = []
    controller.notice.connect(notices.append)
    controller.delete(record)
    # The poll may notice the outside delete and reload before the failed delete reports: wait for both.
    qtbot.waitUntil(lambda: any(n.level is Level.ERROR for n in notices))
    errors = [n for n in notices if n.level is Level.ERROR]
    assert len(errors) == 1 and "no longer exists" in errors[0].text
    qtbot.waitUntil(
        lambda: (
            [r.id for r in open_pager(controller).items] != []
            and record.id not in [r.id for r in open_pager(controller).items]
        )
    )
    assert len(open_pager(controller).items) == 1


def test_an_outside_change_is_polled_and_shown(controller: Controller, qtbot: QtBot, db_path: Path) -> None:
    controller.set_store(_open(db_path, 1))
    with KeyStore.open(str(db_path)) as other:
        other.create("from another program")
    with qtbot.waitSignal(controller.pageChanged, check_params_cb=lambda records, _s: len(records) == 2, timeout=5000):
        pass


def test_sqlite_is_polled_and_nothing_listens(controller: Controller, qtbot: QtBot, db_path: Path) -> None:
    controller.set_store(_open(db_path, 1))
    assert controller.poll_timer.isActive()
    assert not controller.watch.active and not controller.watch.listening


def test_an_outside_change_is_heard_on_either_backend(qtbot: QtBot, database: str, backend: str) -> None:
    # PostgreSQL: no poll could show it within the test (a minute apart), only LISTEN.
    made = Controller(page_size=25, poll_interval_ms=50 if backend == "sqlite" else 60_000)
    try:
        made.set_store(KeyStore.open(database, create=True))
        if backend == "postgresql":
            qtbot.waitUntil(lambda: made.watch.listening and made.runner.pending() == 0, timeout=5000)
        with KeyStore.open(database) as other:
            with qtbot.waitSignal(
                made.pageChanged, check_params_cb=lambda records, _s: len(records) == 1, timeout=5000
            ):
                other.create("from another program")
            with qtbot.waitSignal(made.totalChanged, check_params_cb=lambda total: total == 1, timeout=5000):
                pass
    finally:
        made.shutdown()
    assert made.runner.pending() == 0 and not made.watch.active
