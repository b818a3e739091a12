"""The database seam: `open_database` picks the backend for a path or URL; everything dialect-specific is here.

base.py          Database: read()/write() with errors translated, and the operations with a fast path
generic.py       SqlAlchemyDatabase: all of them through SQLAlchemy Core (what PostgreSQL extends)
sqlite.py        SqliteDatabase: plain sqlite3 for opening and the fast paths; errors by SQLite code
sqlite_conn.py   what every SQLite connection shares: the busy timeout, pragmas, errors translated by code
sqlite_engine.py SQLAlchemy's engine on SQLite (built on first write or count), in-memory databases
sqlite_files.py  opening a file: examined, created whole, anchored, migrated, switched to WAL
paths.py         what is safe to open at a path, and whether it is still the same file
migrate.py       the schema revision, brought to the head with Alembic when behind
statements.py    the SQL, as SQLAlchemy Core statements on the typed model
postgresql.py    PostgresDatabase: psycopg 3, keepalives, the schema lock, change notifications
pg_listen.py     PgChangeListener: LISTEN on a connection of its own, for the window
pg_errors.py     psycopg's errors as DomainErrors, libpq's messages cut to one line (for both of the above)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.db.base import Database
from desktop.core.errors import DatabaseUnavailable, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["Database", "fix_permissions", "open_database", "sqlite_file", "to_url"]


def to_url(target: str) -> URL:
    """The SQLAlchemy URL for a path or URL (imports SQLAlchemy)."""
    from sqlalchemy import exc
    from sqlalchemy.engine import URL, make_url

    if "://" in target:
        try:
            url = make_url(target)
        except (exc.ArgumentError, ValueError):  # ValueError: a port that is not a number (`h:abc`, `[::1`)
            raise InvalidInput(f"{_as_typed(target)} is not a valid database URL; {SUPPORTED}.") from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise InvalidInput(
                f"{_as_typed(target)}: {url.drivername} databases are not supported; {SUPPORTED}."
            ) from None
        return url
    return URL.create("sqlite+pysqlite", database=str(Path(target).expanduser().absolute()))


#: The URL schemes this program opens (psycopg 3 for PostgreSQL, the standard library's sqlite3 for SQLite).
SUPPORTED_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"})
SUPPORTED = (
    "use a SQLite database file (a path, or sqlite:///path) or a PostgreSQL server "
    "(postgresql://user@host/dbname or postgresql+psycopg://…)"
)


def _as_typed(target: str) -> str:
    """A URL that could not be used, quoted as typed in a one-line message: password masked, controls escaped."""
    from desktop.core.presentation import shorten, shown
    from desktop.core.target import mask_password

    return f"'{shown(shorten(mask_password(target), 200))}'"


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL (plain path or `file:` URI), None for memory or other databases."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.query.get("uri") == "true":
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url.database)
        if parts.scheme != "file" or "mode=memory" in parts.query or url.query.get("mode") == "memory":
            return None
        return Path(unquote(parts.path))
    return Path(url.database)


def open_database(target: str, *, create: bool = False) -> Database:
    """Open (migrating as needed) the database named by a path or URL.

    A file path opens without SQLAlchemy (it is imported when first needed: a write, a count, a migration).
    A missing SQLite file is created only with `create=True`; otherwise it is DatabaseMissing and nothing is
    written, so a mistyped path never turns into an empty database that rejects every key.
    """
    from desktop.core.db.sqlite_files import open_sqlite

    if "://" not in target:
        path = Path(target).expanduser().absolute()
        return open_sqlite(str(path), path, create=create)
    url = to_url(target)
    file = sqlite_file(url)
    if file is not None:
        return open_sqlite(target, file, create=create, url=url)
    db: Database
    try:
        if url.get_backend_name() == "sqlite":
            from desktop.core.db.sqlite_engine import SqliteMemoryDatabase

            db = SqliteMemoryDatabase(url, target)
        elif url.get_backend_name() == "postgresql":
            from desktop.core.db.postgresql import PostgresDatabase

            db = PostgresDatabase(url, target)
        else:
            from desktop.core.db.generic import SqlAlchemyDatabase

            db = SqlAlchemyDatabase(url, target)
        db.engine  # noqa: B018  # an unknown driver fails here, with the URL in hand
    except DatabaseUnavailable:
        raise
    except Exception as err:  # ArgumentError, NoSuchModuleError, ImportError of a missing driver
        raise DatabaseUnavailable(f"Cannot use the database {db_location(url)}: {err}.") from None
    from desktop.core.db.migrate import migrate

    try:
        migrate(db)
    except BaseException:
        db.dispose()
        raise
    return db


def db_location(url: URL) -> str:
    from desktop.core.db.generic import describe

    return describe(url)


def fix_permissions(path: str) -> None:
    """`chmod 600` the database file at `path` (a path or SQLite URL) and its companions the user owns.

    Nothing else: not a link, not another user's file, not the folder. For the window's bad-database
    dialog, when UnsafeDatabase.can_fix says that only the mode is wrong.
    """
    from desktop.core.db import paths

    file = Path(path).expanduser().absolute() if "://" not in path else sqlite_file(to_url(path))
    if file is not None:
        paths.fix_permissions(file)
