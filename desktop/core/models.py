"""SQLAlchemy 2.0 typed models: the schema that the migrations create."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (sortable text on SQLite), returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    hint: Mapped[str] = mapped_column(String(8), nullable=False)
    description: Mapped[str] = mapped_column(String(256), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Space-separated, sorted scopes ('' for none): read with the key in verify's one lookup.
    scopes: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    #: Whether the key has a rate limit or credits (a `key_limits` row): read in verify's one lookup, so a key
    #: without limits costs no second query.
    limited: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())

    __table_args__ = (
        Index("ix_api_keys_digest", "digest", unique=True),
        # Keyset paging walks (created_at, id) in both directions.
        Index("ix_api_keys_created_at_id", "created_at", "id"),
        # Never reuse a deleted key's id: a stale script must not hit another key.
        {"sqlite_autoincrement": True},
    )


class KeyEvent(Base):
    """The audit log: one row per change, written in the change's transaction; never updated or deleted."""

    __tablename__ = "key_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: No foreign key: a deleted key's events stay.
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    actor: Mapped[str] = mapped_column(String(512), nullable=False)
    #: The database role that made the change (PostgreSQL's current_user); None on SQLite.
    db_role: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: A JSON object; never a key or a digest.
    details: Mapped[str] = mapped_column(Text, nullable=False, server_default="{}")

    __table_args__ = (
        Index("ix_key_events_at_id", "at", "id"),
        Index("ix_key_events_key_id_at_id", "key_id", "at", "id"),
        Index("ix_key_events_action_at_id", "action", "at", "id"),
        {"sqlite_autoincrement": True},
    )


class KeyLimits(Base):
    """A limited key's rate and credits, and their state (migration 0010)."""

    __tablename__ = "key_limits"

    key_id: Mapped[int] = mapped_column(Integer, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    rate_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_period_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The slot of the rate log (`key_rate_hits`) the next valid verify writes.
    rate_next: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    #: A slot at or before the oldest verify still in the window, in ring order (migration 0011).
    rate_first: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    #: SQLite: the times of the latest valid verifies not yet in the rate log, 26 characters each, oldest first
    #: (migration 0015: desktop.core.db.sqlite_take, limits.flush). Always '' on PostgreSQL.
    rate_pending: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    credits_remaining: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    refill_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: day, week or month (UTC; weeks start on Monday).
    refill_period: Mapped[str | None] = mapped_column(String(8), nullable=True)
    #: The start of the period last refilled.
    refilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class KeyRateHit(Base):
    """The rate log: a ring of `rate_limit` slots per key, each the time of one of its latest valid verifies."""

    __tablename__ = "key_rate_hits"

    key_id: Mapped[int] = mapped_column(Integer, ForeignKey("key_limits.key_id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    #: Keyed by (key_id, slot) alone: no index on the times (migration 0011).
    __table_args__ = ({"sqlite_with_rowid": False},)


class KeyUsage(Base):
    """Verifies counted per key, hour and verdict; append-only (readers sum, `usage` rolls up now and then)."""

    __tablename__ = "key_usage"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, nullable=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    verdict: Mapped[str] = mapped_column(String(16), nullable=False)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        Index("ix_key_usage_hour_key_id", "hour", "key_id"),
        Index("ix_key_usage_key_id_hour", "key_id", "hour"),
        {"sqlite_autoincrement": True},
    )


class UsageHour(Base):
    """Every key's verifies per hour and verdict (migration 0012): key_usage summed, kept by its triggers as
    rows are added and removed. `stripe` spreads concurrent writers over rows on PostgreSQL (0 on SQLite)."""

    __tablename__ = "usage_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16), primary_key=True)
    stripe: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)


class KeyUsageDay(Base):
    """A key's verifies per UTC day, all of them and the valid ones (migration 0012), kept like UsageHour."""

    __tablename__ = "key_usage_days"

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    stripe: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    valid: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_key_usage_days_day_count", "day", "count"),)


#: The verifies `apikeys_verify()` counted and no roll-up holds yet (migration 0013): one row a call, appended to a
#: table without index or trigger, moved into `key_usage` (whose triggers keep the roll-ups) in batches. Readers
#: add it to what they read, so counts show at once. Always empty on SQLite (the app's flush writes `key_usage`).
key_usage_tail = Table(
    "key_usage_tail",
    Base.metadata,
    Column("key_id", Integer, nullable=False),
    Column("hour", UTCDateTime(), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("count", BigInteger, nullable=False),
)
