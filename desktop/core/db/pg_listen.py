"""LISTEN for committed changes on a PostgreSQL connection of its own, outside the pool (autocommit).

The window watches the socket (QSocketNotifier) and drains with `notifies(timeout=0)`: psycopg's
`add_notify_handler` fires only while the connection is being used, never on an idle one.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from desktop.core.db.base import CHANGES_CHANNEL
from desktop.core.errors import ServerUnreachable

if TYPE_CHECKING:
    import psycopg

    from desktop.core.db.postgresql import PostgresDatabase


class PgChangeListener:
    def __init__(self, conn: psycopg.Connection[object], location: str) -> None:
        self._conn = conn
        self._location = location

    @classmethod
    def connect(cls, db: PostgresDatabase) -> PgChangeListener:
        """Connect (blocking: off the GUI thread) and LISTEN; ServerUnreachable when that fails."""
        engine = db.engine
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        cparams = {**db._engine_arguments()["connect_args"], **cparams, "autocommit": True}
        try:
            conn = engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
            conn.execute(f"LISTEN {CHANGES_CHANNEL}")
        except Exception as err:
            raise ServerUnreachable(unreachable(db.location, err)) from None
        return cls(conn, db.location)

    def fileno(self) -> int:
        return self._conn.fileno()

    def drain(self) -> bool:
        try:
            return any(True for _ in self._conn.notifies(timeout=0))
        except Exception as err:
            raise ServerUnreachable(unreachable(self._location, err)) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already broken: nothing left to close
            self._conn.close()


def unreachable(location: str, err: BaseException) -> str:
    """One line naming the server and the cause (libpq's messages run over several lines)."""
    cause = " ".join(str(err).split()) or type(err).__name__
    return f"Cannot reach the database server {location}: {cause}."
