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

from desktop.core import keys
from desktop.core.models import ApiKey
from desktop.core.values import Cursor, KeyRecord

COLUMNS = (
    ApiKey.id,
    ApiKey.hint,
    ApiKey.description,
    ApiKey.created_at,
    ApiKey.expires_at,
    ApiKey.active,
    ApiKey.last_used_at,
)
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
LOOKUP = select(ApiKey.id, ApiKey.digest, ApiKey.active, ApiKey.expires_at, ApiKey.last_used_at).where(
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


def record(row: Any) -> KeyRecord:  # a Row; its generic form differs between SQLAlchemy 2.0 and 2.1
    return KeyRecord(
        id=row.id,
        masked=keys.mask_hint(row.hint),
        description=row.description,
        created_at=row.created_at,
        expires_at=row.expires_at,
        active=bool(row.active),
        last_used_at=row.last_used_at,
    )
