"""LISTEN for committed changes on a PostgreSQL connection of its own, outside the pool (autocommit).

The window watches the socket (QSocketNotifier) and drains with `notifies(timeout=0)`: psycopg's
`add_notify_handler` fires only while the connection is being used, never on an idle one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop.core.db.base import CHANGES_CHANNEL
from desktop.core.db.pg_errors import cause
from desktop.core.errors import ServerUnreachable

if TYPE_CHECKING:
    import psycopg

#: libpq's connect_timeout for the listener (its minimum is 2) unless the URL sets one: an attempt that hangs on
#: a silent network holds up whoever waits for it (closing the window) this long at most; retries follow anyway.
LISTEN_CONNECT_TIMEOUT = "3"


class PgChangeListener:
    def __init__(self, conn: psycopg.Connection[object], location: str) -> None:
        self._conn = conn
        self._location = location

    @classmethod
    def connect(cls, open_connection: Callable[[], psycopg.Connection[object]], location: str) -> PgChangeListener:
        """Open an autocommit connection (blocking: off the GUI thread) and LISTEN on it; ServerUnreachable naming
        `location` when that fails. The database passes in how it connects, with LISTEN_CONNECT_TIMEOUT."""
        conn = None
        try:
            conn = open_connection()
            conn.execute(f"LISTEN {CHANGES_CHANNEL}")
        except Exception as err:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            raise ServerUnreachable(unreachable(location, err)) from None
        return cls(conn, location)

    def fileno(self) -> int:
        return self._conn.fileno()

    def drain(self) -> bool:
        """Everything that arrived, without waiting; True when a change was announced.

        The whole input is consumed (so a level-triggered socket watch goes quiet) even when it held only
        something else than a notification (a server notice, a parameter status).
        """
        if self._conn.closed:
            raise ServerUnreachable(unreachable(self._location, "the connection is closed"))
        try:
            heard = False
            for _notify in self._conn.notifies(timeout=0):
                heard = True
            return heard
        except Exception as err:
            raise ServerUnreachable(unreachable(self._location, err)) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already broken: nothing left to close
            self._conn.close()


def unreachable(location: str, err: BaseException | str) -> str:
    """One line naming the server and the cause alone (libpq adds hint lines meant for psql's users)."""
    reason = cause(err) if isinstance(err, BaseException) else err
    return f"Cannot reach the database server {location}: {reason}."
