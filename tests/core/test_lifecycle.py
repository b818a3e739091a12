"""The key lifecycle through the command line and the store, on both backends: rename, roll with a grace
period, (de)activating and deleting many keys in one transaction, and migration 0005 from every earlier
revision (with keys in it) and killed mid-way."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desktop.core import keys
from desktop.core.db import migrate
from desktop.core.errors import DomainError, InvalidInput, KeyNotFound
from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from tests.backends import execute, is_server, read_only
from tests.helpers import ONE_LINE_ERROR, REPO, Secret, run_cli
from tests.revisions import earlier_revisions, upgrade_to


def cli(database: str, *args: str, stdin: str | None = None) -> Any:
    return run_cli(*args, "--database", database, stdin=stdin)


def create(database: str, description: str = "svc", *extra: str) -> Secret:
    result = cli(database, "create", "--description", description, *extra)
    assert result.returncode == 0, result.stderr
    return Secret(result.stdout.strip())


def listed(database: str) -> dict[int, dict[str, Any]]:
    result = cli(database, "list", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["id"]: entry for entry in json.loads(result.stdout)}


def refused(result: Any, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


# -- rename --------------------------------------------------------------------------------------------------


def test_rename_changes_the_description_and_refuses_bad_input_changing_nothing(database: str) -> None:
    create(database, "old name")
    done = cli(database, "rename", "1", "--description", "  new name ")
    assert done.returncode == 0, done.stderr
    assert "new name" in done.stdout
    assert listed(database)[1]["description"] == "new name"
    before = listed(database)
    refused(cli(database, "rename", "1", "--description", "   "), 2)
    refused(cli(database, "rename", "1", "--description", "x" * 257), 2)
    refused(cli(database, "rename", "x1", "--description", "fine"), 2)
    refused(cli(database, "rename", "7", "--description", "fine"), 1)
    assert listed(database) == before


def test_rename_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    refused(run_cli("rename", "1", "--description", "x", "--database", str(tmp_path / "none.db")), 3)
    assert not (tmp_path / "none.db").exists()


# -- roll ----------------------------------------------------------------------------------------------------


def test_roll_prints_a_new_key_that_copies_the_old_one_and_the_old_one_retires_after_the_grace(database: str) -> None:
    old = create(database, "Billing", "--scope", "billing:read", "--expires", "2099-12-31")
    original = listed(database)[1]
    result = cli(database, "roll", "1")  # the default grace: 24 hours
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and keys.is_well_formed(lines[0])
    new = Secret(lines[0])
    assert new != old
    entries = listed(database)
    assert set(entries) == {1, 2}
    assert entries[2]["masked"] == keys.mask(new)
    for field in ("description", "active", "scopes", "expires_at"):
        assert entries[2][field] == original[field], field
    assert entries[2]["scopes"] == ["billing:read"]
    retire = datetime.fromisoformat(entries[1]["expires_at"])
    created = datetime.fromisoformat(entries[2]["created_at"])
    assert retire - created == timedelta(hours=24)
    # Both keys work until the grace ends.
    assert cli(database, "verify", "-", stdin=old).stdout == "valid\n"
    assert cli(database, "verify", "-", stdin=new).stdout == "valid\n"
    assert "#2" in result.stderr and "Traceback" not in result.stderr


def test_roll_now_retires_the_old_key_at_once_and_keeps_a_sooner_expiry(database: str) -> None:
    old = create(database, "now")
    assert cli(database, "roll", "1", "--grace", "now").returncode == 0
    assert cli(database, "verify", "-", stdin=old).stdout == "expired\n"
    create(database, "soon", "--expires", (datetime.now().date() + timedelta(days=1)).isoformat())
    own_expiry = listed(database)[3]["expires_at"]
    assert cli(database, "roll", "3", "--grace", "30d").returncode == 0
    entries = listed(database)
    assert entries[3]["expires_at"] == own_expiry  # its own expiry was sooner than the grace
    assert entries[4]["expires_at"] == own_expiry  # the new key copies it


def test_rolling_an_inactive_key_copies_its_state_and_says_so(database: str) -> None:
    create(database, "off")
    assert cli(database, "deactivate", "1").returncode == 0
    result = cli(database, "roll", "1", "--grace", "1h")
    assert result.returncode == 0, result.stderr
    new = Secret(result.stdout.strip())
    assert "inactive" in result.stderr
    assert listed(database)[2]["active"] is False
    assert cli(database, "verify", "-", stdin=new).stdout == "inactive\n"


@pytest.mark.parametrize("grace", ["31d", "721h", "0", "-1h", "1w", "h", "1.5h", "24 h x", ""])
def test_a_bad_grace_is_exit_2_in_one_line_and_changes_nothing(database: str, grace: str) -> None:
    create(database)
    before = listed(database)
    refused(cli(database, "roll", "1", "--grace", grace), 2)
    assert listed(database) == before


def test_roll_of_no_such_key_is_exit_1_and_creates_nothing(database: str) -> None:
    create(database)
    before = listed(database)
    refused(cli(database, "roll", "9"), 1)
    assert listed(database) == before


def test_a_refused_roll_on_a_read_only_database_creates_no_key(database: str) -> None:
    old = create(database)
    result = cli(read_only(database), "roll", "1")
    refused(result, 3)
    assert list(listed(database)) == [1]
    assert cli(database, "verify", "-", stdin=old).stdout == "valid\n"


def test_the_store_rolls_with_an_exact_grace(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        first = store.create("exact")
        rolled = store.roll(first.record.id, timedelta(minutes=90))
        assert rolled.old.expires_at == rolled.new.record.created_at + timedelta(minutes=90)
        assert store.get(first.record.id).expires_at == rolled.old.expires_at
        assert store.verify(rolled.new.key) is Verdict.VALID
        with pytest.raises(KeyNotFound):
            store.roll(999, timedelta(0))


# -- many keys at once ---------------------------------------------------------------------------------------


def test_bulk_changes_report_keys_deleted_meanwhile_and_change_the_rest(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        made = [store.create(f"k{i}") for i in range(4)]
        ids = [c.record.id for c in made]
        store.delete(ids[3])  # someone else deleted it meanwhile
        result = store.set_active_many([*ids, ids[0]], False)
        assert sorted(r.id for r in result.changed) == ids[:3]
        assert result.missing == (ids[3],)
        assert all(store.verify(c.key) is Verdict.INACTIVE for c in made[:3])
        assert store.set_active_many(ids[:2], True).missing == ()
        assert store.verify(made[0].key) is Verdict.VALID
        deleted = store.delete_many([ids[0], ids[1], 12345])
        assert sorted(r.id for r in deleted.changed) == ids[:2] and deleted.missing == (12345,)
        assert [r.id for r in store.all()] == [ids[2]]
        assert store.delete_many([]).changed == ()


def test_bulk_changes_are_all_or_nothing(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        made = [store.create(f"k{i}") for i in range(3)]
    with KeyStore.open(read_only(database)) as store:
        with pytest.raises(DomainError):
            store.set_active_many([c.record.id for c in made], False)
        with pytest.raises(DomainError):
            store.delete_many([c.record.id for c in made])
    # The events table gone behind the program's back: the change and its event fail together.
    execute(database, "DROP TABLE key_events")
    with KeyStore.open(database) as store:
        with pytest.raises(DomainError):
            store.delete_many([c.record.id for c in made])
        assert len(store.all()) == 3
        assert all(store.verify(c.key) is Verdict.VALID for c in made)


def test_rename_refuses_bad_input_in_the_store(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        made = store.create("a")
        with pytest.raises(InvalidInput):
            store.rename(made.record.id, "")
        with pytest.raises(KeyNotFound):
            store.rename(made.record.id + 1, "b")
        assert store.rename(made.record.id, "b").description == "b"
        assert store.get(made.record.id).description == "b"


# -- migration 0005 ------------------------------------------------------------------------------------------


def _plant_key(database: str, description: str) -> Secret:
    key = keys.generate()
    execute(
        database,
        "INSERT INTO api_keys (digest, hint, description, created_at, expires_at, active) "
        "VALUES (:digest, :hint, :description, '2026-01-02 03:04:05.000000', NULL, TRUE)",
        {"digest": keys.digest(key), "hint": keys.hint(key), "description": description},
    )
    return Secret(key)


@pytest.mark.empty_database
@pytest.mark.parametrize("revision", earlier_revisions())
def test_upgrades_from_every_earlier_revision_keeping_the_keys(database: str, revision: str) -> None:
    upgrade_to(database, revision)
    planted = [_plant_key(database, f"from {revision} #{i}") for i in range(3)]
    # From 0009 on, PostgreSQL's own triggers write the log: a key inserted with plain SQL gets its `created`.
    audited = ["created"] * 3 if is_server(database) and revision >= "0009" else []
    with KeyStore.open(database) as store:
        assert [store.verify(k) for k in planted] == [Verdict.VALID] * 3
        assert [r.scopes for r in store.all()] == [()] * 3
        assert [e.action for e in store.events().items] == audited
        made = store.create("after the upgrade", scopes=["a:b"])
        assert store.check(made.key, ["a:b"]).verdict is Verdict.VALID
        assert store.check(planted[0], ["a:b"]).verdict is Verdict.FORBIDDEN
        assert [e.action for e in store.events().items] == ["created", *audited]
    assert execute(database, "SELECT version_num FROM alembic_version") == [(migrate.HEAD_REVISION,)]


MIGRATOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from desktop.core.db import migrate, open_database
    migrate.MIGRATIONS_DIR = Path(sys.argv[2])
    print("start", flush=True)
    open_database(sys.argv[1]).dispose()
    print("done", flush=True)
    """
)
#: Appended to the head migration's upgrade(): a marker, then work inside its transaction until the test's
#: SIGKILL, however fast the machine. Its stdin ends the work only if the test is gone (its end of the pipe closed).
SLOW_TAIL = """
    import select, sys
    print("in-transaction", flush=True)
    while not select.select([sys.stdin], [], [], 0)[0]:
        op.execute("UPDATE api_keys SET scopes = description")
"""


def _has_scopes(database: str) -> bool:
    if is_server(database):
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_keys'"
    else:
        query = "SELECT name FROM pragma_table_info('api_keys')"
    return ("scopes",) in execute(database, query)


@pytest.mark.empty_database
@pytest.mark.parametrize("attempt", range(2))
def test_a_killed_upgrade_leaves_the_previous_schema_and_every_key(database: str, tmp_path: Path, attempt: int) -> None:
    # Migration 0005 (this file's) is killed inside its work; later revisions then never run either.
    lifecycle = "0005"
    previous = migrate.KNOWN_REVISIONS[migrate.KNOWN_REVISIONS.index(lifecycle) - 1]
    upgrade_to(database, previous)
    planted = [_plant_key(database, f"key {i}") for i in range(50)]
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    [head] = [p for p in (migrations / "versions").glob("*.py") if f'\nrevision = "{lifecycle}"' in p.read_text()]
    source = head.read_text()
    marker = "\n\ndef _create_scoped_verify"
    head.write_text(source.replace(marker, SLOW_TAIL + marker, 1))
    proc = subprocess.Popen(
        [sys.executable, "-c", MIGRATOR, database, str(migrations)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "start\n"
    assert proc.stdout.readline() == "in-transaction\n"
    time.sleep(0.05 * attempt)  # somewhere inside the work (which lasts until the kill), not a threshold
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert execute(database, "SELECT version_num FROM alembic_version") == [(previous,)]
    assert not _has_scopes(database)
    with KeyStore.open(database) as store:  # the real program then upgrades it whole
        assert [store.verify(k) for k in planted] == [Verdict.VALID] * 50
    assert _has_scopes(database)
