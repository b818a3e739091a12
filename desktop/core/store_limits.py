"""The store's limits: setting a key's rate and credits (audited as `limits-changed`) and reading them; an object
given the store's database access, composed by KeyStore.

Applying them to a verify is the seam's (`Database.take`): on SQLite in the app under the file's write lock, on
PostgreSQL in `apikeys_consume` under the key's row lock.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from desktop.core.errors import KeyNotFound
from desktop.core.values import Action, BulkResult, Limits, LimitState, Rate, Refill

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from desktop.core.store_access import DatabaseAccess

log = logging.getLogger(__name__)


class Keep(enum.Enum):
    """For set_limits: leave this limit as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _limits(row: Any, now: datetime) -> Limits:
    """A key_limits row as Limits, a refill due by now applied (as the next verify would)."""
    from desktop.core.db.limits import period_start
    from desktop.core.db.rows import utc_time

    rate = None if row.rate_limit is None else Rate(row.rate_limit, row.rate_period_s)
    refill = None if row.refill_period is None else Refill(row.refill_amount, row.refill_period)
    credits = row.credits_remaining
    refilled_at = utc_time(row.refilled_at)
    if refill is not None and (refilled_at is None or refilled_at < period_start(refill.period, now)):
        credits = refill.amount
    return Limits(rate, credits, refill)


class StoreLimits:
    """limits(), all_limits(), limit_states(), has_limits(), set_limits() and set_limits_many(); write_limits() for
    a write in a transaction of its caller's (a key created with limits)."""

    def __init__(self, access: DatabaseAccess) -> None:
        self._clock = access.clock
        self._usable = access.usable
        self._writing = access.writing

    def limits(self, key_id: int) -> Limits:
        """The key's limits (Limits() for none); KeyNotFound when there is no such key."""
        from desktop.core.db import statements as sql
        from desktop.core.models import KeyLimits

        with self._usable().read() as conn:
            if conn.execute(sql.GET, {"key_id": key_id}).first() is None:
                raise KeyNotFound(key_id)
            row = conn.execute(_select(KeyLimits).where(KeyLimits.key_id == sql.KEY_ID), {"key_id": key_id}).first()
        return Limits() if row is None else _limits(row, self._clock.now())

    def all_limits(self) -> dict[int, Limits]:
        """Every limited key's limits, by id (for `list --json`)."""
        from desktop.core.models import KeyLimits

        now = self._clock.now()
        with self._usable().read() as conn:
            return {row.key_id: _limits(row, now) for row in conn.execute(_select(KeyLimits))}

    def limit_states(self, key_ids: Sequence[int]) -> dict[int, LimitState]:
        """The limits of those of these keys that have any, and whether their rate allows a verify now: one
        statement for a page's ids (the window's Credits column and Status cells), by key_limits' primary key,
        the rate log's oldest slot joined on its primary key."""
        from desktop.core.db.rows import utc_time

        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        query = _states_query()
        now = self._clock.now()
        states: dict[int, LimitState] = {}
        with self._usable().read() as conn:
            for row in conn.execute(query, {"key_ids": wanted}):
                limits = _limits(row, now)
                at = utc_time(row.oldest_at)
                until = None
                if limits.rate is not None and at is not None:
                    until = at + timedelta(seconds=limits.rate.period_s)
                states[row.key_id] = LimitState(limits, until if until is not None and until > now else None)
        return states

    def has_limits(self) -> bool:
        """Whether any key has limits. Most databases have none, and then no page needs limit_states()."""
        from sqlalchemy import select

        from desktop.core.models import KeyLimits

        with self._usable().read() as conn:
            return conn.execute(select(KeyLimits.key_id).limit(1)).first() is not None

    def set_limits_many(
        self,
        key_ids: Sequence[int],
        *,
        rate: Rate | Keep | None = KEEP,
        credits: int | Keep | None = KEEP,
        refill: Refill | Keep | None = KEEP,
    ) -> BulkResult:
        """set_limits() on many keys in one transaction, all or nothing; ids no key has are reported (missing)."""
        from desktop.core.db import statements as sql

        wanted = sorted(set(key_ids))
        with self._writing() as conn:
            found = [sql.record(r) for r in conn.execute(sql.GET_MANY, {"key_ids": wanted})]
            for record in found:
                self.write_limits(conn, record.id, record.masked, rate, credits, refill)
        present = {r.id for r in found}
        log.info("set the limits of %d API keys", len(found))
        return BulkResult(tuple(found), tuple(i for i in wanted if i not in present))

    def set_limits(
        self,
        key_id: int,
        *,
        rate: Rate | Keep | None = KEEP,
        credits: int | Keep | None = KEEP,
        refill: Refill | Keep | None = KEEP,
    ) -> Limits:
        """Set, change or clear (None) a key's limits; KEEP leaves one as it is. Setting credits sets the balance
        now; a refill without a balance starts at its amount; clearing the credits clears their refill. The rate
        log is kept across a change of rate (its latest verifies still count). Returns the limits now."""
        from desktop.core.db import statements as sql

        with self._writing() as conn:
            before = conn.execute(sql.GET_FOR_UPDATE, {"key_id": key_id}).first()
            if before is None:
                raise KeyNotFound(key_id)
            after = self.write_limits(conn, key_id, sql.record(before).masked, rate, credits, refill)
        log.info("set the limits of API key #%d", key_id)
        return after

    def write_limits(
        self,
        conn: Connection,
        key_id: int,
        masked: str,
        rate: Rate | Keep | None,
        credits: int | Keep | None,
        refill: Refill | Keep | None,
        *,
        new_key: bool = False,
    ) -> Limits:
        """The limits written in the caller's transaction (the key's row already locked), and audited."""
        from sqlalchemy import delete, insert, update

        from desktop.core import audit
        from desktop.core.db import statements as sql
        from desktop.core.db.limits import period_start
        from desktop.core.models import ApiKey, KeyLimits

        now = self._clock.now()
        row = None
        if not new_key:
            query = _select(KeyLimits).where(KeyLimits.key_id == sql.KEY_ID).with_for_update()
            row = conn.execute(query, {"key_id": key_id}).first()
        old = Limits() if row is None else _limits(row, now)
        new_rate = old.rate if rate is KEEP else rate
        new_refill = old.refill if refill is KEEP else refill
        new_credits = old.credits if credits is KEEP else credits
        if credits is None and refill is KEEP:
            new_refill = None  # no balance left to refill
        if new_credits is None and new_refill is not None:
            new_credits = new_refill.amount  # a refill without a balance starts full
        new = Limits(new_rate, new_credits, new_refill)
        if new == old:  # nothing to write, nothing to audit
            return old
        audit.context(conn, Action.LIMITS_CHANGED)  # PostgreSQL: the trigger on key_limits writes the event
        if not new.any:
            conn.execute(delete(KeyLimits).where(KeyLimits.key_id == key_id))  # its rate log goes with it
        else:
            values: dict[str, Any] = {
                "rate_limit": None if new_rate is None else new_rate.count,
                "rate_period_s": None if new_rate is None else new_rate.period_s,
                "credits_remaining": new_credits,
                "refill_amount": None if new_refill is None else new_refill.amount,
                "refill_period": None if new_refill is None else new_refill.period,
                "refilled_at": None if new_refill is None else period_start(new_refill.period, now),
            }
            if row is None:
                conn.execute(insert(KeyLimits).values(key_id=key_id, rate_next=0, rate_first=0, **values))
            else:
                if new_rate != old.rate:
                    size = None if new_rate is None else new_rate.count
                    values["rate_next"] = _renumber(conn, key_id, size, row.rate_pending)
                    values["rate_first"] = 0  # the oldest kept
                    values["rate_pending"] = ""  # counted in the new log
                conn.execute(update(KeyLimits).where(KeyLimits.key_id == key_id).values(**values))
        if (row is None) != (not new.any):
            conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(limited=new.any))
        audit.record(
            conn,
            Action.LIMITS_CHANGED,
            now,
            key_id=key_id,
            masked=masked,
            details={"from": old.details() if row is not None else None, "to": new.details() if new.any else None},
        )
        return new


@functools.cache
def _states_query() -> Any:
    """limit_states()'s statement, built once (building it took longer than running it): each key_limits row of
    the ids given, with the slot of its N-th most recent verify joined, by the two tables' primary keys: the
    ring's oldest (`rate_next`) moved on by the verifies pending (SQLite, migration 0015: the ring's (N - b)-th
    most recent, b pending)."""
    from sqlalchemy import Integer, and_, func, select

    from desktop.core.db import statements as sql
    from desktop.core.db.limits import PENDING_WIDTH
    from desktop.core.models import KeyLimits, KeyRateHit

    pending = func.length(KeyLimits.rate_pending, type_=Integer) // PENDING_WIDTH  # integer division
    slot = (KeyLimits.rate_next + pending) % KeyLimits.rate_limit
    oldest = and_(KeyRateHit.key_id == KeyLimits.key_id, KeyRateHit.slot == slot)
    return (
        select(*KeyLimits.__table__.columns, KeyRateHit.at.label("oldest_at"))
        .outerjoin(KeyRateHit, oldest)
        .where(KeyLimits.key_id.in_(sql.KEY_IDS))
    )


def _select(model: Any) -> Any:
    from sqlalchemy import select

    return select(model.__table__)


def _renumber(conn: Connection, key_id: int, size: int | None, pending: str) -> int:
    """A new rate's log: its latest verifies (up to the new size), those pending (SQLite) the latest of all, kept
    in slots 0.., oldest first; the next slot."""
    from sqlalchemy import delete, insert, select

    from desktop.core.db.limits import pending_times
    from desktop.core.db.rows import utc_time
    from desktop.core.models import KeyRateHit

    latest: list[Any] = []
    if size is not None:
        latest = [utc_time(t) for t in reversed(pending_times(pending))][:size]
        if len(latest) < size:
            query = select(KeyRateHit.at).where(KeyRateHit.key_id == key_id).order_by(KeyRateHit.at.desc())
            latest += [r.at for r in conn.execute(query.limit(size - len(latest)))]
    conn.execute(delete(KeyRateHit).where(KeyRateHit.key_id == key_id))
    rows = [{"key_id": key_id, "slot": slot, "at": at} for slot, at in enumerate(reversed(latest))]
    if rows:
        conn.execute(insert(KeyRateHit), rows)
    return 0 if size is None else len(rows) % size
