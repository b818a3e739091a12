"""Messages are the core's, exit statuses and the command line's wording the CLI's; one injectable clock."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desktop import cli
from desktop.core.clock import FixedClock
from desktop.core.errors import (
    CHOOSE_ANOTHER,
    DatabaseLocked,
    DatabaseMissing,
    DomainError,
    InvalidDescription,
    InvalidExpiry,
    KeyNotFound,
    UnsafeDatabase,
)
from desktop.core.store import KeyStore


def _every_error_class(kind: type[DomainError] = DomainError) -> list[type[DomainError]]:
    return [kind, *(c for sub in kind.__subclasses__() for c in _every_error_class(sub))]


def test_exit_statuses_belong_to_the_command_line() -> None:
    assert not [kind.__name__ for kind in _every_error_class() if "exit_code" in vars(kind)]
    assert cli.exit_status(InvalidDescription("x")) == 2
    assert cli.exit_status(KeyNotFound(5)) == 1
    assert cli.exit_status(DatabaseLocked("x")) == 3
    assert cli.exit_status(DatabaseMissing("/x")) == 3
    assert cli.exit_status(DomainError("x")) == 3


def test_key_not_found_names_the_key_by_id_or_as_shown() -> None:
    err = KeyNotFound(7)
    assert err.message == "No API key #7 exists; it may have been deleted."
    named = err.naming("ak_7Gq2…x9Lp (“Billing”)")
    assert isinstance(named, KeyNotFound) and named.key_id == 7
    assert named.message == "ak_7Gq2…x9Lp (“Billing”) no longer exists: another program or window deleted it."


def test_the_core_offers_another_database_and_the_cli_says_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "elsewhere.db").write_bytes(b"")
    link = tmp_path / "keys.db"
    link.symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(UnsafeDatabase) as raised:
        KeyStore.open(str(link))
    assert CHOOSE_ANOTHER in raised.value.message and "--database" not in raised.value.message
    assert cli.report(raised.value) == 3
    line = capsys.readouterr().err
    assert line.endswith("choose another with --database or $APIKEYS_DATABASE.\n") and line.count("\n") == 1


def test_the_store_and_the_cli_take_their_time_from_one_injected_clock(database: str) -> None:
    later = datetime.now(UTC) + timedelta(days=3 * 365)
    clock = FixedClock(later)
    with KeyStore.open(database, clock, create=True) as store:
        created = store.create("dated by the clock", clock.today() + timedelta(days=1))
        assert created.record.created_at == later
        with pytest.raises(InvalidExpiry, match="in the past"):  # tomorrow by the system clock, past by ours
            store.create("too early", date.today() + timedelta(days=1))
    args = cli.parse_args(["--database", database, "list"])
    out = io.StringIO()
    assert cli.execute(args, out, FixedClock(later + timedelta(days=2))) == 0
    assert " expired " in out.getvalue() and " active " not in out.getvalue()
    out = io.StringIO()
    assert cli.execute(args, out, clock) == 0
    assert " active " in out.getvalue()
