"""`apikeys list --search/--status/--sort/--reverse/--limit/--csv` through a subprocess, on both backends."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from desktop.core import keys
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.backends import execute, is_server
from tests.helpers import run_cli

ONE_LINE_ERROR = re.compile(r"^apikeys: [^\n]+\n$")


def _fill(database: str) -> list[str]:
    """Five keys (one inactive, one expired, one expiring in 3 days, one used); the full keys, oldest first."""
    now = datetime.now(UTC)
    with KeyStore.open(database, create=True) as store:
        store.insert_many(
            [
                NewKey("Billing production", now - timedelta(days=5), None),
                NewKey("billing staging", now - timedelta(days=4), now - timedelta(days=1)),
                NewKey("Search", now - timedelta(days=3), now + timedelta(days=3)),
                NewKey("Webhooks", now - timedelta(days=2), None, active=False),
            ]
        )
        full = store.create("Reporting").key
    used = (now - timedelta(hours=1)).replace(tzinfo=None)
    execute(database, "UPDATE api_keys SET last_used_at = :t WHERE id = 5", {"t": _time(database, used)})
    return [full]


def _time(database: str, naive: datetime) -> object:
    return naive if is_server(database) else naive.isoformat(" ", "microseconds")


def _list(database: str, *args: str) -> list[dict[str, object]]:
    result = run_cli("--database", database, "list", "--json", *args)
    assert result.returncode == 0 and not result.stderr, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def test_json_carries_status_by_the_one_rule(database: str) -> None:
    _fill(database)
    statuses = {entry["description"]: entry["status"] for entry in _list(database)}
    assert statuses == {
        "Reporting": "active",
        "Webhooks": "inactive",
        "Search": "active",
        "billing staging": "expired",
        "Billing production": "active",
    }
    table = run_cli("--database", database, "list").stdout
    assert "STATUS" in table.splitlines()[0] and re.search(r"Webhooks .* inactive", table)


def test_search_status_sort_reverse_and_limit(database: str) -> None:
    _fill(database)

    def names(*args: str) -> list[object]:
        return [entry["description"] for entry in _list(database, *args)]

    assert names("--search", "BILLING") == ["billing staging", "Billing production"]
    assert names("--status", "expiring") == ["Search"]
    assert names("--status", "expired") == ["billing staging"]
    assert names("--status", "inactive") == ["Webhooks"]
    assert names("--status", "active", "--sort", "description") == ["Billing production", "Reporting", "Search"]
    assert names("--status", "unused", "--limit", "2") == ["Webhooks", "Search"]
    assert names("--sort", "expires") == ["billing staging", "Search", "Reporting", "Webhooks", "Billing production"]
    assert names("--sort", "expires", "--reverse", "--limit", "1") == ["Billing production"]
    assert names("--sort", "last-used")[0] == "Reporting"
    assert names("--sort", "description", "--reverse")[0] == "Webhooks"
    assert names("--search", "nothing like it") == []
    assert "No keys match." in run_cli("--database", database, "list", "--search", "nothing like it").stdout


def test_search_by_masked_form_or_full_key_never_echoes_the_key(database: str) -> None:
    [full] = _fill(database)
    masked = keys.mask(full)
    for text in (masked, masked[:7], masked.replace("…", "...")):
        assert "Reporting" in [e["description"] for e in _list(database, "--search", text)], text
    for args in (("--json",), ("--csv",), ()):
        result = run_cli("--database", database, "list", "--search", full, *args)
        assert result.returncode == 0 and full not in result.stdout + result.stderr
        assert full[3:35] not in result.stdout and "Reporting" in result.stdout
    other = keys.generate()
    assert _list(database, "--search", other) == []


def test_csv_is_metadata_only_with_true_false_and_empty_nulls(database: str) -> None:
    [full] = _fill(database)
    result = run_cli("--database", database, "list", "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    as_json = _list(database)
    assert [row["id"] for row in rows] == [str(entry["id"]) for entry in as_json]
    assert list(rows[0]) == list(as_json[0])  # the same fields, in the same order
    webhooks = next(row for row in rows if row["description"] == "Webhooks")
    assert webhooks["active"] == "false" and webhooks["expires_at"] == "" and webhooks["last_used_at"] == ""
    assert next(row for row in rows if row["description"] == "Reporting")["active"] == "true"
    assert full not in result.stdout and "digest" not in result.stdout
    empty = run_cli("--database", database, "list", "--csv", "--search", "nothing like it")
    assert empty.stdout.splitlines() == [",".join(as_json[0])]


@pytest.mark.parametrize(
    "args",
    [
        ("--status", "sleeping"),
        ("--status", ""),
        ("--sort", "size"),
        ("--limit", "0"),
        ("--limit", "-3"),
        ("--limit", "ten"),
        ("--limit", "²"),
        ("--search", "x" * 10_000),
        ("--search", "a\u202eb"),
        ("--json", "--csv"),
    ],
)
def test_bad_list_options_are_one_line_exit_2_and_change_nothing(database: str, args: tuple[str, ...]) -> None:
    _fill(database)
    before = _list(database)
    result = run_cli("--database", database, "list", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr) < 300
    assert _list(database) == before


def test_bad_options_are_refused_before_the_database_is_looked_for(tmp_path: object) -> None:
    missing = f"{tmp_path}/nowhere.db"
    result = run_cli("--database", missing, "list", "--status", "sleeping")
    assert result.returncode == 2 and "Unknown status 'sleeping'" in result.stderr


def test_search_text_of_any_alphabet_is_answered(database: str) -> None:
    _fill(database)
    for text in ("🔑", "שלום", "ab", "%", "_", '"', "'; DROP TABLE api_keys; --"):
        result = run_cli("--database", database, "list", "--search", text)
        assert result.returncode == 0 and "No keys match." in result.stdout, (text, result.stderr)
    assert len(_list(database)) == 5
