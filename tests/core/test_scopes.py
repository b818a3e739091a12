"""Scopes: set through the command line, checked on verify (`forbidden`), returned by the Python API and by
`verify --json`, and on PostgreSQL by `apikeys_verify(key, scopes)` for a role granted only verification."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from desktop.api import Verdict, VerifyResult, open_store
from desktop.core import keys
from desktop.core.db import migrate
from desktop.core.errors import InvalidInput
from desktop.core.store import KeyStore
from tests.helpers import ONE_LINE_ERROR, Secret, run_cli
from tests.pg import PgCluster
from tests.revisions import upgrade_to
from tests.team import make_team


def cli(database: str, *args: str, stdin: str | None = None) -> Any:
    return run_cli(*args, "--database", database, stdin=stdin)


def create(database: str, *scopes: str) -> Secret:
    result = cli(database, "create", "--description", "svc", *(a for s in scopes for a in ("--scope", s)))
    assert result.returncode == 0, result.stderr
    return Secret(result.stdout.strip())


def scopes_listed(database: str) -> dict[int, list[str]]:
    result = cli(database, "list", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["id"]: entry["scopes"] for entry in json.loads(result.stdout)}


NO_LIMITS = {"remaining": None, "ratelimit": None}


def verify_json(database: str, key: str, *scopes: str) -> tuple[int, dict[str, Any]]:
    result = cli(database, "verify", "--json", *(a for s in scopes for a in ("--scope", s)), "-", stdin=key)
    assert result.stderr == ""
    return result.returncode, json.loads(result.stdout)


def test_create_with_scopes_lists_them_sorted_and_scopes_sets_or_clears_them(database: str) -> None:
    create(database, "billing:write", "billing:read", "billing:read")
    assert scopes_listed(database) == {1: ["billing:read", "billing:write"]}
    done = cli(database, "scopes", "1", "reports", "a.b_c-d:e")
    assert done.returncode == 0, done.stderr
    assert scopes_listed(database) == {1: ["a.b_c-d:e", "reports"]}
    assert cli(database, "scopes", "1").returncode == 0
    assert scopes_listed(database) == {1: []}


@pytest.mark.parametrize("scope", ["", "Billing", "-read", "a b", "x" * 65, "é", "read!", " read"])
def test_a_bad_scope_is_exit_2_in_one_line_and_changes_nothing(database: str, scope: str) -> None:
    key = create(database, "keep")
    for args in (("scopes", "1", "ok", scope), ("create", "--description", "x", "--scope", scope)):
        result = cli(database, *args)
        assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
        assert result.stdout == ""
    assert scopes_listed(database) == {1: ["keep"]}
    result = cli(database, "verify", "--scope", scope, "-", stdin=key)
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr


def test_scopes_of_no_such_key_is_exit_1(database: str) -> None:
    create(database)
    result = cli(database, "scopes", "5", "a")
    assert result.returncode == 1 and ONE_LINE_ERROR.match(result.stderr), result.stderr


def test_verify_requires_every_scope_asked_for(database: str) -> None:
    key = create(database, "billing:read", "reports")
    for required, code, out in (
        ((), 0, "valid"),
        (("billing:read",), 0, "valid"),
        (("billing:read", "reports"), 0, "valid"),
        (("billing:write",), 1, "forbidden"),
        (("billing:read", "billing:write"), 1, "forbidden"),
    ):
        result = cli(database, "verify", *(a for s in required for a in ("--scope", s)), "-", stdin=key)
        assert (result.returncode, result.stdout, result.stderr) == (code, out + "\n", ""), required


def test_verify_json_gives_verdict_id_and_scopes(database: str) -> None:
    key = create(database, "b", "a")
    assert verify_json(database, key) == (0, {"verdict": "valid", "id": 1, "scopes": ["a", "b"], **NO_LIMITS})
    assert verify_json(database, key, "c") == (1, {"verdict": "forbidden", "id": 1, "scopes": ["a", "b"], **NO_LIMITS})
    assert verify_json(database, keys.generate()) == (1, {"verdict": "unknown", "id": None, "scopes": [], **NO_LIMITS})
    assert verify_json(database, "ak_nope") == (1, {"verdict": "malformed", "id": None, "scopes": [], **NO_LIMITS})
    assert cli(database, "deactivate", "1").returncode == 0
    # A key that is not valid anyway says so, whatever scopes were asked: its scopes are not told.
    assert verify_json(database, key, "c") == (1, {"verdict": "inactive", "id": 1, "scopes": [], **NO_LIMITS})


def test_the_python_api_authenticates_and_authorises_in_one_value(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        made = store.create("api", scopes=["orders:read"])
        expired = store.create("old")
        store.roll(expired.record.id, timedelta(0))
    with open_store(database) as store:
        result = store.check(made.key, ["orders:read"])
        assert result == VerifyResult(Verdict.VALID, made.record.id, ("orders:read",)) and result.ok
        assert store.check(made.key, ["orders:write"]) == VerifyResult(
            Verdict.FORBIDDEN, made.record.id, ("orders:read",)
        )
        assert store.check(expired.key) == VerifyResult(Verdict.EXPIRED, expired.record.id)
        assert store.check("nope") == VerifyResult(Verdict.MALFORMED)
        assert store.verify(made.key) is Verdict.VALID  # unchanged: a Verdict
        assert store.scopes_in_use() == ["orders:read"]
        with pytest.raises(InvalidInput):
            store.check(made.key, ["Bad Scope"])


def test_sql_verify_with_scopes_for_a_verifier_role(pg_cluster: PgCluster) -> None:
    team = make_team(pg_cluster, migrated=True)
    created = team.cli(team.owner, "create", "--description", "sql", "--scope", "a", "--scope", "b")
    assert created.returncode == 0, created.stderr
    key = Secret(created.stdout.strip())
    granted = team.cli(team.owner, "grant", team.verifier, "--verifier")
    assert granted.returncode == 0, granted.stderr
    with team.connect(team.verifier) as conn:

        def sql(presented: str, scopes: list[str] | None) -> object:
            row = conn.execute("SELECT apikeys_verify(%s, %s)", (presented, scopes)).fetchone()
            assert row is not None
            return row[0]

        assert conn.execute("SELECT apikeys_verify(%s)", (key,)).fetchone() == ("valid",)
        assert sql(f"  {key}\n", ["a", "b"]) == "valid"
        assert sql(key, []) == "valid"
        assert sql(key, None) == "valid"
        assert sql(key, ["a", "c"]) == "forbidden"
        assert sql(keys.generate(), ["a"]) == "unknown"
        assert sql("ak_x", ["a"]) == "malformed"
    # The verifier may check scopes through the Python API and the CLI too, and writes no event.
    result = team.cli(team.verifier, "verify", "--json", "--scope", "a", "-", stdin=key)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"verdict": "valid", "id": 1, "scopes": ["a", "b"], **NO_LIMITS}
    assert team.as_owner("SELECT action FROM key_events ORDER BY id") == [("created",)]


def test_roles_that_could_verify_before_the_upgrade_may_verify_with_scopes_after(pg_cluster: PgCluster) -> None:
    team = make_team(pg_cluster)
    # The revision before 0005 (which added the scoped apikeys_verify): it has apikeys_verify(text) only.
    upgrade_to(team.url(team.owner), migrate.KNOWN_REVISIONS[migrate.KNOWN_REVISIONS.index("0005") - 1])
    team.as_owner(f'GRANT EXECUTE ON FUNCTION apikeys_verify(text) TO "{team.verifier}"')
    key = Secret(team.cli(team.owner, "create", "--description", "upgraded", "--scope", "a").stdout.strip())
    with team.connect(team.verifier) as conn:
        assert conn.execute("SELECT apikeys_verify(%s, %s)", (key, ["a"])).fetchone() == ("valid",)
        assert conn.execute("SELECT apikeys_verify(%s, %s)", (key, ["b"])).fetchone() == ("forbidden",)
    with team.connect(team.manager) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT apikeys_verify(%s, %s)", (key, ["a"]))


def test_pages_and_single_keys_carry_their_scopes(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        made = store.create("paged", scopes=["z", "a"])
        store.create("none")
        page = store.page(10)
        assert [r.scopes for r in page.items] == [(), ("a", "z")]
        assert store.page(10, after=page.items[0].cursor).items[0].scopes == ("a", "z")
        assert store.get(made.record.id).scopes == ("a", "z")
