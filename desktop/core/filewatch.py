"""Whether the database file at a path is still the one a store opened (its identity: device and inode)."""

from __future__ import annotations

import enum
import os
from pathlib import Path

#: (st_dev, st_ino): what stays the same while a file is written and changes when another file takes its place.
Identity = tuple[int, int]


class FileChange(enum.Enum):
    """What `KeyStore.check_file()` found at the database path."""

    #: The file the store opened is still there (or the database is not a file).
    UNCHANGED = "unchanged"
    #: Another file took its place (restored, synced, `mv new.db keys.db`); the store now uses that one.
    REPLACED = "replaced"
    #: No file at the path any more; reads use the old handles, writes are refused.
    MISSING = "missing"


def identity_of(status: os.stat_result) -> Identity:
    return (status.st_dev, status.st_ino)


def current_identity(path: Path) -> Identity | None:
    """The identity of whatever is at `path` now (not following a link), None when nothing is there."""
    try:
        return identity_of(os.lstat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None
