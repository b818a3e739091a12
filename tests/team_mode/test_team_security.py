"""Team mode keeps its promises (issue 20 items 2-4, issue 21 item 2), shown as the roles themselves on a real
server: a verifier reads nothing, the server writes the audit log, a planted schema captures nothing, and every
change but a use is announced to the windows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg

from desktop.core import keys
from desktop.core.models import ApiKey
from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from tests.helpers import Secret
from tests.pg import PgCluster
from tests.team import Team, make_team


@pytest.fixture
def team(pg_cluster: PgCluster) -> Iterator[Team]:
    """A team database with one key (id 1, scopes `read`) made by its owner, a verifier and a manager."""
    team = make_team(pg_cluster, migrated=True)
    made = team.cli(team.owner, "create", "--description", "billing", "--scope", "read")
    assert made.returncode == 0, made.stderr
    team.key = Secret(made.stdout.strip())  # type: ignore[attr-defined]  # this fixture's own addition
    for role, kind in ((team.verifier, "verifier"), (team.manager, "manager")):
        granted = team.cli(team.owner, "grant", role, f"--{kind}")
        assert granted.returncode == 0, granted.stderr
    yield team


def events(team: Team) -> list[tuple[Any, ...]]:
    """(action, key_id, actor, db_role, details) of every event, oldest first."""
    rows = team.as_owner("SELECT action, key_id, actor, db_role, details, at FROM key_events ORDER BY id")
    return [(a, k, actor, role, json.loads(str(d)), at) for a, k, actor, role, d, at in rows]


# -- 20.2: a verifier reads nothing, changes nothing, locks nothing ---------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT id FROM api_keys",
        "SELECT digest FROM api_keys",
        "SELECT scopes, active, expires_at FROM api_keys",
        "SELECT last_used_at FROM api_keys",
        "SELECT count(*) FROM api_keys",
        "SELECT id FROM api_keys FOR UPDATE",
        "SELECT id FROM api_keys FOR SHARE",
        "SELECT 1 FROM api_keys FOR NO KEY UPDATE",
        "UPDATE api_keys SET last_used_at = '2999-01-01'",
        "SELECT * FROM key_events",
        "SELECT version_num FROM alembic_version",
        "INSERT INTO key_events (at, action, actor) VALUES (now(), 'created', 'x')",
        "SELECT apikeys_touch(digest, now()::timestamp, now()::timestamp) FROM api_keys",
    ],
)
def test_a_verifier_cannot_read_write_or_lock_the_keys(team: Team, statement: str) -> None:
    with team.connect(team.verifier) as conn, pytest.raises(pg.InsufficientPrivilege):
        conn.execute(statement)


def test_a_verifier_still_verifies_every_way_and_records_the_use(team: Team) -> None:
    key: Secret = team.key  # type: ignore[attr-defined]
    assert team.as_owner("SELECT last_used_at FROM api_keys") == [(None,)]
    plain = team.cli(team.verifier, "verify", "-", stdin=key)
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "valid\n", "")
    [(used,)] = team.as_owner("SELECT last_used_at FROM api_keys")
    assert used is not None
    scoped = team.cli(team.verifier, "verify", "--json", "--scope", "read", "-", stdin=key)
    assert scoped.returncode == 0, scoped.stderr
    assert json.loads(scoped.stdout)["verdict"] == "valid"
    forbidden = team.cli(team.verifier, "verify", "--json", "--scope", "admin", "-", stdin=key)
    assert json.loads(forbidden.stdout)["verdict"] == "forbidden"
    team.as_owner("UPDATE api_keys SET last_used_at = NULL")
    with KeyStore.open(team.url(team.verifier)) as store:
        assert store.check(key, ["read"]).verdict is Verdict.VALID
        assert store.verify(keys.generate()) is Verdict.UNKNOWN
    [(used,)] = team.as_owner("SELECT last_used_at FROM api_keys")
    assert used is not None and abs(used - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=5)
    team.as_owner("UPDATE api_keys SET last_used_at = NULL")
    with team.connect(team.verifier) as conn:
        assert conn.execute("SELECT apikeys_verify(%s)", (key,)).fetchone() == ("valid",)
        assert conn.execute("SELECT apikeys_verify(%s, %s)", (key, ["read"])).fetchone() == ("valid",)
        # Recording a use needs the key's digest, and never writes a time later than the server's clock.
        digest = keys.digest(key)
        conn.execute("SELECT apikeys_touch(%s, '2999-01-01', '2999-01-01')", (digest,))
    [(used,)] = team.as_owner("SELECT last_used_at FROM api_keys")
    assert used is not None and used < datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5)
    assert [e[0] for e in events(team)] == ["created"]  # a use is not a change


# -- 20.3: the server writes the audit log ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO key_events (at, key_id, action, actor, db_role) "
        "VALUES ('2020-01-01', 1, 'deleted', 'bob@ci-host', 'apikeys_owner')",
        "UPDATE key_events SET actor = 'someone else'",
        "DELETE FROM key_events",
        "TRUNCATE key_events",
        "ALTER TABLE api_keys DISABLE TRIGGER apikeys_audit_update",
        "DROP TRIGGER apikeys_audit_insert ON api_keys",
    ],
)
def test_no_role_but_the_owner_writes_the_audit_log(team: Team, statement: str) -> None:
    with team.connect(team.manager) as conn, pytest.raises(pg.InsufficientPrivilege):
        conn.execute(statement)
    assert [e[0] for e in events(team)] == ["created"]


def test_every_change_in_psql_leaves_an_event_the_server_vouches_for(team: Team) -> None:
    with team.connect(team.manager) as conn:
        # Pretending to be someone else, or seeding, does not change who the server says did it, nor when.
        conn.execute("SET apikeys.actor = 'bob@ci-host'")
        conn.execute("UPDATE api_keys SET scopes = 'read admin' WHERE id = 1")
        conn.execute("UPDATE api_keys SET digest = sha256('x'::bytea), hint = 'AAAABBBB' WHERE id = 1")
        conn.execute("UPDATE api_keys SET expires_at = '2999-01-01' WHERE id = 1")
        conn.execute("UPDATE api_keys SET last_used_at = '2001-01-01' WHERE id = 1")  # a use: no event
        conn.execute(
            "INSERT INTO api_keys (digest, hint, description, created_at) VALUES (sha256('y'::bytea), 'CCCCDDDD', "
            "'planted', '2020-01-01')"
        )
        conn.execute("DELETE FROM api_keys WHERE description = 'planted'")
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    logged = events(team)[1:]
    assert [(action, key_id) for action, key_id, *_ in logged] == [
        ("scopes-changed", 1),
        ("changed", 1),
        ("changed", 1),
        ("created", 2),
        ("deleted", 2),
    ]
    for _, _, actor, role, _, at in logged:
        assert role == team.manager and actor == "bob@ci-host" and at >= start
    details = [d for *_, d, _ in logged]
    assert details[0] == {"from": ["read"], "to": ["read", "admin"]}
    assert details[1] == {"columns": ["digest", "hint"]}
    assert details[2]["columns"] == ["expires_at"] and details[2]["to"].startswith("2999-01-01T00:00:00")
    assert details[4] == {"description": "planted"}
    # The owner too, through psql: the server names the session's role.
    team.as_owner("UPDATE api_keys SET active = false WHERE id = 1")
    assert events(team)[-1][:4] == ("deactivated", 1, f"{team.owner}@local", team.owner)


def test_the_apps_changes_keep_their_details_and_actor(team: Team) -> None:
    rolled = team.cli(team.manager, "roll", "1", "--grace", "1h")
    assert rolled.returncode == 0, rolled.stderr
    renamed = team.cli(team.manager, "rename", "2", "--description", "renamed")
    assert renamed.returncode == 0, renamed.stderr
    log = json.loads(team.cli(team.manager, "log", "--json").stdout)
    assert [(e["action"], e["key_id"]) for e in log] == [("renamed", 2), ("rolled", 1), ("created", 2), ("created", 1)]
    by_action = {e["action"]: e for e in log}
    assert by_action["rolled"]["details"]["new_key_id"] == 2 and by_action["rolled"]["details"]["grace_seconds"] == 3600
    assert log[2]["details"]["rolled_from"] == 1 and log[2]["details"]["scopes"] == ["read"]
    assert by_action["renamed"]["details"] == {"from": "billing", "to": "renamed"}
    assert {e["db_role"] for e in log[:3]} == {team.manager}
    assert "@" in log[0]["actor"] and not log[0]["actor"].startswith(team.manager + "@")


# -- 20.4: a planted schema captures nothing ---------------------------------------------------------------------


def _plant(team: Team, role: str) -> None:
    """A schema named after `role` holding its own api_keys (with a deleted key's twin, scoped admin) and revision."""
    key: Secret = team.key  # type: ignore[attr-defined]
    team.as_owner(f'CREATE SCHEMA "{role}"')
    team.as_owner(f'CREATE TABLE "{role}".api_keys AS SELECT * FROM public.api_keys WITH NO DATA')
    team.as_owner(f'CREATE TABLE "{role}".alembic_version AS SELECT * FROM public.alembic_version')
    team.as_owner(
        f'INSERT INTO "{role}".api_keys (id, digest, hint, description, created_at, active, scopes) '
        "VALUES (7, %s, 'PLNTPLNT', 'planted', now(), true, 'admin')",
        (keys.digest(key),),
    )
    team.as_owner(f'GRANT USAGE ON SCHEMA "{role}" TO "{role}"')
    team.as_owner(f'GRANT ALL ON ALL TABLES IN SCHEMA "{role}" TO "{role}"')


def test_a_schema_named_after_a_role_captures_neither_verify_nor_a_managers_cli(team: Team) -> None:
    key: Secret = team.key  # type: ignore[attr-defined]
    _plant(team, team.verifier)
    _plant(team, team.manager)
    team.as_owner("UPDATE public.api_keys SET scopes = 'read'")
    answer = team.cli(team.verifier, "verify", "--json", "--scope", "admin", "-", stdin=key)
    assert json.loads(answer.stdout)["verdict"] == "forbidden", answer.stdout + answer.stderr
    listing = team.cli(team.manager, "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert [k["description"] for k in json.loads(listing.stdout)] == ["billing"]
    deleted = team.cli(team.manager, "delete", "1")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(team.cli(team.verifier, "verify", "--json", "-", stdin=key).stdout)["verdict"] == "unknown"
    assert team.as_owner(f'SELECT count(*) FROM "{team.manager}".api_keys') == [(1,)]


# -- 21.2: every change but a use is announced -------------------------------------------------------------------


def test_the_change_trigger_covers_every_column_of_the_model_but_last_use(team: Team) -> None:
    announced = {
        str(name)
        for (name,) in team.as_owner(
            "SELECT a.attname FROM pg_trigger t JOIN pg_attribute a ON a.attrelid = t.tgrelid "
            "AND a.attnum = ANY (t.tgattr::int2[]) WHERE t.tgname = 'apikeys_changed'"
        )
    }
    assert announced == {column.name for column in ApiKey.__table__.columns} - {"last_used_at"}


def test_a_scopes_change_elsewhere_is_announced_and_a_use_is_not(team: Team) -> None:
    key: Secret = team.key  # type: ignore[attr-defined]
    with psycopg.connect(host=str(team.cluster.socket), user=team.owner, dbname=team.database, autocommit=True) as ear:
        ear.execute("LISTEN apikeys_changes")
        assert team.cli(team.verifier, "verify", "-", stdin=key).stdout == "valid\n"
        assert list(ear.notifies(timeout=0.5)) == []
        assert team.cli(team.manager, "scopes", "1", "write").returncode == 0
        assert [n.channel for n in ear.notifies(timeout=5, stop_after=1)] == ["apikeys_changes"]
