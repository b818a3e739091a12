"""The command line and the window name keys alike: one status rule, one shortened description."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import KeyRecord, NewKey
from desktop.ui.control.key_table_model import COL_STATUS, KeyTableModel
from tests.helpers import run_cli

LONG = "Billing service for the partner integration that replaced the old nightly export job, run by Ana"


def _seed(db_path: Path) -> tuple[int, int]:
    """An active key whose expiry passed yesterday, and an active key with a long description."""
    now = datetime.now(UTC)
    with KeyStore.open(str(db_path), create=True) as store:
        store.insert_many(
            [
                NewKey("expired but never deactivated", now - timedelta(days=30), now - timedelta(days=1)),
                NewKey(LONG, now - timedelta(days=2)),
            ]
        )
        by_description = {r.description: r.id for r in store.all()}
    return by_description["expired but never deactivated"], by_description[LONG]


def test_an_expired_active_key_is_expired_in_the_cli_and_the_window(qtbot: QtBot, db_path: Path) -> None:
    expired_id, _ = _seed(db_path)
    listing = run_cli("--database", str(db_path), "list")
    assert listing.returncode == 0, listing.stderr
    [row] = [line for line in listing.stdout.splitlines() if line.startswith(f"{expired_id} ")]
    assert re.search(r"\bexpired\b", row) and not re.search(r"\bactive\b", row)

    with KeyStore.open(str(db_path)) as store:
        records = store.all()
    model = KeyTableModel()
    model.reload(records)
    [row_number] = [i for i, r in enumerate(records) if r.id == expired_id]
    assert model.data(model.index(row_number, COL_STATUS)) == "Expired"


def test_the_cli_table_and_its_messages_shorten_a_description_alike(db_path: Path) -> None:
    _, long_id = _seed(db_path)
    listing = run_cli("--database", str(db_path), "list")
    assert listing.returncode == 0, listing.stderr
    [row] = [line for line in listing.stdout.splitlines() if line.startswith(f"{long_id} ")]
    [cell] = re.findall(r"Billing service[^…]*…", row)
    assert len(cell) == 60 and LONG.startswith(cell[:-1])

    deactivated = run_cli("--database", str(db_path), "deactivate", str(long_id))
    assert deactivated.returncode == 0, deactivated.stderr
    # The status bar's wording comes from the same function (desktop.core.presentation.describe_key).
    assert f"(“{cell}”)" in deactivated.stdout


def test_the_cli_says_each_change_in_the_words_the_window_uses(db_path: Path) -> None:
    """core/presentation.py words what an operation did, for the status bar and the command line alike (issue 22
    item 6): each command's line is `done_text` of its Operation."""
    from desktop.core.operations import Operation
    from desktop.core.presentation import done_text

    with KeyStore.open(str(db_path), create=True) as store:
        key_id = store.create("Billing").record.id

    def said(*args: str) -> str:
        result = run_cli("--database", str(db_path), *args[:1], str(key_id), *args[1:])
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def now() -> KeyRecord:
        with KeyStore.open(str(db_path)) as store:
            return store.get(key_id)

    assert said("deactivate") == done_text(Operation.DEACTIVATE, now())
    assert said("activate") == done_text(Operation.ACTIVATE, now())
    assert (
        said("scopes", "read", "write")
        == done_text(Operation.SET_SCOPES, now())
        == (f"Scopes of {now().masked} (“Billing”): read, write.")
    )
    assert said("rename", "--description", "Payments") == done_text(Operation.RENAME, now())
    before = now()
    assert said("delete") == done_text(Operation.DELETE, before) == f"Deleted {before.masked} (“Payments”)."
