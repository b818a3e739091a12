"""The operations on keys: create, page, count, toggle, delete, verify; plain values out.

KeyStore composes the objects that do them (the database access, reads, lifecycle writes, limits, usage) and keeps
one public API over them; verify() and check() run here, on the hot path, with no call between them and the lookup.

No SQL dialect here: the store talks to the database through the seam (desktop.core.db). SQLAlchemy is not
imported by this module (opening a SQLite file and reading its first page does not load it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from time import monotonic as _monotonic

from desktop.core import keys
from desktop.core.clock import SYSTEM_CLOCK, Clock
from desktop.core.db import Database, open_database
from desktop.core.errors import DatabaseUnavailable, InvalidInput
from desktop.core.lifecycle import validate_scopes
from desktop.core.query import KeyHealth, Query, SortCursor
from desktop.core.store_access import FILE_CHECK_INTERVAL_S as FILE_CHECK_INTERVAL_S
from desktop.core.store_access import DatabaseAccess, Monotonic
from desktop.core.store_async import VerifyPool
from desktop.core.store_lifecycle import StoreLifecycle
from desktop.core.store_limits import KEEP, Keep, StoreLimits
from desktop.core.store_queries import StoreReads
from desktop.core.store_usage import TOUCH_BACKOFF_S as TOUCH_BACKOFF_S
from desktop.core.store_usage import TOUCH_INTERVAL as TOUCH_INTERVAL
from desktop.core.store_usage import StoreUsage
from desktop.core.usage_report import KeyUse, UsagePeriod, UsageSeries
from desktop.core.values import (
    Action,
    BulkResult,
    ChangeListener,
    CreatedKey,
    Cursor,
    EventCursor,
    EventPage,
    FileChange,
    KeyRecord,
    Limits,
    LimitState,
    NewKey,
    Page,
    Rate,
    Refill,
    RolledKey,
    Taken,
    UsageCount,
    Verdict,
    VerifyResult,
)

log = logging.getLogger(__name__)

_presented_digest = keys.presented_digest

#: _authenticate's answer: the verdict, the key's id, its scopes, and what its limits said (None: not asked).
Answer = tuple[Verdict, int | None, tuple[str, ...], Taken | None]
_MALFORMED: Answer = (Verdict.MALFORMED, None, (), None)
_UNKNOWN: Answer = (Verdict.UNKNOWN, None, (), None)
# The verdicts as module constants: a global's load is cheaper than the enum class's attribute on every verify.
_VALID, _INACTIVE, _EXPIRED, _FORBIDDEN = Verdict.VALID, Verdict.INACTIVE, Verdict.EXPIRED, Verdict.FORBIDDEN

#: check()'s scopes, validated, by what the caller passed: a service asks for the same few on every request.
_REQUIRED: dict[tuple[str, ...], tuple[str, ...]] = {}
#: check()'s answers for a key that is not there (malformed, unknown): the same value every time.
_NO_KEY = {verdict: VerifyResult(verdict) for verdict in Verdict}
#: check()'s valid answers without limits, by key id and the scopes just read (so new scopes, a new answer): a
#: VerifyResult is immutable, and making one was a tenth of a check. Cleared when full.
_VALID_ANSWERS: dict[tuple[int, tuple[str, ...]], VerifyResult] = {}


def open_store(database: str | None = None, clock: Clock = SYSTEM_CLOCK, *, create: bool = False) -> KeyStore:
    """Open the store the way every entry point does: the argument, else $APIKEYS_DATABASE, else the default.
    A missing database is an error (DatabaseMissing) unless `create` is True."""
    from desktop.core.target import resolve_target

    return KeyStore.open(resolve_target(database), clock, create=create)


class KeyStore:
    """All operations on one database. Thread-safe: connections come from pools, and the state kept between
    calls (the reopened database, the back-off of recording uses) is replaced whole or under a lock.

    A SQLite file may be replaced (restored from a backup, `mv new.db keys.db`) or deleted while the store is
    open: `check_file()` notices, every write checks first, and verify() checks at most once a second
    (DatabaseAccess, desktop.core.store_access, the one place that knows).

    Its parts, wired here and nowhere else, each given what it needs: `DatabaseAccess` (the database, the write
    transaction, the clock), `StoreReads`, `StoreLimits`, `StoreLifecycle` (given the limits, for a key created
    with some), `StoreUsage` (given the read of one key) and `VerifyPool`. None holds the store itself.
    """

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK, *, monotonic: Monotonic = _monotonic) -> None:
        from desktop.core.target import note_opened

        note_opened(database.location)  # the log names the database on each line
        self._clock = clock
        #: verify's clock read: the system clock's without a Python call in between (a tenth of the library's own
        #: work per verify); any other clock (a test's FixedClock) is asked itself.
        self._now: Callable[[], datetime] = partial(datetime.now, UTC) if type(clock) is Clock else clock.now
        self._monotonic = monotonic
        self._access = access = DatabaseAccess(database, clock, monotonic)
        self._reads = StoreReads(access)
        self._limits = StoreLimits(access)
        self._lifecycle = StoreLifecycle(access, self._limits)
        self._usage = StoreUsage(access, self._reads.get)
        self._verify_pool = VerifyPool()

    @classmethod
    def open(
        cls, target: str, clock: Clock = SYSTEM_CLOCK, *, create: bool = False, monotonic: Monotonic = _monotonic
    ) -> KeyStore:
        return cls(open_database(target, create=create), clock, monotonic=monotonic)

    @property
    def location(self) -> str:
        return self._access.database.location

    @property
    def warning(self) -> str | None:
        """One line to say once on opening, e.g. that a server connection's TLS is not verified; None for none."""
        return self._access.database.warning

    @property
    def reopen_target(self) -> str | None:
        """What Open Recent may keep to open this database again; None when it would have to keep a password."""
        return self._access.database.reopen_target

    @property
    def database(self) -> Database:
        """The seam, for the core and tests: the window and the command line use the store's calls (listen())."""
        return self._access.database

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def generation(self) -> int:
        """How many times the store reopened itself onto a file that replaced the one it had open."""
        return self._access.generation

    def close(self) -> None:
        """Stop the store's threads, write the usage counts gathered, close the connections."""
        self._verify_pool.close()
        self._usage.close()  # the counts gathered, written before the connections go
        self._access.database.dispose()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def check_file(self) -> FileChange:
        return self._access.check_file()

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
        access = self._access
        db = access.database
        # Inline, the common case (a file checked less than a second ago, all well) costs one clock read.
        if (
            self._monotonic() >= access.next_file_check or access.unusable is not None or access.missing is not None
        ) and db.path is not None:
            access.check_now_and_then()
            db = access.database  # perhaps reopened onto a new file
        have: tuple[str, ...] = ()
        taken = None
        now = self._now()
        if db.takes_on_lookup:  # PostgreSQL: a limited key's limits applied in the lookup's round trip
            found, stored_scopes, taken = db.lookup_taking(presented, required, cost, now)
            if stored_scopes:
                have = tuple(stored_scopes.split())
        elif required is None:
            found = db.lookup(presented)
        else:
            scoped = db.lookup_scoped(presented)
            found, stored_scopes = (None, None) if scoped is None else scoped
            if stored_scopes:
                have = tuple(stored_scopes.split())
        if found is None:  # found by equality on the unique digest index: the database compared
            return _UNKNOWN
        key_id, _, active, expires_at, last_used_at, limited = found
        if not active:
            self._usage.count_use(key_id, _INACTIVE, now)
            return _INACTIVE, key_id, (), None
        if expires_at is not None and now >= expires_at:
            self._usage.count_use(key_id, _EXPIRED, now)
            return _EXPIRED, key_id, (), None
        if required and not set(required).issubset(have):
            self._usage.count_use(key_id, _FORBIDDEN, now)
            return _FORBIDDEN, key_id, have, None
        if limited:  # the only path with a write per verify: a key without limits pays nothing for them
            if taken is None:  # not taken with the lookup (or the lookup's view differed from ours): take now
                if db.file_state() is not FileChange.UNCHANGED:
                    raise DatabaseUnavailable(f"The database {db.location} was replaced just now. Try again.")
                take = db.take if required is not None else db.take_verdict  # verify(): the verdict alone
                taken = take(key_id, presented, cost, now)
            if taken.verdict is not _VALID:
                self._usage.count_use(key_id, taken.verdict, now)
                return taken.verdict, key_id, have, taken
        if last_used_at is None or now - last_used_at >= TOUCH_INTERVAL:
            self._usage.touch(key_id, now, presented)
        usage = self._usage
        usage.uses.append((key_id, _VALID, now))  # counted: one append, written in the background
        if usage.flusher is None:
            usage.start_flusher()
        return _VALID, key_id, have, taken

    def check(self, key: str, scopes: Sequence[str] = (), *, cost: int = 1) -> VerifyResult:
        """Authenticate and authorise in one lookup: the verdict, the key's id and its scopes.

        As verify(), and `forbidden` when the key is otherwise valid but lacks one of `scopes` (all are
        required). A use is recorded only for a valid answer. For a limited key, `remaining` credits and the
        `ratelimit` state after this verify.
        """
        asked = scopes if type(scopes) is tuple else tuple(scopes)
        try:
            required = _REQUIRED.get(asked)
        except TypeError:  # an unhashable scope: validate_scopes says what is wrong with it
            required = None
        if required is None:
            required = validate_scopes(asked)
            if len(_REQUIRED) >= 1024:
                _REQUIRED.clear()
            _REQUIRED[asked] = required
        verdict, key_id, have, taken = self._authenticate(key, required, cost)
        if key_id is None:
            return _NO_KEY[verdict]
        if taken is None:
            if verdict is not _VALID:
                return VerifyResult(verdict, key_id, have)
            answer = _VALID_ANSWERS.get((key_id, have))
            if answer is None:
                if len(_VALID_ANSWERS) >= 4096:
                    _VALID_ANSWERS.clear()
                answer = _VALID_ANSWERS[key_id, have] = VerifyResult(verdict, key_id, have)
            return answer
        return VerifyResult(verdict, key_id, have, taken.remaining, taken.ratelimit)

    async def averify(self, key: str) -> Verdict:
        """verify(), awaited: the event loop goes on serving while the database answers."""
        if not keys.is_well_formed(key):
            return Verdict.MALFORMED  # no database asked
        return await asyncio.get_running_loop().run_in_executor(self._verify_pool.executor(), self.verify, key)

    async def acheck(self, key: str, scopes: Sequence[str] = ()) -> VerifyResult:
        """check(), awaited: the event loop goes on serving while the database answers."""
        wanted = tuple(scopes)
        if not keys.is_well_formed(key):
            return self.check(key, wanted)  # no database asked; bad scopes still raise, as from check()
        return await asyncio.get_running_loop().run_in_executor(self._verify_pool.executor(), self.check, key, wanted)

    # -- the parts' operations, delegated: each is documented where it is done --

    def get(self, key_id: int) -> KeyRecord:
        return self._reads.get(key_id)

    def count(self, *, newer_than: Cursor | None = None) -> int:
        return self._reads.count(newer_than=newer_than)

    def all(self) -> list[KeyRecord]:
        return self._reads.all()

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        return self._reads.page(size, after=after, before=before)

    def data_version(self) -> int | None:
        return self._reads.data_version()

    def preload(self) -> None:
        self._reads.preload()

    def query_page(
        self,
        query: Query,
        size: int,
        *,
        after: SortCursor | Cursor | None = None,
        before: SortCursor | Cursor | None = None,
    ) -> Page:
        return self._reads.query_page(query, size, after=after, before=before)

    def query_count(self, query: Query, *, before: SortCursor | Cursor | None = None) -> int:
        return self._reads.query_count(query, before=before)

    def expiring_count(self) -> int:
        return self._reads.expiring_count()

    def health(self) -> KeyHealth:
        return self._reads.health()

    def find(self, query: Query, *, limit: int | None = None, batch: int = 1000) -> Iterator[KeyRecord]:
        return self._reads.find(query, limit=limit, batch=batch)

    def listen(self) -> ChangeListener | None:
        return self._reads.listen()

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
        return self._lifecycle.create(
            description, expires_on, today=today, scopes=scopes, rate=rate, credits=credits, refill=refill
        )

    def set_active(self, key_id: int, active: bool) -> KeyRecord:
        return self._lifecycle.set_active(key_id, active)

    def delete(self, key_id: int) -> None:
        self._lifecycle.delete(key_id)

    def insert_many(self, rows: Sequence[NewKey], *, seeded: int | None = None) -> int:
        return self._lifecycle.insert_many(rows, seeded=seeded)

    def log_seeded(self, count: int, *, interrupted: bool) -> None:
        self._lifecycle.log_seeded(count, interrupted=interrupted)

    def rename(self, key_id: int, description: str) -> KeyRecord:
        return self._lifecycle.rename(key_id, description)

    def roll(self, key_id: int, grace: timedelta) -> RolledKey:
        return self._lifecycle.roll(key_id, grace)

    def set_scopes(self, key_id: int, scopes: Sequence[str]) -> KeyRecord:
        return self._lifecycle.set_scopes(key_id, scopes)

    def scopes_in_use(self) -> list[str]:
        return self._lifecycle.scopes_in_use()

    def set_active_many(self, key_ids: Sequence[int], active: bool) -> BulkResult:
        return self._lifecycle.set_active_many(key_ids, active)

    def delete_many(self, key_ids: Sequence[int]) -> BulkResult:
        return self._lifecycle.delete_many(key_ids)

    def events(
        self,
        limit: int = 100,
        *,
        key_id: int | None = None,
        before: EventCursor | None = None,
        action: Action | None = None,
    ) -> EventPage:
        return self._lifecycle.events(limit, key_id=key_id, before=before, action=action)

    def rolled_among(self, key_ids: Sequence[int]) -> frozenset[int]:
        return self._lifecycle.rolled_among(key_ids)

    def has_rolled(self) -> bool:
        return self._lifecycle.has_rolled()

    def limits(self, key_id: int) -> Limits:
        return self._limits.limits(key_id)

    def all_limits(self) -> dict[int, Limits]:
        return self._limits.all_limits()

    def limit_states(self, key_ids: Sequence[int]) -> dict[int, LimitState]:
        return self._limits.limit_states(key_ids)

    def has_limits(self) -> bool:
        return self._limits.has_limits()

    def set_limits(
        self,
        key_id: int,
        *,
        rate: Rate | Keep | None = KEEP,
        credits: int | Keep | None = KEEP,
        refill: Refill | Keep | None = KEEP,
    ) -> Limits:
        return self._limits.set_limits(key_id, rate=rate, credits=credits, refill=refill)

    def set_limits_many(
        self,
        key_ids: Sequence[int],
        *,
        rate: Rate | Keep | None = KEEP,
        credits: int | Keep | None = KEEP,
        refill: Refill | Keep | None = KEEP,
    ) -> BulkResult:
        return self._limits.set_limits_many(key_ids, rate=rate, credits=credits, refill=refill)

    def flush_usage(self) -> None:
        self._usage.flush_usage()

    def usage(self, key_id: int | None = None, *, since: datetime | None = None) -> list[UsageCount]:
        return self._usage.usage(key_id, since=since)

    def usage_series(self, key_id: int | None, period: UsagePeriod) -> UsageSeries:
        return self._usage.usage_series(key_id, period)

    def top_keys(self, period: UsagePeriod, limit: int = 10) -> list[KeyUse]:
        return self._usage.top_keys(period, limit)

    def last_key_id(self) -> int:
        return self._usage.last_key_id()

    def key_ids_after(self, after: int) -> list[int]:
        return self._usage.key_ids_after(after)

    def add_usage_history(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        self._usage.add_usage_history(rows)

    def delete_usage(self, key_ids: Sequence[int]) -> None:
        self._usage.delete_usage(key_ids)


# help(KeyStore.rename) and the like say what the part that does it says.
for _part in (DatabaseAccess, StoreReads, StoreLifecycle, StoreLimits, StoreUsage):
    for _name, _done in vars(_part).items():
        _delegate = vars(KeyStore).get(_name)
        if callable(_delegate) and _delegate.__doc__ is None and not _name.startswith("_"):
            _delegate.__doc__ = _done.__doc__
