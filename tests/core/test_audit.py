"""The audit log: an event per change, in the change's transaction, through the command line and the store,
on both backends; `apikeys log` newest first; a deleted key's events stay; no event for verify; one for a seed."""

from __future__ import annotations

import getpass
import json
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from desktop import cli_commands
from desktop.cli import SEED_MAX
from desktop.cli_commands import SEED_BATCH
from desktop.core.clock import Clock
from desktop.core.db.bulk_load import BULK_KEYS
from desktop.core.store import KeyStore
from desktop.core.values import Event
from tests.backends import execute, is_server
from tests.helpers import ONE_LINE_ERROR, REPO, Secret, run_cli
from tests.pg import PgCluster
from tests.team import make_team

ACTOR = f"{getpass.getuser()}@{socket.gethostname()}"


def cli(database: str, *args: str, stdin: str | None = None) -> Any:
    return run_cli(*args, "--database", database, stdin=stdin)


def ok(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return result


def log_json(database: str, *args: str) -> list[dict[str, Any]]:
    data = json.loads(ok(cli(database, "log", "--json", *args)).stdout)
    assert isinstance(data, list)
    return data


def test_every_change_through_the_cli_is_logged_newest_first(database: str) -> None:
    key = Secret(ok(cli(database, "create", "--description", "first", "--scope", "a")).stdout.strip())
    ok(cli(database, "rename", "1", "--description", "renamed"))
    ok(cli(database, "scopes", "1", "a", "b"))
    ok(cli(database, "deactivate", "1"))
    ok(cli(database, "activate", "1"))
    ok(cli(database, "verify", "-", stdin=key))  # verify is not a change: no event
    rolled = Secret(ok(cli(database, "roll", "1", "--grace", "1h")).stdout.strip())
    ok(cli(database, "delete", "1"))
    events = log_json(database)
    assert [(e["action"], e["key_id"]) for e in events] == [
        ("deleted", 1),
        ("rolled", 1),  # written after the new key's `created`, in the same instant: the later-written first
        ("created", 2),
        ("activated", 1),
        ("deactivated", 1),
        ("scopes-changed", 1),
        ("renamed", 1),
        ("created", 1),
    ]
    by_action = {(e["action"], e["key_id"]): e for e in events}
    assert by_action[("rolled", 1)]["details"]["new_key_id"] == 2
    assert by_action[("created", 2)]["details"]["rolled_from"] == 1
    assert by_action[("renamed", 1)]["details"] == {"from": "first", "to": "renamed"}
    assert by_action[("scopes-changed", 1)]["details"] == {"from": ["a"], "to": ["a", "b"]}
    for event in events:
        assert set(event) >= {"at", "key_id", "masked", "action", "actor", "details"}
        assert event["actor"] == ACTOR
        assert datetime.fromisoformat(event["at"]).utcoffset() == timedelta(0)
        assert (event["db_role"] is not None) == is_server(database)
    # The deleted key's history stays, with its masked key.
    history = log_json(database, "--key", "1")
    assert [e["action"] for e in history] == [e["action"] for e in events if e["key_id"] == 1]
    assert {e["masked"] for e in history} == {events[-1]["masked"]}
    assert [e["action"] for e in log_json(database, "--limit", "2")] == ["deleted", "rolled"]
    text = ok(cli(database, "log")).stdout
    assert text.splitlines()[0].split()[2] == "deleted" and ACTOR in text
    for secret in (key, rolled):
        assert secret not in text and secret[3:35] not in text


def test_refused_changes_write_no_event(database: str) -> None:
    ok(cli(database, "create", "--description", "one"))
    before = log_json(database)
    for args in (
        ("rename", "9", "--description", "x"),
        ("rename", "1", "--description", ""),
        ("roll", "1", "--grace", "99d"),
        ("scopes", "1", "Bad"),
        ("delete", "9"),
        ("deactivate", "9"),
    ):
        assert cli(database, *args).returncode in (1, 2)
    ok(cli(database, "rename", "1", "--description", "one"))  # no change, no event
    ok(cli(database, "scopes", "1"))  # it has none: no change
    ok(cli(database, "activate", "1"))  # already active
    assert log_json(database) == before


def test_an_event_is_written_in_the_same_transaction_as_its_change(database: str) -> None:
    ok(cli(database, "create", "--description", "kept"))
    execute(database, "DROP TABLE key_events")  # the event cannot be written: the change must not be either
    for args in (("deactivate", "1"), ("rename", "1", "--description", "lost"), ("create", "--description", "x")):
        result = cli(database, *args)
        assert result.returncode == 3 and ONE_LINE_ERROR.match(result.stderr), result.stderr
        assert result.stdout == ""
    rows = execute(database, "SELECT id, description, active FROM api_keys")
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [(1, "kept", True)]


def test_seeding_writes_one_summary_event(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Batches of BULK_KEYS, not SEED_BATCH (10,000): the first still goes in by the bulk path, the second key by
    # the plain insert, as with SEED_BATCH + 1 keys, for a tenth of the keys (the CLI runs in this process).
    batch = BULK_KEYS
    monkeypatch.setattr(cli_commands, "SEED_BATCH", batch)
    count = batch + 1  # two batches (two transactions), still one event; on a server, one per batch
    ok(cli(database, "seed", "--count", str(count)))
    events = log_json(database)
    assert {(e["action"], e["key_id"]) for e in events} == {("seeded", None)}
    if is_server(database):  # the server writes an event for each committed change: each batch
        assert sorted(e["details"]["count"] for e in events) == [1, batch]
    else:
        assert [e["details"] for e in events] == [{"count": count}]
    assert execute(database, "SELECT count(*) FROM api_keys") == [(count,)]


def test_an_interrupted_seed_writes_one_event_that_says_so_and_how_many_keys(database: str) -> None:
    """Ctrl+C in the middle of `apikeys seed`: the batches committed stay, and one `seeded` event (written by
    store.log_seeded(interrupted=True)) counts exactly them."""
    ok(cli(database, "create", "--description", "there before"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop", "seed", "--count", str(SEED_MAX), "--database", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        # Ctrl+C's default, whatever this test runner inherited (a background job starts with SIGINT ignored,
        # and Python then raises no KeyboardInterrupt).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        # Interrupted once its first batch is committed: neither before any key nor after the last.
        while execute(database, "SELECT count(*) FROM api_keys") == [(1,)]:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.02)  # polling another process's commits: no event loop to wait on
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    [(keys,)] = execute(database, "SELECT count(*) FROM api_keys")
    seeded = keys - 1
    assert seeded % SEED_BATCH == 0 and 0 < seeded < SEED_MAX
    events = [e for e in log_json(database) if e["action"] == "seeded"]
    if is_server(database):  # the server logged each committed batch as it was committed
        assert [(e["key_id"], e["details"]) for e in events] == [(None, {"count": SEED_BATCH})] * len(events)
        assert len(events) * SEED_BATCH == seeded
    else:
        assert [(e["key_id"], e["details"]) for e in events] == [(None, {"count": seeded, "interrupted": True})]


def test_log_seeded_records_an_interrupted_seed(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        store.log_seeded(3, interrupted=True)
        events = store.events().items
    if is_server(database):  # no change, no event: the server logged the batches themselves
        assert events == ()
        return
    [event] = events
    assert (event.action, event.key_id, event.details) == ("seeded", None, {"count": 3, "interrupted": True})


def test_bad_log_arguments_are_exit_2(database: str) -> None:
    ok(cli(database, "create", "--description", "one"))
    for args in (("--limit", "0"), ("--limit", "x"), ("--key", "abc")):
        result = cli(database, "log", *args)
        assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert ok(cli(database, "log", "--key", "42")).stdout == "No events.\n"


class FrozenClock(Clock):
    """Every change at the same instant: the log's order must then be the writing order."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def test_events_page_by_keyset_newest_first_with_ties_in_writing_order(database: str) -> None:
    frozen = FrozenClock(datetime(2030, 1, 1, tzinfo=UTC))
    with KeyStore.open(database, frozen, create=True) as store:
        made = [store.create(f"k{i}") for i in range(5)]
        frozen.moment += timedelta(seconds=1)
        store.set_active_many([m.record.id for m in made], False)
        store.delete(made[0].record.id)
        seen: list[Event] = []
        page = store.events(3)
        while True:
            seen.extend(page.items)
            if page.next is None:
                break
            page = store.events(3, before=page.next)
        assert [e.id for e in seen] == sorted((e.id for e in seen), reverse=True)
        assert len(seen) == 11 and len({e.id for e in seen}) == 11
        assert [e.action for e in seen][:6] == ["deleted", *["deactivated"] * 5]
        first = store.events(100, key_id=made[0].record.id).items
        assert [e.action for e in first] == ["deleted", "deactivated", "created"]


@pytest.mark.parametrize("action", ["activated", "deactivated", "deleted"])
def test_bulk_changes_write_one_event_per_key_changed(database: str, action: str) -> None:
    with KeyStore.open(database, create=True) as store:
        ids = [store.create(f"k{i}").record.id for i in range(3)]
        store.set_active(ids[0], False)
        if action == "deleted":
            store.delete_many([*ids, 99])
        else:
            store.set_active_many([*ids, 99], action == "activated")
        events = [e for e in store.events(100).items if e.action == action]
        # Key 1 was deactivated once before: deactivating it again changes nothing and writes nothing.
        expected = {"activated": [ids[0]], "deactivated": ids, "deleted": ids}[action]
        assert sorted(e.key_id for e in events if e.key_id is not None) == expected


def test_a_manager_role_changes_keys_and_reads_the_log_a_verifier_does_neither(pg_cluster: PgCluster) -> None:
    team = make_team(pg_cluster)
    ok(team.cli(team.owner, "list"))  # the owner's first open creates the schema
    ok(team.cli(team.owner, "grant", team.manager, "--manager"))
    ok(team.cli(team.owner, "grant", team.verifier, "--verifier"))
    ok(team.cli(team.manager, "create", "--description", "by the manager", "--scope", "a"))
    ok(team.cli(team.manager, "rename", "1", "--description", "renamed"))
    ok(team.cli(team.manager, "scopes", "1", "b"))
    new = Secret(ok(team.cli(team.manager, "roll", "1", "--grace", "5m")).stdout.strip())
    assert ok(team.cli(team.verifier, "verify", "-", stdin=new)).stdout == "valid\n"
    events = json.loads(ok(team.cli(team.manager, "log", "--json")).stdout)
    assert [e["action"] for e in events] == ["rolled", "created", "scopes-changed", "renamed", "created"]
    assert {e["db_role"] for e in events} == {team.manager}
    for args in (("log",), ("rename", "2", "--description", "no")):
        result = team.cli(team.verifier, *args)
        assert result.returncode == 3 and "permission denied" in result.stderr.lower(), result.stderr
    # Written by the server only: not even appended to by a manager.
    with team.connect(team.manager) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM key_events")
    with team.connect(team.manager) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO key_events (at, action, actor) VALUES (now(), 'deleted', 'x')")
