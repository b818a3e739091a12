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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from desktop.core.db.query_plan import Plan, together
from desktop.core.db.rows import key_record
from desktop.core.key_fields import STORED_COLUMNS
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


def walks_and_whether_beyond(
    conn: Connection, parts: Sequence[tuple[Plan, tuple[str, ...], int, bool]], params: dict[str, Any], after: str
) -> tuple[list[list[KeyRecord]], bool]:
    """query_plan.together's walks, and in the same statement whether a description beyond `after` (a
    position's, in the first part's direction) contains the term: one seek in `key_descriptions` more. A page
    that ends with its position's tie group then knows without another statement that nothing follows."""
    first = parts[0][0]
    op, direction = ("<", "DESC") if first.key_desc else (">", "ASC")
    beyond_sql = (
        f"SELECT description FROM key_descriptions WHERE description {op} lower(:beyond_after) "
        f"AND description LIKE :pattern ESCAPE '\\' ORDER BY description {direction} LIMIT 1"
    )
    selects = []
    for number, (plan_, extra, limit, ties) in enumerate(parts):
        sql, _ = plan_.select(extra, limit, ties=ties)
        selects.append(f"SELECT {number} AS part, p{number}.* FROM ({sql}) AS p{number}")
    nulls = ", ".join("NULL" for _ in STORED_COLUMNS)
    selects.append(f"SELECT {len(parts)} AS part, {nulls} FROM ({beyond_sql}) AS b")
    found: list[list[KeyRecord]] = [[] for _ in parts]
    more = False
    for row in conn.execute(text(" UNION ALL ".join(selects)), {**params, "beyond_after": after}):
        if row[0] < len(parts):
            found[row[0]].append(key_record(row[1:]))
        else:
            more = True
    return found, more


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
