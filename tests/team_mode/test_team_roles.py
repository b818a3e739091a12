"""`apikeys grant ROLE --verifier|--manager` on a real PostgreSQL server: each role can do exactly what it should.

Every refusal through the command line is one line on stderr, exit 3, saying permission was denied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg

from desktop.core import keys
from tests.helpers import ONE_LINE_ERROR, CliResult, Secret, run_cli
from tests.pg import PgCluster
from tests.revisions import downgrade_to
from tests.team import Team, make_team

#: Every privilege a role holds on the schema's objects, one (object, privilege) pair each.
PRIVILEGES = """
SELECT 'schema ' || n.nspname, a.privilege_type
  FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a WHERE a.grantee = %(role)s::regrole
UNION ALL
SELECT 'table ' || c.relname, a.privilege_type
  FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
 WHERE a.grantee = %(role)s::regrole AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'column ' || c.relname || '.' || att.attname, a.privilege_type
  FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid CROSS JOIN LATERAL aclexplode(att.attacl) a
 WHERE a.grantee = %(role)s::regrole AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'function ' || p.proname, a.privilege_type
  FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a WHERE a.grantee = %(role)s::regrole
"""

COMMON = {
    ("schema public", "USAGE"),
    ("function apikeys_verify", "EXECUTE"),
    ("function apikeys_lookup", "EXECUTE"),
    ("function apikeys_touch", "EXECUTE"),
    ("function apikeys_revision", "EXECUTE"),
    # Issue 24: the limits and the usage counts, applied and added inside SECURITY DEFINER functions.
    ("function apikeys_consume", "EXECUTE"),
    ("function apikeys_count_usage", "EXECUTE"),
    ("function apikeys_roll_up_usage", "EXECUTE"),
    # Issue 24.5: the SQL verify's counts are moved into the roll-ups by whoever counts (migration 0013).
    ("function apikeys_roll_up_tail", "EXECUTE"),
}
#: No privilege on any table: verify runs through SECURITY DEFINER functions only.
VERIFIER = COMMON
MANAGER = COMMON | {
    ("table alembic_version", "SELECT"),
    *(("table api_keys", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")),
    ("table api_keys_id_seq", "USAGE"),
    ("table api_keys_id_seq", "SELECT"),
    # The audit log: read, never written (the server's triggers write it).
    ("table key_events", "SELECT"),
    # Issue 24: a manager sets limits (and may clear usage counts).
    *(("table key_limits", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")),
    *(("table key_rate_hits", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")),
    ("table key_usage", "SELECT"),
    ("table key_usage", "DELETE"),
    # Issue 25: the charts read the usage roll-ups (the server's triggers keep them).
    ("table usage_hours", "SELECT"),
    ("table key_usage_days", "SELECT"),
    # ... with the SQL verify's counts not moved into them yet (migration 0013); `seed --remove` deletes there too.
    ("table key_usage_tail", "SELECT"),
    ("table key_usage_tail", "DELETE"),
}


@pytest.fixture
def team(pg_cluster: PgCluster) -> Iterator[Team]:
    """A team database with the schema its owner's first open makes, already its owner's (a migrated copy), with
    a verifier and a manager role."""
    team = make_team(pg_cluster, migrated=True)
    yield team


def privileges(team: Team, role: str) -> set[tuple[str, str]]:
    with team.connect(team.owner) as conn:
        return {(str(o), str(p)) for o, p in conn.execute(PRIVILEGES, {"role": role}).fetchall()}


def created(result: CliResult) -> Secret:
    assert result.returncode == 0, result.stderr
    return Secret(result.stdout.strip())


def denied(result: CliResult) -> None:
    """A refusal: exit 3, one line on stderr that says permission was denied, nothing on stdout."""
    assert result.returncode == 3, result.stderr
    assert ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "permission denied" in result.stderr.lower()
    assert result.stdout == ""


def grant(team: Team, role: str, kind: str, *, as_role: str | None = None) -> CliResult:
    return team.cli(as_role or team.owner, "grant", role, f"--{kind}")


def key_ids(team: Team) -> list[int]:
    return [int(row[0]) for row in team.as_owner("SELECT id FROM api_keys ORDER BY id")]


# -- what grant gives --------------------------------------------------------------------------------------------


def test_grant_says_what_it_gave_and_gives_exactly_that(team: Team) -> None:
    verifier = grant(team, team.verifier, "verifier")
    manager = grant(team, team.manager, "manager")
    for result, role in ((verifier, team.verifier), (manager, team.manager)):
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\n") == 1 and result.stdout.startswith(f"Granted {role} the ")
    assert "verifier" in verifier.stdout and "manager" in manager.stdout
    assert privileges(team, team.verifier) == VERIFIER
    assert privileges(team, team.manager) == MANAGER


def test_granting_twice_changes_nothing(team: Team) -> None:
    for _ in range(2):
        assert grant(team, team.verifier, "verifier").returncode == 0
        assert grant(team, team.manager, "manager").returncode == 0
    assert privileges(team, team.verifier) == VERIFIER
    assert privileges(team, team.manager) == MANAGER


def test_verifier_after_manager_narrows_the_role(team: Team) -> None:
    key = created(team.cli(team.owner, "create", "--description", "kept"))
    assert grant(team, team.manager, "manager").returncode == 0
    assert team.cli(team.manager, "list").returncode == 0
    assert grant(team, team.manager, "verifier").returncode == 0
    assert privileges(team, team.manager) == VERIFIER
    denied(team.cli(team.manager, "list"))
    assert team.cli(team.manager, "verify", "-", stdin=key).stdout == "valid\n"
    # And back: a manager again.
    assert grant(team, team.manager, "manager").returncode == 0
    assert privileges(team, team.manager) == MANAGER


# -- the verifier ------------------------------------------------------------------------------------------------


def test_verifier_verifies_and_records_use(team: Team) -> None:
    key = created(team.cli(team.owner, "create", "--description", "billing"))
    assert grant(team, team.verifier, "verifier").returncode == 0
    result = team.cli(team.verifier, "verify", "-", stdin=key)
    assert (result.returncode, result.stdout, result.stderr) == (0, "valid\n", "")
    assert team.cli(team.verifier, "verify", "-", stdin=keys.generate()).stdout == "unknown\n"
    [(last_used,)] = team.as_owner("SELECT last_used_at FROM api_keys")
    assert last_used is not None
    with team.connect(team.verifier) as conn:
        assert conn.execute("SELECT apikeys_verify(%s)", (key,)).fetchone() == ("valid",)


def test_verifier_cannot_list_create_change_or_delete_through_the_cli(team: Team) -> None:
    created(team.cli(team.owner, "create", "--description", "secret plans"))
    [key_id] = key_ids(team)
    assert grant(team, team.verifier, "verifier").returncode == 0
    for command in (
        ("list",),
        ("list", "--json"),
        ("create", "--description", "mine"),
        ("activate", str(key_id)),
        ("deactivate", str(key_id)),
        ("delete", str(key_id)),
        ("seed", "--count", "3"),
    ):
        result = team.cli(team.verifier, *command)
        denied(result)
        assert "secret plans" not in result.stderr
    assert team.as_owner("SELECT id, description, active FROM api_keys") == [(key_id, "secret plans", True)]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT description FROM api_keys",
        "SELECT * FROM api_keys",
        "SELECT hint FROM api_keys",
        "UPDATE api_keys SET active = false",
        "UPDATE api_keys SET expires_at = NULL",
        "DELETE FROM api_keys",
        "INSERT INTO api_keys (digest, hint, description, created_at) VALUES ('\\x00', 'aaaaaaaa', 'x', now())",
        "TRUNCATE api_keys",
        "UPDATE alembic_version SET version_num = '9999'",
        "CREATE TABLE mine (x int)",
    ],
)
def test_verifier_cannot_read_or_change_keys_with_sql(team: Team, statement: str) -> None:
    created(team.cli(team.owner, "create", "--description", "secret plans"))
    assert grant(team, team.verifier, "verifier").returncode == 0
    with team.connect(team.verifier) as conn, pytest.raises(pg.InsufficientPrivilege):
        conn.execute(statement)


# -- the manager -------------------------------------------------------------------------------------------------


def test_manager_does_what_the_window_does(team: Team) -> None:
    team.cli(team.owner, "list")  # the owner's first open creates the schema
    assert grant(team, team.manager, "manager").returncode == 0
    key = created(team.cli(team.manager, "create", "--description", "made by a manager"))
    [key_id] = key_ids(team)
    listing = team.cli(team.manager, "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert [k["description"] for k in json.loads(listing.stdout)] == ["made by a manager"]
    for command, code in (("deactivate", 0), ("activate", 0)):
        result = team.cli(team.manager, command, str(key_id))
        assert result.returncode == code, result.stderr
    assert team.cli(team.manager, "verify", "-", stdin=key).stdout == "valid\n"
    seeded = team.cli(team.manager, "seed", "--count", "5")
    assert seeded.returncode == 0, seeded.stderr
    deleted = team.cli(team.manager, "delete", str(key_id))
    assert deleted.returncode == 0, deleted.stderr
    assert len(key_ids(team)) == 5 and key_id not in key_ids(team)
    with team.connect(team.manager) as conn:
        assert conn.execute("SELECT apikeys_verify(%s)", (key,)).fetchone() == ("unknown",)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE mine (x int)",
        "ALTER TABLE api_keys ADD COLUMN note text",
        "ALTER TABLE api_keys DISABLE TRIGGER apikeys_changed",
        "CREATE INDEX ix_mine ON api_keys (hint)",
        "DROP TABLE api_keys",
        "DROP FUNCTION apikeys_verify(text)",
        "TRUNCATE api_keys",
        "UPDATE alembic_version SET version_num = '9999'",
        "CREATE OR REPLACE FUNCTION apikeys_verify(key text) RETURNS text LANGUAGE sql AS $$ SELECT 'valid' $$",
    ],
)
def test_manager_cannot_change_the_schema(team: Team, statement: str) -> None:
    team.cli(team.owner, "list")
    assert grant(team, team.manager, "manager").returncode == 0
    with team.connect(team.manager) as conn, pytest.raises(pg.InsufficientPrivilege):
        conn.execute(statement)


# -- who may grant, and to whom ----------------------------------------------------------------------------------


def test_only_the_owner_may_grant(team: Team) -> None:
    team.cli(team.owner, "list")
    assert grant(team, team.manager, "manager").returncode == 0
    denied(grant(team, team.verifier, "manager", as_role=team.manager))
    denied(grant(team, team.verifier, "verifier", as_role=team.verifier))  # no rights at all
    assert privileges(team, team.verifier) == set()


def test_unknown_role_is_bad_input(team: Team) -> None:
    result = grant(team, "nobody_by_that_name", "verifier")
    assert result.returncode == 2
    assert ONE_LINE_ERROR.match(result.stderr) and "nobody_by_that_name" in result.stderr


def test_the_owner_is_not_granted_less(team: Team) -> None:
    team.cli(team.owner, "list")
    for role in (team.owner, "postgres"):
        result = grant(team, role, "verifier")
        assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    created(team.cli(team.owner, "create", "--description", "owner still has every right"))


@pytest.mark.parametrize("kind", ["verifier", "manager"])
def test_grant_on_sqlite_is_bad_usage_and_creates_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "keys.db"
    result = run_cli("grant", "someone", f"--{kind}", "--database", str(path))
    assert result.returncode == 2
    assert ONE_LINE_ERROR.match(result.stderr) and "PostgreSQL" in result.stderr
    assert not path.exists()


# -- a schema only the owner may create or upgrade ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["verifier", "manager"])
def test_out_of_date_schema_opened_by_a_role_asks_for_the_owner(team: Team, kind: str) -> None:
    key = created(team.cli(team.owner, "create", "--description", "before the upgrade"))
    role = team.verifier if kind == "verifier" else team.manager
    assert grant(team, role, kind).returncode == 0
    # What this program's previous version left: revision 0002, no SQL verify function, and for a verifier what
    # its `grant --verifier` gave then (0009 narrows it to the functions).
    downgrade_to(team.url(team.owner), "0002")
    if kind == "verifier":
        team.as_owner(f'GRANT SELECT (id, digest, active, expires_at, last_used_at) ON api_keys TO "{role}"')
        team.as_owner(f'GRANT UPDATE (last_used_at) ON api_keys TO "{role}"')
        team.as_owner(f'GRANT SELECT ON alembic_version TO "{role}"')
    result = team.cli(role, "verify", "-", stdin=key)
    denied(result)
    assert "owner must open it once" in result.stderr
    assert team.as_owner("SELECT version_num FROM alembic_version") == [("0002",)]
    # The owner opens it once; the role works again, with what this version grants.
    assert team.cli(team.owner, "list").returncode == 0
    assert team.cli(role, "verify", "-", stdin=key).stdout == "valid\n"
    if kind == "verifier":
        assert privileges(team, role) == VERIFIER


@pytest.mark.parametrize("kind", ["verifier", "manager"])
def test_empty_database_opened_by_a_role_asks_for_the_owner(pg_cluster: PgCluster, kind: str) -> None:
    team = make_team(pg_cluster)  # empty: no one has opened it yet
    role = team.verifier if kind == "verifier" else team.manager
    result = team.cli(role, "list")
    denied(result)
    assert "owner must open it once" in result.stderr
    with psycopg.connect(host=str(team.cluster.socket), user=team.owner, dbname=team.database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_a_manager_reads_the_usage_charts_and_removes_demo_usage_a_verifier_counts_into_them(team: Team) -> None:
    """Issue 25.5: the roll-ups are read by a manager and kept by the server's triggers, whoever writes or removes
    counts: a verifier's apikeys_verify(), a manager's `seed --usage` and `seed --remove`."""
    from desktop.core.store import KeyStore
    from desktop.core.usage_report import UsagePeriod

    key = created(team.cli(team.owner, "create", "--description", "real"))
    assert grant(team, team.verifier, "verifier").returncode == 0
    assert grant(team, team.manager, "manager").returncode == 0
    seeded = team.cli(team.manager, "seed", "--count", "20", "--usage", "600")
    assert seeded.returncode == 0, seeded.stderr
    with team.connect(team.verifier) as conn:
        assert conn.execute("SELECT apikeys_verify(%s)", (str(key),)).fetchone() == ("valid",)
    with KeyStore.open(team.url(team.manager)) as store:
        # Exactly what was counted; the month's chart holds most of it (seed spreads its 600 over 35 days).
        assert sum(c.count for c in store.usage()) == 601
        assert 0 < store.usage_series(None, UsagePeriod.MONTH).total <= 601
        assert store.top_keys(UsagePeriod.DAY)[0].total >= 1
    assert team.cli(team.manager, "seed", "--remove").returncode == 0
    with KeyStore.open(team.url(team.manager)) as store:
        month = store.usage_series(None, UsagePeriod.MONTH)
        assert month.total == 1 and [u.key_id for u in store.top_keys(UsagePeriod.MONTH)] == [1]


def test_a_manager_seeds_usage_where_temporary_tables_are_not_allowed(team: Team) -> None:
    """`seed --usage` loads a batch through a temporary table (desktop/core/db/bulk_load.py); a server whose
    administrator took TEMPORARY from PUBLIC gets the same counts, sent as arrays instead."""
    from desktop.core.store import KeyStore
    from desktop.core.usage_report import UsagePeriod

    team.cluster.execute(f'REVOKE TEMPORARY ON DATABASE "{team.database}" FROM PUBLIC')
    assert grant(team, team.manager, "manager").returncode == 0
    seeded = team.cli(team.manager, "seed", "--count", "20", "--usage", "600")
    assert seeded.returncode == 0, seeded.stderr
    with KeyStore.open(team.url(team.manager)) as store:
        assert sum(c.count for c in store.usage()) == 600
        assert store.top_keys(UsagePeriod.MONTH, 1)[0].total > 0
