"""Search finds scopes too: a term matches a key whose description holds it or one of whose scopes holds it.

The rule, on both backends: a scope matches when it contains the term, ignoring case (`billing` finds
`read:billing` and `billing:write`; `read:billing` finds exactly that scope and any longer one holding it).
A term with a space matches no scope (a scope has none), so the space-separated column is never matched across
two scopes.

SQLite (migration 0007's `key_scopes(scope, key_id)`): first the distinct scopes in use that contain the term,
stepped one index seek per scope (there are few: a vocabulary of permissions, not one per key). None: the
search is exactly the description search (its plans, its description-order skipping). Some: the keys having
them are added. When both those keys and the description's trigram matches are few, the page is read from the
two sets (a bounded set, sorted); otherwise the order's index is walked testing either, as a common description
term is. More than SCOPE_BUDGET scopes in use: the scopes are matched by reading `key_scopes` whole instead.

PostgreSQL: `scopes LIKE` beside the description's, which 0007's pg_trgm index on scopes answers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: Distinct scopes in use stepped through at most (a seek each, a few ms in all).
SCOPE_BUDGET = 2000
#: The plan's parameter naming the matching scopes; desktop.core.db.query_skip steps descriptions only without it.
PARAM = "scope_names"

_STEP = (
    "WITH RECURSIVE s(scope, n) AS ("
    "SELECT (SELECT scope FROM key_scopes WHERE scope > '' ORDER BY scope LIMIT 1), 1 UNION ALL "
    "SELECT (SELECT scope FROM key_scopes WHERE scope > s.scope ORDER BY scope LIMIT 1), s.n + 1 FROM s "
    "WHERE s.scope IS NOT NULL AND s.n < :budget) "
    "SELECT scope, scope LIKE :pattern ESCAPE '\\' FROM s WHERE scope IS NOT NULL"
)


def may_match(term: str) -> bool:
    """Whether any scope could contain `term` (ASCII without spaces: a scope is a-z 0-9 _ . : -)."""
    return term.isascii() and not any(char.isspace() for char in term)


def scopes_matching(conn: Connection, pattern: str) -> list[str] | None:
    """The distinct scopes in use that `pattern` (a LIKE pattern) matches; None when there are more than
    SCOPE_BUDGET scopes in use to step through."""
    stepped = conn.execute(text(_STEP), {"budget": SCOPE_BUDGET, "pattern": pattern}).all()
    if len(stepped) >= SCOPE_BUDGET:
        return None
    return [str(scope) for scope, matched in stepped if matched]


def sqlite_matcher(conn: Connection, term: str, matcher: str, params: dict[str, Any], rare: int) -> str:
    """The description search's condition `matcher`, widened to the keys whose scopes match `term`.

    `params` holds the description search's (`pattern`, and `fts` when its trigram matches are few) and gains
    PARAM when a scope matches. `rare`: fewer keys than this are read as a set rather than walked to."""
    if not may_match(term):
        return matcher
    pattern = params["pattern"]
    names = scopes_matching(conn, pattern)
    if names == []:
        return matcher
    if names is None:
        params[PARAM] = "[]"
        having = "SELECT key_id FROM key_scopes WHERE scope LIKE :pattern ESCAPE '\\'"
    else:
        params[PARAM] = json.dumps(names)
        having = f"SELECT key_id FROM key_scopes WHERE scope IN (SELECT value FROM json_each(:{PARAM}))"
    few = _fewer(conn, having, params, rare)
    if "fts" in params and few:
        # Both sets are small: one set of ids, each row then read by its id (as the trigram search alone is).
        return f"id IN (SELECT rowid FROM api_keys_fts WHERE api_keys_fts MATCH :fts UNION {having})"
    if few:
        # Walking: a set this small is built once per statement, and tested by the row's id, which every order's
        # index holds (the description order's walk then still reads no row).
        return f"({matcher} OR id IN ({having}))"
    # Many keys have a matching scope, so a walk meets one soon; the row's own column says it (see may_match).
    return f"({matcher} OR scopes LIKE :pattern ESCAPE '\\')"


def _fewer(conn: Connection, having: str, params: dict[str, Any], limit: int) -> bool:
    found = conn.execute(text(f"SELECT count(*) FROM ({having} LIMIT :probe)"), {**params, "probe": limit})
    return int(found.scalar_one()) < limit


def postgresql_matcher(term: str, matcher: str) -> str:
    """The description search's condition, widened to scopes (0007's trigram index on scopes answers it)."""
    if not may_match(term):
        return matcher
    return f"({matcher} OR scopes LIKE lower(:pattern) ESCAPE '\\')"
