"""What the window does about an error: one pure decision, (error, action, record) → outcome.

Every failure the window meets (a write, a count, a poll, a slot that raised, the excepthook) is turned
into an `Outcome` here and nowhere else; the notifier logs it as it shows it. No Qt: the rules are tested
without a window (tests/ui/test_error_policy.py).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from desktop.core.errors import DomainError, KeyNotFound
from desktop.core.presentation import describe_key
from desktop.core.values import KeyRecord


class Level(enum.Enum):
    INFO = "info"
    ERROR = "error"


#: Actions that change one key, as a person names them ("Could not deactivate ak_…").
WRITES = frozenset(
    {"activate", "deactivate", "delete", "rename", "roll", "change the scopes of", "change the limits of"}
)


@dataclass(frozen=True, slots=True)
class Outcome:
    level: Level
    #: What the person reads (keys only masked).
    text: str
    #: What the log says, at `log_level`; `traceback` adds the stack for the unexpected.
    log_text: str
    log_level: int
    traceback: bool
    #: The list may be stale (a key vanished): reload it.
    reload: bool
    #: The reason alone, for a dialog that says it next to its own words ("The key was not created: …").
    reason: str


def decide(err: BaseException, action: str, record: KeyRecord | None = None) -> Outcome:
    """The one error policy. `action` is what was being done ("create", "delete", "count", a slot's name)."""
    if isinstance(err, KeyNotFound):
        # The core words it (KeyNotFound.naming); the window names the key as the person saw it.
        if record is not None:
            text = f"{err.naming(describe_key(record)).message} The list has been reloaded."
            logged = f"could not {action} key #{record.id}: it no longer exists"
        else:
            text = f"{err.naming('That key').message} The list has been reloaded."
            logged = f"{action}: key #{err.key_id} no longer exists"
        return Outcome(Level.ERROR, text, logged, logging.INFO, False, True, err.message)
    if isinstance(err, DomainError):
        if action == "create":
            text, logged = f"Could not generate a key: {err.message}", f"could not create a key: {err.message}"
        elif action == "open":
            text, logged = f"Could not open that database: {err.message}", f"could not open a database: {err.message}"
        elif record is not None and action in WRITES:
            text = f"Could not {action} {record.masked}: {err.message}"
            logged = f"could not {action} key #{record.id}: {err.message}"
        else:
            text, logged = err.message, f"{action} failed: {err.message}"
        return Outcome(Level.ERROR, text, logged, logging.WARNING, False, False, err.message)
    name = type(err).__name__
    return Outcome(
        Level.ERROR,
        f"Something went wrong ({name}). The details are in the log; the window keeps working.",
        f"unexpected error in {action}",
        logging.ERROR,
        True,
        False,
        f"unexpected {name}",
    )
