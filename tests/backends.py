"""For suites that run on both backends (the `database` fixture): reach the database behind the program's back.

A test that plants a state (an expired key, a hostile description, a newer schema) does it the way another
program would: plain sqlite3 on a file, psycopg on a server; never through the store under test.
"""

from __future__ import annotations

import sqlite3
from typing import Any


def is_server(database: str) -> bool:
    return database.startswith("postgresql")


def execute(database: str, statement: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement (named `:name` parameters) and commit; the rows it returns, if any."""
    if not is_server(database):
        con = sqlite3.connect(database)
        try:
            rows = con.execute(statement, params or {}).fetchall()
            con.commit()
            return rows
        finally:
            con.close()
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database)
    conninfo = {"dbname": url.database, "user": url.username, **{k: str(v) for k, v in url.query.items()}}
    # psycopg's placeholders are %(name)s; the tests write SQLite's :name.
    import re

    query = re.sub(r"(?<!:):([A-Za-z_]\w*)", r"%(\1)s", statement)
    with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
        cursor = conn.execute(query, params or {})
        return cursor.fetchall() if cursor.description else []


def read_only(database: str) -> str:
    """The same database opened read-only: SQLite's `mode=ro` URI, a server session that may not write."""
    if not is_server(database):
        return f"sqlite:///file:{database}?mode=ro&uri=true"
    return f"{database}&options=-c%20default_transaction_read_only%3Don"
