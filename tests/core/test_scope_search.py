"""Search finds scopes (issue 14): `apikeys list --search` through a subprocess on both backends, migration 0007
up and down with scoped keys in the database, and the plans that keep a rare scope's first page index-driven."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core import keys
from desktop.core.clock import FixedClock
from desktop.core.query import Query, Sort
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.backends import execute, is_server
from tests.helpers import run_cli, sqlite_plan
from tests.revisions import downgrade_to, upgrade_to

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _names(database: str, *args: str) -> list[str]:
    result = run_cli("--database", database, "list", "--json", *args)
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [entry["description"] for entry in json.loads(result.stdout)]


def _fill(database: str) -> dict[str, int]:
    with KeyStore.open(database, create=True) as store:
        ids = {
            "Payments": store.create("Payments", scopes=["read:billing", "write:orders"]).record.id,
            "Reports": store.create("Reports", scopes=["read:reports"]).record.id,
            "Billing export": store.create("Billing export").record.id,
            "Admin tool": store.create("Admin tool", scopes=["admin"]).record.id,
        }
    return ids


def test_list_search_finds_keys_by_a_scope_or_part_of_one(database: str) -> None:
    ids = _fill(database)
    assert _names(database, "--search", "read:billing") == ["Payments"]
    assert _names(database, "--search", "READ:Billing") == ["Payments"]  # any case, as descriptions
    # Part of a scope, beside descriptions holding the same text.
    assert _names(database, "--search", "billing", "--sort", "description") == ["Billing export", "Payments"]
    assert _names(database, "--search", "read:", "--sort", "description") == ["Payments", "Reports"]
    assert _names(database, "--search", "orders", "--status", "active") == ["Payments"]
    # A space is never inside a scope: the column's separator is not matched across two scopes.
    assert _names(database, "--search", "billing write") == []
    assert _names(database, "--search", "no:such:scope") == []
    # The search follows a change of scopes, and a deleted key.
    assert run_cli("--database", database, "scopes", str(ids["Reports"]), "billing:read").returncode == 0
    assert _names(database, "--search", "read:reports") == []
    assert _names(database, "--search", "billing:read") == ["Reports"]
    assert run_cli("--database", database, "delete", str(ids["Payments"])).returncode == 0
    assert _names(database, "--search", "write:orders") == []


def test_a_common_scope_pages_by_keyset_in_every_order(database: str) -> None:
    """Many keys with a scope (the walked plan), few with another (the set plan), mixed with description matches."""
    with KeyStore.open(database, FixedClock(NOW), create=True) as store:
        store.insert_many(
            [NewKey(f"{'rare ' if i % 10 == 0 else ''}key {i}", NOW - timedelta(hours=i)) for i in range(60)]
        )
        for key_id in range(1, 61):
            scopes = ["svc:read"] if key_id % 2 else (["svc:rare"] if key_id % 15 == 0 else [])
            if scopes:
                store.set_scopes(key_id, scopes)
        for term, expected in (("svc:read", 30), ("rare", 6 + 2), ("svc", 32), ("key 1", 11)):
            for sort in Sort:
                for reverse in (False, True):
                    query = Query(term, sort=sort, reverse=reverse)
                    everything = list(store.find(query))
                    paged: list[int] = []
                    page = store.query_page(query, 7)
                    paged += [r.id for r in page.items]
                    while page.has_older:
                        page = store.query_page(query, 7, after=query.cursor(page.items[-1]))
                        paged += [r.id for r in page.items]
                    assert len(everything) == expected and paged == [r.id for r in everything], (term, sort)
                    assert store.query_count(query) == expected


def test_bad_search_text_is_refused_in_one_line_and_changes_nothing(database: str) -> None:
    _fill(database)
    before = _names(database)
    result = run_cli("--database", database, "list", "--search", "read:\x07billing")
    assert result.returncode == 2 and re.fullmatch(r"apikeys: [^\n]+\n", result.stderr), result.stderr
    assert "billing" not in result.stderr and result.stdout == ""
    assert _names(database) == before
    assert _names(database, "--search", "read:billing") == ["Payments"]


def _plant(database: str, description: str, scopes: str) -> int:
    key = keys.generate()
    execute(
        database,
        "INSERT INTO api_keys (digest, hint, description, created_at, expires_at, active, scopes) "
        "VALUES (:digest, :hint, :description, '2026-01-02 03:04:05.000000', NULL, TRUE, :scopes)",
        {"digest": keys.digest(key), "hint": keys.hint(key), "description": description, "scopes": scopes},
    )
    return int(execute(database, "SELECT max(id) FROM api_keys")[0][0])


def _version(database: str) -> str:
    return str(execute(database, "SELECT version_num FROM alembic_version")[0][0])


@pytest.mark.empty_database
def test_migration_0007_indexes_existing_scopes_and_downgrades(database: str) -> None:
    upgrade_to(database, "0006")
    planted = {
        _plant(database, "old payments", "read:billing write:orders"),
        _plant(database, "old reports", "read:reports"),
    }
    _plant(database, "old plain", "")
    with KeyStore.open(database) as store:  # opening migrates to the head
        assert {r.id for r in store.find(Query("read:"))} == planted
        assert [r.description for r in store.find(Query("write:orders"))] == ["old payments"]
    downgrade_to(database, "0006")
    assert _version(database) == "0006"
    if is_server(database):
        assert execute(database, "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_api_keys_scopes_trgm'") == []
    else:
        assert execute(database, "SELECT name FROM sqlite_master WHERE name LIKE 'key_scopes%'") == []
    # The keys and their scopes are as they were; a key changed at 0006 is indexed by the next upgrade.
    assert execute(database, "SELECT count(*) FROM api_keys WHERE scopes <> ''") == [(2,)]
    execute(database, "UPDATE api_keys SET scopes = :s WHERE description = 'old plain'", {"s": "audit:read"})
    upgrade_to(database, "0007")
    with KeyStore.open(database) as store:
        [audit] = store.find(Query("audit"))
        assert audit.description == "old plain"
        assert {r.id for r in store.find(Query("read"))} == planted | {audit.id}


def test_sqlite_a_rare_scope_is_read_from_the_indexes_never_a_scan(db_path: Path) -> None:
    from desktop.core.db import queries, scope_search

    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        store.insert_many([NewKey(f"common {i}", NOW - timedelta(minutes=i)) for i in range(300)])
        for key_id in range(1, 301):
            store.set_scopes(key_id, ["svc:common"] + (["svc:rare"] if key_id % 100 == 0 else []))
        with store.database.read() as conn:
            conn.exec_driver_sql("ANALYZE")
            statements = []
            for term in ("svc:rare", "rare", "mmon 4"):  # a rare scope alone; with a rare description
                for sort in Sort:
                    plan = queries.plan(conn, Query(term, sort=sort), NOW)
                    assert scope_search.PARAM in plan.params or term == "mmon 4", (term, plan.conditions)
                    statements.append(plan.select((), 26))
            step = (scope_search._STEP, {"budget": scope_search.SCOPE_BUDGET, "pattern": "%rare%"})
    for sql, params in statements:
        shown = sqlite_plan(db_path, sql, params)
        assert re.search(r"\bSCAN (api_keys|key_scopes)\b", shown) is None, shown
        assert "SEARCH api_keys USING INTEGER PRIMARY KEY" in shown, shown
    shown = sqlite_plan(db_path, *step)
    # Each step of the distinct scopes is a seek on key_scopes' key, not a walk through it.
    assert "SEARCH key_scopes USING PRIMARY KEY (scope>?)" in shown, shown
    assert re.search(r"\bSCAN key_scopes\b", shown) is None, shown


def test_sqlite_a_term_no_scope_holds_keeps_the_description_plans(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term matching no scope in use is exactly the description search: its description-order skipping
    (desktop.core.db.query_skip) and its index walks, unchanged."""
    from desktop.core.db import queries, query_skip

    monkeypatch.setattr(queries, "RARE_MATCHES", 0)  # every term common, as "Billing" is at a million keys
    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        store.insert_many([NewKey(f"Billing {i}", NOW - timedelta(minutes=i)) for i in range(30)])
        store.set_scopes(1, ["read:reports"])
        with store.database.read() as conn:
            assert query_skip.applies(queries.plan(conn, Query("billing", sort=Sort.DESCRIPTION), NOW))
            assert not query_skip.applies(queries.plan(conn, Query("read", sort=Sort.DESCRIPTION), NOW))


def test_postgresql_a_scope_search_can_use_the_trigram_index_on_scopes(backend: str, database: str) -> None:
    if backend != "postgresql":
        pytest.skip("the PostgreSQL plan")
    from sqlalchemy import text

    from desktop.core.db import queries

    with KeyStore.open(database, FixedClock(NOW), create=True) as store:
        store.insert_many([NewKey(f"k {i}", NOW - timedelta(minutes=i)) for i in range(50)])
        store.set_scopes(7, ["read:billing"])
        with store.database.read() as conn:
            conn.exec_driver_sql("ANALYZE api_keys")
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = queries.plan(conn, Query("read:billing"), NOW)
            sql = f"SELECT count(*) FROM api_keys WHERE {' AND '.join(plan.conditions)}"
            shown = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql), plan.params))
    assert "ix_api_keys_scopes_trgm" in shown and "ix_api_keys_description_trgm" in shown, shown
