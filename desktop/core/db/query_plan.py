"""A query made SQL for one dialect (Plan), and running its index walks: what queries.py plans and query_skip.py
walks by description both read rows through here.

Every order is a sort key (an expression an index of migration 0004 holds exactly) and the id, each in its own
direction; a page after a position is two index walks (Plan.following), each a SELECT (Plan.select).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from desktop.core.db.rows import KEY_COLUMNS, key_record
from desktop.core.query import Sort, SortCursor
from desktop.core.values import KeyRecord

#: Stand-ins for "no expiry" (after every date) and "never used" (before every date), as the indexes hold them.
NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
NEVER_USED = datetime(1, 1, 1, tzinfo=UTC)

#: The sort key of each order, per dialect: exactly the expressions migration 0004 indexes.
SORT_KEYS = {
    "sqlite": {
        Sort.CREATED: "created_at",
        Sort.EXPIRES: "coalesce(expires_at, '9999-12-31 23:59:59.999999')",
        Sort.LAST_USED: "coalesce(last_used_at, '0001-01-01 00:00:00.000000')",
        Sort.DESCRIPTION: "lower(description)",
    },
    "postgresql": {
        Sort.CREATED: "created_at",
        Sort.EXPIRES: "coalesce(expires_at, CAST('9999-12-31 23:59:59.999999' AS timestamp))",
        Sort.LAST_USED: "coalesce(last_used_at, CAST('0001-01-01 00:00:00' AS timestamp))",
        Sort.DESCRIPTION: "lower(description)",
    },
}
#: (sort key descending, id descending) for each order before `reverse`.
DIRECTIONS = {
    Sort.CREATED: (True, True),
    Sort.EXPIRES: (False, True),
    Sort.LAST_USED: (True, True),
    Sort.DESCRIPTION: (False, True),
}


@dataclass(frozen=True)
class Plan:
    """A query made SQL for one dialect: the WHERE conditions, their parameters, the order."""

    dialect: str
    sort: Sort
    conditions: tuple[str, ...]
    params: dict[str, Any]
    key_desc: bool
    id_desc: bool
    #: The filter holds the sort key to one value (never used, by last use): the order is the id's alone.
    fixed_key: bool = False

    @property
    def key(self) -> str:
        return SORT_KEYS[self.dialect][self.sort]

    def flipped(self) -> Plan:
        return Plan(
            self.dialect, self.sort, self.conditions, self.params, not self.key_desc, not self.id_desc, self.fixed_key
        )

    def time(self, moment: datetime) -> Any:
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        # SQLite holds SQLAlchemy's DATETIME text; psycopg takes a naive datetime for `timestamp`.
        return naive.isoformat(" ", "microseconds") if self.dialect == "sqlite" else naive

    def cursor_value(self, cursor: SortCursor) -> Any:
        value = cursor.value
        if self.sort is Sort.DESCRIPTION:
            return value
        if value is None:
            value = NO_EXPIRY if self.sort is Sort.EXPIRES else NEVER_USED
        assert isinstance(value, datetime)
        return self.time(value)

    @property
    def cursor_param(self) -> str:
        return "lower(:ck)" if self.sort is Sort.DESCRIPTION else ":ck"

    def select(self, extra: tuple[str, ...], limit: int, *, ties: bool = False) -> tuple[str, dict[str, Any]]:
        conditions = self.conditions
        if extra and self.dialect == "sqlite" and not self.fixed_key:
            cursor_bound = None if ties else ("<" if self.key_desc else ">")
            conditions = tuple(self._unindexed(c, cursor_bound) for c in conditions)
        where = " AND ".join((*conditions, *extra)) or "TRUE"
        id_order = f"id {'DESC' if self.id_desc else 'ASC'}"
        # Within one tie group the key is fixed: SQLite does not see an expression fixed by `=`, and would sort.
        order = id_order if ties or self.fixed_key else f"{self.key} {'DESC' if self.key_desc else 'ASC'}, {id_order}"
        return f"SELECT {KEY_COLUMNS} FROM api_keys WHERE {where} ORDER BY {order} LIMIT {int(limit)}", self.params

    def _unindexed(self, condition: str, cursor_bound: str | None) -> str:
        """A filter's bound on the sort key, hidden from SQLite's planner (`+`) where the cursor's bound must be
        the index range instead: SQLite ranges over one lower and one upper bound per column, and a filter's
        `expires > now` chosen over the cursor's `expires > :ck` would walk from now to the cursor on each page.
        In a tie group (`key = :ck`) every bound of the filter is hidden."""
        prefix = self.key + " "
        if not condition.startswith(prefix):
            return condition
        operator = condition[len(prefix) :].split(" ", 1)[0]
        if cursor_bound is None or operator[0] == cursor_bound:
            return "+" + condition
        return condition

    def following(
        self, cursor: SortCursor, id_param: str = "cid"
    ) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, Any]]:
        """The two conditions for rows after `cursor` in this order: its tie group's rest, then beyond it."""
        params = {**self.params, "ck": self.cursor_value(cursor), id_param: cursor.id}
        ties = (f"{self.key} = {self.cursor_param}", f"id {'<' if self.id_desc else '>'} :{id_param}")
        beyond = (f"{self.key} {'<' if self.key_desc else '>'} {self.cursor_param}",)
        return ties, beyond, params


def run(
    conn: Connection,
    plan_: Plan,
    extra: tuple[str, ...],
    limit: int,
    params: dict[str, Any] | None = None,
    *,
    ties: bool = False,
) -> list[KeyRecord]:
    sql, base = plan_.select(extra, limit, ties=ties)
    return [key_record(r) for r in conn.execute(text(sql), params if params is not None else base)]


def together(
    conn: Connection, parts: Sequence[tuple[Plan, tuple[str, ...], int, bool]], params: dict[str, Any]
) -> list[list[KeyRecord]]:
    """Several index walks in one statement (one round trip, one snapshot); each part's rows in its order."""
    selects = []
    for number, (plan_, extra, limit, ties) in enumerate(parts):
        sql, _ = plan_.select(extra, limit, ties=ties)
        selects.append(f"SELECT {number} AS part, p{number}.* FROM ({sql}) AS p{number}")
    found: list[list[KeyRecord]] = [[] for _ in parts]
    for row in conn.execute(text(" UNION ALL ".join(selects)), params):
        found[row[0]].append(key_record(row[1:]))
    return found
