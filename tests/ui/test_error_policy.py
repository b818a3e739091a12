"""The one error policy (desktop/ui/control/error_policy.py), without Qt: what the person reads, what is logged,
reload."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from desktop.core.errors import DatabaseLocked, KeyNotFound, NotADatabase
from desktop.core.operations import Operation
from desktop.core.presentation import done_many_text, done_text, not_done_text, operation_name, refused_text
from desktop.core.values import BulkResult, KeyRecord
from desktop.ui.control.error_policy import Level, decide
from tests.helpers import REPO

RECORD = KeyRecord(
    id=7,
    masked="ak_Ab3d…Zz9Q",
    description="Billing",
    created_at=datetime(2031, 3, 18, tzinfo=UTC),
    expires_at=None,
    active=True,
    last_used_at=None,
)


def test_the_policy_imports_no_qt() -> None:
    code = (
        "import sys, desktop.ui.control.error_policy; print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("operation", "action"),
    [(Operation.ACTIVATE, "activate"), (Operation.DEACTIVATE, "deactivate"), (Operation.DELETE, "delete")],
)
def test_a_key_gone_during_a_write_names_it_and_reloads(operation: Operation, action: str) -> None:
    outcome = decide(KeyNotFound(7), operation, RECORD)
    assert outcome.level is Level.ERROR and outcome.reload
    assert outcome.text.startswith("ak_Ab3d…Zz9Q (“Billing”) no longer exists") and "reloaded" in outcome.text
    assert outcome.log_level == logging.INFO and not outcome.traceback
    assert outcome.log_text == f"could not {action} key #7: it no longer exists"


def test_a_key_gone_elsewhere_reloads_without_a_record() -> None:
    outcome = decide(KeyNotFound(9), Operation.HANDLE_EVENT)
    assert outcome.reload and outcome.text.startswith("That key no longer exists")
    assert "#9" in outcome.log_text


def test_a_database_error_on_a_write_names_the_action_and_the_masked_key() -> None:
    outcome = decide(DatabaseLocked("The database is busy."), Operation.DEACTIVATE, RECORD)
    assert outcome.text == "Could not deactivate ak_Ab3d…Zz9Q: The database is busy."
    assert not outcome.reload and outcome.log_level == logging.WARNING and not outcome.traceback
    assert outcome.reason == "The database is busy."


def test_create_and_open_say_what_did_not_happen() -> None:
    assert decide(DatabaseLocked("busy"), Operation.CREATE).text == "Could not generate a key: busy"
    assert (
        decide(NotADatabase("not a database file"), Operation.OPEN).text
        == "Could not open that database: not a database file"
    )


def test_a_domain_error_elsewhere_is_its_own_message() -> None:
    outcome = decide(DatabaseLocked("The database is busy."), Operation.COUNT)
    assert outcome.text == "The database is busy." and outcome.log_text == "count failed: The database is busy."


def test_the_unexpected_is_logged_with_its_traceback_and_shown_by_kind_only() -> None:
    outcome = decide(ZeroDivisionError("ak_secretish"), Operation.HANDLE_EVENT, RECORD)
    assert outcome.traceback and outcome.log_level == logging.ERROR and not outcome.reload
    assert "ZeroDivisionError" in outcome.text and "ak_secretish" not in outcome.text
    assert outcome.reason == "unexpected ZeroDivisionError"


def test_every_write_to_one_key_names_it_in_its_own_words() -> None:
    said = {op: decide(DatabaseLocked("busy"), op, RECORD) for op in Operation}
    assert said[Operation.RENAME].text == "Could not rename ak_Ab3d…Zz9Q: busy"
    assert said[Operation.ROLL].text == "Could not roll ak_Ab3d…Zz9Q: busy"
    assert said[Operation.SET_SCOPES].text == "Could not change the scopes of ak_Ab3d…Zz9Q: busy"
    assert said[Operation.SET_SCOPES].log_text == "could not change the scopes of key #7: busy"
    assert said[Operation.READ_LOG].text == "busy" and said[Operation.READ_LOG].log_text == "read the log failed: busy"
    # Every operation has words of its own: none is logged by its enum value ("turn-page").
    assert not [op for op in Operation if "-" in operation_name(op)]


def test_one_place_words_an_operation_done_refused_or_not_done() -> None:
    """core/presentation.py: what the window's status bar, its dialogs and the command line read."""
    assert done_text(Operation.DEACTIVATE, RECORD) == (
        "Deactivated ak_Ab3d…Zz9Q (“Billing”): clients using it will be rejected."
    )
    assert (
        done_text(Operation.ACTIVATE, RECORD)
        == "Activated ak_Ab3d…Zz9Q (“Billing”): clients using it are accepted again."
    )
    assert done_text(Operation.DELETE, RECORD) == "Deleted ak_Ab3d…Zz9Q (“Billing”)."
    assert done_text(Operation.SET_SCOPES, RECORD) == "Scopes of ak_Ab3d…Zz9Q (“Billing”): none."
    renamed = dataclasses.replace(RECORD, description="Payments")
    assert done_text(Operation.RENAME, renamed) == "Renamed ak_Ab3d…Zz9Q (“Payments”)."
    assert done_text(Operation.RENAME, renamed, before=RECORD) == "Renamed ak_Ab3d…Zz9Q to “Payments”."
    now = datetime(2031, 3, 20, tzinfo=UTC)
    old = dataclasses.replace(RECORD, expires_at=now)
    new = dataclasses.replace(RECORD, id=8, masked="ak_N3w1…Zz9Q", active=False)
    assert done_text(Operation.ROLL, new, before=old, now=now) == (
        "Rolled ak_Ab3d…Zz9Q (“Billing”) into ak_N3w1…Zz9Q: the old key no longer works; the new key is inactive, as "
        "the old one was. Copy the new key now."
    )
    assert refused_text(Operation.SET_SCOPES) == "change the key's scopes"
    assert refused_text(Operation.DEACTIVATE, many=True) == "deactivate the keys"
    assert [not_done_text(op) for op in (Operation.RENAME, Operation.ROLL, Operation.SET_SCOPES)] == [
        "Not renamed", "Not rolled", "Not changed",
    ]  # fmt: skip
    assert done_many_text(Operation.DELETE, BulkResult((RECORD, RECORD), (9,))) == "2 deleted; 1 was already gone."
    assert done_many_text(Operation.ACTIVATE, BulkResult((RECORD,), ())) == "Activated 1 key."
    assert done_many_text(Operation.DEACTIVATE, BulkResult((), (1, 2))) == (
        "Nothing was deactivated: all 2 keys were already gone."
    )
