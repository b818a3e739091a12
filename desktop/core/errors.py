"""One base error for everything the store refuses; each carries a message for people.

Messages are the same in every front end: what the command line turns into an exit status, and how it
names the way to choose a database, is the command line's business (desktop.cli).
"""

from __future__ import annotations

from typing import Self

#: How a message offers choosing another database: each front end says how (the window: File ▸ Open; the
#: command line: --database or $APIKEYS_DATABASE), so the words are one constant it can find.
CHOOSE_ANOTHER = "choose another database"


class DomainError(Exception):
    """A failure a person can act on. `str(err)` is the message to show them."""

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


class InvalidDescription(InvalidInput):
    pass


class InvalidExpiry(InvalidInput):
    pass


class InvalidKeyId(InvalidInput):
    pass


class KeyNotFound(DomainError):
    """The key does not exist (any more): another process may have deleted it.

    Its message names the key by its ID; `naming` gives the same error naming it as the person saw it.
    """

    def __init__(self, key_id: int, described: str | None = None) -> None:
        if described is None:
            message = f"No API key #{key_id} exists; it may have been deleted."
        else:
            message = f"{described} no longer exists: another program or window deleted it."
        super().__init__(message)
        self.key_id = key_id

    def naming(self, described: str) -> KeyNotFound:
        """This error, its message naming the key as shown (e.g. `describe_key(record)`)."""
        return KeyNotFound(self.key_id, described)


class DatabaseError(DomainError):
    """The database cannot be used: not a database, corrupt, locked, newer, read-only."""


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


class ServerUnreachable(DatabaseUnavailable):
    """A database server (PostgreSQL) cannot be reached or went away; it may come back."""


class PermissionDenied(DatabaseError):
    """The database role may not do this (a verifier listing keys, a manager changing the schema)."""


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
