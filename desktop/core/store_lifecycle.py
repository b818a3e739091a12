"""The store's writes to keys and its audit log: create, (de)activate, delete, seed, rename, roll, scopes, many keys at
once; the audit log's pages. An object of its own, given the store's database access (DatabaseAccess) and limits
(StoreLimits, for a key created with limits); KeyStore composes it and keeps the public API.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from desktop.core import keys
from desktop.core.db.base import NewRow
from desktop.core.errors import KeyNotFound
from desktop.core.validation import validate_description, validate_expiry
from desktop.core.values import (
    Action,
    BulkResult,
    CreatedKey,
    Event,
    EventCursor,
    EventPage,
    KeyRecord,
    NewKey,
    Rate,
    Refill,
    RolledKey,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.expression import Executable

    from desktop.core.store_access import DatabaseAccess
    from desktop.core.store_limits import StoreLimits

# The store's logger: its records keep the name they had before the split.
log = logging.getLogger("desktop.core.store")
#: The details that name another key by its id (a roll's two events): `events` looks up their masked forms.
_KEY_REFS = frozenset(("new_key_id", "rolled_from"))


class StoreLifecycle:
    """The writes that change keys, each in one transaction with its audit event, and the audit log's reads."""

    def __init__(self, access: DatabaseAccess, limits: StoreLimits) -> None:
        self._access = access
        self._clock = access.clock
        self._usable = access.usable
        self._writing = access.writing
        self._limits = limits

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
                self._limits.write_limits(
                    conn, created.record.id, created.record.masked, rate, credits, refill, new_key=True
                )
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

    # -- many new keys at once (seeding) --

    def insert_many(self, rows: Sequence[NewKey], *, seeded: int | None = None) -> int:
        """Insert generated keys in one transaction (for seeding); their secrets are discarded.

        In the same transaction, one `seeded` event with `seeded` as its count (by default, these rows; 0: no
        event, for all but the last batch of a seed that logs its total with the last). On PostgreSQL the server
        writes one `seeded` event for each call, counting its rows.
        """
        values = [
            NewRow(
                keys.digest(full_key),
                keys.hint(full_key),
                validate_description(row.description),
                row.created_at,
                row.expires_at,
                row.active,
            )
            for row, full_key in zip(rows, keys.generate_many(len(rows)), strict=True)
        ]
        if not values:
            return 0
        from desktop.core import audit

        count = len(values) if seeded is None else seeded
        with self._writing() as conn:
            # On PostgreSQL the server writes one `seeded` event for this batch, whatever `seeded` says: each
            # committed batch is a change, and every change leaves an event there.
            audit.context(conn, Action.SEEDED)
            self._access.database.insert_keys(conn, values)
            # One summary event, not one per key: a million seeded keys must not bury the log.
            if count:
                audit.record(conn, Action.SEEDED, self._clock.now(), key_id=None, masked=None, details={"count": count})
        return len(values)

    def log_seeded(self, count: int, *, interrupted: bool) -> None:
        """The summary event of a seed whose batches were committed without one (it was interrupted). Nothing on
        PostgreSQL, where the server logged each batch as it was committed."""
        from desktop.core import audit

        with self._writing() as conn:
            details = {"count": count, "interrupted": interrupted}
            audit.record(conn, Action.SEEDED, self._clock.now(), key_id=None, masked=None, details=details)

    # -- rename, roll, scopes, many keys at once, the audit log --

    def _audit_state(self, conn: Connection, record: KeyRecord) -> None:
        from desktop.core import audit

        action = Action.ACTIVATED if record.active else Action.DEACTIVATED
        audit.record(conn, action, self._clock.now(), key_id=record.id, masked=record.masked)

    def _audit_deleted(self, conn: Connection, record: KeyRecord) -> None:
        from desktop.core import audit

        audit.record(
            conn,
            Action.DELETED,
            self._clock.now(),
            key_id=record.id,
            masked=record.masked,
            details={"description": record.description},
        )

    def _locked(self, conn: Connection, key_id: int) -> KeyRecord:
        """The key, locked for the rest of the transaction on a server; KeyNotFound when there is none."""
        from desktop.core.db import statements as sql

        row = conn.execute(sql.GET_FOR_UPDATE, {"key_id": key_id}).first()
        if row is None:
            raise KeyNotFound(key_id)
        return sql.record(row)

    def rename(self, key_id: int, description: str) -> KeyRecord:
        """Give a key a new description (validated as at creation); KeyNotFound when there is no such key."""
        from desktop.core.db import statements as sql

        cleaned = validate_description(description)
        after = self._change_one(
            key_id,
            lambda before: dataclasses.replace(before, description=cleaned),
            sql.RENAME,
            {"description": cleaned},
            Action.RENAMED,
            lambda before: {"from": before.description, "to": cleaned},
        )
        log.info("renamed API key #%d", key_id)
        return after

    def _change_one(
        self,
        key_id: int,
        change: Callable[[KeyRecord], KeyRecord],
        statement: Executable,
        params: dict[str, object],
        action: Action,
        details: Callable[[KeyRecord], dict[str, object]],
    ) -> KeyRecord:
        """Change one key in one transaction: lock its row (KeyNotFound when there is none), run `statement`
        with the key's id and `params`, and write an `action` event with `details(before)` only if the change
        changed something. Returns the key as changed."""
        from desktop.core import audit

        with self._writing() as conn:
            before = self._locked(conn, key_id)
            after = change(before)
            conn.execute(statement, {"key_id": key_id, **params})
            if after != before:
                audit.record(
                    conn, action, self._clock.now(), key_id=key_id, masked=before.masked, details=details(before)
                )
        return after

    def roll(self, key_id: int, grace: timedelta) -> RolledKey:
        """Replace a key: one transaction creates a new key with the old one's description, expiry, scopes and
        active state, and ends the old key's validity at now + `grace` (or its own expiry, if sooner).

        Returns only after COMMIT: the new key is durable before anyone sees it. An inactive or expired key
        may be rolled; the new key then starts inactive or expired too (the caller says so).
        """
        from desktop.core import audit
        from desktop.core.db import statements as sql

        if grace < timedelta(0):
            raise ValueError("grace must not be negative")
        now = self._clock.now()
        retire_at = now + grace
        with self._writing() as conn:
            old = self._locked(conn, key_id)
            new = self._insert_key(
                conn, old.description, now, old.expires_at, old.active, old.scopes, {"rolled_from": old.id}
            )
            expires_at = retire_at if old.expires_at is None else min(old.expires_at, retire_at)
            audit.context(
                conn, Action.ROLLED, {"new_key_id": new.record.id, "grace_seconds": int(grace.total_seconds())}
            )
            conn.execute(sql.SET_EXPIRY, {"key_id": key_id, "expires_at": expires_at})
            audit.record(
                conn,
                Action.ROLLED,
                now,
                key_id=old.id,
                masked=old.masked,
                details={
                    "new_key_id": new.record.id,
                    "grace_seconds": int(grace.total_seconds()),
                    "expires_at": expires_at.isoformat(),
                },
            )
        log.info("rolled API key #%d into #%d", key_id, new.record.id)
        return RolledKey(new, dataclasses.replace(old, expires_at=expires_at))

    def set_scopes(self, key_id: int, scopes: Sequence[str]) -> KeyRecord:
        """Replace a key's scopes (none clears them); InvalidScope for a bad one, KeyNotFound for no such key."""
        from desktop.core.db import statements as sql
        from desktop.core.lifecycle import validate_scopes

        wanted = validate_scopes(scopes)
        after = self._change_one(
            key_id,
            lambda before: dataclasses.replace(before, scopes=wanted),
            sql.SET_SCOPES,
            {"scopes": sql.join_scopes(wanted)},
            Action.SCOPES_CHANGED,
            lambda before: {"from": list(before.scopes), "to": list(wanted)},
        )
        log.info("set the scopes of API key #%d", key_id)
        return after

    def scopes_in_use(self) -> list[str]:
        """Every scope some key has, sorted (for completion when editing scopes)."""
        from desktop.core.db import statements as sql

        with self._usable().read() as conn:
            return sorted({scope for (text,) in conn.execute(sql.SCOPES_IN_USE) for scope in sql.split_scopes(text)})

    def _many(self, key_ids: Sequence[int], conn: Connection) -> tuple[list[KeyRecord], tuple[int, ...]]:
        from desktop.core.db import statements as sql

        wanted = sorted(set(key_ids))
        found = [sql.record(r) for r in conn.execute(sql.GET_MANY, {"key_ids": wanted})]
        present = {r.id for r in found}
        return found, tuple(i for i in wanted if i not in present)

    def set_active_many(self, key_ids: Sequence[int], active: bool) -> BulkResult:
        """(De)activate many keys in one transaction, all or nothing. Ids no key has (deleted meanwhile) are
        reported in `missing` rather than failing the call; keys already in that state are left as they are
        (no event) and reported among `changed` as they are."""
        from desktop.core.db import statements as sql

        if not key_ids:
            return BulkResult((), ())
        with self._writing() as conn:
            found, missing = self._many(key_ids, conn)
            to_change = [r.id for r in found if r.active != active]
            if to_change:
                conn.execute(sql.SET_ACTIVE_MANY, {"key_ids": to_change, "active": active})
            after = [dataclasses.replace(r, active=active) for r in found]
            for record in after:
                if record.id in to_change:
                    self._audit_state(conn, record)
        log.info("%s %d API keys", "activated" if active else "deactivated", len(to_change))
        return BulkResult(tuple(after), missing)

    def delete_many(self, key_ids: Sequence[int]) -> BulkResult:
        """Delete many keys in one transaction, all or nothing; ids no key has are reported in `missing`."""
        from desktop.core.db import statements as sql

        if not key_ids:
            return BulkResult((), ())
        with self._writing() as conn:
            found, missing = self._many(key_ids, conn)
            if found:
                conn.execute(sql.DELETE_MANY, {"key_ids": [r.id for r in found]})
            for record in found:
                self._audit_deleted(conn, record)
        log.info("deleted %d API keys", len(found))
        return BulkResult(tuple(found), missing)

    def events(
        self,
        limit: int = 100,
        *,
        key_id: int | None = None,
        before: EventCursor | None = None,
        action: Action | None = None,
    ) -> EventPage:
        """One page of the audit log, newest first (ties: the later-written first), by keyset: the first page,
        or the one after `before` (a page's `next`). With `key_id`, only that key's events (also once deleted);
        with `action`, only events of that action."""
        from desktop.core.db import statements as sql

        if limit < 1:
            raise ValueError("limit must be positive")
        wanted = None if action is None else Action(action).value
        with self._usable().read() as conn:
            rows = conn.execute(sql.events(limit + 1, key_id=key_id, before=before, action=wanted)).fetchall()
            items: tuple[Event, ...] = tuple(sql.event(r) for r in rows[:limit])
            named = sorted({v for e in items for n, v in e.details.items() if n in _KEY_REFS and isinstance(v, int)})
            found = conn.execute(sql.MASKED_OF, {"key_ids": named}).all() if named else []
        masked = {k: m for k, m in found if k is not None and m is not None}
        return EventPage(items, items[-1].cursor if len(rows) > limit else None, masked)

    def rolled_among(self, key_ids: Sequence[int]) -> frozenset[int]:
        """Which of `key_ids` were rolled (their grace, if not over, is their expiry): one page's worth."""
        from desktop.core.db import statements as sql

        if not key_ids:
            return frozenset()
        with self._usable().read() as conn:
            rows = conn.execute(sql.ROLLED_AMONG, {"key_ids": sorted(set(key_ids)), "rolled": Action.ROLLED.value})
            return frozenset(key_id for (key_id,) in rows if key_id is not None)

    def has_rolled(self) -> bool:
        """Whether any key was ever rolled here. Most databases have none, and then no page needs rolled_among."""
        from desktop.core.db import statements as sql

        with self._usable().read() as conn:
            return conn.execute(sql.ANY_ROLLED, {"rolled": Action.ROLLED.value}).first() is not None
