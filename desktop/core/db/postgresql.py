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

    def lock_schema(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")

    def listen(self) -> ChangeListener | None:
        from desktop.core.db.pg_listen import PgChangeListener

        return PgChangeListener.connect(self)
