"""PostgreSQL's fast newest-first page: one statement, one round trip, on an idle autocommit connection.

The generic path (generic.py's `page`) asks three things in up to three round trips through the pool: the
page, and whether keys lie on its other side. Here the three go in one statement, so they share one snapshot,
which lets the other side be asked about the position itself instead of the page's first key: the keys just
past a page's edge are exactly those at or beyond the position it was read from (nothing sorts between).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from desktop.core.db.rows import KEY_COLUMNS, key_record
from desktop.core.key_fields import STORED_COLUMNS
from desktop.core.values import Cursor, Page

#: A row of `KEY_COLUMNS`' width that holds no key: the "keys lie beyond" and "a key is on the position" answers.
_NULLS = ", ".join(["NULL"] * len(STORED_COLUMNS))
_NEWEST_FIRST = "ORDER BY created_at DESC, id DESC"
_OLDEST_FIRST = "ORDER BY created_at, id"
#: The position, typed as the columns are (a naive UTC timestamp, the id), for the row comparisons' index walks.
_AT = "(CAST(%(at)s AS timestamp), CAST(%(id)s AS integer))"

FIRST_SQL = f"SELECT 0, {KEY_COLUMNS} FROM api_keys {_NEWEST_FIRST} LIMIT %(limit)s"


def _around(older: bool) -> str:
    """The page beyond the position (older keys, or newer ones), and whether keys lie beyond it, or on it."""
    page_side, other_side = ("<", ">") if older else (">", "<")
    order = _NEWEST_FIRST if older else _OLDEST_FIRST
    return (
        f"SELECT 0, * FROM (SELECT {KEY_COLUMNS} FROM api_keys WHERE (created_at, id) {page_side} {_AT} {order}"
        " LIMIT %(limit)s) AS page"
        f" UNION ALL SELECT 1, {_NULLS} WHERE EXISTS (SELECT 1 FROM api_keys WHERE (created_at, id) {other_side} {_AT})"
        f" UNION ALL SELECT 2, {_NULLS} WHERE EXISTS (SELECT 1 FROM api_keys WHERE (created_at, id) = {_AT})"
    )


AFTER_SQL = _around(older=True)
BEFORE_SQL = _around(older=False)


def statement(size: int, after: Cursor | None, before: Cursor | None) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one page (size + 1 rows are read: the extra one says whether more follow)."""
    position = after if after is not None else before
    if position is None:
        return FIRST_SQL, {"limit": size + 1}
    at = position.created_at.astimezone(UTC).replace(tzinfo=None)  # the column holds naive UTC
    return (AFTER_SQL if after is not None else BEFORE_SQL), {"limit": size + 1, "at": at, "id": position.id}


def page(rows: list[Any], size: int, *, after: Cursor | None, before: Cursor | None) -> Page:
    """The Page those rows make, as the generic path would have made it in the same snapshot."""
    found = [key_record(row[1:]) for row in rows if row[0] == 0]
    beyond = any(row[0] == 1 for row in rows)
    on_position = any(row[0] == 2 for row in rows)
    if before is not None:
        found.sort(key=lambda r: (r.created_at, r.id))  # UNION ALL promises no order: the page's own, oldest first
        items = tuple(reversed(found[:size]))
        # Keys older than the page's last one: those at or older than `before`, or (no page) older than it.
        return Page(items, len(found) > size, beyond or (bool(items) and on_position))
    found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    items = tuple(found[:size])
    if after is None:
        return Page(items, False, len(found) > size)  # the newest key is on it: nothing is newer
    return Page(items, beyond or (bool(items) and on_position), len(found) > size)
