"""The benchmark runs end to end at a tiny size, so it cannot rot; no timing is asserted (DESIGN.md, habit 7).

`--only` is checked by every run here: the tiny run asks for every group but pg, pgload and usage and gets exactly
their rows, the PostgreSQL run none of the SQLite rows (nor their database), the run without autocannon (`--only
http`) no row at all.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.bench import GROUPS
from tests.benchmarks.core_bench import REPO
from tests.benchmarks.query_bench import ROW_NAMES as QUERY_ROWS
from tests.benchmarks.usage_bench import ROW_NAMES as PAINT_ROWS
from tests.benchmarks.usage_store_bench import PG_ROW_NAMES as PG_USAGE_ROWS
from tests.benchmarks.usage_store_bench import ROW_NAMES as USAGE_ROWS
from tests.pg import unavailable

ROWS = {
    "start",
    "window visible",
    "memory",
    "page turn (first)",
    "page turn (middle)",
    "page turn (last)",
    "count",
    "verify",
    "verify (locked)",
    "verify (limited)",
    "cold verify (library)",
    "seed",
    "event-loop stall (busy database)",
    *QUERY_ROWS,
}


#: The rows under load, each printed in docs/performance.md's tables with its target (checked below).
HTTP_ROWS = {"serve verify (HTTP)", "WSGI service (docs' middleware)"}
PG_CLIENT_ROWS = {"pg verify, 8 clients", "pg verify, 64 clients", "pg verify, 64 / 8 clients"}
PG_SCALE_ROWS = {"pg serve, 2 processes", "pg serve, 4 processes"}
LATENCY_ROWS = HTTP_ROWS | PG_SCALE_ROWS | (PG_CLIENT_ROWS - {"pg verify, 64 / 8 clients"})
#: The rows under load, tiny: about a second a run, a few hundred requests; the servers on 127.0.0.1 only.
TINY_LOAD = ("--load-seconds", "1", "--load-requests", "300", "--load-connections", "8")
NO_AUTOCANNON = "skipped: autocannon"

#: A whole bench run, even tiny, is minutes on a loaded two-core machine: a limit for a hang, not for speed.
RUN_LIMIT_S = 540

# Several processes at full speed for seconds: one after another with the other heavy tests (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("heavy")


def _documented(row: dict[str, object]) -> bool:
    """docs/performance.md has the row in one of its tables, with the target the bench checks."""
    text = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    return any(line.startswith(f"| {row['row']} |") and f"| {row['target']} |" in line for line in text.splitlines())


def _under_load(rows: dict[str, dict[str, object]], skipped: list[str], expected: set[str], what: str) -> set[str]:
    """The rows under load a run gave: all of `expected`, or none and one line saying autocannon is missing."""
    found = expected & set(rows)
    if not found:
        assert any(line.startswith(what) and NO_AUTOCANNON in line for line in skipped), skipped
        return found
    assert found == expected
    for name in found:
        row = rows[name]
        assert _documented(row), f"docs/performance.md has no row {name!r} with target {row['target']!r}"
        latency = row.get("latency")
        if name in LATENCY_ROWS:
            assert isinstance(latency, dict) and all(value > 0 for value in latency.values()), (name, latency)
    return found


@pytest.mark.timeout(RUN_LIMIT_S + 60)
def test_bench_runs_at_a_tiny_size_and_reports_every_row(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.bench",
            "--keys",
            "2000",
            "--repeats",
            "1",
            "--seed-keys",
            "2000",
            "--database",
            str(tmp_path / "bench.db"),
            "--json",
            str(results),
            "--no-fail",
            "--no-warm-up",  # its numbers are not read: the untimed first round of process starts buys nothing
            *("--stall-seconds", "1"),  # nor the stall's: 1 s of five busy processes, not 4, in each of two sessions
            *TINY_LOAD,
            # The PostgreSQL rows, and the usage rows (which have some), have tests of their own, below.
            *(arg for group in GROUPS if group not in ("pg", "pgload", "usage") for arg in ("--only", group)),
        ],
        cwd=REPO,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT_S,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(results.read_text(encoding="utf-8"))
    rows = {row["row"]: row for row in report["rows"]}
    http = _under_load(rows, report["skipped"], HTTP_ROWS, "HTTP rows")
    assert set(rows) == ROWS | http
    for row in rows.values():
        for field in ("ours", "floor", "ratio"):
            assert isinstance(row[field], int | float) and math.isfinite(row[field]), (row["row"], field)
        assert isinstance(row["passed"], bool) and row["target"]
        assert f"| {row['row']} |" in proc.stdout  # the Markdown table is printed too
    assert rows["start"]["ours"] > 0 and rows["page turn (last)"]["ours"] > 0
    assert "ak_" not in proc.stdout + proc.stderr  # not a key, not even a masked one


PG_ROWS = {
    "pg page turn (first)",
    "pg page turn (middle)",
    "pg page turn (last)",
    "pg count",
    "pg verify",
    "pg verify (limited)",
    "pg search rare term, first page",
    "pg search common term, first page",
    "pg seed",
    "pg live refresh",
}


def _bench_on_a_cluster_of_its_own(
    tmp_path: Path, prefix: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """bench.py with `args` and a PostgreSQL cluster of its own, removed after; its output and its JSON report. The
    server runs as postgres, which cannot reach pytest's 0700 folders: the cluster goes under /tmp."""
    cluster = Path(tempfile.mkdtemp(prefix=prefix))
    cluster.chmod(0o755)
    results = tmp_path / "results.json"
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.benchmarks.bench",
                *args,
                *("--pg-cluster", str(cluster / "pg"), "--json", str(results)),
            ],
            cwd=REPO,
            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_S,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        report: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
        # The run stops the server it started; the seeded database stays for the next run.
        assert not (cluster / "pg" / "data" / "postmaster.pid").exists()
    finally:
        shutil.rmtree(cluster, ignore_errors=True)
    return proc, report


@pytest.mark.timeout(RUN_LIMIT_S + 60)
def test_the_postgresql_rows_run_on_a_cluster_of_their_own(tmp_path: Path) -> None:
    proc, report = _bench_on_a_cluster_of_its_own(
        tmp_path,
        "apikeys-pg-bench-",
        *("--keys", "300", "--seed-keys", "300", "--repeats", "1", "--only", "pg", "--no-fail"),
        *("--only", "pgload", *TINY_LOAD),
        *("--database", str(tmp_path / "unused.db")),
    )
    cannot = [line for line in report["skipped"] if "cannot run them here" in line]
    if cannot:
        unavailable(cannot[0])
    rows = {row["row"]: row for row in report["rows"]}
    # apikeys_verify() is a row when the schema has the function, else one line says why it was skipped.
    if "pg apikeys_verify()" not in rows:
        assert any(line.startswith("pg apikeys_verify(): skipped:") for line in report["skipped"])
    scale = _under_load(rows, report["skipped"], PG_SCALE_ROWS, "pg serve, 2 and 4 processes")
    assert _under_load(rows, report["skipped"], PG_CLIENT_ROWS, "-") == PG_CLIENT_ROWS  # no autocannon needed
    assert set(rows) - {"pg apikeys_verify()"} == PG_ROWS | PG_CLIENT_ROWS | scale
    for row in rows.values():
        for field in ("ours", "floor", "ratio"):
            assert isinstance(row[field], int | float) and math.isfinite(row[field]), (row["row"], field)
        assert f"| {row['row']} |" in proc.stdout
    assert not {"verify", "seed", "start"} & set(rows)  # --only pg: none of the SQLite rows
    assert not (tmp_path / "unused.db").exists()  # nor their database
    assert "ak_" not in proc.stdout + proc.stderr


def test_without_autocannon_the_rows_under_load_are_skipped_with_one_line(tmp_path: Path) -> None:
    """Nothing is installed or fetched by the bench itself: a missing autocannon is one line, not a failure."""
    results = tmp_path / "results.json"
    command = [
        sys.executable,
        "-m",
        "tests.benchmarks.bench",
        *("--keys", "300", "--repeats", "1", "--only", "http", *TINY_LOAD),
        *("--database", str(tmp_path / "bench.db"), "--json", str(results)),
        *("--node-folder", str(tmp_path / "no-node")),
    ]
    run = {"cwd": REPO, "capture_output": True, "text": True, "timeout": 120}
    proc = subprocess.run([*command, "--no-fail"], **run)  # type: ignore[call-overload]
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(results.read_text(encoding="utf-8"))
    assert report["rows"] == []
    (line,) = report["skipped"]
    assert line.startswith("HTTP rows") and NO_AUTOCANNON in line and "npm install" in line
    assert line in proc.stdout
    # `make bench` installs autocannon first; run without it, the bench says the rows are missing.
    failing = subprocess.run(command, **run)  # type: ignore[call-overload]
    assert failing.returncode == 1 and "the rows under load (no autocannon)" in failing.stderr


@pytest.mark.timeout(RUN_LIMIT_S + 60)
def test_the_usage_rows_run_on_both_backends_with_seeded_usage(tmp_path: Path) -> None:
    """Issue 25.5: the usage charts' store calls, each against the same statements in raw sqlite3 / psycopg, on a
    database `apikeys seed --usage` built (tiny here: 300 keys, 30,000 counted verifies)."""
    _, report = _bench_on_a_cluster_of_its_own(
        tmp_path,
        "apikeys-pg-usage-",
        *("--keys", "300", "--repeats", "1", "--only", "usage", "--no-fail"),
        *("--database", str(tmp_path / "bench.db")),
    )
    rows = {row["row"]: row for row in report["rows"]}
    assert (tmp_path / "usage-300.db").exists()  # its own database, seeded with usage
    cannot = [line for line in report["skipped"] if "cannot run them here" in line]
    # The store's calls (and on the server), then the window's: a key's details and View ▸ Usage until painted.
    expected = set(USAGE_ROWS) | set(PAINT_ROWS) | (set() if cannot else set(PG_USAGE_ROWS))
    assert set(rows) == expected
    for row in rows.values():
        for field in ("ours", "floor", "ratio"):
            assert isinstance(row[field], int | float) and math.isfinite(row[field]) and row[field] > 0, row
        assert _documented(row), f"docs/performance.md has no row {row['row']!r} with target {row['target']!r}"
    assert "summing key_usage" in rows["usage chart, all keys (30 days)"]["note"]
    if cannot:
        unavailable(cannot[0])
