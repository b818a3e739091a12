"""Issue 25 item 5: `apikeys seed --count N --usage M` makes realistic usage history for the demo keys (exactly M
counted verifies, skewed, hourly, in a verdict mix), and `seed --remove` takes it away with the keys."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core.store import KeyStore
from desktop.core.usage_report import Outcome, UsagePeriod
from desktop.core.usage_seed import HISTORY_DAYS
from tests.helpers import run_cli

ONE_LINE_ERROR = re.compile(r"^apikeys: [^\n]+\n$")


def test_seed_usage_counts_exactly_as_asked_skewed_over_hours_and_verdicts(database: str) -> None:
    kept = run_cli("create", "--description", "a real key", "--database", database)
    assert kept.returncode == 0, kept.stderr
    result = run_cli("seed", "--count", "200", "--usage", "25000", "--database", database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Added 200 demo keys and 25,000 counted verifies of them to ")
    with KeyStore.open(database) as store:
        counts = store.usage()
        assert sum(c.count for c in counts) == 25_000
        per_key = Counter[int]()
        verdicts = Counter[str]()
        for c in counts:
            per_key[c.key_id] += c.count
            verdicts[c.verdict] += c.count
        assert 1 not in per_key  # the real key has no made-up use
        assert set(per_key) <= set(range(2, 202))
        # Skewed: a fifth of the keys used at all, the busiest one far above the median used one.
        assert len(per_key) == 40
        ranked = sorted(per_key.values(), reverse=True)
        assert ranked[0] > 10 * ranked[len(ranked) // 2]
        assert sum(ranked[:4]) > sum(ranked) / 2
        # Mostly valid, and every kind of outcome the charts stack.
        assert verdicts["valid"] > 0.9 * 25_000
        assert {"rate_limited", "usage_exceeded"} <= set(verdicts)
        assert set(verdicts) & {"inactive", "expired", "forbidden"}
        # Hourly over the last HISTORY_DAYS days, none in the future; the month's chart sees nearly all.
        now = datetime.now(UTC)
        hours = {c.hour for c in counts}
        assert min(hours) >= now - timedelta(days=HISTORY_DAYS, hours=1) and max(hours) <= now
        assert len(hours) > 24 * 20
        month = store.usage_series(None, UsagePeriod.MONTH)
        assert 0.8 * 25_000 < month.total <= 25_000
        assert month.count(Outcome.RATE_LIMITED) > 0 and month.count(Outcome.OUT_OF_CREDITS) > 0
        top = store.top_keys(UsagePeriod.MONTH, 3)
        assert top[0].key_id == per_key.most_common(1)[0][0]
        assert top[0].total >= top[1].total >= top[2].total > 0


def test_seed_remove_takes_the_demo_keys_usage_and_leaves_the_rest(database: str) -> None:
    kept = run_cli("create", "--description", "a real key", "--database", database)
    key = kept.stdout.strip()
    assert run_cli("verify", key, "--database", database).returncode == 0
    assert run_cli("seed", "--count", "30", "--usage", "1000", "--database", database).returncode == 0
    with KeyStore.open(database) as store:
        assert sum(c.count for c in store.usage()) == 1001
    removed = run_cli("seed", "--remove", "--database", database)
    assert removed.returncode == 0, removed.stderr
    with KeyStore.open(database) as store:
        assert [(c.key_id, c.verdict, c.count) for c in store.usage()] == [(1, "valid", 1)]
        assert store.usage_series(None, UsagePeriod.MONTH).total == 1
        assert [t.key_id for t in store.top_keys(UsagePeriod.MONTH)] == [1]


@pytest.mark.parametrize("usage", ["-1", "lots", "1e6", "²", "99999999999"])
def test_seed_bad_usage_exits_2_and_adds_nothing(db_path: Path, usage: str) -> None:
    result = run_cli("seed", "--count", "5", "--usage", usage, "--database", str(db_path))
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "--usage must be a whole number" in result.stderr
    assert not db_path.exists()


def test_seed_usage_goes_with_count_not_remove(db_path: Path) -> None:
    result = run_cli("seed", "--remove", "--usage", "10", "--database", str(db_path))
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "--usage goes with --count" in result.stderr


def test_seed_usage_zero_adds_keys_alone(database: str) -> None:
    result = run_cli("seed", "--count", "10", "--usage", "0", "--database", database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Added 10 demo keys to ")
    with KeyStore.open(database) as store:
        assert store.usage() == []


def test_seed_in_bulk_keeps_the_roll_ups_and_the_search_index_exact(database: str) -> None:
    """`seed` writes its keys and usage in bulk (desktop/core/db/bulk_load.py: on SQLite the per-row triggers set
    aside, their work done once per batch): the roll-ups and the search index hold exactly what the triggers would
    have made, added to what was there (a second seed lands on hours the first one counted)."""
    kept = run_cli("create", "--description", "a real Billing key", "--database", database)
    assert run_cli("verify", kept.stdout.strip(), "--database", database).returncode == 0
    for count, usage in (("1500", "30000"), ("1200", "20000")):
        result = run_cli("seed", "--count", count, "--usage", usage, "--database", database)
        assert result.returncode == 0, result.stderr
    from sqlalchemy import text

    from desktop.core.query import Query

    with KeyStore.open(database) as store:
        assert sum(c.count for c in store.usage()) == 50_001
        with store.database.read() as conn:
            server = conn.dialect.name == "postgresql"
            day = "date_trunc('day', hour)" if server else "substr(hour, 1, 10) || ' 00:00:00.000000'"
            hours = "SELECT hour, verdict, sum(count) FROM {} GROUP BY hour, verdict ORDER BY 1, 2"
            assert (
                conn.execute(text(hours.format("usage_hours"))).all()
                == conn.execute(text(hours.format("key_usage"))).all()
            )
            days = conn.execute(
                text(
                    "SELECT key_id, day, sum(count), sum(valid) FROM key_usage_days GROUP BY key_id, day "
                    "HAVING sum(count) <> 0 ORDER BY 1, 2"
                )
            ).all()
            summed = conn.execute(
                text(
                    f"SELECT key_id, {day}, sum(count), sum(CASE WHEN verdict = 'valid' THEN count ELSE 0 END) "
                    f"FROM key_usage GROUP BY key_id, {day} ORDER BY 1, 2"
                )
            ).all()
            assert [tuple(r) for r in days] == [tuple(r) for r in summed]
            if not server:  # the search index holds every key's description, as its trigger would have put it
                conn.execute(text("INSERT INTO api_keys_fts (api_keys_fts, rank) VALUES ('integrity-check', 1)"))
            triggers = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                if not server
                else text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            ).all()
        found = [r.description for r in store.find(Query("billing"))]
        assert len(found) == sum("billing" in r.description.lower() for r in store.all()) > 1
        assert "a real Billing key" in found
    # The triggers set aside for the load are back, for every later writer.
    assert {"key_usage_added", "api_keys_fts_insert"} <= {t[0] for t in triggers} or server
