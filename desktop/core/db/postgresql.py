"""PostgreSQL (team mode): the generic backend plus what a shared server needs.

`postgresql://` and `postgresql+psycopg://` both mean psycopg 3; query parameters reach libpq unchanged
(`host=/socket/folder`, `service=`, `sslmode=`), so a URL need carry no password (`.pgpass`, service file).
Connections use TCP keepalives, so a silently dead network is noticed, and a connect timeout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, Connection

from desktop.core.db.base import ChangeListener
from desktop.core.db.generic import SqlAlchemyDatabase
from desktop.core.errors import (
    DatabaseError,
    DatabaseLocked,
    DatabaseReadOnly,
    DomainError,
    PermissionDenied,
    ServerUnreachable,
)

#: pg_advisory_xact_lock key taken while the schema is created or upgraded ("apikeys" in ASCII, as a number).
SCHEMA_LOCK = 0x61706B657973

#: libpq settings every connection gets unless the URL sets them: notice a dead server or network in ~30 s.
CONNECT_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
}


def psycopg_url(url: URL) -> URL:
    """The same URL with the driver spelled out: `postgresql://` means psycopg 3 here, not psycopg2."""
    return url.set(drivername="postgresql+psycopg")


class PostgresDatabase(SqlAlchemyDatabase):
    """A PostgreSQL database through psycopg 3."""

    def __init__(self, url: URL, target: str | None = None) -> None:
        super().__init__(psycopg_url(url), target)

    def _engine_arguments(self) -> dict[str, Any]:
        connect_args = {name: value for name, value in CONNECT_DEFAULTS.items() if name not in self.url.query}
        return {
            **super()._engine_arguments(),
            "connect_args": connect_args,
            "pool_pre_ping": True,  # a connection the server dropped (restart) is replaced, not handed out
        }

    def translate(self, err: BaseException) -> DomainError | None:
        return translate(err, self.location) or super().translate(err)

    def lock_schema(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")

    def listen(self) -> ChangeListener | None:
        from desktop.core.db.pg_listen import PgChangeListener

        return PgChangeListener.connect(self)


def one_line(err: BaseException) -> str:
    """libpq's message on one line (it runs over several: FATAL, DETAIL, HINT), without the driver's prefix."""
    return " ".join(str(err).split()).rstrip(".") or type(err).__name__


def translate(err: BaseException, location: str) -> DomainError | None:
    """psycopg's errors (or SQLAlchemy's wrappers of them) by class and SQLSTATE; None for anything else."""
    import psycopg
    from psycopg import errors as pg
    from sqlalchemy import exc

    orig = err.orig if isinstance(err, exc.DBAPIError) else err
    if not isinstance(orig, psycopg.Error):
        return None
    if isinstance(orig, pg.InsufficientPrivilege):
        return PermissionDenied(
            f"Permission denied on {location} ({one_line(orig)}): this database role may not do that. "
            "Ask the database's owner (`apikeys grant ROLE --manager`)."
        )
    if isinstance(orig, pg.ReadOnlySqlTransaction):
        return DatabaseReadOnly(f"The database {location} is read-only (a standby server?). Use the primary.")
    if isinstance(orig, pg.LockNotAvailable):
        return DatabaseLocked(f"The database {location} is busy: another session holds a lock. Try again.")
    if isinstance(orig, (pg.UndefinedTable, pg.UndefinedColumn, pg.UndefinedFunction)):
        return DatabaseError(
            f"The database {location} is missing part of its schema ({one_line(orig)}); its owner must open it "
            "once with this version of API Key Manager."
        )
    broken = getattr(err, "connection_invalidated", False) or (
        isinstance(orig, psycopg.OperationalError) and orig.sqlstate in (None, "57P01", "57P02", "57P03")
    )
    if broken or (orig.sqlstate or "").startswith("08"):
        return ServerUnreachable(f"Cannot reach the database server {location}: {one_line(orig)}.")
    if isinstance(orig, psycopg.OperationalError):
        return DatabaseError(f"The database {location} reported an error ({one_line(orig)}).")
    return None
