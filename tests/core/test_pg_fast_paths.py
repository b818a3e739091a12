"""PostgreSQL's fast page (pg_page.py, one statement on a reader) against the generic SQLAlchemy page, which
stays the reference: the same pages in both directions from every position, at the ends, from a position
whose key is gone, with ties in created_at; and plans made for the values at hand on the pool."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from desktop.core.clock import FixedClock
from desktop.core.db.generic import SqlAlchemyDatabase
from desktop.core.db.postgresql import PostgresDatabase
from desktop.core.store import KeyStore
from desktop.core.values import Cursor, NewKey, Page
from tests.pg import PgCluster

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def server_store(pg_cluster: PgCluster) -> Iterator[KeyStore]:
    """61 keys created three to an instant (ties broken by id), some expiring, some inactive, some with scopes."""
    with KeyStore.open(pg_cluster.new_database(), FixedClock(NOW), create=True) as store:
        store.insert_many(
            [
                NewKey(
                    f"key {i}",
                    NOW - timedelta(days=30) + timedelta(hours=i // 3),
                    NOW + timedelta(days=i) if i % 4 == 1 else None,
                    active=i % 5 != 0,
                )
                for i in range(61)
            ]
        )
        yield store


def _generic(store: KeyStore, size: int, **position: Cursor | None) -> Page:
    return SqlAlchemyDatabase.page(store.database, size, **position)  # type: ignore[arg-type]


def test_the_store_reads_pages_on_the_fast_path(server_store: KeyStore) -> None:
    assert isinstance(server_store.database, PostgresDatabase)
    assert type(server_store.database).page is not SqlAlchemyDatabase.page


@pytest.mark.parametrize("size", [1, 7, 25, 61, 100])
def test_every_page_is_the_generic_one_both_ways(server_store: KeyStore, size: int) -> None:
    every = _generic(server_store, 1000).items
    assert len(every) == 61
    assert server_store.page(size) == _generic(server_store, size)
    for record in every:
        for position in ({"after": record.cursor}, {"before": record.cursor}):
            assert server_store.page(size, **position) == _generic(server_store, size, **position), position


def test_from_a_position_whose_key_is_gone(server_store: KeyStore) -> None:
    every = _generic(server_store, 1000).items
    for gone in (every[0], every[30], every[-1]):
        server_store.delete(gone.id)
        for position in ({"after": gone.cursor}, {"before": gone.cursor}):
            for size in (1, 7, 100):
                assert server_store.page(size, **position) == _generic(server_store, size, **position), position


def test_beyond_either_end_and_an_empty_table(server_store: KeyStore) -> None:
    far_future = Cursor(NOW + timedelta(days=999), 10**6)
    far_past = Cursor(NOW - timedelta(days=999), 0)
    for position in ({"after": far_past}, {"before": far_future}, {"after": far_future}, {"before": far_past}):
        assert server_store.page(7, **position) == _generic(server_store, 7, **position), position
    for record in _generic(server_store, 1000).items:
        server_store.delete(record.id)
    assert server_store.page(7) == _generic(server_store, 7) == Page((), False, False)
    assert server_store.page(7, after=far_future) == _generic(server_store, 7, after=far_future)


def test_pool_connections_plan_for_the_values_at_hand(server_store: KeyStore) -> None:
    """psycopg prepares a statement run 5 times; PostgreSQL then may plan it once for all parameters, and
    "is any key newer than $1?" became a scan of every key (the first page's live reload, 200 ms at 1M)."""
    with server_store.database.read() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
