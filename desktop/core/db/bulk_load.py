"""Keys and usage history written in bulk (`apikeys seed --count N --usage M`): a million keys and a hundred
million counted verifies in minutes, not an hour.

Keys (SQLite): the search index's trigger (`api_keys_fts_insert`, a trigram FTS5 table) costs about as much per
key as the table and its eight indexes together when it fires row by row. A batch of keys is written with that one
trigger set aside inside the batch's write transaction, and the batch's descriptions go into the search index in one
`INSERT … SELECT` before the trigger is put back as it was (its own text, read from the schema): the index holds
the same rows, and no other connection ever sees the table without its trigger.

Usage:
The app's own counts go through `Database.add_usage`, where the roll-up triggers of migration 0012 keep
`usage_hours` and `key_usage_days` exact as each row lands. For a bulk load that is most of the time on SQLite: the
trigger upserts two roll-up rows for every row written (and moves the `(day, count)` index entry each time), so a
million keys' month of history took the better part of an hour. Here, on SQLite, the batch is written with that one
trigger set aside inside the batch's own write transaction, and the roll-ups get the batch's sums once, by
`INSERT … SELECT … GROUP BY`, before the trigger is put back as it was (its own text, read from the schema) and the
transaction commits: no other connection ever sees the table without it, and the sums are the trigger's.

PostgreSQL's triggers already run once per statement, over the statement's rows (migration 0012): a batch is one
call of `apikeys_count_usage` (a manager may not write the table itself), as the app's flush makes it. What was
slow there was the client: psycopg quoting a quarter of a million hours and verdicts into array literals took
longer than the server's work. The batch goes in by binary COPY into a temporary table, and the arrays are built on
the server (`array_agg`) for the one call.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Row = tuple[int, datetime, str, int]

#: The trigger of migration 0012 that this load stands in for (every other trigger on key_usage still fires).
ADDED_TRIGGER = "key_usage_added"
#: The page cache of the loading connection (KiB, as PRAGMA cache_size takes it negative): the key_usage
#: indexes of a hundred million verifies are a few hundred MB; with them cached a batch never reads a page back.
LOAD_CACHE_KIB = 512 * 1024

_INSERT = (
    "INSERT INTO key_usage (key_id, hour, verdict, count) SELECT ?, ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?)"
)
_HOURS = (
    "INSERT INTO usage_hours (hour, verdict, stripe, count) "
    "SELECT hour, verdict, 0, sum(count) FROM key_usage WHERE id > ? GROUP BY hour, verdict "
    "ON CONFLICT (hour, verdict, stripe) DO UPDATE SET count = count + excluded.count"
)
_DAYS = (
    "INSERT INTO key_usage_days (key_id, day, stripe, count, valid) "
    "SELECT key_id, substr(hour, 1, 10) || ' 00:00:00.000000', 0, sum(count), "
    "sum(CASE WHEN verdict = 'valid' THEN count ELSE 0 END) FROM key_usage WHERE id > ? GROUP BY 1, 2 "
    "ON CONFLICT (key_id, day, stripe) DO UPDATE SET count = count + excluded.count, valid = valid + excluded.valid"
)


#: The search index's trigger of migration 0004 that a bulk insert of keys stands in for.
FTS_TRIGGER = "api_keys_fts_insert"
#: Fewer keys than this are inserted as any other (the trigger's text read and run twice is not worth it).
BULK_KEYS = 1000


def insert_keys_sqlite(conn: Connection, insert: str, rows: Sequence[tuple[object, ...]]) -> None:
    """`insert` (of api_keys) run for each of `rows` in the caller's write transaction, the search index filled
    once for them all."""
    found = None
    if len(rows) >= BULK_KEYS:
        found = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ? AND tbl_name = 'api_keys'",
            (FTS_TRIGGER,),
        ).first()
    if found is None:
        conn.exec_driver_sql(insert, rows)
        return
    mark = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM api_keys").scalar_one()
    conn.exec_driver_sql(f"DROP TRIGGER {FTS_TRIGGER}")
    conn.exec_driver_sql(insert, rows)
    conn.exec_driver_sql(
        "INSERT INTO api_keys_fts (rowid, description) SELECT id, description FROM api_keys WHERE id > ? ORDER BY id",
        (mark,),
    )
    conn.exec_driver_sql(found[0])


def load_usage_postgresql(
    conn: Any, rows: Sequence[Row], naive_utc: Callable[[datetime | None], datetime | None]
) -> bool:
    """PostgreSQL's bulk load on a psycopg connection; False where the server allows no temporary tables (the
    caller then writes the rows as the app's flush does)."""
    naive = functools.lru_cache(maxsize=4096)(naive_utc)
    if not conn.execute("SELECT has_database_privilege(current_database(), 'TEMPORARY')").fetchone()[0]:
        return False  # a server that allows no temporary tables: the arrays are made by the caller instead
    with conn.transaction():
        conn.execute(
            "CREATE TEMPORARY TABLE apikeys_usage_load (key_id integer, hour timestamp, verdict text, "
            "count bigint) ON COMMIT DROP"
        )
        with conn.cursor() as cursor, cursor.copy("COPY apikeys_usage_load FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "timestamp", "text", "int8"])
            for key_id, hour, verdict, count in rows:
                copy.write_row((key_id, naive(hour), verdict, count))
        conn.execute(
            "SELECT apikeys_count_usage(array_agg(key_id), array_agg(hour), array_agg(verdict), "
            "array_agg(count)) FROM apikeys_usage_load"
        ).fetchall()
    return True


def load_usage_sqlite(
    conn: sqlite3.Connection, rows: Sequence[Row], time_text: Callable[[datetime], str | None]
) -> None:
    """SQLite's bulk load on a pooled sqlite3 connection (autocommit; its own write transaction)."""
    text = functools.lru_cache(maxsize=4096)(time_text)  # a few hundred distinct hours in a batch
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {-LOAD_CACHE_KIB}")
    try:
        conn.execute("BEGIN IMMEDIATE")
        found = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ? AND tbl_name = 'key_usage'",
            (ADDED_TRIGGER,),
        ).fetchone()
        mark = conn.execute("SELECT coalesce(max(id), 0) FROM key_usage").fetchone()[0]
        if found:
            conn.execute(f"DROP TRIGGER {ADDED_TRIGGER}")
        conn.executemany(_INSERT, [(k, text(h), v, c, k) for k, h, v, c in rows])
        if found:
            conn.execute(_HOURS, (mark,))
            conn.execute(_DAYS, (mark,))
            conn.execute(found[0])
        conn.execute("COMMIT")
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")
