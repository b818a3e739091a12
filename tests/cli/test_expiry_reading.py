"""Issue 21.3 and 21.16 through the command line: one expiry reads as one date wherever a person reads it.

A date-only expiry (stored as the UTC instant of the following local midnight) reads as its last valid day in
`list`'s table and `log`'s human form; an instant (the end of a roll's grace) reads as a local time and says so;
`--json` keeps the instant. A roll's log entry names the other key by its masked form, never by an id.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import run_cli

#: The issue's own case: a key valid through 2026-12-14 made in California is stored as 2026-12-15T08:00Z.
ZONES = ("UTC", "America/Los_Angeles", "Asia/Kolkata")


def cli(db: Path, *args: str, zone: str = "UTC") -> str:
    result = run_cli(*args, "--database", str(db), env={"TZ": zone})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _row(listing: str, key_id: int) -> str:
    return next(line for line in listing.splitlines() if line.split()[0] == str(key_id))


@pytest.mark.parametrize("zone", ZONES)
def test_a_date_expiry_reads_as_its_last_day_in_list_and_log_and_json_keeps_the_instant(
    db_path: Path, zone: str
) -> None:
    last_day = date.today() + timedelta(days=30)
    cli(db_path, "create", "--description", "dated", "--expires", last_day.isoformat(), zone=zone)

    listing = cli(db_path, "list", zone=zone)
    assert last_day.isoformat() in _row(listing, 1)
    assert (last_day + timedelta(days=1)).isoformat() not in listing

    log = cli(db_path, "log", zone=zone)
    assert f"valid through {last_day.isoformat()}" in log
    # Neither the raw details nor the stored instant: a person reads the day.
    # (An instant by its form, not by "T0", which a masked key may hold.)
    assert "expires_at" not in log and not re.search(r"\d{4}-\d\d-\d\dT\d\d", log) and "{" not in log

    (stored,) = json.loads(cli(db_path, "list", "--json", zone=zone))
    instant = datetime.fromisoformat(stored["expires_at"])
    assert instant.utcoffset() == timedelta(0)  # the instant, as documented
    (event,) = json.loads(cli(db_path, "log", "--json", zone=zone))
    assert datetime.fromisoformat(event["details"]["expires_at"]) == instant


def test_after_roll_grace_now_list_reads_the_old_key_expired(db_path: Path) -> None:
    cli(db_path, "create", "--description", "old")
    roll = run_cli("roll", "1", "--grace", "now", "--database", str(db_path))
    assert roll.returncode == 0 and "the old key no longer works" in roll.stderr
    old = _row(cli(db_path, "list"), 1)
    assert re.search(r"  Expired \d\d:\d\d today  +expired", old), old


def test_a_grace_reads_as_a_local_time_and_says_so_and_the_log_names_the_new_key_masked(db_path: Path) -> None:
    cli(db_path, "create", "--description", "old")
    roll = run_cli("roll", "1", "--grace", "2h", "--database", str(db_path))
    assert roll.returncode == 0
    assert re.search(r"the old key keeps working until \d\d:\d\d (today|tomorrow) \(local time\)", roll.stderr)
    listing = cli(db_path, "list")
    assert re.search(r"  Until \d\d:\d\d (today|tomorrow)  +active", _row(listing, 1)), listing
    new_masked, old_masked = (_row(listing, key_id).split()[1] for key_id in (2, 1))

    log = cli(db_path, "log")
    rolled = next(line for line in log.splitlines() if "rolled " in line)
    assert re.search(r"old key works until \d\d:\d\d (today|tomorrow) \(local time\)", rolled)
    assert f"replaced by {new_masked}" in rolled and "#2" not in rolled
    created = next(line for line in log.splitlines() if "created " in line and new_masked in line)
    assert f"rolled from {old_masked}" in created and "key #1" not in created


def test_list_csv_bom_writes_utf8_with_a_byte_order_mark_for_spreadsheets(db_path: Path) -> None:
    """Issue 21.14 on the command line: `list --csv --bom`; plain `--csv` stays without a mark."""
    import csv

    cli(db_path, "create", "--description", "Café")
    text = cli(db_path, "list", "--csv", "--bom")
    assert text.startswith("\ufeffid,masked,") and text.count("\ufeff") == 1
    (row,) = csv.DictReader(text.removeprefix("\ufeff").splitlines())
    assert "…" in row["masked"] and row["description"] == "Café"
    assert not cli(db_path, "list", "--csv").startswith("\ufeff")
    refused = run_cli("list", "--bom", "--database", str(db_path))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "--csv" in refused.stderr
