"""Engine, pragmas, file permissions and migrations: everything dialect-specific lives here."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from desktop.core import paths
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
from desktop.core.filewatch import Identity, identity_of

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Every revision this program knows, oldest first; a test checks it against Alembic's scripts.
KNOWN_REVISIONS = ("0001",)
HEAD_REVISION = KNOWN_REVISIONS[-1]
BUSY_TIMEOUT_S = 5.0


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

# SQLite's primary result codes (the low byte of an extended code), as sqlite3 names them.
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_UNREACHABLE = frozenset({sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PERM})


def not_ours_or_damaged(location: str) -> NotADatabase:
    return NotADatabase(
        f"{location} is not an API Key Manager database, or damaged. Choose another file or restore a backup."
    )


def _sqlite_code(err: BaseException | None) -> int | None:
    code = getattr(err, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def translate(err: exc.DBAPIError | sqlite3.Error, location: str, *, waited_s: float | None = None) -> DomainError:
    """Map a driver error onto a message a person can act on (no SQL, no values), by SQLite's error code.

    `waited_s`: how long the connection waited for a lock before giving up (its busy timeout).
    """
    orig = err.orig if isinstance(err, exc.DBAPIError) else err
    reason = str(orig) if orig is not None else type(err).__name__
    code = _sqlite_code(orig)
    if code in _BUSY:
        waited = BUSY_TIMEOUT_S if waited_s is None else waited_s
        return DatabaseLocked(
            f"The database {location} is busy: another program has held it locked for more "
            f"than {waited:g} s. Close other programs using it and try again."
        )
    if code == sqlite3.SQLITE_READONLY:
        return DatabaseReadOnly(
            f"The database {location} is read-only. Check the file's permissions, or open a copy you can write."
        )
    if code in _DAMAGED:
        return not_ours_or_damaged(location)
    if code == sqlite3.SQLITE_FULL:
        return DatabaseError(f"The disk holding {location} is full. Free some space and try again.")
    if code in _UNREACHABLE:
        return DatabaseUnavailable(
            f"Cannot use the database {location} ({reason}). Check that the file and its folder can be read "
            "and written."
        )
    if code == sqlite3.SQLITE_ERROR and reason.startswith(("no such table", "no such column")):
        # A table gone after the revision check passed (dropped by another program): SQLite has no
        # better code than the generic one for it.
        return not_ours_or_damaged(location)
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


def _sqlite_connect_args(busy_s: float | None = None) -> dict[str, Any]:
    return {"timeout": BUSY_TIMEOUT_S if busy_s is None else busy_s, "check_same_thread": False}


def _configure_sqlite(dbapi_connection: sqlite3.Connection, busy_ms: int | None = None) -> None:
    # Take transaction control away from pysqlite (SQLAlchemy's documented
    # fix): it would otherwise defer BEGIN and break isolation and DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000) if busy_ms is None else busy_ms}")
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
    #: How long a lookup may wait for a lock. In WAL mode readers never wait for a writer; a database that
    #: cannot be switched to WAL (read-only) makes them wait for a committing writer, and a service should
    #: rather answer "try again" soon than hold its request for the full busy timeout.
    LOOKUP_WAIT_MS = 250
    #: Recording a use never waits for another writer: it is bookkeeping, and the store retries it later.
    TOUCH_WAIT_MS = 0
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
        wait_ms = self.LOOKUP_WAIT_MS
        conn: sqlite3.Connection = connect(*cargs, **{**cparams, **_sqlite_connect_args(wait_ms / 1000)})
        _configure_sqlite(conn, busy_ms=wait_ms)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            # Only lookups and last-use records go through here: a record lost to a power cut costs nothing,
            # and in WAL mode NORMAL spares the verify path an fsync per record without risking the file.
            conn.execute("PRAGMA synchronous = NORMAL")
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
            raise translate(err, describe(self._url), waited_s=self.LOOKUP_WAIT_MS / 1000) from None
        if not rows:
            return None
        key_id, stored, active, expires_at, last_used_at = rows[0]
        return key_id, stored, bool(active), sqlite_time(expires_at), sqlite_time(last_used_at)

    def touch(self, key_id: int, now: datetime, stale: datetime) -> None:
        """Record a use if the write lock is free right now (TOUCH_WAIT_MS); DatabaseLocked if it is not."""
        with self._connection() as conn:
            try:
                conn.execute(f"PRAGMA busy_timeout = {self.TOUCH_WAIT_MS}")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(self._TOUCH, (sqlite_time_text(now), key_id, sqlite_time_text(stale)))
                    conn.execute("COMMIT")
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute(f"PRAGMA busy_timeout = {self.LOOKUP_WAIT_MS}")
            except sqlite3.Error as err:
                raise translate(err, describe(self._url), waited_s=self.TOUCH_WAIT_MS / 1000) from None

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
    #: The SQLite file, and its identity when it was checked just before opening; None for other databases.
    path: Path | None = None
    identity: Identity | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def dispose(self) -> None:
        if self.fast is not None:
            self.fast.close()
        self.engine.dispose()


def _make_database(url: URL, path: Path | None = None, identity: Identity | None = None) -> Database:
    engine, write_engine = _make_engine(url)
    # Files only: every connection to an in-memory database would be a new, empty database.
    fast = SqliteFastPath(engine, url) if _sqlite_file(url) is not None else None
    return Database(url, engine, write_engine, fast, path, identity)


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
                f"{location} is a database, but not an API Key Manager database. "
                "Choose another file; it was not changed."
            )
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    revision = rows[0] if rows else None
    # A revision we wrote promises our table; without it every query would fail with "no such table".
    if revision in KNOWN_REVISIONS and "api_keys" not in tables:
        raise not_ours_or_damaged(location)
    return revision


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


#: Locations already warned about in this process: a service that reopens a file says it once.
_NOT_WAL_WARNED: set[str] = set()


def _warn_not_wal(location: str, why: str) -> None:
    if location in _NOT_WAL_WARNED:
        log.debug("%s stays in rollback-journal mode (%s)", location, why)
        return
    _NOT_WAL_WARNED.add(location)
    log.warning(
        "%s is in rollback-journal mode and could not be switched to WAL (%s): verifying may wait while "
        "another program writes to it. Open it once with write access to switch it.",
        location,
        why,
    )


def _ensure_wal(db: Database, path: Path) -> None:
    """Put a SQLite file in WAL mode, where readers (verifiers, the window) never wait for a writer.

    WAL is a property of the file, so this changes it once, for every program that opens it later.
    """
    raw = db.engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        with translated(db.location):
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
        if _is_read_only_uri(db.url):
            _warn_not_wal(db.location, "it is opened read-only")
            return
        if not paths.looks_complete(path):
            # Shorter than its header says: damaged. Its first real query will say so; do not change it.
            log.debug("not switching %s to WAL: the file looks truncated", db.location)
            return
        conn.execute(f"PRAGMA busy_timeout = {SqliteFastPath.LOOKUP_WAIT_MS}")
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.Error as err:
            code = _sqlite_code(err)
            if code == sqlite3.SQLITE_READONLY:
                _warn_not_wal(db.location, "it is read-only")
            elif code in _BUSY:
                _warn_not_wal(db.location, "another program is using it; the next open tries again")
            else:
                raise translate(err, db.location) from None
        else:
            if mode != "wal":
                _warn_not_wal(db.location, f"it stays in {mode} mode")
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    finally:
        raw.close()


def _create_sqlite_file(path: Path) -> None:
    """Build a complete database beside `path` under a random name, then link it into place in one step."""
    paths.check_strays(path)
    # mkstemp: O_EXCL, mode 0600, a name no one can guess and so pre-create (or its -wal) to block us.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".creating", dir=path.parent)
    temp = Path(name)
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask; SQLite gives -wal and -shm the database's mode
        finally:
            os.close(fd)
        paths.check_strays(temp)
        db = _make_database(URL.create("sqlite+pysqlite", database=str(temp)))
        try:
            _migrate(db)
            _ensure_wal(db, temp)
        finally:
            db.dispose()
        try:
            os.link(temp, path)  # never clobbers a file another process created meanwhile
        except FileExistsError:
            # Something appeared at the path meanwhile (another of our processes, or a planted file or
            # link): it gets the same checks as any file we open, here and again by the caller.
            paths.examine(path, str(path))
        except OSError:
            if not os.path.lexists(path):  # a file system without hard links
                os.rename(temp, path)
    finally:
        paths.remove_quietly(temp, *paths.companions(temp))


def _is_read_only_uri(url: URL) -> bool:
    return url.query.get("uri") == "true" and "mode=ro" in (url.database or "")


def _sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL (plain path or `file:` URI), None for memory or other databases."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.query.get("uri") == "true":
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url.database)
        if parts.scheme != "file" or "mode=memory" in parts.query:
            return None
        return Path(unquote(parts.path))
    return Path(url.database)


def open_database(target: str | URL, *, create: bool = False) -> Database:
    """Open (migrating as needed) the database named by a path or URL.

    A SQLite file, its companions and its folder are checked first (desktop.core.paths) and refused
    (UnsafeDatabase) when another user could have planted or could read them. A missing file is created
    only with `create=True`; otherwise it is DatabaseMissing and nothing is written, so a mistyped path
    never turns into an empty database that rejects every key.
    """
    url = target if isinstance(target, URL) else to_url(target)
    location = describe(url)
    path = _sqlite_file(url)
    identity: Identity | None = None
    if path is not None:
        found = paths.examine(path, location)
        if found is None:
            if not create or _is_read_only_uri(url):
                raise DatabaseMissing(location)
            try:
                _create_sqlite_file(path)
            except OSError as err:
                raise DatabaseUnavailable(f"Cannot create {location} ({err.strerror}).") from None
            found = paths.examine(path, location)
            if found is None:
                raise DatabaseMissing(location)
        identity = identity_of(found[0])
    try:
        db = _make_database(url, path, identity)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as err:
        raise DatabaseUnavailable(f"Cannot use the database {location}: {err}.") from None
    try:
        _migrate(db)
        if path is not None:
            _ensure_wal(db, path)
    except BaseException:
        db.dispose()
        raise
    return db


def fix_permissions(path: str) -> None:
    """`chmod 600` the database file at `path` (a path or SQLite URL) and its companions the user owns.

    Nothing else: not a link, not another user's file, not the folder. For the window's bad-database
    dialog, when UnsafeDatabase.can_fix says that only the mode is wrong.
    """
    file = _sqlite_file(to_url(path))
    if file is not None:
        paths.fix_permissions(file)
