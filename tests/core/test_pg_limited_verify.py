"""Issue 24 item 5 on PostgreSQL: a limited key's verify in one round trip, its limits applied exactly as before.

A round trip is counted in libpq's own trace of the connection verify uses (the protocol's Sync messages the
client sends: one per statement it waits for), on a real server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq

from desktop.core import store_usage
from desktop.core.clock import FixedClock
from desktop.core.store import KeyStore
from desktop.core.values import Limits, Rate, Verdict
from tests.backends import execute, is_server
from tests.helpers import run_cli
from tests.pg import PgCluster


@pytest.fixture
def one_reader(pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyStore]:
    """A store on a migrated database whose verifies all go through one connection, and count in the background
    only when closed (no flush in the middle of a count)."""
    monkeypatch.setenv("APIKEYS_MAX_CONNECTIONS", "1")
    monkeypatch.setattr(store_usage, "USAGE_FLUSH_S", 3600.0)
    with KeyStore.open(pg_cluster.new_migrated_database()) as store:
        yield store


def _round_trips(store: KeyStore, tmp_path: Path, run: Any) -> int:
    """How many statements `run` waited for on verify's connection (libpq's trace of it: the client's Syncs)."""
    conn = store.database._on_reader(lambda r: r.conn)  # type: ignore[attr-defined]
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            run()
        finally:
            conn.pgconn.untrace()
    sent = [line.split("\t") for line in trace.read_text().splitlines()]
    return sum(1 for fields in sent if fields[0] == "F" and fields[2] in {"Sync", "Query"})


def test_a_limited_verify_is_one_round_trip(one_reader: KeyStore, tmp_path: Path) -> None:
    """Before: the lookup, then apikeys_consume: two round trips for every verify of a limited key."""
    store = one_reader
    plain = store.create("plain").key
    limited = store.create("limited", rate=Rate(1000, 3600), credits=1000).key
    for _ in range(10):  # uses recorded now (once a minute), statements prepared (psycopg: after 5 runs)
        store.verify(plain), store.verify(limited), store.check(limited, ["x"])
    assert _round_trips(store, tmp_path, lambda: [store.verify(plain) for _ in range(10)]) == 10
    assert _round_trips(store, tmp_path, lambda: [store.verify(limited) for _ in range(10)]) == 10
    assert _round_trips(store, tmp_path, lambda: [store.check(limited, ["x"]) for _ in range(3)]) == 3
    result = store.check(limited)
    assert (result.verdict, result.remaining) == (Verdict.VALID, 1000 - 21)
    assert result.ratelimit is not None and result.ratelimit.remaining == 1000 - 21


def test_what_the_lookup_sees_decides_what_it_takes(pg_cluster: PgCluster) -> None:
    """A key verified as limited before is taken from in the lookup's statement only when the store's own checks
    pass too: an inactive, expired or forbidden verify takes nothing; limits cleared or set meanwhile are seen."""
    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    with KeyStore.open(pg_cluster.new_migrated_database(), clock=clock) as store:
        created = store.create("scoped", date(2026, 3, 3), today=date(2026, 3, 2), scopes=["a"], credits=10)
        key, key_id, expires_at = created.key, created.record.id, created.record.expires_at
        assert expires_at is not None
        assert store.check(key, ["a"]).remaining == 9  # learnt limited
        assert store.check(key, ["a", "b"]).verdict is Verdict.FORBIDDEN
        assert store.check(key, ["a"], cost=0).remaining == 9
        store.set_active(key_id, False)
        assert store.verify(key) is Verdict.INACTIVE
        store.set_active(key_id, True)
        assert store.limits(key_id) == Limits(credits=9)
        clock.moment = expires_at  # the store's clock, not the server's, says when it expired
        assert store.verify(key) is Verdict.EXPIRED
        assert store.limits(key_id) == Limits(credits=9)
        clock.moment = expires_at - timedelta(microseconds=1)
        assert store.check(key, cost=2).remaining == 7
        store.set_limits(key_id, credits=None)  # no limits now: valid, nothing taken, nothing said
        result = store.check(key)
        assert (result.verdict, result.remaining, result.ratelimit) == (Verdict.VALID, None, None)
        store.set_limits(key_id, credits=1)  # limited again: taken at once
        assert [store.verify(key) for _ in range(2)] == [Verdict.VALID, Verdict.USAGE_EXCEEDED]


# -- migration 0014: one function call each -------------------------------------------------------------------------


def _functions_called(url: str, statement: str, params: dict[str, Any]) -> dict[str, int]:
    """The functions of ours `statement` called, and how often (the server's own count, this transaction's)."""
    import psycopg

    from tests.benchmarks.pg_bench import connect

    with connect(url) as conn:
        conn.execute("SET LOCAL track_functions = 'all'")
        conn.execute(statement, params).fetchall()
        rows = conn.execute("SELECT funcname, calls FROM pg_stat_xact_user_functions").fetchall()
        conn.rollback()
    assert isinstance(conn, psycopg.Connection)
    return {name: calls for name, calls in rows if name.startswith("apikeys_")}


def test_the_sql_verify_and_a_limited_take_are_one_function_call(pg_cluster: PgCluster) -> None:
    """Before (migration 0013): apikeys_verify() called apikeys_verify_core(), apikeys_consume() called
    apikeys_limit_take(): two SECURITY DEFINER calls each (make bench, "pg apikeys_verify()"). The SQL verify of
    a limited key still calls the take (as the core did)."""
    url = pg_cluster.new_migrated_database()
    with KeyStore.open(url) as store:
        plain = store.create("plain").key
        limited = store.create("limited", rate=Rate(10, 3600), credits=10).key
    for key, calls in ((plain, {"apikeys_verify": 1}), (limited, {"apikeys_verify": 1, "apikeys_limit_take": 1})):
        for statement in ("(%(k)s)", "(%(k)s, NULL)", "(%(k)s, NULL, 2)"):
            assert _functions_called(url, f"SELECT apikeys_verify{statement}", {"k": key}) == calls
    digest = hashlib.sha256(limited.encode()).digest()
    assert _functions_called(url, "SELECT * FROM apikeys_consume(%(d)s, 1)", {"d": digest}) == {"apikeys_consume": 1}


@pytest.mark.empty_database
def test_migration_0014_upgrades_and_downgrades_with_the_same_verdicts(database: str) -> None:
    from tests.revisions import downgrade_to, upgrade_to

    upgrade_to(database, "0013")
    with KeyStore.open(database) as store:  # brought to 0014 on opening
        plain = store.create("plain")
        limited = store.create("limited", scopes=["a"], rate=Rate(3, 3600), credits=10)
        store.set_active(store.create("inactive").record.id, False)
        assert [store.check(limited.key, ["a"]).remaining for _ in range(2)] == [9, 8]
    if is_server(database):
        language = "SELECT DISTINCT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        language += "WHERE p.proname = 'apikeys_verify'"
        assert execute(database, language) == [("plpgsql",)]
        verdicts = [
            execute(database, "SELECT apikeys_verify(:k, :s, :c)", {"k": k, "s": s, "c": c})[0][0]
            for k, s, c in ((plain.key, None, 1), (limited.key, ["b"], 1), (limited.key, ["a"], 5), ("ak_x", None, 1))
        ]
        assert verdicts == ["valid", "forbidden", "valid", "malformed"]
    downgrade_to(database, "0013")
    if is_server(database):  # 0013's SQL wrappers of the core are back, and consume calls the take again
        assert execute(database, language) == [("sql",)]
        assert execute(database, "SELECT apikeys_verify(:k)", {"k": limited.key}) == [("rate_limited",)]
    with KeyStore.open(database) as store:  # and up again
        result = store.check(limited.key, ["a"])
        expected = (Verdict.RATE_LIMITED, 3) if is_server(database) else (Verdict.VALID, 7)
        assert (result.verdict, result.remaining) == expected
        assert store.verify(plain.key) is Verdict.VALID


def test_a_verifier_role_takes_in_the_lookup_through_the_functions(
    pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verifier holds no privilege on any table: its lookup and take go through apikeys_lookup() and
    apikeys_consume(), still in one statement, with the same verdicts and state as the owner's."""
    from tests.team import make_team

    team = make_team(pg_cluster, migrated=True)
    key = run_cli(
        "create", "--description", "svc", "--rate", "4/1h", "--credits", "10", "--database", team.url(team.owner)
    )
    assert run_cli("grant", team.verifier, "--verifier", "--database", team.url(team.owner)).returncode == 0
    monkeypatch.setenv("APIKEYS_MAX_CONNECTIONS", "1")
    monkeypatch.setattr(store_usage, "USAGE_FLUSH_S", 3600.0)
    with KeyStore.open(team.url(team.verifier)) as store:
        secret = key.stdout.strip()
        assert store.check(secret).remaining == 9  # learnt limited
        assert _round_trips(store, tmp_path, lambda: store.check(secret, cost=2)) == 1
        assert store.check(secret, ["x"]).verdict is Verdict.FORBIDDEN
        result = store.check(secret)
        assert (result.verdict, result.remaining) == (Verdict.VALID, 6)
        assert result.ratelimit is not None and result.ratelimit.remaining == 1
        assert [store.verify(secret) for _ in range(2)] == [Verdict.VALID, Verdict.RATE_LIMITED]


def test_a_limited_take_reads_the_rate_log_by_its_index_whatever_the_statistics(pg_cluster: PgCluster) -> None:
    """Before: plans made while the rate log was analyzed empty (a new database) were kept for the session, and
    scanned the whole log, every key's, then sorted the key's window, at every verify of a limited key."""
    from tests.benchmarks.pg_bench import connect

    url = pg_cluster.new_migrated_database()
    with KeyStore.open(url) as store:
        store.create("other", rate=Rate(1000, 3600))
        limited = store.create("limited", rate=Rate(1000, 3600), credits=10**6).key
    digest = hashlib.sha256(limited.encode()).digest()
    plans: list[str] = []
    with connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE key_rate_hits, key_limits")  # as a new database's autovacuum leaves them
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for statement in ("SELECT * FROM apikeys_consume(%(d)s, 1)", "SELECT apikeys_verify(%(k)s)"):
            for _ in range(20):  # PL/pgSQL's plans made, and kept (after 5 runs, one for any parameters)
                conn.execute(statement, {"d": digest, "k": limited}).fetchall()
            plans.clear()
            for setting in ("log_nested_statements = on", "log_level = notice", "log_min_duration = 0"):
                conn.execute(f"SET auto_explain.{setting}")
            conn.execute(statement, {"d": digest, "k": limited}).fetchall()
            conn.execute("SET auto_explain.log_min_duration = -1")
            read = [plan for plan in plans if "key_rate_hits h" in plan]
            assert len(read) == 2, plans  # the slot's, and the oldest verify in the window's
            for plan in read:
                assert "Index Scan using key_rate_hits_pkey" in plan and "Seq Scan" not in plan, plan
                assert "Bitmap" not in plan and "Sort" not in plan, plan
