"""SQLAlchemy 2.0 typed models: the schema that the migrations create."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, LargeBinary, String, Text, true
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
