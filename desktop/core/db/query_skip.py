"""A page in description order of a term the trigram index calls common, read by description rather than by row.

Walking the description index and testing each row's description, a common term that clusters in that order
(every "Billing …" sorts together) makes a page past the cluster walk the rest of the index before it knows
nothing follows: a million rows tested to learn there is no next page. But many rows share a description, so
the walk goes through the distinct descriptions instead, each tested once: migration 0008's
`key_descriptions(description, keys)`, one small table scanned in order (not a seek per description in the
million-row index), which also says how many rows each description brings. Then the rows of the matching
descriptions, each a range of the description index, by id, all in one statement.

SQLite only; the search must be the walked LIKE (not the trigram set, not a key's hint or digest, and no scope
in use may match the term: a key found by its scope is not found by its description).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

from desktop.core.db.query_plan import Plan, together
from desktop.core.query import Sort

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from desktop.core.values import KeyRecord


def applies(plan_: Plan) -> bool:
    params = plan_.params
    return (
        plan_.dialect == "sqlite"
        and plan_.sort is Sort.DESCRIPTION
        and not plan_.fixed_key
        and "pattern" in params
        and not {"fts", "hint", "digest", "scope_names"} & params.keys()
    )


def _next_descriptions(conn: Connection, plan_: Plan, after: str | None, rows: int) -> list[str]:
    """The next distinct descriptions (lowered) after `after` (None: from the start) in the plan's direction that
    contain the term: as many as bring `rows` rows before the filters (fewer at the end)."""
    op, direction = ("<", "DESC") if plan_.key_desc else (">", "ASC")
    bound = "" if after is None else f"description {op} lower(:after) AND "
    found = conn.execute(
        text(
            f"SELECT description, keys FROM key_descriptions WHERE {bound}description LIKE :pattern ESCAPE '\\' "
            f"ORDER BY description {direction} LIMIT :rows"  # each brings one row at least
        ),
        {"after": after, "pattern": plan_.params["pattern"], "rows": rows},
    ).all()
    descriptions, brought = [], 0
    for description, keys in found:
        descriptions.append(str(description))
        brought += int(keys)
        if brought >= rows:
            break
    return descriptions


def beyond(conn: Connection, plan_: Plan, after: str | None, limit: int) -> list[KeyRecord]:
    """Up to `limit` rows the plan finds strictly beyond the description `after` (None: from the start), in
    its order."""
    rows: list[KeyRecord] = []
    at = after
    while len(rows) < limit:
        descriptions = _next_descriptions(conn, plan_, at, limit - len(rows))
        if not descriptions:
            break
        # Every filter applies: a description that matches may still have no row that passes them.
        wanted = limit - len(rows)
        params = {**plan_.params, **{f"sk{n}": d for n, d in enumerate(descriptions)}}
        parts = [(plan_, (f"{plan_.key} = :sk{n}",), wanted, True) for n in range(len(descriptions))]
        for found in together(conn, parts, params):
            rows += found
        at = descriptions[-1]
    return rows[:limit]
