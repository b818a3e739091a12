"""Opening a SQLite file: examined first, created whole or not at all, anchored, checked, switched to WAL."""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.db import paths, sqlite_conn
from desktop.core.db.migrate import migrate
from desktop.core.db.paths import identity_of
from desktop.core.db.sqlite import SqliteDatabase
from desktop.core.errors import DatabaseMissing, DatabaseUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

#: Locations already warned about in this process: a service that reopens a file says it once.
_NOT_WAL_WARNED: set[str] = set()


def open_sqlite(target: str, path: Path, *, create: bool, url: URL | None = None) -> SqliteDatabase:
    """The SQLite file at `path` (given as `target`, perhaps the SQLAlchemy `url`), migrated and in WAL mode.

    The file, its companions and its folder are checked first (desktop.core.db.paths) and refused
    (UnsafeDatabase) when another user could have planted or could read them. A missing file is created only
    with `create=True`; otherwise it is DatabaseMissing and nothing is written.
    """
    location = url.database if url is not None and url.database else str(path)
    found = paths.examine(path, location)
    if found is None:
        read_only = url is not None and url.query.get("mode") == "ro"
        if not create or read_only:
            raise DatabaseMissing(location)
        try:
            _create(path)
        except OSError as err:
            raise DatabaseUnavailable(f"Cannot create {location} ({err.strerror}).") from None
        found = paths.examine(path, location)
        if found is None:
            raise DatabaseMissing(location)
    db = SqliteDatabase(target, path, identity_of(found[0]), url=url, location=location)
    try:
        db.anchor = _anchor(db)
        migrate(db)
        _ensure_wal(db)
    except BaseException:
        db.dispose()
        raise
    return db


def _anchor(db: SqliteDatabase) -> sqlite3.Connection:
    """A connection on the file that was examined: the path must name the same file before and after."""
    try:
        conn = db.connect()
    except sqlite3.Error as err:
        raise sqlite_conn.translate(err, db.location) from None
    if paths.current_identity(db.file) != db.identity:
        conn.close()
        raise DatabaseUnavailable(f"The database {db.location} changed while it was being opened; try again.")
    return conn


def _create(path: Path) -> None:
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
        db = SqliteDatabase(str(temp), temp, identity_of(os.lstat(temp)))
        try:
            migrate(db)
            _ensure_wal(db)
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


def _ensure_wal(db: SqliteDatabase) -> None:
    """Put a SQLite file in WAL mode, where readers (verifiers, the window) never wait for a writer.

    WAL is a property of the file, so this changes it once, for every program that opens it later.
    """
    try:
        conn = db.connect()
    except sqlite3.Error as err:
        raise sqlite_conn.translate(err, db.location) from None
    try:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
        except sqlite3.Error as err:
            raise sqlite_conn.translate(err, db.location) from None
        if db.read_only:
            _warn_not_wal(db.location, "it is opened read-only")
            return
        if not paths.looks_complete(db.file):
            # Shorter than its header says: damaged. Its first real query will say so; do not change it.
            log.debug("not switching %s to WAL: the file looks truncated", db.location)
            return
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.Error as err:
            code = sqlite_conn.sqlite_code(err)
            if code == sqlite3.SQLITE_READONLY:
                _warn_not_wal(db.location, "it is read-only")
            elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                _warn_not_wal(db.location, "another program is using it; the next open tries again")
            else:
                raise sqlite_conn.translate(err, db.location) from None
        else:
            if mode != "wal":
                _warn_not_wal(db.location, f"it stays in {mode} mode")
    finally:
        conn.close()
