"""`apikeys list --csv` keeps a description that a spreadsheet would run as a formula as text (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.helpers import run_cli


@pytest.mark.parametrize(
    "description",
    ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)"],
)
def test_a_formula_like_description_gets_a_leading_quote_in_csv_and_stays_as_it_is_in_json(
    db_path: Path, description: str
) -> None:
    database = str(db_path)
    assert run_cli("--database", database, "create", f"--description={description}").returncode == 0
    assert run_cli("--database", database, "create", "--description", "plain = fine").returncode == 0
    result = run_cli("--database", database, "list", "--csv")
    assert result.returncode == 0, result.stderr
    rows = {row["description"] for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows == {"'" + description, "plain = fine"}
    import json

    listed = json.loads(run_cli("--database", database, "list", "--json").stdout)
    assert {item["description"] for item in listed} == {description, "plain = fine"}
