"""The store's access to its database: the one place that knows whether the file at the path is still the one open.

A SQLite file may be replaced (restored from a backup, synced, `mv new.db keys.db`) or deleted while the store is
open: `check_file()` notices (and reopens onto a replacing file), `writing()` checks before and again just before
COMMIT, and verify checks at most once a second (`check_now_and_then()`). Every part of the store is given this
object and asks it for the usable database, a write transaction and the clock; none keeps a database of its own.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from desktop.core.clock import Clock
from desktop.core.db import Database, open_database
from desktop.core.errors import CHOOSE_ANOTHER, DatabaseMissing, DatabaseUnavailable, DomainError
from desktop.core.values import FileChange

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# The store's logger: its records keep the name they had before the split.
log = logging.getLogger("desktop.core.store")

#: verify() looks whether the file at the path is still the one it opened at most this often.
FILE_CHECK_INTERVAL_S = 1.0

#: Seconds that only ever increase (time.monotonic); injectable so tests need not sleep.
Monotonic = Callable[[], float]


def _deleted(location: str) -> DatabaseMissing:
    return DatabaseMissing(
        location,
        f"The database {location} was deleted or moved away; nothing was written. Put it back, or {CHOOSE_ANOTHER}.",
    )


class DatabaseAccess:
    """The database now at the path, for every part of one store. Thread-safe: the reopened database is replaced
    whole, under a lock.

    verify's hot path reads `database`, `next_file_check`, `unusable` and `missing` as plain attributes (no call
    while all is well); they are written here only.
    """

    def __init__(self, database: Database, clock: Clock, monotonic: Monotonic) -> None:
        #: The database open now: replaced whole when the file at the path is replaced.
        self.database = database
        self.clock = clock
        self.monotonic = monotonic
        self._generation = 0
        self._reopen_lock = threading.Lock()
        # open_database has just checked the file.
        self.next_file_check = monotonic() + FILE_CHECK_INTERVAL_S
        #: Why the file at the path could not be reopened: every call raises (a fresh copy of) it until a check
        #: finds a usable file, since the old handles are closed by then.
        self.unusable: DomainError | None = None
        #: For verify: the file was gone at the last check.
        self.missing: DatabaseMissing | None = None

    @property
    def generation(self) -> int:
        """How many times the store reopened itself onto a file that replaced the one it had open."""
        return self._generation

    def check_file(self) -> FileChange:
        """Whether the file at the path is still the one open; on REPLACED the store has reopened onto the new one.

        MISSING: the store keeps its handles for reading, and every write raises DatabaseMissing. Raises a
        DatabaseError when the file now at the path cannot be opened (unsafe, not a database); until a later
        check succeeds, every operation raises it too. Databases that are not files are always UNCHANGED.
        """
        db = self.database
        try:
            change = db.file_state()
        except OSError as err:
            raise DatabaseUnavailable(f"Cannot look at {db.location} ({err.strerror}).") from None
        if change is FileChange.UNCHANGED:
            self.unusable = None
        elif change is FileChange.REPLACED:
            self._reopen(db)
        return change

    def _reopen(self, old: Database) -> None:
        with self._reopen_lock:
            if self.database is not old:  # another thread reopened meanwhile
                return
            try:
                # First empty the old file's WAL into it and close ours: its -wal and -shm are still at the
                # path, and the new file must not be opened with them.
                old.release()
                # create=False: a file that vanished again is an error, never a new empty database.
                new = open_database(old.target)
            except DomainError as err:
                self.unusable = err
                raise
            self.database = new
            self.unusable = None
            self._generation += 1
        log.info("the database file %s was replaced; now using the new file", new.location)

    def usable(self) -> Database:
        """The database open now; raises (a fresh copy of) why the file at the path could not be reopened."""
        problem = self.unusable
        if problem is not None:
            raise problem.fresh()
        return self.database

    def check_now_and_then(self) -> None:
        """For verify: check_file() at most once per FILE_CHECK_INTERVAL_S; raise while the file is unusable."""
        now = self.monotonic()
        if now >= self.next_file_check:
            self.next_file_check = now + FILE_CHECK_INTERVAL_S
            try:
                missing = self.check_file() is FileChange.MISSING
            except DomainError:
                missing = False  # kept in self.unusable
            self.missing = _deleted(self.database.location) if missing else None
        problem = self.unusable or self.missing
        if problem is not None:
            raise problem.fresh()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction on the file now at the path: refused when it is gone, reopened when replaced."""
        if self.check_file() is FileChange.MISSING:
            raise _deleted(self.database.location)
        db = self.usable()
        with db.write() as conn:
            yield conn
            # Under the write lock, just before COMMIT: had the file gone meanwhile, the change would land
            # in a file no one can open again, and a key shown from it would be lost.
            change = db.file_state()
            if change is FileChange.MISSING:
                raise _deleted(db.location)
            if change is FileChange.REPLACED:
                raise DatabaseUnavailable(
                    f"The database {db.location} was replaced while a change was being written; nothing "
                    "was written. Try again."
                )
