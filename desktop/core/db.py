"""Engine, pragmas, file permissions and migrations: everything dialect-specific lives here."""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from desktop.core.errors import (
    DatabaseError,
    DatabaseLocked,
    DatabaseMissing,
    DatabaseReadOnly,
    DatabaseUnavailable,
    DomainError,
    NotADatabase,
    SchemaTooNew,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Every revision this program knows, oldest first; a test checks it against Alembic's scripts.
KNOWN_REVISIONS = ("0001",)
HEAD_REVISION = KNOWN_REVISIONS[-1]
BUSY_TIMEOUT_S = 5.0
_SQLITE_HEADER = b"SQLite format 3\x00"


def to_url(target: str) -> URL:
    if "://" in target:
        try:
            return make_url(target)
        except exc.ArgumentError as err:
            raise DatabaseUnavailable(f"'{target}' is not a valid database URL.") from err
    return URL.create("sqlite+pysqlite", database=str(Path(target).expanduser().absolute()))


def describe(url: URL) -> str:
    """Where the data lives, for people: a file path, or the URL without its password."""
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return url.render_as_string(hide_password=True)


# -- error translation -------------------------------------------------------


def translate(err: exc.DBAPIError | sqlite3.Error, location: str) -> DomainError:
    """Map a driver error onto a message a person can act on (no SQL, no values)."""
    if isinstance(err, exc.DBAPIError):
        reason = str(err.orig) if err.orig is not None else type(err).__name__
    else:
        reason = str(err)
    low = reason.lower()
    if "locked" in low or "busy" in low:
        return DatabaseLocked(
            f"The database {location} is busy: another program has held it locked for more "
            f"than {BUSY_TIMEOUT_S:g} s. Close other programs using it and try again."
        )
    if "readonly" in low or "read-only" in low:
        return DatabaseReadOnly(
            f"The database {location} is read-only. Check the file's permissions, or open a copy you can write."
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return NotADatabase(
            f"{location} is not an API keys database or is damaged. Choose another file or restore a backup."
        )
    if "unable to open" in low or "disk i/o" in low or "no such" in low:
        return DatabaseUnavailable(f"Cannot use the database {location} ({reason}). Check that the path is accessible.")
    return DatabaseError(f"The database {location} reported an error ({reason}).")


@contextlib.contextmanager
def translated(location: str) -> Iterator[None]:
    try:
        yield
    except (exc.DBAPIError, sqlite3.Error) as err:
        raise translate(err, location) from None
    except exc.SQLAlchemyError as err:  # e.g. the connection pool timed out
        raise DatabaseError(f"The database {location} could not be used ({type(err).__name__}). Try again.") from None


# -- SQLite specifics ---------------------------------------------------------


def _sqlite_connect_args() -> dict[str, Any]:
    return {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}


def _configure_sqlite(dbapi_connection: sqlite3.Connection) -> None:
    # Take transaction control away from pysqlite (SQLAlchemy's documented
    # fix): it would otherwise defer BEGIN and break isolation and DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    # A key is shown only after COMMIT returned: make that survive power loss.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _install_sqlite_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        _configure_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so a reader turned writer never gets
        # an instant "database is locked" that busy_timeout cannot retry.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _create_file_0600(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask; -wal and -shm inherit it
    finally:
        os.close(fd)


def _check_sqlite_file(path: Path, location: str) -> bool:
    """Refuse what is not a database without writing to it; True when the file is missing."""
    if path.is_dir():
        raise NotADatabase(f"{location} is a folder, not a database file. Choose a file.")
    if not path.parent.is_dir():
        raise DatabaseUnavailable(
            f"The folder {path.parent} does not exist. Create it first or choose another location."
        )
    if not path.exists():
        return True
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError as err:
        raise DatabaseUnavailable(f"Cannot read {location} ({err.strerror}). Check its permissions.") from None
    if not header:
        raise NotADatabase(f"{location} is an empty file, not an API keys database. Choose another file.")
    if header != _SQLITE_HEADER:
        raise NotADatabase(f"{location} is not a database file. Choose another file; it was not changed.")
    return False


# SQLAlchemy stores DATETIME on SQLite as "YYYY-MM-DD HH:MM:SS.ffffff" text (naive UTC here);
# the fast paths read and write that text directly.
VERIFY_COLUMNS = "id, digest, active, expires_at, last_used_at"
INSERT_COLUMNS = ("digest", "hint", "description", "created_at", "expires_at", "active")


def sqlite_time_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime and gives the same text.
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def sqlite_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


class SqliteFastPath:
    """Hot paths through plain sqlite3: SQLAlchemy's per-call overhead is many times an indexed lookup."""

    _LOOKUP = f"SELECT {VERIFY_COLUMNS} FROM api_keys WHERE digest = ?"
    _INSERT = f"INSERT INTO api_keys ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(INSERT_COLUMNS))})"

    #: Kept reader connections at most; a busy threaded server opens more only while they are all in use.
    POOL_SIZE = 8
    #: How long recording a use may wait for another writer, so a busy service never queues on it.
    TOUCH_WAIT_MS = 50
    _TOUCH = "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)"

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url
        # SimpleQueue: thread-safe take and give in C, no lock of ours on the verify path.
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._pid = os.getpid()

    def _connect(self) -> sqlite3.Connection:
        cargs, cparams = self._engine.dialect.create_connect_args(self._url)
        connect: Any = sqlite3.connect  # the dialect's arguments are untyped
        conn: sqlite3.Connection = connect(*cargs, **{**cparams, **_sqlite_connect_args()})
        _configure_sqlite(conn)
        return conn

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A kept connection from a small pool (sqlite3 caches its prepared statements).

        One per thread would leak a connection for every short-lived thread of a threaded server.
        """
        conn = self._take()
        try:
            yield conn
        finally:
            self._give(conn)

    def _take(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # never reuse a connection across fork()
            self._idle, self._pid = queue.SimpleQueue(), os.getpid()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._connect()

    def _give(self, conn: sqlite3.Connection) -> None:
        if self._idle.qsize() < self.POOL_SIZE and not conn.in_transaction:
            self._idle.put(conn)
        else:
            conn.close()

    def lookup(self, digest: bytes) -> tuple[int, bytes, bool, datetime | None, datetime | None] | None:
        # The hot path: take and give inline (a context manager costs a fifth of the whole call).
        try:
            conn = self._take()
            try:
                # fetchall() steps the statement to its end, so no read transaction stays open.
                rows = conn.execute(self._LOOKUP, (digest,)).fetchall()
            finally:
                self._give(conn)
        except sqlite3.Error as err:  # translated here: `translated()` costs a tenth of this call
            raise translate(err, describe(self._url)) from None
        if not rows:
            return None
        key_id, stored, active, expires_at, last_used_at = rows[0]
        return key_id, stored, bool(active), sqlite_time(expires_at), sqlite_time(last_used_at)

    def touch(self, key_id: int, now: datetime, stale: datetime) -> None:
        """Record a use, waiting at most TOUCH_WAIT_MS for the write lock: it is bookkeeping only."""
        with self._connection() as conn:
            conn.execute(f"PRAGMA busy_timeout = {self.TOUCH_WAIT_MS}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(self._TOUCH, (sqlite_time_text(now), key_id, sqlite_time_text(stale)))
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    def insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Bulk insert of INSERT_COLUMNS tuples in the caller's write transaction."""
        text = sqlite_time_text
        conn.exec_driver_sql(self._INSERT, [(d, h, s, text(c), text(e), a) for d, h, s, c, e, a in rows])

    def close(self) -> None:
        idle, self._idle = self._idle, queue.SimpleQueue()
        while True:
            try:
                idle.get_nowait().close()
            except queue.Empty:
                break


# -- the database -------------------------------------------------------------


@dataclass(eq=False)
class Database:
    """An engine on one database, migrated to the current schema."""

    url: URL
    engine: Engine
    #: The same pool; transactions begin with a write lock on SQLite.
    write_engine: Engine

    @property
    def location(self) -> str:
        return describe(self.url)

    #: Plain-sqlite3 hot paths (verify, bulk insert); None on other databases.
    fast: SqliteFastPath | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def dispose(self) -> None:
        if self.fast is not None:
            self.fast.close()
        self.engine.dispose()


def _make_database(url: URL) -> Database:
    engine, write_engine = _make_engine(url)
    # Files only: every connection to an in-memory database would be a new, empty database.
    fast = SqliteFastPath(engine, url) if _sqlite_file(url) is not None else None
    return Database(url, engine, write_engine, fast)


def _make_engine(url: URL) -> tuple[Engine, Engine]:
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = _sqlite_connect_args()
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _install_sqlite_listeners(engine)
        return engine, engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine, engine


def _current_revision(conn: Connection, location: str) -> str | None:
    """The schema's revision, read without Alembic (it costs ~0.15 s to import)."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    if "alembic_version" not in tables:
        if tables:
            raise NotADatabase(
                f"{location} is a database, but not an API keys database. Choose another file; it was not changed."
            )
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return rows[0] if rows else None


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def _migrate(db: Database) -> None:
    with translated(db.location):
        with db.engine.connect() as conn:
            revision = _current_revision(conn, db.location)
            conn.rollback()
        if revision == HEAD_REVISION:
            return
        if revision is not None and revision not in KNOWN_REVISIONS:
            raise SchemaTooNew(
                f"{db.location} was written by a newer version of API Key Manager (schema {revision}). "
                "Update the program; the database was not changed."
            )
        with db.write_engine.begin() as conn:
            # Re-read under the write lock: another process may have migrated meanwhile.
            if _current_revision(conn, db.location) != HEAD_REVISION:
                _upgrade(conn)
        if revision is None and db.is_sqlite:
            # A database that just got its schema from us: WAL, set once (it is a property of the file),
            # so readers (the window, verifiers) never wait for a writer.
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA journal_mode = WAL")  # type: ignore[union-attr]
            finally:
                raw.close()


def _create_sqlite_file(path: Path) -> None:
    """Build a complete database beside `path`, then link it into place in one step."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.creating")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    _create_file_0600(temp)
    try:
        url = URL.create("sqlite+pysqlite", database=str(temp))
        db = _make_database(url)
        try:
            _migrate(db)  # schema and WAL
        finally:
            db.dispose()
        try:
            os.link(temp, path)  # never clobbers a file another process created meanwhile
        except FileExistsError:
            pass
        except OSError:
            if not path.exists():  # a file system without hard links
                os.rename(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _is_read_only_uri(url: URL) -> bool:
    return url.query.get("uri") == "true" and "mode=ro" in (url.database or "")


def _sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL (plain path or `file:` URI), None for memory or other databases."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.query.get("uri") == "true":
        from urllib.parse import urlsplit

        parts = urlsplit(url.database)
        if parts.scheme != "file" or "mode=memory" in parts.query:
            return None
        return Path(parts.path)
    return Path(url.database)


def open_database(target: str, *, create: bool = False) -> Database:
    """Open (migrating as needed) the database named by a path or URL.

    A missing SQLite file is created only with `create=True`; otherwise it is DatabaseMissing and nothing is
    written, so a mistyped path never turns into an empty database that rejects every key.
    """
    url = to_url(target)
    location = describe(url)
    path = _sqlite_file(url)
    if path is not None and _check_sqlite_file(path, location):
        if not create or _is_read_only_uri(url):
            raise DatabaseMissing(location)
        try:
            _create_sqlite_file(path)
        except OSError as err:
            raise DatabaseUnavailable(f"Cannot create {location} ({err.strerror}).") from None
    try:
        db = _make_database(url)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as err:
        raise DatabaseUnavailable(f"Cannot use the database {location}: {err}.") from None
    try:
        _migrate(db)
    except BaseException:
        db.dispose()
        raise
    return db
