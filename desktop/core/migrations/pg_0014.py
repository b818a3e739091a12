"""Migration 0014 on PostgreSQL: the SQL verify and a limited key's take, each one function call instead of two.

- The three `apikeys_verify(key[, scopes[, cost]])` overloads become PL/pgSQL functions doing 0013's
  `apikeys_verify_core` work themselves. Each was an SQL function calling the core: PostgreSQL 15 parses and
  plans an SQL function's body at every call, and the core was a second `SECURITY DEFINER` call (its
  search_path set and restored) whose rows were materialized for the wrapper to read. `apikeys_verify_core`
  is kept unchanged (nothing calls it now; the downgrade's wrappers call it again).
- `apikeys_consume(digest, cost)` does 0011's `apikeys_limit_take` work itself instead of calling it: one
  `SECURITY DEFINER` call and one materialized row less per limited verify. `apikeys_limit_take` stays for
  the core.
- Both plan their statements with sequential and bitmap scans off (INDEXED, below): a rate log analyzed while
  empty made every limited verify scan the whole log.

The statements inside are 0013's and 0011's, unchanged, so every verdict is: the bodies are made from theirs
(asserted), not copied. Frozen with revision 0014. CREATE OR REPLACE: owners and grants stay as they were.
"""

from __future__ import annotations

from typing import Any

from desktop.core.migrations.pg_0010 import DEFINER, _keys_table, _verify_overloads
from desktop.core.migrations.pg_0011 import _take, _utf8
from desktop.core.migrations.pg_0013 import _core

_EMPTY = "NULL::integer, NULL::bigint, NULL::integer, NULL::integer, NULL::timestamp"
_CORE_HEAD = "FUNCTION {s}.apikeys_verify_core(key text, scopes text[], cost integer)"
_CORE_RETURNS = (
    "RETURNS TABLE (verdict text, key_id integer, remaining bigint, rate_limit integer, rate_remaining integer, "
    "reset timestamp)"
)
#: The core's answers (a row) and what the verify answers instead (its verdict), in order.
_ANSWERS = (
    (f"RETURN QUERY SELECT 'malformed'::text, {_EMPTY};\n                    RETURN;", "RETURN 'malformed';"),
    (
        "RETURN QUERY SELECT CASE WHEN checksum <> substr(k, 36, 6) THEN 'malformed' ELSE 'unknown' END,\n"
        f"                                        {_EMPTY};\n                    RETURN;",
        "RETURN CASE WHEN checksum <> substr(k, 36, 6) THEN 'malformed' ELSE 'unknown' END;",
    ),
    ("RETURN QUERY SELECT v, hit.id, t_remaining, t_limit, t_rate_remaining, t_reset;", "RETURN v;"),
)
#: Each overload: its parameters, and the core's parameters it leaves out, declared with the core's defaults.
_OVERLOADS = {
    "apikeys_verify(text)": ("key text", ("scopes CONSTANT text[] := NULL;", "cost CONSTANT integer := 1;")),
    "apikeys_verify(text, text[])": ("key text, scopes text[]", ("cost CONSTANT integer := 1;",)),
    "apikeys_verify(text, text[], integer)": ("key text, scopes text[], cost integer", ()),
}


def _one(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"0013's function is not as it was: {old[:60]!r}"
    return text.replace(old, new)


def _verify(s: str, utf8: bool, signature: str) -> str:
    """0013's core as the overload `signature` itself: its verdict returned, the parameters it lacks constants."""
    parameters, constants = _OVERLOADS[signature]
    body = _one(_core(s, utf8, tail=True), _CORE_HEAD.format(s=s), f"FUNCTION {s}.apikeys_verify({parameters})")
    body = _one(body, _CORE_RETURNS, "RETURNS text")
    declared = "".join(f"                {constant}\n" for constant in constants)
    body = _one(body, "            DECLARE\n", f"            DECLARE\n{declared}")
    for old, new in _ANSWERS:
        body = _one(body, old, new)
    return body


_TAKE_HEAD = "FUNCTION {s}.apikeys_limit_take(kid integer, cost integer)"
#: apikeys_consume's own part (0010), before the take's: only for the holder of a limited key (its digest).
_FIND = """        BEGIN
            SELECT k.id INTO kid FROM {s}.api_keys k WHERE k.digest = key_digest AND k.limited;
            IF NOT FOUND THEN
                RETURN QUERY SELECT 'valid'::text, NULL::bigint, NULL::integer, NULL::integer, NULL::timestamp;
                RETURN;
            END IF;
            cost := greatest(coalesce(cost, 1), 0);
"""


#: The take's statements keep the plans the comments in it describe, whatever the statistics say. PL/pgSQL keeps a
#: plan per statement for the session, planned for all parameters from the statistics of the moment: a rate log
#: analyzed while (nearly) empty, as on a new database, got sequential scans of the whole log (every key's) and a
#: sort of the key's window for its oldest verify, at each verify, so a verify cost more the longer the log grew.
INDEXED = "SET enable_seqscan = off SET enable_bitmapscan = off"


def _consume(s: str) -> str:
    """0011's apikeys_limit_take, preceded by 0010's apikeys_consume's lookup of the key, as apikeys_consume."""
    body = _one(_take(s), _TAKE_HEAD.format(s=s), f"FUNCTION {s}.apikeys_consume(key_digest bytea, cost integer)")
    body = _one(body, "        DECLARE\n", "        DECLARE\n            kid integer;\n")
    body = _one(body, f"{DEFINER} AS $$", f"{DEFINER} {INDEXED} AS $$")
    return _one(body, "        BEGIN\n", _FIND.format(s=s))


def _consume_before(s: str, utf8: bool) -> str:
    from desktop.core.migrations.pg_0010 import _functions

    return _functions(s, utf8)["apikeys_consume(bytea, integer)"].replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )


def upgrade_postgresql(op: Any) -> None:
    s, _, _ = _keys_table(op)
    utf8 = _utf8(op)
    for signature in _OVERLOADS:
        op.execute(_verify(s, utf8, signature))
    op.execute(_consume(s))
    op.execute(f"ALTER FUNCTION {s}.apikeys_limit_take(integer, integer) {INDEXED}")  # the SQL verify's take


def downgrade_postgresql(op: Any) -> None:
    s, _, _ = _keys_table(op)
    for statement in _verify_overloads(s).values():  # CREATE OR REPLACE: 0010's SQL wrappers of the core
        op.execute(statement)
    op.execute(_consume_before(s, _utf8(op)))  # its settings replaced by 0010's
    op.execute(f"ALTER FUNCTION {s}.apikeys_limit_take(integer, integer) RESET enable_seqscan RESET enable_bitmapscan")
