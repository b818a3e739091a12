"""Whether the database file at a path is still the one a store opened (its identity: device and inode)."""

from __future__ import annotations

import os
from pathlib import Path

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
