"""The database seam: read()/write() translate errors; the SQLite fast paths and the generic SQLAlchemy
implementation answer alike; a SQLite file opens, pages and counts without SQLAlchemy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from desktop.core import keys
from desktop.core.db import open_database
from desktop.core.db.base import NewRow
from desktop.core.db.generic import SqlAlchemyDatabase
from desktop.core.db.migrate import KNOWN_REVISIONS
from desktop.core.db.sqlite import SqliteDatabase
from desktop.core.errors import DatabaseLocked, NotADatabase
from desktop.core.store import KeyStore
from desktop.core.values import Cursor, FileChange, Verdict
from tests.core.test_store import write_lock_in_another_process
from tests.helpers import REPO, Secret, make_database, verify_path_statements

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _rows(count: int) -> list[NewRow]:
    # Ties every three keys, some expiring: the keyset order's (created_at, id) both matter.
    return [
        NewRow(
            keys.digest(f"key {i}"), f"h{i:03d}xxxx"[:8], f"key {i}", T0 + timedelta(minutes=i // 3),
            T0 + timedelta(days=i) if i % 4 == 0 else None, i % 5 != 0,
        )
        for i in range(count)
    ]  # fmt: skip


def test_write_translates_a_held_lock_and_read_a_missing_table(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.core.db import sqlite_conn

    monkeypatch.setattr(sqlite_conn, "BUSY_TIMEOUT_S", 0.1)
    db = open_database(str(db_path), create=True)
    try:
        with write_lock_in_another_process(db_path), pytest.raises(DatabaseLocked, match="busy"), db.write():
            pass
        with pytest.raises(NotADatabase, match="or damaged"), db.read() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))
        with pytest.raises(ZeroDivisionError), db.read():  # not a database error: passes unchanged
            _ = 1 / 0
    finally:
        db.dispose()


def test_sqlite_fast_paths_and_the_generic_implementation_agree(db_path: Path) -> None:
    fast = open_database(str(db_path), create=True)
    generic = SqlAlchemyDatabase(make_url(f"sqlite:///{db_path}"))
    try:
        assert isinstance(fast, SqliteDatabase)
        with fast.write() as conn:
            fast.insert_keys(conn, _rows(20))
        with generic.write() as conn:
            generic.insert_keys(conn, _rows(40)[20:])
        assert fast.revision(KNOWN_REVISIONS) == generic.revision(KNOWN_REVISIONS) == KNOWN_REVISIONS[-1]
        for size in (1, 7, 40, 50):
            mine, theirs = fast.page(size), generic.page(size)
            assert mine == theirs
            while mine.has_older:
                after = mine.items[-1].cursor
                mine, theirs = fast.page(size, after=after), generic.page(size, after=after)
                assert mine == theirs and mine.items
            before = mine.items[0].cursor
            assert fast.page(size, before=before) == generic.page(size, before=before)
        assert fast.page(5, after=Cursor(T0, 1)) == generic.page(5, after=Cursor(T0, 1))  # past the end
        assert fast.count() == generic.count() == 40
        middle = fast.page(17).items[-1].cursor
        assert fast.count(middle) == generic.count(middle) == 16
        digest = keys.digest("key 8")
        assert fast.lookup(digest) == generic.lookup(digest) is not None
        assert fast.lookup(b"\x00" * 32) is None and generic.lookup(b"\x00" * 32) is None
        found = fast.lookup(digest)
        assert found is not None and found[4] is None
        fast.touch(found[0], T0 + timedelta(hours=1), T0, found[1])
        assert generic.lookup(digest) == fast.lookup(digest)
        generic.touch(found[0], T0 + timedelta(hours=3), T0 + timedelta(hours=2), found[1])
        assert fast.lookup(digest)[4] == T0 + timedelta(hours=3)  # type: ignore[index]
        assert generic.data_version() is None and isinstance(fast.data_version(), int)
        assert generic.file_state() is FileChange.UNCHANGED and fast.file_state() is FileChange.UNCHANGED
    finally:
        generic.dispose()
        fast.dispose()


def test_a_verify_reads_no_more_columns_than_a_raw_lookup(tmp_path: Path) -> None:
    """Issue 23.3: verify at most 1.5x the raw sqlite3 lookup `make bench` compares it with ("verify"), which reads 4
    columns; sqlite3 describes every column anew on each execute (a tenth of the lookup). Before, both lookups read
    the digest back too, though they find the row by equality on it: 5 columns for verify, 6 for check; then the id
    was a column of its own: 4 and 5. Now the id, active and limited are one number, the expiry and last use (and
    the scopes) one text: 2 and 2."""
    path = tmp_path / "keys.db"
    with KeyStore.open(str(path), create=True) as store:
        store.create("an id before it")
        made = store.create("counted")
        key = Secret(made.key)
        assert store.verify(key) is Verdict.VALID  # its use recorded; a connection kept in the pool
        with verify_path_statements(store) as statements:
            assert store.verify(key) is Verdict.VALID and store.check(key).key_id == made.record.id == 2
    lookups = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(lookups) == 2, statements
    raw = sqlite3.connect(path)
    try:
        widths = [len(raw.execute(sql).description) for sql in lookups]
    finally:
        raw.close()
    assert widths == [2, 2]  # the id with active and limited; the expiry and last use (check(): and the scopes)


def test_a_lookup_binds_the_digest_without_adapting_it(tmp_path: Path) -> None:
    """Issue 23.3 (the WSGI row): sqlite3 offers a `bytes` parameter to its adapters before binding it (looking up
    `__adapt__` raises and clears an AttributeError: 3,000 instructions, a twentieth of a check); a bytearray is
    bound as it is. Before, both lookups handed the digest to sqlite3 as bytes."""
    adapted: list[bytes] = []

    def spy(value: bytes) -> bytes:
        adapted.append(value)
        return value

    with KeyStore.open(str(tmp_path / "keys.db"), create=True) as store:
        made = store.create("bound", scopes=["orders:read"])
        key = Secret(made.key)
        sqlite3.register_adapter(bytes, spy)
        try:
            assert store.verify(key) is Verdict.VALID
            assert store.check(key, ["orders:read"]).key_id == made.record.id
            assert store.verify(Secret(keys.generate())) is Verdict.UNKNOWN
        finally:
            del sqlite3.adapters[(bytes, sqlite3.PrepareProtocol)]
    assert adapted == []


def test_a_flag_another_program_stored_as_any_true_value_is_read_as_true(tmp_path: Path) -> None:
    """The lookup reads the id, active and limited as one number (id * 4 + the flags): a flag column holding 4 (a
    true value another program may write: SQLite keeps what it is given) must not reach the id's bits. Before, the
    key answered with the next key's id, so its uses and last use went to that key."""
    with KeyStore.open(str(tmp_path / "keys.db"), create=True) as store:
        made = store.create("written by another program")
        store.create("the next key")
        raw = sqlite3.connect(tmp_path / "keys.db")
        raw.execute("UPDATE api_keys SET active = 4 WHERE id = ?", (made.record.id,))
        raw.commit()
        raw.close()
        result = store.check(Secret(made.key))
    assert (result.verdict, result.key_id) == (Verdict.VALID, made.record.id)


# Opens the database, shows the first page, watches for changes and verifies, then reports what was loaded.
FIRST_PAGE = """
import sys
from desktop.core.store import KeyStore
store = KeyStore.open(sys.argv[1])
page = store.page(25)
store.data_version()
store.count()
store.count(newer_than=page.items[-1].cursor)
store.verify(sys.stdin.read())
print(len(page.items), sorted(m for m in ("sqlalchemy", "alembic") if m in sys.modules))
store.preload()  # what the window does once its first page is on screen
print("sqlalchemy" in sys.modules)
"""


def test_a_sqlite_file_is_opened_paged_counted_and_verified_without_sqlalchemy(tmp_path: Path) -> None:
    path = make_database(tmp_path / "keys.db", keys=3)
    with KeyStore.open(str(path)) as store:
        key = store.create("to verify").key
    # The key on stdin: never in argv, where other local users could read it.
    result = subprocess.run(
        [sys.executable, "-c", FIRST_PAGE, str(path)], input=key, capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "4 []\nTrue\n"
