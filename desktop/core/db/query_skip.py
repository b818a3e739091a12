"""A page in description order of a term the trigram index calls common, read by description rather than by row.

Walking the description index and testing each row's description, a common term that clusters in that order
(every "Billing …" sorts together) makes a page past the cluster walk the rest of the index before it knows
nothing follows: a million rows tested to learn there is no next page. But a description is one index key
shared by all the rows that have it, so the walk may step from one distinct description to the next (one index
seek each) and test each once: past a cluster of matches, through a few hundred distinct descriptions, not
hundreds of thousands of rows. Then the rows of each matching description, by id.

Where descriptions are mostly distinct, stepping costs a seek per row instead of a step: after SKIP_BUDGET
descriptions without a match the caller walks rows as before, having lost at most that many seeks.
SQLite only; the search must be the walked LIKE (not the trigram set, not a key's hint or digest, and no scope
in use may match the term: a key found by its scope is not found by stepping descriptions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from desktop.core.query import Sort

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from desktop.core.db.queries import _Plan
    from desktop.core.values import KeyRecord

#: Distinct descriptions tested without a match before giving up on stepping (a seek each: a few ms).
SKIP_BUDGET = 1000


class Exhausted(Exception):
    """SKIP_BUDGET descriptions stepped over without a match: walking rows is the better plan here."""


def applies(plan_: _Plan) -> bool:
    params = plan_.params
    return (
        plan_.dialect == "sqlite"
        and plan_.sort is Sort.DESCRIPTION
        and not plan_.fixed_key
        and "pattern" in params
        and not {"fts", "hint", "digest", "scope_names"} & params.keys()
    )


def _next_key(conn: Connection, plan_: _Plan, after: str | None) -> str | None:
    """The first description (lowered) after `after` (None: from the start) in the plan's direction that
    contains the term; None when none does. Raises Exhausted after SKIP_BUDGET that do not."""
    key = plan_.key
    op, direction = ("<", "DESC") if plan_.key_desc else (">", "ASC")
    step = f"SELECT {key} FROM api_keys WHERE {key} {op} d.k ORDER BY {key} {direction} LIMIT 1"
    seed = (
        f"SELECT (SELECT {key} FROM api_keys ORDER BY {key} {direction} LIMIT 1), 1"
        if after is None
        else "SELECT lower(:after), 0"
    )
    # Row n of d is the n-th description stepped to; the recursion stops at the first that matches (n > 0).
    sql = (
        f"WITH RECURSIVE d(k, n) AS ({seed} UNION ALL SELECT ({step}), d.n + 1 FROM d WHERE d.k IS NOT NULL"
        " AND (d.n = 0 OR d.k NOT LIKE :pattern ESCAPE '\\') AND d.n < :budget)"
        " SELECT k, n FROM d ORDER BY n DESC LIMIT 1"
    )
    found, steps = conn.execute(
        text(sql), {"after": after, "pattern": plan_.params["pattern"], "budget": SKIP_BUDGET}
    ).one()
    if found is None:
        return None
    if steps >= SKIP_BUDGET and not _matches(conn, found, plan_.params["pattern"]):
        raise Exhausted
    return str(found)


def _matches(conn: Connection, value: str, pattern: str) -> bool:
    return bool(conn.execute(text("SELECT :v LIKE :p ESCAPE '\\'"), {"v": value, "p": pattern}).scalar_one())


def beyond(conn: Connection, plan_: _Plan, after: str | None, limit: int) -> list[KeyRecord]:
    """Up to `limit` rows the plan finds strictly beyond the description `after` (None: from the start), in
    its order. Raises Exhausted (see SKIP_BUDGET)."""
    from desktop.core.db.queries import _run

    rows: list[KeyRecord] = []
    at = after
    while len(rows) < limit:
        found = _next_key(conn, plan_, at)
        if found is None:
            break
        params: dict[str, Any] = {**plan_.params, "sk": found}
        # Every filter applies: a description that matches may still have no row that passes them.
        rows += _run(conn, plan_, (f"{plan_.key} = :sk",), limit - len(rows), params, ties=True)
        at = found
    return rows
