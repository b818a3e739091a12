"""Migration 0008's `key_descriptions`: the distinct descriptions and their counts follow every change, are filled
from the keys an older database already has, go away on downgrade; and the walk through them is range scans."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core import keys
from desktop.core.clock import FixedClock
from desktop.core.query import Query, Sort
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.helpers import sqlite_plan
from tests.revisions import downgrade_to, upgrade_to

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _table(path: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT description, keys FROM key_descriptions ORDER BY description").fetchall()
    finally:
        con.close()


def _from_the_keys(path: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "SELECT lower(description), count(*) FROM api_keys GROUP BY lower(description) ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


def test_the_distinct_descriptions_follow_every_change(db_path: Path) -> None:
    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        store.insert_many([NewKey(d, NOW - timedelta(minutes=i)) for i, d in enumerate(["Billing", "billing", "Ops"])])
        made = [store.create(d).record.id for d in ("Éclair", "éclair", "Ops", "Zeta")]
        assert _table(db_path) == _from_the_keys(db_path)
        assert ("billing", 2) in _table(db_path) and ("ops", 2) in _table(db_path)
        assert len([d for d, _ in _table(db_path) if d.endswith("clair")]) == 2  # lower() folds ASCII only
        steps: list[Callable[[], object]] = [
            lambda: store.rename(1, "BILLING"),  # a change of case only: the same entry
            lambda: store.rename(2, "Ops"),  # onto another description
            lambda: store.rename(made[3], "Quarterly report"),  # to a new one; Zeta's last key leaves
            lambda: store.delete(3),
            lambda: store.delete_many(made[:2]),
            lambda: store.roll(made[2], timedelta(hours=1)),  # the new key takes the description too
        ]
        for step in steps:
            step()
            assert _table(db_path) == _from_the_keys(db_path)
        assert "zeta" not in dict(_table(db_path))
        assert all(count > 0 for _, count in _table(db_path))


def _plant(path: Path, description: str) -> None:
    key = keys.generate()
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(
                "INSERT INTO api_keys (digest, hint, description, created_at, expires_at, active, scopes) "
                "VALUES (?, ?, ?, '2026-01-02 03:04:05.000000', NULL, TRUE, '')",
                (keys.digest(key), keys.hint(key), description),
            )
    finally:
        con.close()


def test_migration_0008_fills_the_table_from_existing_keys_and_downgrades(db_path: Path) -> None:
    database = str(db_path)
    upgrade_to(database, "0007")
    for description in ("Billing export", "billing EXPORT", "Reports", "Billing export"):
        _plant(db_path, description)
    with KeyStore.open(database) as store:  # opening migrates to the head
        assert _table(db_path) == [("billing export", 3), ("reports", 1)]
        found = store.query_page(Query("export", sort=Sort.DESCRIPTION), 2)
        assert [r.description.lower() for r in found.items] == ["billing export"] * 2 and found.has_older
    downgrade_to(database, "0007")
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'key_descriptions%'").fetchall() == []
    finally:
        con.close()
    _plant(db_path, "Added at 0007")  # no trigger counts it: the next upgrade does
    upgrade_to(database, "0008")
    assert _table(db_path) == _from_the_keys(db_path)


def test_sqlite_the_walk_through_descriptions_is_range_scans_never_a_sort(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.core.db import queries, query_skip

    monkeypatch.setattr(queries, "RARE_MATCHES", 0)  # as common as "Billing" among a million keys

    statements: list[tuple[str, dict[str, object]]] = []
    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        store.insert_many([NewKey(f"Billing {i % 3}", NOW - timedelta(minutes=i)) for i in range(40)])
        with store.database.read() as conn:
            for reverse in (False, True):
                plan = queries.plan(conn, Query("billing", sort=Sort.DESCRIPTION, reverse=reverse), NOW)
                assert query_skip.applies(plan)

                def recording(statement: object, params: dict[str, object], *, real=conn.execute):  # type: ignore[no-untyped-def]
                    statements.append((str(statement), dict(params)))
                    return real(statement, params)

                # Recording what the query sends: a plain function in the bound method's place, for this block.
                conn.execute = recording  # type: ignore[method-assign, assignment]
                try:
                    query_skip.beyond(conn, plan, "billing 0", 30)
                finally:
                    del conn.execute
    descriptions = [(sql, p) for sql, p in statements if "FROM key_descriptions" in sql]
    rows = [(sql, p) for sql, p in statements if "FROM key_descriptions" not in sql]
    assert descriptions and rows
    for sql, params in descriptions:
        shown = sqlite_plan(db_path, sql, params)
        assert re.fullmatch(r"SEARCH key_descriptions USING PRIMARY KEY \(description[<>]\?\)", shown), shown
    for sql, params in rows:
        shown = sqlite_plan(db_path, sql, params)
        assert "TEMP B-TREE" not in shown and re.search(r"\bSCAN api_keys\b", shown) is None, shown
        assert "ix_api_keys_description_key (<expr>=?)" in shown, shown


def test_sqlite_the_last_page_of_a_common_term_by_description_costs_what_the_second_does(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's `search/description` row: a last page that ends with its position's tie group learned that
    nothing follows from one more statement (the next description), which the second page never needs. Now the
    tie group's walk asks it in the same statement: both pages send as many statements, and read the same keys
    as the whole list in that order."""
    from sqlalchemy import event

    from desktop.core.db import queries

    monkeypatch.setattr(queries, "RARE_MATCHES", 0)  # as common as "Billing" among a million keys
    page = 5  # both positions in a tie group of 12: the second page within it, the last page its end
    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        store.insert_many(
            [NewKey(f"Billing {i // 12}", NOW - timedelta(minutes=i)) for i in range(24)]
            + [NewKey(f"Other {i}", NOW - timedelta(hours=i)) for i in range(5)]
        )
        query = Query("billing", sort=Sort.DESCRIPTION)
        everything = [r.id for r in store.find(query)]
        assert len(everything) == 24
        second = query.cursor(list(store.find(query, limit=page))[-1])
        last = query.cursor(list(store.find(query))[-page - 1])  # the last page: the final `page` keys
        sent: list[str] = []
        walks: list[tuple[str, object]] = []
        engine = store.database.engine

        def record(_conn: object, _cursor: object, statement: str, parameters: object, *_args: object) -> None:
            sent.append(statement)
            if "FROM key_descriptions" in statement:
                walks.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            counts, pages = [], []
            for cursor in (second, last):
                sent.clear()
                found = store.query_page(query, page, after=cursor)
                counts.append(len([s for s in sent if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]))
                pages.append(found)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert [r.id for r in pages[0].items] == everything[page : 2 * page]
    assert [r.id for r in pages[1].items] == everything[-page:]
    assert (pages[0].has_newer, pages[0].has_older, pages[1].has_newer, pages[1].has_older) == (True, True, True, False)
    assert counts[1] == counts[0], counts
    assert len(walks) == 2
    for sql, params in walks:  # the one statement is index seeks: no sort, no scan of the keys
        shown = sqlite_plan(db_path, sql, params)  # type: ignore[arg-type]
        assert "TEMP B-TREE" not in shown and re.search(r"\bSCAN api_keys\b", shown) is None, shown
        assert "SEARCH key_descriptions USING PRIMARY KEY" in shown, shown
