"""What the window and the command line do, as one enum: `Operation`. Only `enum`: the window's slot guard names
operations at class definition, before the first paint."""

from __future__ import annotations

import enum


class Operation(enum.Enum):
    """What was being done when something failed, or what just succeeded: the window's error policy decides by it,
    and `core/presentation.py` makes every word a person reads about it. Not an audit `Action`: most operations
    (a count, a page turn, an export) change nothing and are never recorded."""

    #: Changes to keys (one, or several at once).
    CREATE = "create"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    DELETE = "delete"
    RENAME = "rename"
    ROLL = "roll"
    SET_SCOPES = "set-scopes"
    SET_LIMITS = "set-limits"
    #: Reads the window makes on its own or when asked; a vanished database file explains their failure.
    COUNT = "count"
    SEARCH = "search"
    RELOAD = "reload"
    POLL = "poll"
    TURN_PAGE = "turn-page"
    #: The rest of what the window does.
    OPEN = "open"
    CHECK_FILE = "check-file"
    LISTEN = "listen"
    READ_LOG = "read-log"
    READ_LIMITS = "read-limits"
    READ_USAGE = "read-usage"
    OPEN_KEY = "open-key"
    EXPORT = "export"
    REMINDERS_ON = "reminders-on"
    REMINDERS_OFF = "reminders-off"
    #: A slot of the window's (`@guarded`) or the excepthook: whatever raised there is a bug.
    HANDLE_EVENT = "handle-event"

    @classmethod
    def toggling(cls, active: bool) -> Operation:
        """ACTIVATE or DEACTIVATE: what setting a key's active flag to `active` is."""
        return cls.ACTIVATE if active else cls.DEACTIVATE
