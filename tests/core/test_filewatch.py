"""A database file replaced or deleted while a store has it open (issue 9, item 5; issue 10, item 9)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from desktop.cli import exit_status
from desktop.core.errors import DatabaseMissing, UnsafeDatabase
from desktop.core.store import FILE_CHECK_INTERVAL_S, KeyStore
from desktop.core.values import FileChange, NewKey, Verdict
from tests.core.test_store import T0, Ticker
from tests.helpers import Secret


def _database_with(path: Path, *descriptions: str) -> list[str]:
    """A closed database at `path` holding these keys; their full keys."""
    with KeyStore.open(str(path), create=True) as store:
        return [Secret(store.create(d).key) for d in descriptions]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def ticks() -> Ticker:
    return Ticker()


@pytest.fixture
def watched(db_path: Path, ticks: Ticker) -> Iterator[KeyStore]:
    with KeyStore.open(str(db_path), create=True, monotonic=ticks) as store:
        yield store


def test_unchanged_file(watched: KeyStore) -> None:
    watched.create("here")
    assert watched.check_file() is FileChange.UNCHANGED
    assert watched.generation == 0


def test_a_replaced_file_is_reopened_and_its_keys_shown(watched: KeyStore, db_path: Path, tmp_path: Path) -> None:
    old_key = Secret(watched.create("in the old file").key)
    watched.data_version()  # the window's watch is open on the old file
    backup = tmp_path / "backup.db"
    [new_key] = _database_with(backup, "restored from a backup")
    os.replace(backup, db_path)  # `mv backup.db keys.db`
    assert watched.check_file() is FileChange.REPLACED
    assert watched.generation == 1
    assert [r.description for r in watched.all()] == ["restored from a backup"]
    assert watched.verify(new_key) is Verdict.VALID and watched.verify(old_key) is Verdict.UNKNOWN
    assert watched.check_file() is FileChange.UNCHANGED and watched.generation == 1
    before = watched.data_version()
    with KeyStore.open(str(db_path)) as other:
        other.create("by another process")
    assert watched.data_version() != before  # the change watch follows the new file
    created = watched.create("written after the switch")
    with KeyStore.open(str(db_path)) as other:
        assert other.get(created.record.id).description == "written after the switch"


def test_a_write_reopens_onto_a_replaced_file_first(watched: KeyStore, db_path: Path, tmp_path: Path) -> None:
    watched.create("old")
    _database_with(tmp_path / "new.db", "new")
    os.replace(tmp_path / "new.db", db_path)
    watched.create("after")  # no check_file() call: the write checks by itself
    assert watched.generation == 1
    with KeyStore.open(str(db_path)) as other:
        assert sorted(r.description for r in other.all()) == ["after", "new"]


def test_a_deleted_file_refuses_every_write_and_creates_nothing(watched: KeyStore, db_path: Path) -> None:
    kept = watched.create("kept")
    folder_before = _files(db_path.parent)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    assert watched.check_file() is FileChange.MISSING
    with pytest.raises(DatabaseMissing, match="deleted or moved") as caught:
        watched.create("never shown")
    assert exit_status(caught.value) == 3
    with pytest.raises(DatabaseMissing):
        watched.insert_many([NewKey("seed", T0)])
    with pytest.raises(DatabaseMissing):
        watched.set_active(kept.record.id, False)
    with pytest.raises(DatabaseMissing):
        watched.delete(kept.record.id)
    assert not db_path.exists()
    assert set(_files(db_path.parent)) <= set(folder_before) - {db_path.name}
    assert watched.count() == 1  # reading the old handles still works (the window keeps its page)
    assert watched.generation == 0


def test_the_file_coming_back_is_picked_up(watched: KeyStore, db_path: Path, tmp_path: Path) -> None:
    watched.create("first")
    os.replace(db_path, tmp_path / "away.db")
    assert watched.check_file() is FileChange.MISSING
    os.replace(tmp_path / "away.db", db_path)  # the same file back: nothing to reopen
    assert watched.check_file() is FileChange.UNCHANGED
    assert watched.create("second").record.id == 2


def test_a_file_deleted_during_a_write_is_never_reported_written(watched: KeyStore, db_path: Path) -> None:
    """The key exists only if the file at the path committed it: checked under the write lock, before COMMIT."""
    watched.create("warm-up")

    @event.listens_for(watched.database.engine, "after_execute")
    def delete_the_file(*_args: object) -> None:
        if db_path.exists():
            db_path.unlink()

    with pytest.raises(DatabaseMissing):
        watched.create("lost with the file")


def test_a_replacement_that_is_not_safe_is_refused(watched: KeyStore, db_path: Path, tmp_path: Path) -> None:
    watched.create("ours")
    _database_with(tmp_path / "theirs.db", "theirs")
    db_path.unlink()
    db_path.symlink_to(tmp_path / "theirs.db")
    with pytest.raises(UnsafeDatabase, match="symbolic link"):
        watched.check_file()
    with pytest.raises(UnsafeDatabase):
        watched.create("refused")
    assert watched.generation == 0
    with KeyStore.open(str(tmp_path / "theirs.db")) as theirs:
        assert [r.description for r in theirs.all()] == ["theirs"]


def test_verify_answers_from_the_new_file_after_at_most_one_interval(
    watched: KeyStore, db_path: Path, tmp_path: Path, ticks: Ticker
) -> None:
    old_key = Secret(watched.create("old").key)
    assert watched.verify(old_key) is Verdict.VALID
    [new_key] = _database_with(tmp_path / "new.db", "new")
    os.replace(tmp_path / "new.db", db_path)
    # Within the interval the old file may still answer: the check costs a system call, not each request.
    assert watched.verify(old_key) is Verdict.VALID
    ticks.now += FILE_CHECK_INTERVAL_S
    assert watched.verify(new_key) is Verdict.VALID
    assert watched.verify(old_key) is Verdict.UNKNOWN
    assert watched.generation == 1


def test_verify_raises_while_the_file_is_missing_and_recovers(
    watched: KeyStore, db_path: Path, tmp_path: Path, ticks: Ticker
) -> None:
    key = Secret(watched.create("service key").key)
    shutil.move(db_path, tmp_path / "away.db")
    ticks.now += FILE_CHECK_INTERVAL_S
    for _ in range(3):  # each time a new error, never a stale answer
        with pytest.raises(DatabaseMissing, match="deleted or moved"):
            watched.verify(key)
    assert watched.verify("ak_" + "0" * 38) is Verdict.MALFORMED  # decided without the database
    shutil.move(tmp_path / "away.db", db_path)
    with pytest.raises(DatabaseMissing):  # still within the interval of the last check
        watched.verify(key)
    ticks.now += FILE_CHECK_INTERVAL_S
    assert watched.verify(key) is Verdict.VALID


def test_memory_databases_are_always_unchanged() -> None:
    with KeyStore.open("sqlite://") as memory:
        assert memory.check_file() is FileChange.UNCHANGED
        memory.create("in memory")
        assert memory.generation == 0


def test_the_file_moved_away_keeps_its_last_changes(watched: KeyStore, db_path: Path, tmp_path: Path) -> None:
    """`mv keys.db keys.old; mv new.db keys.db`: the old file's WAL is emptied into it, not left for the new one."""
    watched.create("only in the old file's WAL")
    os.replace(db_path, tmp_path / "keys.old")
    _database_with(tmp_path / "new.db", "new")
    os.replace(tmp_path / "new.db", db_path)
    assert watched.check_file() is FileChange.REPLACED
    assert [r.description for r in watched.all()] == ["new"]
    watched.close()
    assert _files(tmp_path) == ["keys.db", "keys.old"]
    with KeyStore.open(str(tmp_path / "keys.old")) as old:
        assert [r.description for r in old.all()] == ["only in the old file's WAL"]


def test_a_replacement_waits_while_another_program_reads_the_old_file(
    watched: KeyStore, db_path: Path, tmp_path: Path
) -> None:
    import sqlite3

    from desktop.core.errors import DatabaseLocked

    watched.create("old")
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM api_keys").fetchall()  # holds a snapshot of the old file's WAL
    try:
        _database_with(tmp_path / "new.db", "new")
        os.replace(tmp_path / "new.db", db_path)
        with pytest.raises(DatabaseLocked, match="still using the old file"):
            watched.check_file()
        with pytest.raises(DatabaseLocked):
            watched.count()  # no answer from either file meanwhile
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert watched.check_file() is FileChange.REPLACED
    assert [r.description for r in watched.all()] == ["new"]


def test_no_connection_ever_creates_the_file(watched: KeyStore, db_path: Path) -> None:
    """A pool opening one more connection after the file was deleted must not make an empty database there."""
    import sqlite3

    from sqlalchemy import exc

    watched.create("here")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    held = []
    with pytest.raises((exc.OperationalError, sqlite3.OperationalError), match="unable to open"):
        for _ in range(10):  # the idle ones first, then a new one
            held.append(watched.database.engine.raw_connection())
    for conn in held:
        conn.close()
    assert not db_path.exists()
