"""What is safe to open at a SQLite path (ssh's StrictModes checks, before SQLite ever sees the file), and
whether the file at a path is still the one a store opened (its identity: device and inode).

Another local user must not be able to hand us a database (a planted file or companion, a symbolic link into
their folder) or read ours (group or other permission bits). Every check uses `lstat` or a descriptor opened
with O_NOFOLLOW | O_NONBLOCK, so nothing at the path is followed, and a FIFO or device is never read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import stat
from pathlib import Path

from desktop.core.errors import CHOOSE_ANOTHER, DatabaseUnavailable, NotADatabase, UnsafeDatabase

#: The files SQLite keeps beside a database; each is as trusted as the database itself.
COMPANIONS = ("-wal", "-shm", "-journal")
SQLITE_HEADER = b"SQLite format 3\x00"
#: The database header's length: page size, page count and the counters that say whether the count is valid.
HEADER_LENGTH = 100
#: Group or others may read or write: what `chmod 600` removes.
_SHARED_BITS = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

#: (st_dev, st_ino): what stays the same while a file is written and changes when another file takes its place.
Identity = tuple[int, int]


def identity_of(status: os.stat_result) -> Identity:
    return (status.st_dev, status.st_ino)


def current_identity(path: Path) -> Identity | None:
    """The identity of whatever is at `path` now (not following a link), None when nothing is there."""
    try:
        return identity_of(os.lstat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in COMPANIONS]


def _quoted(path: Path) -> str:
    return shlex.quote(str(path))


def _owner(uid: int) -> str:
    import pwd

    try:
        return f"the user {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"user id {uid}"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _problem(path: Path, status: os.stat_result) -> UnsafeDatabase | None:
    """What makes this file unsafe to open, or None. Only a wrong mode on one's own file can be fixed."""
    mode = status.st_mode
    if stat.S_ISLNK(mode):
        return UnsafeDatabase(
            f"{path} is a symbolic link, which API Key Manager does not follow; put the database file itself "
            f"there, or {CHOOSE_ANOTHER}.",
            str(path),
        )
    if not stat.S_ISREG(mode):
        return UnsafeDatabase(
            f"{path} is {_kind(mode)}, not a regular file; move it away, or {CHOOSE_ANOTHER}.", str(path)
        )
    if status.st_uid != os.geteuid():
        return UnsafeDatabase(
            f"{path} belongs to {_owner(status.st_uid)}, who could read or change your keys; move it away, "
            f"or {CHOOSE_ANOTHER}.",
            str(path),
        )
    if mode & _SHARED_BITS:
        return UnsafeDatabase(
            f"{path} can be read or written by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {_quoted(path)}` and try again.",
            str(path),
            can_fix=True,
        )
    return None


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        raise DatabaseUnavailable(f"Cannot look at {path} ({err.strerror}). Check its folder's permissions.") from None


def check_folder(folder: Path) -> None:
    """The folder must exist, and others may not write to it unless it is sticky (as /tmp is).

    In a folder others can write to, they could swap our database for theirs between two opens; with the
    sticky bit they can only add files of their own, which the file checks refuse.
    """
    try:
        status = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        status = None
    except OSError as err:
        raise DatabaseUnavailable(f"Cannot look at the folder {folder} ({err.strerror}).") from None
    if status is None or not stat.S_ISDIR(status.st_mode):
        raise DatabaseUnavailable(f"The folder {folder} does not exist. Create it first or choose another location.")
    if status.st_mode & stat.S_IWOTH and not status.st_mode & stat.S_ISVTX:
        raise UnsafeDatabase(
            f"The folder {folder} can be written by other users, who could swap the database for their own; "
            f"run `chmod o-w {_quoted(folder)}`, or choose another folder.",
            str(folder),
        )


def _worst(problems: list[UnsafeDatabase]) -> UnsafeDatabase | None:
    """One that `fix_permissions` cannot fix first: fixing the mode would not help while it remains."""
    for problem in problems:
        if not problem.can_fix:
            return problem
    return problems[0] if problems else None


def _read_header(path: Path, expected: os.stat_result) -> bytes:
    """The file's first bytes, read only once the open descriptor is the regular file that lstat saw."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:  # a link appeared at the path since lstat
            raise UnsafeDatabase(f"{path} changed while it was being checked; try again.", str(path)) from None
        raise DatabaseUnavailable(f"Cannot read {path} ({err.strerror}). Check its permissions.") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (expected.st_dev, expected.st_ino):
            raise UnsafeDatabase(f"{path} changed while it was being checked; try again.", str(path))
        return os.pread(fd, HEADER_LENGTH, 0)
    except OSError as err:
        raise DatabaseUnavailable(f"Cannot read {path} ({err.strerror}). Check its permissions.") from None
    finally:
        os.close(fd)


def examine(path: Path, location: str) -> tuple[os.stat_result, bytes] | None:
    """Check the database file, its companions and its folder; its status and header, or None when missing.

    Raises UnsafeDatabase (see `_problem`), NotADatabase for a folder or a file without SQLite's header, and
    DatabaseUnavailable when the folder is missing. Nothing is written.
    """
    check_folder(path.parent)
    status = _lstat(path)
    if status is None:
        return None
    if stat.S_ISDIR(status.st_mode):
        raise NotADatabase(f"{location} is a folder, not a database file. Choose a file.")
    problem = _problem(path, status)
    if problem is not None and not problem.can_fix:
        raise problem  # a link, a FIFO, another user's file: not even opened
    # Our own regular file: a few bytes say whether it is a database at all, which matters more to the
    # person than its mode (no point in `chmod` on a shopping list).
    header = _read_header(path, status)
    if not header:
        raise NotADatabase(f"{location} is an empty file, not an API Key Manager database. Choose another file.")
    if not header.startswith(SQLITE_HEADER):
        raise NotADatabase(f"{location} is not a database file. Choose another file; it was not changed.")
    problems = [problem] if problem is not None else []
    for companion in companions(path):
        companion_status = _lstat(companion)
        if companion_status is not None:
            found = _problem(companion, companion_status)
            if found is not None:
                problems.append(found)
    worst = _worst(problems)
    if worst is not None:
        raise worst
    return status, header


def check_strays(path: Path) -> None:
    """Before a database is created at `path`: no companion may be there already.

    SQLite would take a leftover -wal or -journal as the new database's own and apply its pages to it.
    """
    for companion in companions(path):
        status = _lstat(companion)
        if status is None:
            continue
        problem = _problem(companion, status)
        if problem is not None and not problem.can_fix:
            raise problem
        raise UnsafeDatabase(
            f"{companion} is left over from a database that is no longer there, and SQLite would apply it to a "
            f"new one; move it away, or {CHOOSE_ANOTHER}.",
            str(companion),
        )


def looks_complete(path: Path) -> bool:
    """Whether a rollback-journal database's file is as long as its header says (a cut copy is not).

    SQLite keeps the page count in the header valid on every commit in rollback-journal mode, so a shorter
    file was cut; changing such a file (to switch it to WAL) would change a damaged database.
    """
    status = _lstat(path)
    if status is None or not stat.S_ISREG(status.st_mode):
        return False
    header = _read_header(path, status)
    if len(header) < HEADER_LENGTH:
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] != header[92:96] or pages == 0 or page_size < 512:
        return False  # the count is not valid: nothing to judge by, so change nothing
    return status.st_size >= page_size * pages


def fix_permissions(path: Path) -> None:
    """`chmod 600` the database file and each companion that is a regular file of ours; nothing else.

    Never follows a link: the mode is changed through a descriptor opened with O_NOFOLLOW, or, when the
    file's mode lets not even its owner read it, after lstat showed it is our own regular file.
    """
    for target in (path, *companions(path)):
        status = _lstat(target)
        if status is None or not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            continue
        try:
            fd = os.open(target, _OPEN_FLAGS)
        except PermissionError:
            fd = -1
        except OSError as err:
            raise DatabaseUnavailable(f"Cannot change the permissions of {target} ({err.strerror}).") from None
        try:
            if fd >= 0:
                opened = os.fstat(fd)
                if (opened.st_dev, opened.st_ino) == (status.st_dev, status.st_ino):
                    os.fchmod(fd, 0o600)
            else:
                os.chmod(target, 0o600)
        except OSError as err:
            raise DatabaseUnavailable(f"Cannot change the permissions of {target} ({err.strerror}).") from None
        finally:
            if fd >= 0:
                os.close(fd)


def remove_quietly(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
