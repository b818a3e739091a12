"""The one error policy (desktop/ui/control/error_policy.py), without Qt: what the person reads, what is logged,
reload."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from desktop.core.errors import DatabaseLocked, KeyNotFound, NotADatabase
from desktop.core.values import KeyRecord
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


@pytest.mark.parametrize("action", ["activate", "deactivate", "delete"])
def test_a_key_gone_during_a_write_names_it_and_reloads(action: str) -> None:
    outcome = decide(KeyNotFound(7), action, RECORD)
    assert outcome.level is Level.ERROR and outcome.reload
    assert outcome.text.startswith("ak_Ab3d…Zz9Q (“Billing”) no longer exists") and "reloaded" in outcome.text
    assert outcome.log_level == logging.INFO and not outcome.traceback
    assert outcome.log_text == f"could not {action} key #7: it no longer exists"


def test_a_key_gone_elsewhere_reloads_without_a_record() -> None:
    outcome = decide(KeyNotFound(9), "_on_table_toggle_requested")
    assert outcome.reload and outcome.text.startswith("That key no longer exists")
    assert "#9" in outcome.log_text


def test_a_database_error_on_a_write_names_the_action_and_the_masked_key() -> None:
    outcome = decide(DatabaseLocked("The database is busy."), "deactivate", RECORD)
    assert outcome.text == "Could not deactivate ak_Ab3d…Zz9Q: The database is busy."
    assert not outcome.reload and outcome.log_level == logging.WARNING and not outcome.traceback
    assert outcome.reason == "The database is busy."


def test_create_and_open_say_what_did_not_happen() -> None:
    assert decide(DatabaseLocked("busy"), "create").text == "Could not generate a key: busy"
    assert (
        decide(NotADatabase("not a database file"), "open").text == "Could not open that database: not a database file"
    )


def test_a_domain_error_elsewhere_is_its_own_message() -> None:
    outcome = decide(DatabaseLocked("The database is busy."), "count")
    assert outcome.text == "The database is busy." and outcome.log_text == "count failed: The database is busy."


def test_the_unexpected_is_logged_with_its_traceback_and_shown_by_kind_only() -> None:
    outcome = decide(ZeroDivisionError("ak_secretish"), "event handler", RECORD)
    assert outcome.traceback and outcome.log_level == logging.ERROR and not outcome.reload
    assert "ZeroDivisionError" in outcome.text and "ak_secretish" not in outcome.text
    assert outcome.reason == "unexpected ZeroDivisionError"
