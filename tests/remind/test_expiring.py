"""`apikeys expiring [--within Nd] [--json]` through the command line, on both backends."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.helpers import run_cli

ONE_LINE_ERROR = re.compile(r"^apikeys: [^\n]+\n$")


def _fill(database: str) -> None:
    now = datetime.now(UTC)
    with KeyStore.open(database, create=True) as store:
        store.insert_many(
            [
                NewKey("Never expires", now - timedelta(days=5), None),
                NewKey("Already expired", now - timedelta(days=4), now - timedelta(days=1)),
                NewKey("In five days", now - timedelta(days=3), now + timedelta(days=5)),
                NewKey("Tomorrow", now - timedelta(days=3), now + timedelta(hours=20)),
                NewKey("Inactive tomorrow", now - timedelta(days=2), now + timedelta(hours=20), active=False),
                NewKey("In twenty days", now - timedelta(days=2), now + timedelta(days=20)),
            ]
        )


def test_expiring_lists_active_keys_soonest_first_and_exits_1(database: str) -> None:
    _fill(database)
    result = run_cli("--database", database, "expiring", "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [entry["description"] for entry in data] == ["Tomorrow", "In five days"]
    listed = json.loads(run_cli("--database", database, "list", "--json", "--status", "expiring").stdout)
    assert sorted(data, key=lambda e: e["id"]) == sorted(listed, key=lambda e: e["id"])  # the same objects

    wide = run_cli("--database", database, "expiring", "--within", "30d")
    assert wide.returncode == 1 and not wide.stderr
    rows = wide.stdout.splitlines()
    assert rows[0].startswith("ID") and [r.split("  ")[2].strip() for r in rows[1:]] != []
    assert [name for name in ("Tomorrow", "In five days", "In twenty days") if name in wide.stdout] == [
        "Tomorrow",
        "In five days",
        "In twenty days",
    ]
    assert wide.stdout.index("Tomorrow") < wide.stdout.index("In five days") < wide.stdout.index("In twenty days")
    assert "Inactive" not in wide.stdout and "expired" not in wide.stdout.lower()

    narrow = run_cli("--database", database, "expiring", "--within", "1")
    assert narrow.returncode == 1 and "Tomorrow" in narrow.stdout and "five" not in narrow.stdout


def test_expiring_none_exits_0(database: str) -> None:
    run_cli("--database", database, "create", "--description", "Forever")
    result = run_cli("--database", database, "expiring")
    assert result.returncode == 0 and not result.stderr
    assert "No active key expires within 7 days." in result.stdout
    as_json = run_cli("--database", database, "expiring", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []


@pytest.mark.parametrize("within", ["0d", "-3d", "7w", "abc", "99999d", ""])
def test_bad_within_is_one_line_exit_2(tmp_path: Path, within: str) -> None:
    database = tmp_path / "keys.db"
    result = run_cli("--database", str(database), "expiring", "--within", within)
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "--within" in result.stderr and result.stdout == ""
    assert not database.exists()
