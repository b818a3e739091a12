"""The SQL the store and the generic backend run, as SQLAlchemy Core statements on the typed model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)

from desktop.core.db.rows import key_record
from desktop.core.key_fields import STORED_COLUMNS
from desktop.core.models import ApiKey, KeyEvent
from desktop.core.values import Cursor, Event, EventCursor, KeyRecord

#: The columns a `KeyRecord` is read from, in its order (`core/key_fields.py`).
COLUMNS = tuple(getattr(ApiKey, column) for column in STORED_COLUMNS)
NEWEST_FIRST = (ApiKey.created_at.desc(), ApiKey.id.desc())
OLDEST_FIRST = (ApiKey.created_at.asc(), ApiKey.id.asc())
_POSITION = tuple_(ApiKey.created_at, ApiKey.id)
#: An ID as people type it may exceed PostgreSQL's `integer` (the id column): compared as bigint, it simply
#: matches no key (KeyNotFound) instead of failing with "integer out of range".
KEY_ID = bindparam("key_id", type_=BigInteger)

GET = select(*COLUMNS).where(ApiKey.id == KEY_ID)
ALL = select(*COLUMNS).order_by(*NEWEST_FIRST)
COUNT = select(func.count()).select_from(ApiKey)
INSERT = insert(ApiKey)
SET_ACTIVE = update(ApiKey).where(ApiKey.id == KEY_ID).values(active=bindparam("active"))
DELETE = delete(ApiKey).where(ApiKey.id == KEY_ID)
LOOKUP = select(ApiKey.id, ApiKey.digest, ApiKey.active, ApiKey.expires_at, ApiKey.last_used_at, ApiKey.limited).where(
    ApiKey.digest == bindparam("digest")
)
TOUCH = (
    update(ApiKey)
    .where(ApiKey.id == KEY_ID)
    .where(ApiKey.last_used_at.is_(None) | (ApiKey.last_used_at <= bindparam("stale")))
    .values(last_used_at=bindparam("now"))
)


def newer_than(cursor: Cursor) -> ColumnElement[bool]:
    """Keys that sort before `cursor` in the newest-first order."""
    return (cursor.created_at, cursor.id) < _POSITION


def older_than(cursor: Cursor) -> ColumnElement[bool]:
    """Keys that sort after `cursor` in the newest-first order."""
    return (cursor.created_at, cursor.id) > _POSITION


def count_newer_than(cursor: Cursor) -> Select[Any]:
    return COUNT.where(newer_than(cursor))


def any_where(condition: ColumnElement[bool]) -> Select[Any]:
    return select(exists().where(condition))


def record(row: Any) -> KeyRecord:  # a Row of COLUMNS; its generic form differs between SQLAlchemy 2.0 and 2.1
    return key_record(row)


# -- the key lifecycle: rename, roll, scopes, many at once, the audit log --


def split_scopes(text: str | None) -> tuple[str, ...]:
    return tuple(text.split()) if text else ()


def join_scopes(scopes: tuple[str, ...]) -> str:
    return " ".join(scopes)


KEY_IDS = bindparam("key_ids", expanding=True, type_=BigInteger)
#: The keys a change to many will touch, locked on a server (SQLite's write transaction holds its lock already).
GET_MANY = select(*COLUMNS).where(ApiKey.id.in_(KEY_IDS)).order_by(ApiKey.id).with_for_update()
GET_FOR_UPDATE = GET.with_for_update()
SET_ACTIVE_MANY = update(ApiKey).where(ApiKey.id.in_(KEY_IDS)).values(active=bindparam("active"))
DELETE_MANY = delete(ApiKey).where(ApiKey.id.in_(KEY_IDS))
RENAME = update(ApiKey).where(ApiKey.id == KEY_ID).values(description=bindparam("description"))
SET_SCOPES = update(ApiKey).where(ApiKey.id == KEY_ID).values(scopes=bindparam("scopes"))
SET_EXPIRY = update(ApiKey).where(ApiKey.id == KEY_ID).values(expires_at=bindparam("expires_at"))
#: verify with scopes: what `KeyStore.check` needs of a key, in one lookup by digest.
LOOKUP_SCOPED = select(
    ApiKey.id, ApiKey.digest, ApiKey.active, ApiKey.expires_at, ApiKey.last_used_at, ApiKey.scopes, ApiKey.limited
).where(ApiKey.digest == bindparam("digest"))
SCOPES_IN_USE = select(ApiKey.scopes).where(ApiKey.scopes != "").distinct()

INSERT_EVENT = insert(KeyEvent)
EVENT_COLUMNS = (
    KeyEvent.id,
    KeyEvent.at,
    KeyEvent.key_id,
    KeyEvent.masked,
    KeyEvent.action,
    KeyEvent.actor,
    KeyEvent.db_role,
    KeyEvent.details,
)
EVENTS_NEWEST_FIRST = (KeyEvent.at.desc(), KeyEvent.id.desc())
#: Which of these keys were rolled (the window's "Retiring …"): by the (key_id, at, id) index, one page's ids.
ROLLED_AMONG = (
    select(KeyEvent.key_id).where(KeyEvent.key_id.in_(KEY_IDS), KeyEvent.action == bindparam("rolled")).distinct()
)
#: The masked forms of these keys, from their events (a deleted key's too): what the log's details name by id.
MASKED_OF = (
    select(KeyEvent.key_id, KeyEvent.masked)
    .where(KeyEvent.key_id.in_(KEY_IDS), KeyEvent.masked.is_not(None))
    .distinct()
)
#: Whether any key was ever rolled: one seek in 0006's index on (action, at, id).
ANY_ROLLED = select(KeyEvent.id).where(KeyEvent.action == bindparam("rolled")).limit(1)


def events(
    limit: int, *, key_id: int | None = None, before: EventCursor | None = None, action: str | None = None
) -> Select[Any]:
    """Up to `limit` events newest first (ties: the later-written first), after `before` in that order."""
    query: Any = select(*EVENT_COLUMNS)
    if key_id is not None:
        query = query.where(KeyEvent.key_id == bindparam("event_key_id", key_id, type_=BigInteger))
    if action is not None:
        query = query.where(KeyEvent.action == bindparam("event_action", action))
    if before is not None:
        query = query.where(tuple_(KeyEvent.at, KeyEvent.id) < (before.at, before.id))
    ordered: Select[Any] = query.order_by(*EVENTS_NEWEST_FIRST).limit(limit)
    return ordered


def event(row: Any) -> Event:
    import json

    details = json.loads(row.details) if row.details else {}
    return Event(
        id=row.id,
        at=row.at,
        key_id=row.key_id,
        masked=row.masked,
        action=row.action,
        actor=row.actor,
        db_role=row.db_role,
        details=details if isinstance(details, dict) else {},
    )
