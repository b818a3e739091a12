"""The operations on keys: create, page, count, toggle, delete, verify; plain values out.

No SQL dialect here: the store talks to the database through the seam (desktop.core.db). SQLAlchemy is not
imported by this module, so that opening a SQLite file and reading its first page does not load it; the
statements (desktop.core.db.statements) are imported by the operations that run them.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from time import monotonic as _monotonic
from typing import TYPE_CHECKING

from desktop.core import keys
from desktop.core.clock import SYSTEM_CLOCK, Clock
from desktop.core.db import Database, open_database
from desktop.core.errors import (
    CHOOSE_ANOTHER,
    DatabaseMissing,
    DatabaseUnavailable,
    DomainError,
    InvalidInput,
    KeyNotFound,
)
from desktop.core.store_async import AsyncVerifyMixin
from desktop.core.store_lifecycle import LifecycleMixin
from desktop.core.store_limits import LimitsMixin
from desktop.core.store_queries import QueryMixin
from desktop.core.store_usage import TOUCH_BACKOFF_S as TOUCH_BACKOFF_S
from desktop.core.store_usage import TOUCH_INTERVAL as TOUCH_INTERVAL
from desktop.core.store_usage import UsageMixin
from desktop.core.validation import validate_description, validate_expiry
from desktop.core.values import (
    Action,
    CreatedKey,
    Cursor,
    FileChange,
    KeyRecord,
    Page,
    Rate,
    Refill,
    Taken,
    Verdict,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

#: verify() looks whether the file at the path is still the one it opened at most this often.
FILE_CHECK_INTERVAL_S = 1.0

_presented_digest = keys.presented_digest

#: _authenticate's answer: the verdict, the key's id, its scopes, and what its limits said (None: not asked).
Answer = tuple[Verdict, int | None, tuple[str, ...], Taken | None]
_MALFORMED: Answer = (Verdict.MALFORMED, None, (), None)
_UNKNOWN: Answer = (Verdict.UNKNOWN, None, (), None)
# The verdicts as module constants: a global's load is cheaper than the enum class's attribute on every verify.
_VALID, _INACTIVE, _EXPIRED, _FORBIDDEN = Verdict.VALID, Verdict.INACTIVE, Verdict.EXPIRED, Verdict.FORBIDDEN

#: Seconds that only ever increase (time.monotonic); injectable so tests need not sleep.
Monotonic = Callable[[], float]


def open_store(database: str | None = None, clock: Clock = SYSTEM_CLOCK, *, create: bool = False) -> KeyStore:
    """Open the store the way every entry point does: the argument, else $APIKEYS_DATABASE, else the default.

    A missing database is an error (DatabaseMissing) unless `create` is True.
    """
    from desktop.core.target import resolve_target

    return KeyStore.open(resolve_target(database), clock, create=create)


def _deleted(location: str) -> DatabaseMissing:
    return DatabaseMissing(
        location,
        f"The database {location} was deleted or moved away; nothing was written. Put it back, or {CHOOSE_ANOTHER}.",
    )


class KeyStore(LifecycleMixin, LimitsMixin, UsageMixin, QueryMixin, AsyncVerifyMixin):
    """All operations on one database. Thread-safe: connections come from pools, and the state kept between
    calls (the reopened database, the back-off of recording uses) is replaced whole or under a lock.

    A SQLite file may be replaced (restored from a backup, synced, `mv new.db keys.db`) or deleted while
    the store is open: `check_file()` notices, every write checks first, and verify() checks at most once
    a second, so no one keeps answering from, or writing into, a file that is no longer at the path.
    """

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK, *, monotonic: Monotonic = _monotonic) -> None:
        from desktop.core.target import note_opened

        note_opened(database.location)  # the log names the database on each line
        self._db = database
        self._clock = clock
        #: verify's clock read: the system clock's without a Python call in between (a tenth of the library's own
        #: work per verify); any other clock (a test's FixedClock) is asked itself.
        self._now: Callable[[], datetime] = partial(datetime.now, UTC) if type(clock) is Clock else clock.now
        self._monotonic = monotonic
        self._generation = 0
        self._reopen_lock = threading.Lock()
        # open_database has just checked the file.
        self._next_file_check = monotonic() + FILE_CHECK_INTERVAL_S
        #: Why the file at the path could not be reopened: every call raises (a fresh copy of) it until a check
        #: finds a usable file, since the old handles are closed by then.
        self._unusable: DomainError | None = None
        #: For verify: the file was gone at the last check.
        self._missing: DatabaseMissing | None = None
        self._touch_resume_at = -math.inf
        self._touch_warned = False
        self._init_usage()

    @classmethod
    def open(
        cls, target: str, clock: Clock = SYSTEM_CLOCK, *, create: bool = False, monotonic: Monotonic = _monotonic
    ) -> KeyStore:
        return cls(open_database(target, create=create), clock, monotonic=monotonic)

    @property
    def location(self) -> str:
        return self._db.location

    @property
    def warning(self) -> str | None:
        """One line to say once on opening, e.g. that a server connection's TLS is not verified; None for none."""
        return self._db.warning

    @property
    def reopen_target(self) -> str | None:
        """What Open Recent may keep to open this database again; None when it would have to keep a password."""
        return self._db.reopen_target

    @property
    def database(self) -> Database:
        """The seam, for the core and tests: the window and the command line use the store's calls (listen())."""
        return self._db

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def generation(self) -> int:
        """How many times the store reopened itself onto a file that replaced the one it had open."""
        return self._generation

    def close(self) -> None:
        self._close_async()
        self._close_usage()  # the counts gathered, written before the connections go
        self._db.dispose()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the file at the path --

    def check_file(self) -> FileChange:
        """Whether the file at the path is still the one open; on REPLACED the store has reopened onto the new one.

        MISSING: the store keeps its handles for reading, and every write raises DatabaseMissing. Raises a
        DatabaseError when the file now at the path cannot be opened (unsafe, not a database); until a later
        check succeeds, every operation raises it too. Databases that are not files are always UNCHANGED.
        """
        db = self._db
        try:
            change = db.file_state()
        except OSError as err:
            raise DatabaseUnavailable(f"Cannot look at {db.location} ({err.strerror}).") from None
        if change is FileChange.UNCHANGED:
            self._unusable = None
        elif change is FileChange.REPLACED:
            self._reopen(db)
        return change

    def _reopen(self, old: Database) -> None:
        with self._reopen_lock:
            if self._db is not old:  # another thread reopened meanwhile
                return
            try:
                # First empty the old file's WAL into it and close ours: its -wal and -shm are still at the
                # path, and the new file must not be opened with them.
                old.release()
                # create=False: a file that vanished again is an error, never a new empty database.
                new = open_database(old.target)
            except DomainError as err:
                self._unusable = err
                raise
            self._db = new
            self._unusable = None
            self._generation += 1
        log.info("the database file %s was replaced; now using the new file", new.location)

    def _usable(self) -> Database:
        problem = self._unusable
        if problem is not None:
            raise problem.fresh()
        return self._db

    def _check_file_now_and_then(self) -> None:
        """For verify: check_file() at most once per FILE_CHECK_INTERVAL_S; raise while the file is unusable."""
        now = self._monotonic()
        if now >= self._next_file_check:
            self._next_file_check = now + FILE_CHECK_INTERVAL_S
            try:
                missing = self.check_file() is FileChange.MISSING
            except DomainError:
                missing = False  # kept in self._unusable
            self._missing = _deleted(self.location) if missing else None
        problem = self._unusable or self._missing
        if problem is not None:
            raise problem.fresh()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction on the file now at the path: refused when it is gone, reopened when replaced."""
        if self.check_file() is FileChange.MISSING:
            raise _deleted(self.location)
        db = self._usable()
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

    # -- writes --

    def create(
        self,
        description: str,
        expires_on: date | None = None,
        *,
        today: date | None = None,
        scopes: Sequence[str] = (),
        rate: Rate | None = None,
        credits: int | None = None,
        refill: Refill | None = None,
    ) -> CreatedKey:
        """Generate and store a new key (with its limits, if any); returns only after COMMIT, so it is durable."""
        from desktop.core.lifecycle import validate_scopes

        cleaned = validate_description(description)
        expires_at = validate_expiry(expires_on, today or self._clock.today())
        wanted = validate_scopes(scopes)
        created_at = self._clock.now()
        with self._writing() as conn:
            created = self._insert_key(conn, cleaned, created_at, expires_at, True, wanted, {})
            if rate is not None or credits is not None or refill is not None:
                self._write_limits(conn, created.record.id, created.record.masked, rate, credits, refill, new_key=True)
        log.info("created API key #%d", created.record.id)
        return created

    def _insert_key(
        self,
        conn: Connection,
        description: str,
        created_at: datetime,
        expires_at: datetime | None,
        active: bool,
        scopes: tuple[str, ...],
        details: dict[str, object],
    ) -> CreatedKey:
        """Insert one new key and its `created` event in the caller's transaction."""
        from desktop.core import audit
        from desktop.core.db import statements as sql

        full_key = keys.generate()
        if details:
            audit.context(conn, details=details)  # on PostgreSQL, for the trigger's `created` event
        # inserted_primary_key, not RETURNING: that needs SQLite 3.35, newer than some distributions ship.
        result = conn.execute(
            sql.INSERT.values(
                digest=keys.digest(full_key),
                hint=keys.hint(full_key),
                description=description,
                created_at=created_at,
                expires_at=expires_at,
                active=active,
                scopes=sql.join_scopes(scopes),
            )
        )
        primary = result.inserted_primary_key
        assert primary is not None  # an INSERT of one row always has one
        key_id = int(primary[0])
        record = KeyRecord(key_id, keys.mask(full_key), description, created_at, expires_at, active, None, scopes)
        audit.record(
            conn,
            Action.CREATED,
            created_at,
            key_id=key_id,
            masked=record.masked,
            details={
                "description": description,
                "expires_at": None if expires_at is None else expires_at.isoformat(),
                "active": active,
                "scopes": list(scopes),
                **details,
            },
        )
        return CreatedKey(record, full_key)

    def set_active(self, key_id: int, active: bool) -> KeyRecord:
        from desktop.core.db import statements as sql

        with self._writing() as conn:
            before = conn.execute(sql.GET_FOR_UPDATE, {"key_id": key_id}).first()
            if before is None or not conn.execute(sql.SET_ACTIVE, {"key_id": key_id, "active": active}).rowcount:
                raise KeyNotFound(key_id)
            row = conn.execute(sql.GET, {"key_id": key_id}).one()
            if bool(before.active) != active:
                self._audit_state(conn, sql.record(row))
        log.info("%s API key #%d", "activated" if active else "deactivated", key_id)
        return sql.record(row)

    def delete(self, key_id: int) -> None:
        from desktop.core.db import statements as sql

        with self._writing() as conn:
            before = conn.execute(sql.GET_FOR_UPDATE, {"key_id": key_id}).first()
            if before is None or not conn.execute(sql.DELETE, {"key_id": key_id}).rowcount:
                raise KeyNotFound(key_id)
            self._audit_deleted(conn, sql.record(before))
        log.info("deleted API key #%d", key_id)

    # -- reads --

    def get(self, key_id: int) -> KeyRecord:
        from desktop.core.db import statements as sql

        with self._usable().read() as conn:
            row = conn.execute(sql.GET, {"key_id": key_id}).first()
        if row is None:
            raise KeyNotFound(key_id)
        return sql.record(row)

    def count(self, *, newer_than: Cursor | None = None) -> int:
        """How many keys exist; with `newer_than`, how many sort before that position (its offset)."""
        return self._usable().count(newer_than)

    def all(self) -> list[KeyRecord]:
        """Every key, newest first (for `apikeys list`)."""
        from desktop.core.db import statements as sql

        with self._usable().read() as conn:
            return [sql.record(r) for r in conn.execute(sql.ALL)]

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        """One page, newest first, by keyset: the first page, the one after `after`, or before `before`."""
        if size < 1:
            raise ValueError("page size must be positive")
        if after is not None and before is not None:
            raise ValueError("give after or before, not both")
        return self._usable().page(size, after=after, before=before)

    def data_version(self) -> int | None:
        """A number that changes when another connection or process commits; None if unknown."""
        return self._usable().data_version()

    def preload(self) -> None:
        """Load what writes and full listings need (SQLAlchemy, its engine, the statements) ahead of the first.

        Opening a SQLite file and reading pages do without them; a window calls this in the background once its
        first page is on screen, so that the first change a person makes does not wait for the import.
        """
        from desktop.core.db import statements  # noqa: F401  # for its side effect: SQLAlchemy and the model loaded

        self._usable().engine  # noqa: B018  # built now rather than by the first write

    # -- verification --

    def verify(self, key: str, *, cost: int = 1) -> Verdict:
        """Check a presented key; records last_used_at (at most once a minute) when valid. A limited key's valid
        verify takes one from its rate and `cost` from its credits (check() says what is left).

        Raises a DatabaseError when the database cannot answer, DatabaseMissing when its file is gone.
        """
        return self._authenticate(key, None, cost)[0]

    def _authenticate(self, key: str, required: tuple[str, ...] | None, cost: int = 1) -> Answer:
        """verify() and check() in one: the verdict, the key's id (when it exists), its scopes (when valid or
        forbidden) and what its limits said. `required` None: no scopes asked for, and none read.

        A use is recorded, and the limits taken from, only for a valid answer.
        """
        if cost != 1 and (type(cost) is not int or cost < 0):
            raise InvalidInput(f"The cost of a verify must be a whole number, 0 or more, not {cost!r}.")
        presented = _presented_digest(key)
        if presented is None:
            return _MALFORMED
        db = self._db
        # Inline, the common case (a file checked less than a second ago, all well) costs one clock read.
        if (
            self._monotonic() >= self._next_file_check or self._unusable is not None or self._missing is not None
        ) and db.path is not None:
            self._check_file_now_and_then()
            db = self._db  # perhaps reopened onto a new file
        have: tuple[str, ...] = ()
        if required is None:
            found = db.lookup(presented)
        else:
            scoped = db.lookup_scoped(presented)
            found, stored_scopes = (None, None) if scoped is None else scoped
            if stored_scopes:
                have = tuple(stored_scopes.split())
        if found is None or not hmac.compare_digest(found[1], presented):
            return _UNKNOWN
        key_id, _, active, expires_at, last_used_at, limited = found
        now = self._now()
        if not active:
            self._count(key_id, _INACTIVE, now)
            return _INACTIVE, key_id, (), None
        if expires_at is not None and now >= expires_at:
            self._count(key_id, _EXPIRED, now)
            return _EXPIRED, key_id, (), None
        if required and not set(required).issubset(have):
            self._count(key_id, _FORBIDDEN, now)
            return _FORBIDDEN, key_id, have, None
        taken = None
        if limited:  # the only path with a write per verify: a key without limits pays nothing for them
            if db.file_state() is not FileChange.UNCHANGED:
                raise DatabaseUnavailable(f"The database {db.location} was replaced just now. Try again.")
            taken = db.take(key_id, presented, cost, now)
            if taken.verdict is not _VALID:
                self._count(key_id, taken.verdict, now)
                return taken.verdict, key_id, have, taken
        if last_used_at is None or now - last_used_at >= TOUCH_INTERVAL:
            self._touch(key_id, now, presented)
        self._uses.append((key_id, _VALID, now))  # counted: one append, written in the background
        if self._flusher is None:
            self._start_flusher()
        return _VALID, key_id, have, taken
