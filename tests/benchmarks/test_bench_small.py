"""The benchmark runs end to end at a tiny size, so it cannot rot; no timing is asserted (DESIGN.md, habit 7)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.benchmarks.bench import GROUPS
from tests.benchmarks.core_bench import REPO
from tests.benchmarks.query_bench import ROW_NAMES as QUERY_ROWS
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


#: A whole bench run, even tiny, is minutes on a loaded two-core machine: a limit for a hang, not for speed.
RUN_LIMIT_S = 540


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
            # The PostgreSQL rows have a test of their own, below.
            *(arg for group in GROUPS if group != "pg" for arg in ("--only", group)),
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
    assert set(rows) == ROWS
    for row in rows.values():
        for field in ("ours", "floor", "ratio"):
            assert isinstance(row[field], int | float) and math.isfinite(row[field]), (row["row"], field)
        assert isinstance(row["passed"], bool) and row["target"]
        assert f"| {row['row']} |" in proc.stdout  # the Markdown table is printed too
    assert rows["start"]["ours"] > 0 and rows["page turn (last)"]["ours"] > 0
    assert "ak_" not in proc.stdout + proc.stderr  # not a key, not even a masked one


def test_bench_runs_only_the_groups_asked_for(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.bench",
            "--keys",
            "500",
            "--repeats",
            "1",
            "--only",
            "verify",
            "--database",
            str(tmp_path / "bench.db"),
            "--json",
            str(results),
            "--no-fail",
        ],
        cwd=REPO,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {row["row"]: row for row in json.loads(results.read_text(encoding="utf-8"))["rows"]}
    assert set(rows) == {"verify", "verify (locked)", "verify (limited)", "cold verify (library)"}
    assert all(isinstance(row["ratio"], float) and math.isfinite(row["ratio"]) for row in rows.values())


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


@pytest.mark.timeout(RUN_LIMIT_S + 60)
def test_the_postgresql_rows_run_on_a_cluster_of_their_own(tmp_path: Path) -> None:
    # The server runs as postgres, which cannot reach pytest's 0700 folders: the cluster goes under /tmp.
    cluster = Path(tempfile.mkdtemp(prefix="apikeys-pg-bench-"))
    cluster.chmod(0o755)
    results = tmp_path / "results.json"
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.benchmarks.bench",
                *("--keys", "300", "--seed-keys", "300", "--repeats", "1", "--only", "pg", "--no-fail"),
                *("--pg-cluster", str(cluster / "pg"), "--database", str(tmp_path / "unused.db")),
                *("--json", str(results)),
            ],
            cwd=REPO,
            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_S,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        report = json.loads(results.read_text(encoding="utf-8"))
        cannot = [line for line in report["skipped"] if "cannot run them here" in line]
        if cannot:
            unavailable(cannot[0])
        # The run stops the server it started; the seeded database stays for the next run.
        assert not (cluster / "pg" / "data" / "postmaster.pid").exists()
    finally:
        shutil.rmtree(cluster, ignore_errors=True)
    rows = {row["row"]: row for row in report["rows"]}
    # apikeys_verify() is a row when the schema has the function, else one line says why it was skipped.
    if "pg apikeys_verify()" not in rows:
        assert any(line.startswith("pg apikeys_verify(): skipped:") for line in report["skipped"])
    assert set(rows) - {"pg apikeys_verify()"} == PG_ROWS
    for row in rows.values():
        for field in ("ours", "floor", "ratio"):
            assert isinstance(row[field], int | float) and math.isfinite(row[field]), (row["row"], field)
        assert f"| {row['row']} |" in proc.stdout
    assert not {"verify", "seed", "start"} & set(rows)  # --only pg: none of the SQLite rows
    assert not (tmp_path / "unused.db").exists()  # nor their database
    assert "ak_" not in proc.stdout + proc.stderr
