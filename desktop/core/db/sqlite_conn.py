"""What every SQLite connection of ours shares, sqlite3's own (desktop.core.db.sqlite) or one of SQLAlchemy's pool
(desktop.core.db.sqlite_engine): the busy timeout, the pragmas, and errors translated by SQLite's code.

No SQLAlchemy imported here: the window's first page is read before it loads.
"""

from __future__ import annotations

import sqlite3
import sys

from desktop.core.errors import (
    DatabaseError,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    DomainError,
    NotADatabase,
)

#: How long a writer waits for another's lock before "busy" (a module attribute: tests shorten it).
BUSY_TIMEOUT_S = 5.0

# -- error translation -------------------------------------------------------

# SQLite's primary result codes (the low byte of an extended code), as sqlite3 names them.
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_UNREACHABLE = frozenset({sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PERM})


def not_ours_or_damaged(location: str) -> NotADatabase:
    return NotADatabase(
        f"{location} is not an API Key Manager database, or damaged. Choose another file or restore a backup."
    )


def sqlite_code(err: BaseException | None) -> int | None:
    code = getattr(err, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def translate(err: BaseException, location: str, *, waited_s: float | None = None) -> DomainError:
    """Map a sqlite3 error (or SQLAlchemy's wrapper of one) onto a message a person can act on, by its code.

    No SQL and no values in the message. `waited_s`: how long the connection waited for a lock.
    """
    orig = getattr(err, "orig", err)  # SQLAlchemy's DBAPIError wraps the driver's error
    reason = str(orig) if orig is not None else type(err).__name__
    code = sqlite_code(orig)
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


def translate_any(err: BaseException, location: str) -> DomainError | None:
    """`translate` for sqlite3's errors and SQLAlchemy's; None for anything else."""
    if isinstance(err, sqlite3.Error) or isinstance(getattr(err, "orig", None), sqlite3.Error):
        return translate(err, location)
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")  # loaded whenever one of its errors can exist
    if sqlalchemy_exc is not None and isinstance(err, sqlalchemy_exc.SQLAlchemyError):
        # e.g. the connection pool timed out
        return DatabaseError(f"The database {location} could not be used ({type(err).__name__}). Try again.")
    return None


# -- connections ---------------------------------------------------------------


def configure(conn: sqlite3.Connection, busy_ms: int | None = None) -> None:
    """What every connection of ours gets, sqlite3's own or one of SQLAlchemy's pool."""
    # Take transaction control away from pysqlite (SQLAlchemy's documented fix): it would otherwise defer
    # BEGIN and break isolation and DDL.
    conn.isolation_level = None
    cursor = conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000) if busy_ms is None else busy_ms}")
    # A key is shown only after COMMIT returned: make that survive power loss.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
