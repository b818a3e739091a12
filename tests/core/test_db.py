"""Opening databases: creation, modes, pragmas, migrations, and refusing what is not ours."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from desktop.cli import exit_status
from desktop.core.db import migrate as migratemod
from desktop.core.db import sqlite as dbmod
from desktop.core.db import sqlite_conn
from desktop.core.db.rows import utc_time
from desktop.core.errors import (
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    NotADatabase,
    SchemaTooNew,
)
from desktop.core.store import KeyStore
from desktop.core.target import resolve_target
from tests.backends import execute, is_server
from tests.helpers import make_truncated


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_known_revisions_match_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migratemod.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    walked = [rev.revision for rev in script.walk_revisions()]
    assert tuple(reversed(walked)) == migratemod.KNOWN_REVISIONS
    assert script.get_current_head() == migratemod.HEAD_REVISION


def test_new_database_is_created_0600_whatever_the_umask(db_path: Path) -> None:
    old = os.umask(0)
    try:
        with KeyStore.open(str(db_path), create=True) as store:
            store.create("mode check")
            for suffix in ("", "-wal", "-shm"):
                path = Path(f"{db_path}{suffix}")
                assert path.exists(), suffix
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, suffix
    finally:
        os.umask(old)
    assert not list(db_path.parent.glob(".*creating"))


def test_pragmas(store: KeyStore) -> None:
    with store.database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_write_transactions_take_the_lock_at_begin(store: KeyStore, db_path: Path) -> None:
    with store.database.write_engine.begin() as conn:
        conn.execute(text("SELECT 1"))  # a read only, yet the write lock is held already
        other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_reads_do_not_take_the_write_lock(store: KeyStore, db_path: Path) -> None:
    with store.database.engine.begin() as conn:
        conn.execute(text("SELECT count(*) FROM api_keys"))
        other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


INSERT = "INSERT INTO api_keys (digest, hint, description, created_at, active) VALUES (:d, 'h', :x, '2026-01-01', 1)"


def test_bound_values_never_appear_in_errors(store: KeyStore) -> None:
    secret_digest = b"\x13" * 32
    with store.database.engine.begin() as conn:
        conn.execute(
            text(INSERT.replace(":x", "'SECRETDESC'")),
            {"d": secret_digest},
        )
    with pytest.raises(exc.IntegrityError) as caught, store.database.engine.begin() as conn:
        conn.execute(
            text(INSERT),
            {"d": secret_digest, "x": "SECRETDESC2"},
        )
    message = str(caught.value)
    assert "SECRETDESC2" not in message and "x13" not in message and "hidden" in message


def test_migrates_an_empty_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 0").connection.close()
    path.chmod(0o600)
    with KeyStore.open(str(path), create=True) as store:
        store.create("works")
        assert store.count() == 1
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # given the schema, given WAL
    con.close()


#: A revision after this program's head, for tests that play a newer program (never a real revision id, so
#: the test holds whatever revisions the program gains).
NEXT = "test_next"


def newer_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upgrade: str) -> None:
    """Pretend a newer program whose migration NEXT (after the head) runs `upgrade`'s body."""
    import shutil
    import textwrap

    versions = tmp_path / "migrations"
    shutil.copytree(migratemod.MIGRATIONS_DIR, versions, ignore=shutil.ignore_patterns("__pycache__"))
    (versions / "versions" / f"{NEXT}.py").write_text(
        f'revision = "{NEXT}"\ndown_revision = "{migratemod.HEAD_REVISION}"\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade():\n    from alembic import op\n"
        + textwrap.indent(upgrade, "    ")
        + "\n\n\ndef downgrade():\n    pass\n"
    )
    monkeypatch.setattr(migratemod, "MIGRATIONS_DIR", versions)
    monkeypatch.setattr(migratemod, "KNOWN_REVISIONS", (*migratemod.KNOWN_REVISIONS, NEXT))
    monkeypatch.setattr(migratemod, "HEAD_REVISION", NEXT)


def test_upgrades_an_older_revision_in_place(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with KeyStore.open(database, create=True) as store:
        created = store.create("kept")
    # A newer program with one more revision: the database must be upgraded, its keys kept.
    newer_program(tmp_path, monkeypatch, "op.create_index('ix_tmp', 'api_keys', ['hint'])")
    with KeyStore.open(database, create=True) as store:
        assert store.verify(created.key) == "valid"
    assert execute(database, "SELECT version_num FROM alembic_version") == [(NEXT,)]
    catalogue = "sqlite_master" if not is_server(database) else "pg_indexes"
    column = "name" if not is_server(database) else "indexname"
    assert execute(database, f"SELECT {column} FROM {catalogue} WHERE {column} = 'ix_tmp'") == [("ix_tmp",)]


def test_refuses_a_newer_schema_without_touching_it(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        store.create("kept")
    execute(database, "UPDATE alembic_version SET version_num = '9999'")

    def state() -> object:
        if not is_server(database):
            return sha(Path(database))
        return execute(database, "SELECT * FROM api_keys"), execute(database, "SELECT version_num FROM alembic_version")

    before = state()
    with pytest.raises(SchemaTooNew, match="newer version"):
        KeyStore.open(database, create=True)
    assert state() == before


@pytest.mark.parametrize(
    "content, error, message",
    [
        (b"hello, I am a text file\n" * 10, NotADatabase, "not a database file"),
        (b"", NotADatabase, "empty file"),
        (b"SQLite format 3\x00" + b"\xff" * 200, NotADatabase, "not an API Key Manager database, or damaged"),
    ],
)
def test_refuses_files_that_are_not_databases_byte_identical(
    tmp_path: Path, content: bytes, error: type[Exception], message: str
) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(error, match=message):
        KeyStore.open(str(path), create=True)
    assert path.read_bytes() == content


def test_refuses_a_truncated_database(tmp_path: Path) -> None:
    path = make_truncated(tmp_path / "trunc.db")
    before = path.read_bytes()
    with pytest.raises(NotADatabase), KeyStore.open(str(path), create=True) as store:
        store.all()
    assert path.read_bytes() == before


def test_refuses_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (body TEXT)")
    con.commit()
    con.close()
    path.chmod(0o600)
    before = sha(path)
    with pytest.raises(NotADatabase, match="not an API Key Manager database"):
        KeyStore.open(str(path), create=True)
    assert sha(path) == before


def test_refuses_a_folder_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADatabase, match="is a folder"):
        KeyStore.open(str(tmp_path), create=True)
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        KeyStore.open(str(tmp_path / "missing" / "keys.db"), create=True)
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_database_refuses_writes(db_path: Path) -> None:
    with KeyStore.open(str(db_path), create=True) as store:
        store.create("ro")
    db_path.chmod(0o400)
    with KeyStore.open(str(db_path), create=True) as store, pytest.raises(DatabaseReadOnly):
        store.create("nope")


def test_read_only_connection_refuses_writes(db_path: Path) -> None:
    with KeyStore.open(str(db_path), create=True) as store:
        store.create("ro")
    with KeyStore.open(f"sqlite:///file:{db_path}?mode=ro&uri=true", create=True) as store:
        assert store.count() == 1
        with pytest.raises(DatabaseReadOnly, match="read-only"):
            store.create("nope")


def test_locked_database_reports_busy(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_conn, "BUSY_TIMEOUT_S", 0.2)
    with KeyStore.open(str(db_path), create=True) as store:
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseLocked, match="busy"):
                store.create("waits")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.count() == 0


def test_no_plaintext_key_in_any_database_file(db_path: Path) -> None:
    with KeyStore.open(str(db_path), create=True) as store:
        created = [store.create(f"secret holder {i}").key for i in range(20)]
        files = [Path(f"{db_path}{s}") for s in ("", "-wal", "-shm")]
        blobs = b"".join(p.read_bytes() for p in files if p.exists())
    for key in created:
        assert key.encode() not in blobs
        assert key[3:35].encode() not in blobs  # not even the random part


def test_query_plans_use_indexes(store: KeyStore) -> None:
    with store.database.engine.connect() as conn:

        def plan(sql: str) -> str:
            return " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

        page_after = plan(
            "SELECT id FROM api_keys WHERE (created_at, id) < ('2026-01-01', 5) "
            "ORDER BY created_at DESC, id DESC LIMIT 26"
        )
        page_before = plan(
            "SELECT id FROM api_keys WHERE (created_at, id) > ('2026-01-01', 5) ORDER BY created_at, id LIMIT 26"
        )
        lookup = plan("SELECT id FROM api_keys WHERE digest = x'00'")
    assert "ix_api_keys_created_at_id" in page_after and "TEMP B-TREE" not in page_after
    assert "ix_api_keys_created_at_id" in page_before and "TEMP B-TREE" not in page_before
    assert "ix_api_keys_digest" in lookup and "SCAN" not in lookup


def test_resolve_target_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_target("given.db") == "given.db"
    monkeypatch.setenv("APIKEYS_DATABASE", str(tmp_path / "env.db"))
    assert resolve_target(None) == str(tmp_path / "env.db")
    monkeypatch.delenv("APIKEYS_DATABASE")
    default = Path(resolve_target(None))
    assert default.name == "keys.db" and default.parent.name == "apikeys" and default.parent.is_dir()


def test_fast_path_time_text_matches_sqlalchemys_storage(store: KeyStore) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from desktop.core.values import NewKey

    moments = [
        datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
        datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=-5))),
    ]
    store.insert_many([NewKey("fast", m, m) for m in moments])
    with store.database.engine.connect() as conn:
        stored = [r[0] for r in conn.exec_driver_sql("SELECT created_at FROM api_keys ORDER BY id")]
    assert stored == ["2026-03-04 05:06:07.890123", "2026-03-04 10:06:07.000000"]
    assert [dbmod.sqlite_time_text(m) for m in moments] == stored
    assert [r.created_at for r in reversed(store.all())] == moments
    assert [utc_time(t) for t in stored] == moments
    assert all(utc_time(t).tzinfo is UTC for t in stored)  # type: ignore[union-attr]
    # A text with an offset of its own (another program's) reads as it always did: the clock time, as UTC.
    assert utc_time("2026-03-04 05:06:07+02:00") == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert utc_time(None) is None
    with pytest.raises(ValueError):
        utc_time("not a time")
    # psycopg's naive UTC datetimes take the same path's end.
    assert utc_time(datetime(2026, 3, 4, 5, 6, 7)) == moments[0].replace(microsecond=0)


def test_missing_file_is_an_error_unless_asked_to_create(tmp_path: Path) -> None:
    from desktop.core.errors import DatabaseMissing
    from desktop.core.store import open_store

    missing = tmp_path / "typo.db"
    with pytest.raises(DatabaseMissing) as info:
        KeyStore.open(str(missing))
    assert str(missing) in info.value.message
    with pytest.raises(DatabaseMissing):
        open_store(str(missing))
    assert not missing.exists()
    assert list(tmp_path.iterdir()) == []
    with KeyStore.open(str(missing), create=True) as store:
        assert store.count() == 0
    assert missing.exists()


# -- errors by SQLite's code, not its words (issue 9, item 12) ------------------------------------------


def test_a_database_without_its_keys_table_says_not_ours_or_damaged(tmp_path: Path) -> None:
    from tests.helpers import ONE_LINE_ERROR, make_database, run_cli

    path = make_database(tmp_path / "keys.db")
    con = sqlite3.connect(path)
    con.execute("DROP TABLE api_keys")
    con.commit()
    con.close()
    before = sha(path)
    with pytest.raises(NotADatabase, match="not an API Key Manager database, or damaged"):
        KeyStore.open(str(path))
    result = run_cli("list", "--database", str(path))
    assert result.returncode == 3 and ONE_LINE_ERROR.match(result.stderr)
    assert "not an API Key Manager database, or damaged" in result.stderr and "accessible" not in result.stderr
    assert sha(path) == before


def test_a_table_dropped_while_open_says_not_ours_or_damaged(store: KeyStore, db_path: Path) -> None:
    store.create("here")
    con = sqlite3.connect(db_path)
    con.execute("DROP TABLE api_keys")
    con.commit()
    con.close()
    with pytest.raises(NotADatabase, match="not an API Key Manager database, or damaged"):
        store.count()


@pytest.mark.parametrize("table", ["locked_out", "readonly_copy", "busy_hours", "corrupt_rows"])
def test_errors_are_mapped_by_code_not_by_words_in_the_message(table: str) -> None:
    """A missing table whose name holds "locked" or "readonly" is still a missing table."""
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f"SELECT * FROM {table}")
    except sqlite3.Error as err:
        mapped = sqlite_conn.translate(err, "here")
    finally:
        con.close()
    assert type(mapped) is NotADatabase and "not an API Key Manager database, or damaged" in mapped.message


def test_each_error_code_gets_its_kind(tmp_path: Path, db_path: Path) -> None:
    from desktop.core.errors import DatabaseError

    def error_of(action: object) -> sqlite3.Error:
        try:
            action()  # type: ignore[operator]
        except sqlite3.Error as err:
            return err
        raise AssertionError("no error")

    with KeyStore.open(str(db_path), create=True):
        pass
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    busy = error_of(lambda: other.execute("BEGIN IMMEDIATE"))
    holder.execute("ROLLBACK")
    readonly = error_of(lambda: sqlite3.connect(f"file:{db_path}?mode=ro", uri=True).execute("DELETE FROM api_keys"))
    cantopen = error_of(lambda: sqlite3.connect(f"file:{tmp_path}/none.db?mode=rw", uri=True))
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00" * 4096)
    notadb = error_of(lambda: sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master"))
    kinds = {
        "busy": (busy, DatabaseLocked),
        "readonly": (readonly, DatabaseReadOnly),
        "cantopen": (cantopen, DatabaseUnavailable),
        "notadb": (notadb, NotADatabase),
    }
    for name, (err, kind) in kinds.items():
        mapped = sqlite_conn.translate(err, "here")
        assert type(mapped) is kind, (name, err.sqlite_errorname, mapped)
        assert isinstance(mapped, DatabaseError) and exit_status(mapped) == 3
        assert "--database" not in mapped.message and "APIKEYS_DATABASE" not in mapped.message
    other.close()
    holder.close()


# -- WAL for every database the app opens (issue 10, item 4) ------------------------------------------


def _journal_mode(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        con.close()


def test_a_rollback_journal_database_is_switched_to_wal_on_open(tmp_path: Path) -> None:
    from tests.helpers import make_database

    path = make_database(tmp_path / "old-style.db")
    assert _journal_mode(path) == "delete"
    with KeyStore.open(str(path)) as store:
        assert store.count() == 1
    assert _journal_mode(path) == "wal"


def test_a_read_only_rollback_journal_database_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from tests.helpers import make_database

    path = make_database(tmp_path / "shipped.db")
    before = sha(path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    with caplog.at_level(logging.DEBUG, logger="desktop.core.db"):
        for _ in range(3):
            with KeyStore.open(url) as store:
                assert store.count() == 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "could not be switched to WAL" in warnings[0].getMessage()
    assert _journal_mode(path) == "delete" and sha(path) == before


def test_lookups_wait_a_quarter_second_at_most(store: KeyStore) -> None:
    database = store.database
    assert isinstance(database, dbmod.SqliteDatabase)
    conn = database.connect()
    try:
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] <= 250
    finally:
        conn.close()


def test_the_activity_log_filtered_by_action_walks_an_index(store: KeyStore) -> None:
    """A rare action's newest page must not walk every event (migration 0006)."""
    from datetime import datetime

    from desktop.core.db import statements
    from desktop.core.values import EventCursor

    for statement in (
        statements.events(26, action="renamed"),
        statements.events(26, action="renamed", before=EventCursor(datetime(2026, 1, 1), 5)),
    ):
        compiled = statement.compile(dialect=store.database.engine.dialect)
        params = tuple(
            value.isoformat(" ") if isinstance(value, datetime) else value
            for value in (compiled.params[name] for name in compiled.positiontup or ())
        )
        with store.database.engine.connect() as conn:
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params))
        assert "ix_key_events_action_at_id" in plan and "TEMP B-TREE" not in plan, plan
