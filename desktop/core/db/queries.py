"""The SQL for a Query: filtered, searched, sorted keyset pages, counts, and batches for export.

Every order is a sort key (an expression an index of migration 0004 holds exactly) and the id, each in its
own direction (`expires` and `description` go up while ties go to the higher id first). Row values cannot
seek on expression indexes, so a page after a position is read in two index walks: the rest of the position's
tie group (`key = :k AND id < :id`), then what follows it (`key > :k`). Both seek; neither sorts. The plan
(desktop.core.db.query_plan) holds the sort keys and runs the walks; this module makes a Query into one.

Search on SQLite: a term of 3+ characters found in fewer than RARE_MATCHES descriptions by the FTS5 trigram
index is answered from that index (a bounded set, sorted); a commoner term by walking the order's index and
testing each description with LIKE (a page fills after a few hundred rows); shorter terms walk too, and in
description order they go through the distinct descriptions instead (desktop.core.db.query_skip). On
PostgreSQL the planner chooses between the pg_trgm GIN index on lower(description) and the order's index.
A term also finds keys by their scopes (desktop.core.db.scope_search).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from desktop.core.db import query_skip, scope_search
from desktop.core.db.query_plan import DIRECTIONS, NEVER_USED, NO_EXPIRY, SORT_KEYS, Plan, run, together
from desktop.core.query import NOT_USED_WITHIN, STALE_AFTER, Filter, Query, Sort, SortCursor
from desktop.core.values import KeyRecord, Page

#: Fewer FTS matches than this: read them all and sort; more: walk the order's index instead.
RARE_MATCHES = 2000


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def plan(conn: Connection, query: Query, now: datetime) -> Plan:
    dialect = conn.dialect.name
    if dialect not in SORT_KEYS:
        dialect = "postgresql"  # standard SQL: CAST, lower(), coalesce
    key_desc, id_desc = DIRECTIONS[query.sort]
    if query.reverse:
        key_desc, id_desc = not key_desc, not id_desc
    draft = Plan(dialect, query.sort, (), {}, key_desc, id_desc)
    expires = _filtering(dialect, query.sort, Sort.EXPIRES)
    used = _filtering(dialect, query.sort, Sort.LAST_USED)
    conditions: list[str] = []
    params: dict[str, Any] = {}
    status = query.status
    if status is not None:
        params["now"] = draft.time(now)
        if status in (Filter.ACTIVE, Filter.EXPIRED, Filter.EXPIRING):
            conditions.append("active = TRUE")
        if status is Filter.ACTIVE:
            conditions.append(f"{expires} > :now")
        elif status is Filter.INACTIVE:
            conditions.append("active = FALSE")
        elif status is Filter.EXPIRED:
            conditions.append(f"{expires} <= :now")
        elif status is Filter.EXPIRING:
            params["soon"] = draft.time(now + query.expiring_within)
            conditions += [f"{expires} > :now", f"{expires} <= :soon"]
        elif status is Filter.UNUSED:
            params["never"] = draft.time(NEVER_USED)
            conditions.append(f"{used} = :never")
        elif status is Filter.NEVER_EXPIRES:
            params["no_expiry"] = draft.time(NO_EXPIRY)
            conditions.append(f"{expires} = :no_expiry")
        elif status is Filter.STALE:
            params["never"] = draft.time(NEVER_USED)
            params["stale"] = draft.time(now - STALE_AFTER)
            conditions += [f"{used} > :never", f"{used} < :stale"]
        elif status in NOT_USED_WITHIN:
            # Never used counts too: the sort key of a key never used is NEVER_USED, before any moment.
            params["used_before"] = draft.time(now - NOT_USED_WITHIN[status])
            conditions.append(f"{used} < :used_before")
    if query.search:
        conditions.append(_search(conn, dialect, query, params))
    fixed = (status, query.sort) in ((Filter.UNUSED, Sort.LAST_USED), (Filter.NEVER_EXPIRES, Sort.EXPIRES))
    return Plan(dialect, query.sort, tuple(conditions), params, key_desc, id_desc, fixed)


def _filtering(dialect: str, order: Sort, key: Sort) -> str:
    """A sort key in a filter condition. Unless it is the order's own, SQLite's `+` keeps the planner from
    ranging over that key's index and then sorting: it walks the order's index and tests each row instead."""
    expression = SORT_KEYS[dialect][key]
    return expression if key is order or dialect != "sqlite" else f"+{expression}"


def _search(conn: Connection, dialect: str, query: Query, params: dict[str, Any]) -> str:
    digest = query.full_key_digest
    if digest is not None:
        params["digest"] = digest  # exactly that key: its description is not searched for the key's text
        return "digest = :digest"
    term = query.search
    params["pattern"] = _like_pattern(term)
    if dialect == "sqlite":
        # lower(description), not description: walking the description order's index, SQLite tests the
        # indexed value instead of reading each row (12 times faster at a million keys).
        matcher = "lower(description) LIKE :pattern ESCAPE '\\'"
        # LIKE folds ASCII letters only; the trigram index folds all of Unicode, so other text always uses it.
        if len(term) >= 3 and (not term.isascii() or _rare(conn, term)):
            params["fts"] = '"' + term.replace('"', '""') + '"'
            matcher = "id IN (SELECT rowid FROM api_keys_fts WHERE api_keys_fts MATCH :fts)"
        matcher = scope_search.sqlite_matcher(conn, term, matcher, params, RARE_MATCHES)
    else:
        matcher = scope_search.postgresql_matcher(term, "lower(description) LIKE lower(:pattern) ESCAPE '\\'")
    hint = query.hint_prefix
    if hint is None:
        return matcher
    params["hint"] = hint + "%"
    return f"({matcher} OR hint {'LIKE' if dialect == 'sqlite' else 'ILIKE'} :hint)"


def _rare(conn: Connection, term: str) -> bool:
    fts = '"' + term.replace('"', '""') + '"'
    found = conn.execute(
        text("SELECT count(*) FROM (SELECT 1 FROM api_keys_fts WHERE api_keys_fts MATCH :fts LIMIT :probe)"),
        {"fts": fts, "probe": RARE_MATCHES},
    ).scalar_one()
    return int(found) < RARE_MATCHES


def _after(conn: Connection, plan_: Plan, cursor: SortCursor, limit: int) -> list[KeyRecord]:
    ties, beyond, params = plan_.following(cursor)
    rows = run(conn, plan_, ties, limit, params, ties=True)
    if len(rows) < limit:
        rows += run(conn, plan_, beyond, limit - len(rows), params)
    return rows


def first(conn: Connection, plan_: Plan, limit: int) -> list[KeyRecord]:
    return run(conn, plan_, (), limit)


def page(
    conn: Connection, query: Query, now: datetime, size: int, *, after: SortCursor | None, before: SortCursor | None
) -> Page:
    """One page in the query's order: the first, the one after `after`, or the one before `before`.

    A page after (or before) a position is one statement: the position's tie group and what lies beyond it,
    and whether anything lies on the other side of the position (the position itself included: nothing can
    sort between it and the page's edge).
    """
    plan_ = plan(conn, query, now)
    if query_skip.applies(plan_):
        return _skipping_page(conn, plan_, size, after, before)
    if after is None and before is None:
        rows = first(conn, plan_, size + 1)
        return Page(tuple(rows[:size]), False, len(rows) > size)
    position = after if after is not None else before
    assert position is not None
    main, check = (plan_, plan_.flipped()) if after is not None else (plan_.flipped(), plan_)
    ties, beyond, params = main.following(position)
    check_ties, check_beyond, _ = check.following(position, "cid2")
    params["cid2"] = position.id + (1 if check.id_desc else -1)
    found = together(
        conn,
        [(main, ties, size + 1, True), (main, beyond, size + 1, False), (check, check_ties, 1, True),
         (check, check_beyond, 1, False)],
        params,
    )  # fmt: skip
    rows = (found[0] + found[1])[: size + 1]
    other_side = bool(found[2] or found[3])
    if after is not None:
        return Page(tuple(rows[:size]), other_side, len(rows) > size)
    return Page(tuple(reversed(rows[:size])), len(rows) > size, other_side)


def _skipping_page(
    conn: Connection, plan_: Plan, size: int, after: SortCursor | None, before: SortCursor | None
) -> Page:
    """page() for a common term in description order (desktop.core.db.query_skip): the same parts, each read
    through the distinct descriptions, in the read's one transaction (one snapshot).

    A page after (or before) a position starts with one statement: the rest of the position's tie group, the
    first key of the group on the other side, and whether any matching description lies beyond the group. A
    page that ends with its tie group (the last page, often) then needs no statement more to know that nothing
    follows: it costs what a page in the middle of the list does.
    """
    if after is None and before is None:
        rows = query_skip.beyond(conn, plan_, None, size + 1)
        return Page(tuple(rows[:size]), False, len(rows) > size)
    position = after if after is not None else before
    assert position is not None and isinstance(position.value, str)
    main, check = (plan_, plan_.flipped()) if after is not None else (plan_.flipped(), plan_)
    ties, _, params = main.following(position)
    check_ties, _, _ = check.following(position, "cid2")
    params["cid2"] = position.id + (1 if check.id_desc else -1)
    found, more = query_skip.walks_and_whether_beyond(
        conn, [(main, ties, size + 1, True), (check, check_ties, 1, True)], params, position.value
    )
    rows, other_side = found[0], bool(found[1])
    if len(rows) <= size and more:
        rows += query_skip.beyond(conn, main, position.value, size + 1 - len(rows))
    if not other_side:
        other_side = bool(query_skip.beyond(conn, check, position.value, 1))
    if after is not None:
        return Page(tuple(rows[:size]), other_side, len(rows) > size)
    return Page(tuple(reversed(rows[:size])), len(rows) > size, other_side)


#: The order whose sort key a filter bounds: its index answers the filter's count as a range.
_COUNT_ORDER = {
    Filter.EXPIRING: Sort.EXPIRES,
    Filter.EXPIRED: Sort.EXPIRES,
    Filter.NEVER_EXPIRES: Sort.EXPIRES,
    Filter.UNUSED: Sort.LAST_USED,
    Filter.STALE: Sort.LAST_USED,
    **dict.fromkeys(NOT_USED_WITHIN, Sort.LAST_USED),
}


def count(conn: Connection, query: Query, now: datetime, *, before: SortCursor | None = None) -> int:
    """How many keys match; with `before`, how many of them sort before that position (its offset)."""
    if before is None and query.status in _COUNT_ORDER:
        # A whole count has no order: planned in the one whose index ranges over the filter's bound, instead of
        # walking every active key to test its expiry (the expiry banner's count: 0.6 s at 100k keys).
        query = dataclasses.replace(query, sort=_COUNT_ORDER[query.status], reverse=False)
    plan_ = plan(conn, query, now)

    def counted(extra: tuple[str, ...], params: dict[str, Any]) -> int:
        where = " AND ".join((*plan_.conditions, *extra)) or "TRUE"
        return int(conn.execute(text(f"SELECT count(*) FROM api_keys WHERE {where}"), params).scalar_one())

    if before is None:
        return counted((), plan_.params)
    ties, beyond, params = plan_.flipped().following(before)
    return counted(ties, params) + counted(beyond, params)


def batches(conn_factory: Any, query: Query, now: datetime, size: int = 1000) -> Iterator[list[KeyRecord]]:
    """Every matching key in the query's order, `size` at a time (each batch its own short read)."""
    cursor: SortCursor | None = None
    while True:
        with conn_factory() as conn:
            plan_ = plan(conn, query, now)
            rows = first(conn, plan_, size) if cursor is None else _after(conn, plan_, cursor, size)
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        cursor = query.cursor(rows[-1])
