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
    #: Otherwise valid, but the key's rate limit allows no more verifies in its window now.
    RATE_LIMITED = "rate_limited"
    #: Otherwise valid, but the key's credits do not cover the verify's cost (or are 0).
    USAGE_EXCEEDED = "usage_exceeded"


_VALID = Verdict.VALID


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
    #: The credits left after this verify; None for a key without credits (or a verdict before the limits).
    remaining: int | None = None
    #: The rate limit's state after this verify; None for a key without a rate (or a verdict before the limits).
    ratelimit: RateLimitState | None = None
    #: True when the verdict is valid. A field set once, not a property: a service reads it on every request, and
    #: a property is a Python call each time (answers are made once and handed out again, by check()).
    ok: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", self.verdict is _VALID)

    @property
    def retry_at(self) -> datetime | None:
        """For `rate_limited`: when the key may be verified again."""
        return self.ratelimit.reset if self.verdict is Verdict.RATE_LIMITED and self.ratelimit else None


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """A rate limit as one verify left it: `remaining` verifies allowed until `reset` (when the oldest counted
    one leaves the window; for `rate_limited`, the time to try again)."""

    limit: int
    remaining: int
    reset: datetime


@dataclass(frozen=True, slots=True)
class Taken:
    """What a key's limits answered for one otherwise valid verify."""

    verdict: Verdict
    remaining: int | None = None
    ratelimit: RateLimitState | None = None


@dataclass(frozen=True, slots=True)
class UsageCount:
    """How many verifies of one key ended with one verdict in one hour (UTC, the hour's start)."""

    key_id: int
    hour: datetime
    verdict: str
    count: int


#: Refill periods, as `apikeys limit --refill N/PERIOD` spells them.
REFILL_PERIODS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` valid verifies in any window of `period_s` seconds."""

    count: int
    period_s: int

    def __str__(self) -> str:
        for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.period_s % seconds == 0:
                return f"{self.count}/{self.period_s // seconds}{unit}"
        return f"{self.count}/{self.period_s}s"


@dataclass(frozen=True, slots=True)
class Refill:
    """The credits are set to `amount` at the start of each `period` (day, week or month, UTC)."""

    amount: int
    period: str

    def __str__(self) -> str:
        return f"{self.amount}/{self.period}"


@dataclass(frozen=True, slots=True)
class Limits:
    """A key's limits: its rate, its credits now (a refill due applied), and their refill; None for none."""

    rate: Rate | None = None
    credits: int | None = None
    refill: Refill | None = None

    @property
    def any(self) -> bool:
        return self.rate is not None or self.credits is not None or self.refill is not None

    def details(self) -> dict[str, object]:
        """As the audit log records it (`limits-changed`: from, to), the same on SQLite and PostgreSQL."""
        return {
            "rate_limit": None if self.rate is None else self.rate.count,
            "rate_period_s": None if self.rate is None else self.rate.period_s,
            "credits": self.credits,
            "refill": None if self.refill is None else self.refill.amount,
            "refill_period": None if self.refill is None else self.refill.period,
        }


@dataclass(frozen=True, slots=True)
class LimitState:
    """A key's limits as the window shows them (`KeyStore.limit_states`): its Limits now, and, while its rate
    allows no valid verify, when it next does (the oldest counted verify leaving the window)."""

    limits: Limits
    blocked_until: datetime | None = None

    def rate_limited(self, now: datetime) -> bool:
        """Whether a verify now would be `rate_limited`."""
        return self.blocked_until is not None and now < self.blocked_until

    @property
    def out_of_credits(self) -> bool:
        """Whether a verify of cost 1 would be `usage_exceeded` (no credits left, until a refill)."""
        return self.limits.credits is not None and self.limits.credits <= 0


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
    #: A key's rate limit or credits set or cleared (details: from, to); a verify taking from them is not an event.
    LIMITS_CHANGED = "limits-changed"


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
