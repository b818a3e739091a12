"""PostgreSQL's errors in our words: psycopg's exceptions (or SQLAlchemy's wrappers of them) made DomainErrors,
and libpq's connection messages cut to their one-line cause. Used by the database (postgresql.py) and by its
LISTEN connection (pg_listen.py), which import this and never each other.
"""

from __future__ import annotations

import re

from desktop.core.errors import (
    CHOOSE_ANOTHER,
    DatabaseError,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    DomainError,
    PermissionDenied,
    ServerUnreachable,
)


def one_line(err: BaseException) -> str:
    """libpq's message on one line (it runs over several: FATAL, DETAIL, HINT), without the driver's prefix."""
    return " ".join(str(err).split()).rstrip(".") or type(err).__name__


def cause(err: BaseException) -> str:
    """The reason in libpq's connection message, alone: `Connection refused`, `database "x" does not exist`.

    libpq writes `connection to server on socket "…" failed: FATAL:  <reason>`, then hints on further lines
    ("Is the server running locally…?") that suit a psql user, not ours: the server is named by the caller.
    """
    first = next((line for line in str(err).splitlines() if line.strip()), "")
    _, found, reason = first.rpartition(" failed: ")
    reason = re.sub(r"^\s*(?:FATAL|ERROR):\s+", "", reason if found else first)
    return " ".join(reason.split()).rstrip(".") or type(err).__name__


#: Connection failures carry no SQLSTATE in libpq (psycopg's `sqlstate` is None): the server's words in
#: English are all there is. Anything else falls through to "cannot reach", which is still one line.
_NO_DATABASE = re.compile(r'^database "(?P<name>.*)" does not exist$')
_LOGIN_REFUSED = re.compile(
    r"password authentication failed|role \".*\" does not exist|no password supplied|no pg_hba\.conf entry|"
    r"authentication failed|is not permitted to log in|fe_sendauth"
)


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
    reason = cause(orig)
    if isinstance(orig, psycopg.OperationalError) and orig.sqlstate is None:
        missing = _NO_DATABASE.match(reason)
        if missing:
            name = missing["name"]
            return DatabaseUnavailable(
                f'There is no database "{name}" on the server {location}: a server\'s databases are made by its '
                f"administrator (`createdb {name}`); the first open then creates the tables. Or {CHOOSE_ANOTHER}."
            )
        if _LOGIN_REFUSED.search(reason):
            return PermissionDenied(
                f"The database server {location} refused the login ({reason}). Check the user and password "
                "(~/.pgpass, a service file) or ask the server's administrator."
            )
    broken = getattr(err, "connection_invalidated", False) or (
        isinstance(orig, psycopg.OperationalError) and orig.sqlstate in (None, "57P01", "57P02", "57P03")
    )
    if broken or (orig.sqlstate or "").startswith("08"):
        return ServerUnreachable(
            f"Cannot reach the database server {location}: {reason}. Check that it is running and reachable."
        )
    if isinstance(orig, psycopg.OperationalError):
        return DatabaseError(f"The database {location} reported an error ({one_line(orig)}).")
    return None
