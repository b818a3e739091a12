"""What sits at the database path is checked before SQLite sees it (issue 10, item 1; the contract's exit 3).

Each planted file is refused through KeyStore.open and through the command line (list, create, verify), with
one line naming the file, and everything in the folder stays exactly as it was: nothing followed, read past
its type check, or changed.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.cli import exit_status
from desktop.core import db as dbmod
from desktop.core import keys
from desktop.core.errors import DatabaseMissing, NotADatabase, UnsafeDatabase
from desktop.core.store import KeyStore, open_store
from tests.helpers import ONE_LINE_ERROR, Secret, make_database, run_cli

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making another user's file needs root")


def foreign(path: Path) -> Path:
    """Hand the file to another user (root can), as a local attacker's own file would be."""
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    return path


def snapshot(*folders: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under the folders, not following links: type, mode, owner, and content or link target."""
    seen: dict[str, tuple[object, ...]] = {}
    for folder in folders:
        for entry in sorted(folder.rglob("*")):
            status = os.lstat(entry)
            if stat.S_ISREG(status.st_mode):
                content: object = entry.read_bytes()
            elif stat.S_ISLNK(status.st_mode):
                content = os.readlink(entry)
            else:
                content = None
            seen[str(entry)] = (stat.S_IFMT(status.st_mode), stat.S_IMODE(status.st_mode), status.st_uid, content)
    return seen


@dataclass
class Planted:
    path: Path  # what --database names
    culprit: Path  # the file the message must name
    fragment: str  # what the message must say
    can_fix: bool = False


def _good(tmp_path: Path, name: str = "keys.db") -> Path:
    return make_database(tmp_path / name)


def symlink_to_our_database(tmp_path: Path) -> Planted:
    real = _good(tmp_path, "real.db")
    link = tmp_path / "keys.db"
    link.symlink_to(real)
    return Planted(link, link, "symbolic link")


def dangling_symlink(tmp_path: Path) -> Planted:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    link = tmp_path / "keys.db"
    link.symlink_to(theirs / "keys.db")
    return Planted(link, link, "symbolic link")


def fifo(tmp_path: Path) -> Planted:
    path = tmp_path / "keys.db"
    os.mkfifo(path, 0o600)
    return Planted(path, path, "named pipe")


def foreign_database(tmp_path: Path) -> Planted:
    path = foreign(_good(tmp_path))
    return Planted(path, path, "belongs to the user nobody")


def foreign_empty_world_writable_file(tmp_path: Path) -> Planted:
    path = tmp_path / "keys.db"
    path.write_bytes(b"")
    path.chmod(0o666)
    return Planted(foreign(path), path, "belongs to the user nobody")


def database_readable_by_others(tmp_path: Path) -> Planted:
    path = _good(tmp_path)
    path.chmod(0o644)
    return Planted(path, path, f"(mode 0644); run `chmod 600 {path}`", can_fix=True)


def foreign_wal(tmp_path: Path) -> Planted:
    path = _good(tmp_path)
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"crafted pages")
    wal.chmod(0o666)
    return Planted(path, foreign(wal), "belongs to the user nobody")


def shm_symlink(tmp_path: Path) -> Planted:
    path = _good(tmp_path)
    (tmp_path / "elsewhere").write_bytes(b"")
    shm = Path(f"{path}-shm")
    shm.symlink_to(tmp_path / "elsewhere")
    return Planted(path, shm, "symbolic link")


def journal_folder(tmp_path: Path) -> Planted:
    path = _good(tmp_path)
    journal = Path(f"{path}-journal")
    journal.mkdir()
    return Planted(path, journal, "a folder, not a regular file")


def folder_writable_by_others(tmp_path: Path) -> Planted:
    shared = tmp_path / "shared"
    shared.mkdir()
    path = _good(shared)
    shared.chmod(0o777)
    return Planted(path, shared, "can be written by other users")


def planted_in_a_sticky_folder(tmp_path: Path) -> Planted:
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    path = _good(sticky)
    return Planted(foreign(path), path, "belongs to the user nobody")


PLANTED = [
    pytest.param(symlink_to_our_database, id="symlink to our own database"),
    pytest.param(dangling_symlink, id="dangling symlink"),
    pytest.param(fifo, id="FIFO"),
    pytest.param(foreign_database, id="another user's database", marks=needs_root),
    pytest.param(foreign_empty_world_writable_file, id="another user's empty 0666 file", marks=needs_root),
    pytest.param(database_readable_by_others, id="database readable by others"),
    pytest.param(foreign_wal, id="another user's -wal", marks=needs_root),
    pytest.param(shm_symlink, id="-shm is a symlink"),
    pytest.param(journal_folder, id="-journal is a folder"),
    pytest.param(folder_writable_by_others, id="folder writable by others"),
    pytest.param(planted_in_a_sticky_folder, id="another user's file in a sticky folder", marks=needs_root),
]


@pytest.mark.parametrize("plant", PLANTED)
@pytest.mark.parametrize("create", [False, True])
def test_keystore_refuses_what_is_planted_and_changes_nothing(
    tmp_path: Path, plant: Callable[[Path], Planted], create: bool
) -> None:
    planted = plant(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeDatabase) as caught:
        KeyStore.open(str(planted.path), create=create)
    err = caught.value
    assert planted.fragment in err.message and str(planted.culprit) in err.message
    assert err.path == str(planted.culprit) and err.can_fix is planted.can_fix and exit_status(err) == 3
    assert "\n" not in err.message
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("plant", PLANTED)
def test_cli_refuses_what_is_planted_exit_3_and_changes_nothing(
    tmp_path: Path, plant: Callable[[Path], Planted]
) -> None:
    planted = plant(tmp_path)
    before = snapshot(tmp_path)
    for args in (["list"], ["create", "--description", "x"], ["verify", Secret(keys.generate())]):
        result = run_cli(*args, "--database", str(planted.path))
        assert result.returncode == 3, (args, result.stderr)
        assert ONE_LINE_ERROR.match(result.stderr) and planted.fragment in result.stderr, result.stderr
        assert result.stdout == ""
    assert snapshot(tmp_path) == before


def test_read_only_urls_are_checked_too(tmp_path: Path) -> None:
    planted = database_readable_by_others(tmp_path)
    with pytest.raises(UnsafeDatabase, match="chmod 600"):
        KeyStore.open(f"sqlite:///file:{planted.path}?mode=ro&uri=true")


def test_own_database_in_a_sticky_folder_and_in_tmp_is_fine(tmp_path: Path) -> None:
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert (
        run_cli("create", "--description", "in a sticky folder", "--database", str(sticky / "keys.db")).returncode == 0
    )
    assert run_cli("list", "--database", str(sticky / "keys.db")).returncode == 0
    # /tmp itself: others may write there, but its sticky bit keeps them from touching our file.
    in_tmp = Path("/tmp") / f"apikeys-test-{uuid.uuid4().hex}.db"
    try:
        with KeyStore.open(str(in_tmp), create=True) as store:
            store.create("in /tmp")
        assert run_cli("list", "--database", str(in_tmp)).returncode == 0
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{in_tmp}{suffix}").unlink(missing_ok=True)


def test_a_fifo_never_hangs_the_header_check(tmp_path: Path) -> None:
    """Even when lstat saw a regular file, the header is read only from a descriptor fstat calls regular."""
    from desktop.core.db import paths

    path = tmp_path / "keys.db"
    os.mkfifo(path, 0o600)
    regular = os.lstat(_good(tmp_path, "other.db"))
    with pytest.raises(UnsafeDatabase, match="changed while it was being checked"):
        paths._read_header(path, regular)  # as if the FIFO took the file's place after lstat


# -- fixing the mode -------------------------------------------------------------------------------


def test_fix_permissions_makes_a_readable_database_usable(tmp_path: Path) -> None:
    path = _good(tmp_path)
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"")
    for file in (path, wal):
        file.chmod(0o664)
    with pytest.raises(UnsafeDatabase) as caught:
        KeyStore.open(str(path))
    assert caught.value.can_fix
    dbmod.fix_permissions(str(path))
    assert {stat.S_IMODE(p.stat().st_mode) for p in (path, wal)} == {0o600}
    with KeyStore.open(str(path)) as store:
        assert store.count() == 1


def test_fix_permissions_changes_nothing_but_our_own_regular_files(tmp_path: Path) -> None:
    path = _good(tmp_path)
    path.chmod(0o644)
    target = tmp_path / "target"
    target.write_bytes(b"")
    target.chmod(0o644)
    Path(f"{path}-shm").symlink_to(target)
    dbmod.fix_permissions(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # the link was not followed
    with pytest.raises(UnsafeDatabase, match="symbolic link") as caught:
        KeyStore.open(str(path))
    assert not caught.value.can_fix


@needs_root
def test_fix_permissions_leaves_another_users_companion_alone(tmp_path: Path) -> None:
    planted = foreign_wal(tmp_path)
    planted.path.chmod(0o644)
    with pytest.raises(UnsafeDatabase) as caught:
        KeyStore.open(str(planted.path))
    assert not caught.value.can_fix and caught.value.path == str(planted.culprit)  # the worse problem first
    dbmod.fix_permissions(str(planted.path))
    assert stat.S_IMODE(planted.path.stat().st_mode) == 0o600
    wal = planted.culprit.stat()
    assert (stat.S_IMODE(wal.st_mode), wal.st_uid) == (0o666, NOBODY)


# -- creating a database ----------------------------------------------------------------------------


def test_a_stray_companion_stops_creation(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"pages of a database that is gone")
    wal.chmod(0o600)
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeDatabase, match="left over") as caught:
        KeyStore.open(str(path), create=True)
    assert caught.value.path == str(wal)
    result = run_cli("create", "--description", "x", "--database", str(path))
    assert result.returncode == 3 and "left over" in result.stderr and ONE_LINE_ERROR.match(result.stderr)
    with pytest.raises(DatabaseMissing):  # without create, the missing file is what matters
        KeyStore.open(str(path))
    assert snapshot(tmp_path) == before


@needs_root
def test_files_planted_under_the_old_predictable_temporary_name_do_not_stop_creation(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    planted = [tmp_path / f".keys.db.{os.getpid()}.creating", tmp_path / f".keys.db.{os.getpid()}.creating-wal"]
    for file in planted:
        file.write_bytes(b"")
        file.chmod(0o666)
        foreign(file)
    before = snapshot(tmp_path)
    with KeyStore.open(str(path), create=True) as store:
        assert store.create("made anyway").record.id == 1
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(p.name for p in tmp_path.glob(".keys.db.*")) == sorted(p.name for p in planted)


def test_a_file_linked_in_while_creating_is_checked_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race: something appears at the path between the first look and linking the new file into place."""
    path = tmp_path / "keys.db"
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    real_link = os.link

    def someone_else_first(src: str | os.PathLike[str], dst: str | os.PathLike[str], **kwargs: object) -> None:
        if Path(dst) == path:
            path.symlink_to(theirs / "keys.db")
        real_link(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", someone_else_first)
    with pytest.raises(UnsafeDatabase, match="symbolic link"):
        KeyStore.open(str(path), create=True)
    assert list(theirs.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.db", "theirs"]  # no temporary file left


# -- the default data folder ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_data_folder_others_can_write_to_is_refused(isolated_home: Path, mode: int) -> None:
    folder = isolated_home / "data" / "apikeys"
    folder.mkdir(parents=True)
    folder.chmod(mode)
    with pytest.raises(UnsafeDatabase, match="chmod 700") as caught:
        open_store(create=True)
    assert caught.value.path == str(folder)
    result = run_cli("create", "--description", "x")
    assert result.returncode == 3 and ONE_LINE_ERROR.match(result.stderr) and str(folder) in result.stderr
    assert list(folder.iterdir()) == []


def test_the_data_folder_is_made_private(isolated_home: Path) -> None:
    with open_store(create=True) as store:
        folder = Path(store.location).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_folder_at_the_path_is_still_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "keys.db").mkdir()
    with pytest.raises(NotADatabase, match="is a folder"):
        KeyStore.open(str(tmp_path / "keys.db"), create=True)
