"""Issue 24 through the real entry points: `apikeys limit`, `create --rate/--credits/--refill`, `verify`, `list
--json`, `log`, and `apikeys serve` as a process; on a SQLite file and a PostgreSQL server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers import CliResult, run_cli
from tests.pg import PgCluster
from tests.serve.test_serve import start
from tests.team import make_team


def cli(database: str, *args: str, stdin: str | None = None) -> CliResult:
    return run_cli(*args, "--database", database, stdin=stdin)


def verify(database: str, key: str, *args: str) -> tuple[int, Any, str]:
    result = cli(database, "verify", *args, "-", stdin=key)
    return result.returncode, json.loads(result.stdout) if "--json" in args else result.stdout, result.stderr


def listed(database: str) -> dict[int, dict[str, Any]]:
    return {k["id"]: k for k in json.loads(cli(database, "list", "--json").stdout)}


def test_create_with_limits_then_verify_until_rate_limited(database: str) -> None:
    created = cli(database, "create", "--description", "svc", "--rate", "2/1h", "--credits", "10")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert {n: listed(database)[1][n] for n in ("rate", "credits_remaining", "refill")} == {
        "rate": "2/1h",
        "credits_remaining": 10,
        "refill": None,
    }
    status, answer, _ = verify(database, key, "--json")
    assert status == 0 and answer["verdict"] == "valid" and answer["remaining"] == 9
    assert answer["ratelimit"]["limit"] == 2 and answer["ratelimit"]["remaining"] == 1
    assert verify(database, key)[:2] == (0, "valid\n")
    status, answer, _ = verify(database, key, "--json")
    assert (status, answer["verdict"], answer["remaining"]) == (1, "rate_limited", 8)
    reset = datetime.fromisoformat(answer["ratelimit"]["reset"])
    assert datetime.now(UTC) + timedelta(minutes=59) < reset <= datetime.now(UTC) + timedelta(hours=1)
    status, out, err = verify(database, key)
    assert (status, out) == (1, "rate_limited\n")
    assert err.startswith("apikeys: rate limited: try again after ") and err.count("\n") == 1


def test_limit_prints_sets_and_clears_and_the_log_says_who_set_what(database: str) -> None:
    key = cli(database, "create", "--description", "svc").stdout.strip()
    shown = cli(database, "limit", "1")
    assert (shown.returncode, shown.stdout.endswith(": no limits.\n")) == (0, True)
    done = cli(database, "limit", "1", "--refill", "5/day")
    assert done.returncode == 0 and done.stdout.endswith("now has credits 5 (refilled to 5 each day).\n")
    assert listed(database)[1]["refill"] == "5/day" and listed(database)[1]["credits_remaining"] == 5
    again = cli(database, "limit", "1", "--refill", "5/day")
    assert "nothing was changed" in again.stdout
    for _ in range(5):
        assert verify(database, key)[0] == 0
    assert verify(database, key)[:2] == (1, "usage_exceeded\n")
    cleared = cli(database, "limit", "1", "--credits", "none")
    assert cleared.stdout.endswith("now has no limits.\n")
    assert verify(database, key)[:2] == (0, "valid\n")
    log = cli(database, "log", "--key", "1").stdout.splitlines()
    changes = [line for line in log if "limits-changed" in line]
    assert len(changes) == 2
    assert changes[0].endswith("credits 0, refill 5/day → no limits")
    assert changes[1].endswith("no limits → credits 5, refill 5/day")


def test_bad_limits_are_one_line_exit_2_and_change_nothing(database: str) -> None:
    cli(database, "create", "--description", "svc", "--rate", "10/1m")
    for args in (("--rate", "10"), ("--rate", "10/1y"), ("--credits", "-5"), ("--refill", "5/year")):
        result = cli(database, "limit", "1", *args)
        assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1, args
        assert result.stderr.startswith(f"apikeys: {args[0]} must"), result.stderr
    bad_create = cli(database, "create", "--description", "other", "--credits", "lots")
    assert bad_create.returncode == 2 and bad_create.stdout == ""
    assert [k["rate"] for k in listed(database).values()] == ["10/1m"]
    missing = cli(database, "limit", "99", "--rate", "none")
    assert missing.returncode == 1 and "No API key #99" in missing.stderr


def test_the_http_answer_has_remaining_ratelimit_and_retry_after(database: str, isolated_home: Path) -> None:
    key = cli(database, "create", "--description", "svc", "--rate", "1/1h", "--credits", "100").stdout.strip()
    server = start(database)
    try:
        first = server.verify({"key": key, "cost": 30})
        assert first.status == 200 and first.json["verdict"] == "valid" and first.json["remaining"] == 70
        assert first.json["ratelimit"]["limit"] == 1 and first.json["ratelimit"]["remaining"] == 0
        second = server.verify({"key": key})
        assert second.json["verdict"] == "rate_limited" and second.json["valid"] is False
        assert second.json["remaining"] == 70
        assert 3500 <= int(second.headers["retry-after"]) <= 3600
    finally:
        assert server.stop() == 0
    # SIGTERM wrote the service's usage counts before it exited.
    counted = {(r["verdict"], r["count"]) for r in json.loads(cli(database, "usage", "1", "--json").stdout)}
    assert counted == {("valid", 1), ("rate_limited", 1)}
    # The CLI sees the same state: the HTTP service's verify counted.
    assert verify(database, key, "--json")[1]["verdict"] == "rate_limited"


def test_a_verifier_role_gets_the_same_verdicts_from_the_cli_and_sql(pg_cluster: PgCluster) -> None:
    """Verifiers hold no table privilege: the limits are applied inside the SECURITY DEFINER functions, and
    `apikeys_verify(key[, scopes[, cost]])` shares the state with the app's verify."""
    team = make_team(pg_cluster, migrated=True)
    key = team.cli(team.owner, "create", "--description", "svc", "--rate", "3/1h", "--credits", "10").stdout.strip()
    assert team.cli(team.owner, "grant", team.verifier, "--verifier").returncode == 0
    first = team.cli(team.verifier, "verify", "--json", "-", stdin=key)
    assert json.loads(first.stdout)["remaining"] == 9, first.stderr
    with team.connect(team.verifier) as conn:
        assert conn.execute("SELECT apikeys_verify(%s, NULL, 5)", (key,)).fetchone() == ("valid",)
        assert conn.execute("SELECT apikeys_verify(%s, ARRAY['x'])", (key,)).fetchone() == ("forbidden",)
        assert conn.execute("SELECT apikeys_verify(%s, NULL, 5)", (key,)).fetchone() == ("usage_exceeded",)
        assert conn.execute("SELECT apikeys_verify(%s)", (key,)).fetchone() == ("valid",)  # the third of 3/1h
        assert conn.execute("SELECT apikeys_verify(%s)", (key,)).fetchone() == ("rate_limited",)
    last = team.cli(team.verifier, "verify", "--json", "-", stdin=key)
    assert (last.returncode, json.loads(last.stdout)["verdict"], json.loads(last.stdout)["remaining"]) == (
        1,
        "rate_limited",
        3,
    )
    assert team.as_owner("SELECT count(*) FROM key_rate_hits") == [(3,)]
