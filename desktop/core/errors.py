"""One base error for everything the store refuses; each carries a message for people."""

from __future__ import annotations

from typing import Self


class DomainError(Exception):
    """A failure a person can act on. `str(err)` is the message to show them."""

    #: The CLI's exit status for this kind of failure (see CONTRACT.md).
    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def fresh(self) -> Self:
        """The same error as a new object, to raise again without adding to one shared traceback."""
        clone = type(self).__new__(type(self))
        Exception.__init__(clone, *self.args)
        clone.__dict__.update(self.__dict__)
        return clone


class InvalidInput(DomainError):
    """Bad usage or bad input: an empty description, a past expiry, a malformed ID."""

    exit_code = 2


class InvalidDescription(InvalidInput):
    pass


class InvalidExpiry(InvalidInput):
    pass


class InvalidKeyId(InvalidInput):
    pass


class KeyNotFound(DomainError):
    """The key does not exist (any more): another process may have deleted it."""

    exit_code = 1

    def __init__(self, key_id: int) -> None:
        super().__init__(f"No API key #{key_id} exists; it may have been deleted.")
        self.key_id = key_id


class DatabaseError(DomainError):
    """The database cannot be used: not a database, corrupt, locked, newer, read-only."""

    exit_code = 3


class NotADatabase(DatabaseError):
    pass


class SchemaTooNew(DatabaseError):
    pass


class DatabaseLocked(DatabaseError):
    pass


class DatabaseReadOnly(DatabaseError):
    pass


class DatabaseUnavailable(DatabaseError):
    pass


class DatabaseMissing(DatabaseError):
    """No database at the path, and this entry point may not create one."""

    def __init__(self, path: str, message: str | None = None) -> None:
        super().__init__(message or f"No database at {path}. Check the path; nothing was created.")
        self.path = path


class UnsafeDatabase(DatabaseError):
    """The file at the path, a companion (-wal, -shm, -journal) or its folder is not safe to open.

    `path` names the offending file; `can_fix` is True when only its mode is wrong and the user owns it,
    so offering `chmod 600` would make it safe.
    """

    def __init__(self, message: str, path: str, *, can_fix: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.can_fix = can_fix
