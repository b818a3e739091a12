"""The expiry banner's count (and the other filter counts) range over the index of the key the filter bounds,
instead of walking every active key to test its expiry (issue 13): the plans of the statements the store runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desktop.core.clock import FixedClock
from desktop.core.query import Filter, Query
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.helpers import sqlite_plan

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _counts_run(store: KeyStore, count: object) -> list[tuple[str, object]]:
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.startswith("SELECT count(*) FROM api_keys"):
            seen.append((statement, parameters))

    event.listen(store.database.engine, "before_cursor_execute", record)
    try:
        assert callable(count)
        count()
    finally:
        event.remove(store.database.engine, "before_cursor_execute", record)
    return seen


def test_the_expiring_soon_count_ranges_over_the_expiry_index(db_path: Path) -> None:
    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        store.insert_many(
            [NewKey(f"k {i}", NOW - timedelta(days=1), NOW + timedelta(days=i % 40 - 5)) for i in range(200)]
            + [NewKey(f"n {i}", NOW - timedelta(days=1)) for i in range(200)]
        )
        with store.database.read() as conn:
            conn.exec_driver_sql("ANALYZE")
        assert store.expiring_count() == sum(1 for i in range(200) if 0 <= i % 40 - 5 <= 7 and i % 40 != 5)
        checked = {
            Filter.EXPIRING: "ix_api_keys_active_expires_key",
            Filter.EXPIRED: "ix_api_keys_active_expires_key",
            Filter.STALE: "ix_api_keys_last_used_key",
        }
        for status, index in checked.items():
            [(sql, params)] = _counts_run(store, lambda s=status: store.query_count(Query(status=s)))
            assert isinstance(params, (tuple, dict))  # as SQLAlchemy handed them to sqlite3
            shown = sqlite_plan(db_path, sql, params)
            assert re.search(r"\bSCAN api_keys\b", shown) is None, (status, shown)
            # A range on the bounded key (`>?` or `<?`), not only `active=?`, which every active key meets.
            assert re.search(rf"USING (COVERING )?INDEX {index} \([^)]*[<>]\?", shown), (status, shown)
