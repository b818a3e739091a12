"""What the window does about an error: one pure decision, (error, operation, record) → outcome.

Every failure the window meets (a write, a count, a poll, a slot that raised, the excepthook) is turned
into an `Outcome` here and nowhere else; the notifier logs it as it shows it. The words come from
core/presentation.py (`failed_text`, `failed_log`), as the command line's do. No Qt: the rules are tested without a
window (tests/ui/test_error_policy.py).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from desktop.core.errors import DomainError, KeyNotFound
from desktop.core.operations import Operation
from desktop.core.presentation import describe_key, failed_log, failed_text, operation_name
from desktop.core.values import KeyRecord


class Level(enum.Enum):
    INFO = "info"
    ERROR = "error"


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


def decide(err: BaseException, operation: Operation, record: KeyRecord | None = None) -> Outcome:
    """The one error policy: `err` met while doing `operation` (on `record`, the key as the person saw it)."""
    name = operation_name(operation)
    if isinstance(err, KeyNotFound):
        # The core words it (KeyNotFound.naming); the window names the key as the person saw it.
        if record is not None:
            text = f"{err.naming(describe_key(record)).message} The list has been reloaded."
            logged = f"could not {name} key #{record.id}: it no longer exists"
        else:
            text = f"{err.naming('That key').message} The list has been reloaded."
            logged = f"{name}: key #{err.key_id} no longer exists"
        return Outcome(Level.ERROR, text, logged, logging.INFO, False, True, err.message)
    if isinstance(err, DomainError):
        text, logged = failed_text(operation, err.message, record), failed_log(operation, err.message, record)
        return Outcome(Level.ERROR, text, logged, logging.WARNING, False, False, err.message)
    kind = type(err).__name__
    return Outcome(
        Level.ERROR,
        f"Something went wrong ({kind}). The details are in the log; the window keeps working.",
        f"unexpected error in {name}",
        logging.ERROR,
        True,
        False,
        f"unexpected {kind}",
    )
