"""The values the store hands out and takes in: frozen, plain, free of SQLAlchemy and Qt."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.validation import expiry_date


class Verdict(enum.StrEnum):
    """What `verify` answers for a presented key."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    EXPIRED = "expired"


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
