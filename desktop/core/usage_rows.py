"""The usage rows the store's reads sum, with the SQL verify's tail (migration 0013) added in the same statement.

`apikeys_verify()` appends its counts to `key_usage_tail`; processes that count move that tail into `key_usage`
(and so into the roll-ups) every few seconds. Until then its rows are only in the tail: every read adds them, so a
count shows the moment its verify committed, and the figures are the same before and after a roll-up (one
statement reads both tables in one snapshot; the roll-up moves rows between them in one statement). The tail is
a few seconds of SQL verifies, read whole (it has no index: appending to it is what the SQL verify pays).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def counted(where: Callable[[Any], list[Any]]) -> Any:
    """`key_usage`'s rows and the tail's (key_id, hour, verdict, count) as one subquery; `where(table)` gives each
    part's conditions (given the table's columns, so `key_usage`'s indexes serve its part)."""
    from sqlalchemy import select, union_all

    from desktop.core.models import KeyUsage, key_usage_tail

    usage = KeyUsage.__table__
    parts = [
        select(t.c.key_id, t.c.hour, t.c.verdict, t.c["count"]).where(*where(t.c)) for t in (usage, key_usage_tail)
    ]
    return union_all(*parts).subquery("counted")


def hourly(start: datetime, end: datetime) -> Any:
    """Every key's verifies per hour and verdict in [start, end): the hourly roll-up's rows and the tail's, as one
    subquery (hour, verdict, count)."""
    from sqlalchemy import select, union_all

    from desktop.core.models import UsageHour, key_usage_tail

    rolled = UsageHour.__table__.c
    tail = key_usage_tail.c
    return union_all(
        select(rolled.hour, rolled.verdict, rolled["count"]).where(rolled.hour >= start, rolled.hour < end),
        select(tail.hour, tail.verdict, tail["count"]).where(tail.hour >= start, tail.hour < end),
    ).subquery("hourly")


def tail_totals(conn: Connection, start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """Each key's verifies in the tail in [start, end): (all, valid)."""
    from sqlalchemy import case, func, select

    from desktop.core.models import key_usage_tail

    tail = key_usage_tail.c
    valid = func.sum(case((tail.verdict == "valid", tail["count"]), else_=0))
    query = (
        select(tail.key_id, func.sum(tail["count"]), valid)
        .where(tail.hour >= start, tail.hour < end)
        .group_by(tail.key_id)
    )
    return {int(k): (int(c or 0), int(v or 0)) for k, c, v in conn.execute(query)}
