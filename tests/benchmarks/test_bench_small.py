"""The benchmark runs end to end at a tiny size, so it cannot rot; no timing is asserted (DESIGN.md, habit 7)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.core_bench import REPO

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
    "seed",
    "event-loop stall (busy database)",
}


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
        ],
        cwd=REPO,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=120,
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
    assert set(rows) == {"verify", "verify (locked)"}
    assert all(isinstance(row["ratio"], float) and math.isfinite(row["ratio"]) for row in rows.values())
