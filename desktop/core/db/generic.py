"""Any database SQLAlchemy can reach, through SQLAlchemy Core alone: the base a PostgreSQL backend extends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, exc, inspect
from sqlalchemy.engine import URL, Connection, Engine

from desktop.core.db import statements as sql
from desktop.core.db.base import Database, Found, NewRow
from desktop.core.errors import DatabaseError, DomainError, NotADatabase
from desktop.core.values import Cursor, Page

#: Every table the schema has; a database holding other tables (and no revision) is another program's.
SCHEMA_TABLES = frozenset({"api_keys", "alembic_version"})


#: libpq parameters a URL's query may carry that are secrets (a password written as `?password=`).
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


def describe(url: URL) -> str:
    """Where the data lives, for people: a file path, or the URL as written with `***` for any password.

    Not SQLAlchemy's rendering: that percent-encodes the query (`?host=%2Ftmp%2F…`) and sorts it, so a
    socket folder or a service name would no longer read as the person wrote it.
    """
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    server = url.host or ""
    if url.port is not None:
        server += f":{url.port}"
    if url.username is not None:
        server = f"{url.username}{':***' if url.password is not None else ''}@{server}"
    query = "&".join(
        f"{name}={'***' if name.lower() in SECRET_PARAMETERS else value}"
        for name, values in url.query.items()
        for value in ((values,) if isinstance(values, str) else values)
    )
    return f"{url.drivername}://{server}/{url.database or ''}" + (f"?{query}" if query else "")


def not_ours(location: str) -> NotADatabase:
    return NotADatabase(
        f"{location} is a database, but not an API Key Manager database. Choose another file; it was not changed."
    )


def not_ours_or_damaged(location: str) -> NotADatabase:
    return NotADatabase(
        f"{location} is not an API Key Manager database, or damaged. Choose another file or restore a backup."
    )


def revision_of(conn: Connection, location: str, known: Sequence[str]) -> str | None:
    """The schema's revision read on `conn`, without Alembic (it costs ~0.15 s to import)."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        if tables:
            raise not_ours(location)
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    revision = rows[0] if rows else None
    # A revision we wrote promises our table; without it every query would fail with "no such table".
    if revision in known and "api_keys" not in tables:
        raise not_ours_or_damaged(location)
    return revision


class SqlAlchemyDatabase(Database):
    """Every operation through SQLAlchemy Core; errors by exception class (no SQLite codes here)."""

    def __init__(self, url: URL, target: str | None = None) -> None:
        super().__init__(target or url.render_as_string(hide_password=False), describe(url))
        self.url = url

    @property
    def reopen_target(self) -> str | None:
        return None if self.url.password else self.target

    def _engine_arguments(self) -> dict[str, Any]:
        return {"hide_parameters": True}

    def _create_engines(self) -> tuple[Engine, Engine]:
        engine = create_engine(self.url, **self._engine_arguments())
        return engine, engine

    def translate(self, err: BaseException) -> DomainError | None:
        if isinstance(err, exc.DBAPIError):
            reason = str(err.orig) if err.orig is not None else type(err).__name__
            return DatabaseError(f"The database {self.location} reported an error ({reason}).")
        if isinstance(err, exc.SQLAlchemyError):  # e.g. the connection pool timed out
            return DatabaseError(f"The database {self.location} could not be used ({type(err).__name__}). Try again.")
        return None

    def revision(self, known: Sequence[str]) -> str | None:
        with self.read() as conn:
            return revision_of(conn, self.location, known)

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        query = sql.ALL.order_by(None).limit(size + 1)
        with self.read() as conn:
            if before is not None:
                rows = list(conn.execute(query.where(sql.newer_than(before)).order_by(*sql.OLDEST_FIRST)))
                items = tuple(sql.record(r) for r in reversed(rows[:size]))
                edge = items[-1].cursor if items else before
                return Page(items, len(rows) > size, bool(conn.execute(sql.any_where(sql.older_than(edge))).scalar()))
            if after is not None:
                query = query.where(sql.older_than(after))
            rows = list(conn.execute(query.order_by(*sql.NEWEST_FIRST)))
            items = tuple(sql.record(r) for r in rows[:size])
            newest = items[0].cursor if items else after
            has_newer = newest is not None and bool(conn.execute(sql.any_where(sql.newer_than(newest))).scalar())
            return Page(items, has_newer, len(rows) > size)

    def count(self, newer_than: Cursor | None = None) -> int:
        query = sql.COUNT if newer_than is None else sql.count_newer_than(newer_than)
        with self.read() as conn:
            return int(conn.execute(query).scalar_one())

    def lookup(self, digest: bytes) -> Found | None:
        with self.read() as conn:
            row = conn.execute(sql.LOOKUP, {"digest": digest}).first()
        return None if row is None else (row[0], row[1], bool(row[2]), row[3], row[4], bool(row[5]))

    def touch(self, key_id: int, now: datetime, stale: datetime, digest: bytes) -> None:
        with self.write() as conn:
            conn.execute(sql.TOUCH, {"key_id": key_id, "now": now, "stale": stale})

    def insert_keys(self, conn: Connection, rows: Sequence[NewRow]) -> None:
        conn.execute(sql.INSERT, [row._asdict() for row in rows])
