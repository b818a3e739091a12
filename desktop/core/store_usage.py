"""The store's record of uses: the last use of each key (at most once a minute, never waiting for a writer), and
the usage counts per key, hour and verdict. An object with its own state (the uses not yet written, the flushing
thread, the back-off), given the store's database access; composed by KeyStore.

Counting costs a verify one append to a deque (thread-safe, no lock): a background thread sums what arrived
and writes it every USAGE_FLUSH_S seconds, in one transaction; so does close(), and the interpreter's exit (a
script that never closed its store). A process killed with SIGKILL loses at most the last USAGE_FLUSH_S
seconds of counts. Counts that cannot be written (the database busy or read-only) are kept and tried again.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import weakref
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from desktop.core import usage_report
from desktop.core.errors import DatabaseError, DatabaseLocked
from desktop.core.usage_report import KeyUse, UsagePeriod, UsageSeries
from desktop.core.values import FileChange, KeyRecord, UsageCount

if TYPE_CHECKING:
    from desktop.core.db import Database
    from desktop.core.store_access import DatabaseAccess

#: The store's own logger: recording uses is the store's business (and people filter on its name).
log = logging.getLogger("desktop.core.store")

#: last_used_at is written at most this often per key, so a busy service does not serialize on writes.
TOUCH_INTERVAL = timedelta(minutes=1)
#: After recording a use failed (another writer holds the lock, a read-only file), no attempt for this long:
#: a service under a long-held write lock tries once per back-off, not once per request.
TOUCH_BACKOFF_S = 5.0
#: How often a process writes the usage counts it gathered (and so how many seconds of them SIGKILL may lose).
USAGE_FLUSH_S = 5.0

#: How far back a process rolls up the usage rows of the hours before the current one (once an hour).
ROLL_UP_HOURS = 48

#: How many rows PostgreSQL's concurrent writers spread a roll-up's counts over (migration 0012's STRIPES, frozen
#: there; a later change is a later migration).
STRIPES = 4

#: One counted verify: (key id, verdict, when).
Use = tuple[int, str, datetime]
#: Summed counts: (key id, hour, verdict) -> count.
Counts = dict[tuple[int, datetime, str], int]


#: How many uses a flush sums in one go without letting another thread run (a batch takes well under a millisecond).
SUM_BATCH = 2000

_WHEN = itemgetter(2)
_KEY_AND_VERDICT = itemgetter(0, 1)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _sum_uses(uses: deque[Use], counts: Counts) -> None:
    """Move the uses counted so far into `counts`, by key, hour and verdict (verifies go on appending meanwhile).

    In C, a batch at a time: a batch within one hour (nearly always) is counted by key and verdict by Counter, with
    no Python bytecode per use: 2,100 instructions a use, against 3,100 for the loop in Python it replaced (spent in
    the background, but holding the GIL that verifies need: docs/performance.md).
    """
    left = len(uses)  # what is there now: only the flush takes from the deque (under its lock), so these are there
    while left:
        size = min(left, SUM_BATCH)
        left -= size
        batch = list(islice(iter(uses.popleft, None), size))  # popleft() `size` times, in C
        hour = hour_of(min(map(_WHEN, batch)))
        if hour == hour_of(max(map(_WHEN, batch))):
            for (key_id, verdict), count in Counter(map(_KEY_AND_VERDICT, batch)).items():
                bucket = (key_id, hour, verdict)
                counts[bucket] = counts.get(bucket, 0) + count
        else:  # across the end of an hour: each use into its own hour
            for key_id, verdict, moment in batch:
                bucket = (key_id, hour_of(moment), verdict)
                counts[bucket] = counts.get(bucket, 0) + 1


class StoreUsage:
    """touch() and count_use() for verify, and the usage counts (flush_usage(), usage(), ...); `get` is the store's read
    of one key (KeyNotFound when there is none)."""

    def __init__(self, access: DatabaseAccess, get: Callable[[int], KeyRecord]) -> None:
        self._access = access
        self._clock = access.clock
        self._monotonic = access.monotonic
        self._usable = access.usable
        self._get = get
        self._touch_resume_at = -math.inf
        self._touch_warned = False
        #: The thread that writes the counts every USAGE_FLUSH_S seconds; started by the first use counted.
        self.flusher: threading.Thread | None = None
        #: Verifies counted and not yet summed (appended by any thread, verify's inline; taken by the flush).
        self.uses: deque[Use] = deque()
        #: Summed counts that could not be written yet.
        self._unwritten: Counts = {}
        self._flush_lock = threading.Lock()
        self._stop_flushing = threading.Event()
        #: The hour whose earlier rows this process last rolled up.
        self._rolled_up: datetime | None = None

    def count_use(self, key_id: int, verdict: str, now: datetime | None = None) -> None:
        """Count one verify of an existing key (not on verify's own fast path, which appends inline)."""
        self.uses.append((key_id, verdict, now or self._clock.now()))
        if self.flusher is None:
            self.start_flusher()

    def start_flusher(self) -> None:
        with self._flush_lock:
            if self.flusher is not None:
                return
            ref = weakref.ref(self)
            stop = self._stop_flushing
            thread = threading.Thread(target=_flush_every, args=(ref, stop), name="apikeys-usage", daemon=True)
            self.flusher = thread
            thread.start()
            atexit.register(_flush_at_exit, ref)

    def flush_usage(self) -> None:
        """Write the counts gathered so far (a background thread does it; usage() before reading), and once an hour
        roll the earlier hours up."""
        self._flush(roll_up=True)

    def _flush(self, *, roll_up: bool) -> None:
        """flush_usage(); without `roll_up` (the hourly one) for a closing process's last flush: a short-lived one (a
        CLI verify) would otherwise read the last ROLL_UP_HOURS of every key's counts on its way out."""
        with self._flush_lock:
            counts = self._unwritten
            self._unwritten = {}
            _sum_uses(self.uses, counts)
            if not counts:
                return
            try:
                db = self._access.database
                if db.file_state() is not FileChange.UNCHANGED:
                    raise DatabaseLocked(f"The database {db.location} was replaced; counts kept for the new one.")
                db.add_usage([(k, h, str(v), c) for (k, h, v), c in counts.items()])
            except DatabaseError as err:
                self._unwritten = counts  # tried again at the next flush
                log.debug("could not write the usage counts yet: %s", err.message)
                return
            self._roll_up_now_and_then(db, hourly=roll_up)

    def _roll_up_now_and_then(self, db: Database, *, hourly: bool) -> None:
        """After each flush, the SQL verify's tail moved into the roll-ups (cheap: it holds what came since the last
        flush); when `hourly`, once an hour, the rows of the last ROLL_UP_HOURS hours before this one become one per
        key, hour and verdict (each flush appends its own)."""
        try:  # the SQL verify's counts since the last flush (PostgreSQL; migration 0013), into the roll-ups
            db.roll_up_tail()
        except DatabaseError as err:
            log.debug("could not roll up the SQL verify's usage counts yet: %s", err.message)
        hour = hour_of(self._clock.now())
        if not hourly or hour == self._rolled_up:
            return
        try:
            db.roll_up_usage(hour - timedelta(hours=ROLL_UP_HOURS), hour)
            self._rolled_up = hour
        except DatabaseError as err:
            log.debug("could not roll up the usage counts yet: %s", err.message)

    def usage(self, key_id: int | None = None, *, since: datetime | None = None) -> list[UsageCount]:
        """The verifies counted per key, hour and verdict, from the hour of `since` on, oldest first: every
        process's counts as written (others' may lag by USAGE_FLUSH_S), this one's written first. With `key_id`,
        that key's (KeyNotFound when there is no such key)."""
        from sqlalchemy import func, select

        from desktop.core.usage_rows import counted

        if key_id is not None:
            self._get(key_id)
        self.flush_usage()

        def where(c: Any) -> list[Any]:
            conditions = [] if since is None else [c.hour >= hour_of(since.astimezone(UTC))]
            return conditions if key_id is None else [*conditions, c.key_id == key_id]

        rows = counted(where).c  # key_usage and the SQL verify's tail (migration 0013)
        query = (
            select(rows.key_id, rows.hour, rows.verdict, func.sum(rows["count"]))
            .group_by(rows.key_id, rows.hour, rows.verdict)
            .order_by(rows.hour, rows.key_id, rows.verdict)
        )
        with self._usable().read() as conn:
            return [UsageCount(int(k), h, str(v), int(c)) for k, h, v, c in conn.execute(query)]

    def usage_series(self, key_id: int | None, period: UsagePeriod) -> UsageSeries:
        """A period's verifies in bars by outcome (usage_report), ending with the current hour: one key's (KeyNotFound
        when there is no such key) or every key's (None).

        Every key's are read from the hourly roll-up (migration 0012: at most 720 hours a month, whatever the
        number of keys); one key's from its own rows, by the (key_id, hour) index."""
        from sqlalchemy import func, select

        from desktop.core.usage_rows import counted, hourly

        if key_id is not None:
            self._get(key_id)
        self.flush_usage()
        now = self._clock.now()
        start, end = usage_report.window(period, now)
        # Either with the SQL verify's counts not rolled up yet (migration 0013).
        if key_id is None:
            rows = hourly(start, end).c
        else:
            rows = counted(lambda c: [c.key_id == key_id, c.hour >= start, c.hour < end]).c
        with self._usable().read() as conn:
            # Summed into the period's bars by the database: at most 30 × 6 rows come back, not 720 × 6.
            bar = _bar_of(conn.dialect.name, rows.hour, start, period)
            query = select(bar, rows.verdict, func.sum(rows["count"])).group_by(bar, rows.verdict)
            bars = [(start + int(b) * period.step, str(v), int(c)) for b, v, c in conn.execute(query) if c]
        return usage_report.series(period, key_id, now, bars)

    def top_keys(self, period: UsagePeriod, limit: int = 10) -> list[KeyUse]:
        """The keys with the most verifies (every verdict) in the period, most first (ties: lower id first).

        Exact, without summing every key's counts: the busiest keys of each day first (desktop.core.usage_top)."""
        from desktop.core import usage_top

        self.flush_usage()
        start, end = usage_report.window(period, self._clock.now())
        with self._usable().read() as conn:
            stripes = STRIPES if conn.dialect.name == "postgresql" else 1
            return usage_top.top_keys(conn, start, end, limit, stripes)

    # -- demo history (`apikeys seed --usage`) --

    def last_key_id(self) -> int:
        """The highest key id so far (0 when there is none): the keys a seed adds come after it."""
        from sqlalchemy import func, select

        from desktop.core.models import ApiKey

        with self._usable().read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(ApiKey.id), 0))).scalar_one())

    def key_ids_after(self, after: int) -> list[int]:
        """The ids of the keys after `after`, lowest first."""
        from sqlalchemy import select

        from desktop.core.models import ApiKey

        with self._usable().read() as conn:
            return [int(k) for (k,) in conn.execute(select(ApiKey.id).where(ApiKey.id > after).order_by(ApiKey.id))]

    def add_usage_history(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        """Write counts of past hours at once, in one transaction (in bulk: desktop/core/db/bulk_load.py)."""
        self._usable().add_history(rows)

    def delete_usage(self, key_ids: Sequence[int]) -> None:
        """Forget the counts of these keys (`seed --remove` deleting demo keys), in one transaction."""
        from sqlalchemy import delete

        from desktop.core.models import KeyUsage, key_usage_tail

        self.flush_usage()
        with self._usable().write() as conn:
            conn.execute(delete(KeyUsage).where(KeyUsage.key_id.in_(list(key_ids))))
            conn.execute(delete(key_usage_tail).where(key_usage_tail.c.key_id.in_(list(key_ids))))

    @property
    def closed(self) -> bool:
        return self._stop_flushing.is_set()

    def close(self) -> None:
        """Stop the flushing thread and write the counts gathered; never raises."""
        self._stop_flushing.set()
        try:
            self._flush(roll_up=False)
        except Exception:  # closing goes on: the counts are bookkeeping
            log.exception("could not write the usage counts on closing")

    def touch(self, key_id: int, now: datetime, digest: bytes) -> None:
        """Record a use: bookkeeping only, so it never waits for a writer, and after a failure it rests."""
        attempted = self._monotonic()
        if attempted < self._touch_resume_at:
            return
        stale = now - TOUCH_INTERVAL
        db = self._access.database
        if db.file_state() is not FileChange.UNCHANGED:
            # Replaced meanwhile: the old file's -wal is still at the path, and a frame of the old file
            # written to it would be read as the new file's. verify's next check reopens.
            return
        try:
            db.touch(key_id, now, stale, digest)
        except DatabaseLocked:
            # Another writer holds the lock (perhaps for long): without the rest, every request of a busy
            # service would try again. The next verify of this key after the rest records it.
            self._touch_resume_at = attempted + TOUCH_BACKOFF_S
            log.debug("skipped recording last use of API key #%d: another writer holds the lock", key_id)
        except DatabaseError as err:
            # Read-only and the like: the answer stands. Said once, or a read-only service's stderr would
            # get a line per request (logging's last-resort handler prints warnings there).
            self._touch_resume_at = attempted + TOUCH_BACKOFF_S
            if self._touch_warned:
                log.debug("could not record last use of API key #%d: %s", key_id, err.message)
            else:
                self._touch_warned = True
                log.warning(
                    "could not record last use of API key #%d: %s (further failures are logged at debug level)",
                    key_id,
                    err.message,
                )


def _bar_of(dialect: str, hour: Any, start: datetime, period: UsagePeriod) -> Any:
    """The SQL of the bar an hour falls in (0 for the period's first), on either backend."""
    from sqlalchemy import DateTime, Integer, cast, func, literal

    hours_per_bar = int(period.step.total_seconds() // 3600)
    naive = start.astimezone(UTC).replace(tzinfo=None)
    if dialect == "postgresql":
        seconds = func.extract("epoch", hour - literal(naive, DateTime()))
        return cast(func.floor(seconds / (3600 * hours_per_bar)), Integer)
    # SQLite's times are text: whole hours since the start (rounded: julianday's fractions are inexact).
    hours = cast(func.round((func.julianday(hour) - func.julianday(literal(naive, DateTime()))) * 24), Integer)
    return hours // hours_per_bar


def _flush_every(ref: weakref.ref[StoreUsage], stop: threading.Event) -> None:
    while not stop.wait(USAGE_FLUSH_S):
        store = ref()
        if store is None:
            return
        try:
            store.flush_usage()
        except Exception:  # the thread must live on: the next flush tries again
            log.exception("could not write the usage counts")
        del store


def _flush_at_exit(ref: weakref.ref[StoreUsage]) -> None:
    usage = ref()
    if usage is not None and not usage.closed:
        usage.close()
