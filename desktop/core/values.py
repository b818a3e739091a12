"""The values the store hands out and takes in: frozen, plain, free of SQLAlchemy and Qt."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.validation import expiry_date


class Verdict(enum.StrEnum):
    """What `verify` answers for a presented key."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    EXPIRED = "expired"
    #: Otherwise valid, but the key lacks a scope the caller requires (only `KeyStore.check` answers it).
    FORBIDDEN = "forbidden"


class Status(enum.StrEnum):
    """A key's state as people see it; `Status.of` is the one rule every caller uses."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    EXPIRED = "expired"

    @classmethod
    def of(cls, active: bool, expires_at: datetime | None, now: datetime) -> Status:
        """Inactive when deactivated, else expired when past its expiry, else active."""
        if not active:
            return cls.INACTIVE
        if expires_at is not None and now >= expires_at:
            return cls.EXPIRED
        return cls.ACTIVE


class FileChange(enum.Enum):
    """What `KeyStore.check_file()` found at the database path."""

    #: The file the store opened is still there (or the database is not a file).
    UNCHANGED = "unchanged"
    #: Another file took its place (restored, synced, `mv new.db keys.db`); the store now uses that one.
    REPLACED = "replaced"
    #: No file at the path any more; reads use the old handles, writes are refused.
    MISSING = "missing"


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """A position in the newest-first order: (created_at, id)."""

    created_at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One key as stored, without its secret: the masked form stands for it."""

    id: int
    masked: str
    description: str
    created_at: datetime
    expires_at: datetime | None
    active: bool
    last_used_at: datetime | None
    #: Sorted; empty when the key has none.
    scopes: tuple[str, ...] = ()

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.id)

    @property
    def expires_on(self) -> date | None:
        """The calendar date through which the key is valid, in local time."""
        return expiry_date(self.expires_at)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or SYSTEM_CLOCK.now()) >= self.expires_at

    def status(self, now: datetime | None = None) -> Status:
        return Status.of(self.active, self.expires_at, now or SYSTEM_CLOCK.now())


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: KeyRecord
    #: The full key: hand it to the person once, never store or log it.
    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[KeyRecord, ...]
    #: Whether newer keys exist before the first item (a previous page).
    has_newer: bool
    #: Whether older keys exist after the last item (a next page).
    has_older: bool


@dataclass(frozen=True, slots=True)
class NewKey:
    """One row for bulk insertion (seeding); the store generates the key itself."""

    description: str
    created_at: datetime
    expires_at: datetime | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What a service needs to authenticate and authorise a request, from one lookup (`KeyStore.check`)."""

    verdict: Verdict
    #: The key's id whenever the key exists; None for unknown and malformed keys.
    key_id: int | None = None
    #: The key's scopes, sorted; empty unless the verdict is valid or forbidden.
    scopes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VALID


@dataclass(frozen=True, slots=True)
class RolledKey:
    """The outcome of a roll: the new key (shown once) and the old key with its shortened expiry."""

    new: CreatedKey
    old: KeyRecord


@dataclass(frozen=True, slots=True)
class BulkResult:
    """The outcome of a change to many keys in one transaction.

    `changed`: the keys as they are after the change (for a delete, as they were before it). `missing`: ids
    that no key has (deleted meanwhile): reported, not an error, so that one key another person deleted does not
    undo the rest.
    """

    changed: tuple[KeyRecord, ...]
    missing: tuple[int, ...]


class Action(enum.StrEnum):
    """What an audit event records."""

    CREATED = "created"
    RENAMED = "renamed"
    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"
    ROLLED = "rolled"
    SCOPES_CHANGED = "scopes-changed"
    DELETED = "deleted"
    #: Seeding: one summary event for the whole batch, with no key.
    SEEDED = "seeded"
    #: On PostgreSQL, a change made outside the app that none of the above describes (e.g. an expiry or a digest
    #: set in psql): its details name the columns (and an expiry's old and new value), never a digest.
    CHANGED = "changed"


@dataclass(frozen=True, slots=True, order=True)
class EventCursor:
    """A position in the audit log's newest-first order: (at, id)."""

    at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the audit log: who changed which key, when, how. Never holds a key or a digest."""

    id: int
    at: datetime
    key_id: int | None
    masked: str | None
    action: str
    #: `user@host` of whoever made the change.
    actor: str
    #: The database role that made it (PostgreSQL); None on SQLite.
    db_role: str | None
    details: dict[str, object]

    @property
    def cursor(self) -> EventCursor:
        return EventCursor(self.at, self.id)


@dataclass(frozen=True, slots=True)
class EventPage:
    items: tuple[Event, ...]
    #: Where the next (older) page starts; None when this is the last.
    next: EventCursor | None
    #: The masked form of each key the items' details name by id (a roll's other key), as far as the log knows it.
    masked_keys: Mapping[int, str] = field(default_factory=dict)


class ChangeListener(Protocol):
    """A connection of its own that hears of changes committed by anyone (PostgreSQL's LISTEN).

    The window watches `fileno()` for readability (QSocketNotifier) and then calls `drain()`.
    """

    def fileno(self) -> int:
        """The socket to watch; readable when a notification arrived or the connection broke."""

    def drain(self) -> bool:
        """Consume what arrived without blocking: True when a change was announced.

        Raises ServerUnreachable when the connection is lost (changes meanwhile are not heard: reload in full).
        """

    def close(self) -> None: ...
