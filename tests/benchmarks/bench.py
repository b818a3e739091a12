"""`make bench`: every row a median over repeats, ours and its floor measured interleaved in this one run.

Prints a Markdown table (row, ours, floor, ratio, target, pass) and writes the same as JSON; exits 1 when
a target is missed (unless --no-fail). The floors are what the chosen stack costs anyway, so the ratios
say how much the app adds, independently of how fast or busy the machine is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.benchmarks import core_bench, http_bench

REPO = core_bench.REPO
#: The groups of rows `--only` selects, in the order they run.
GROUPS = ("process", "window", "verify", "seed", "stall", "query", "usage", "http", "pg", "pgload")
FLOOR_WINDOW = Path(__file__).with_name("floor_window.py")
FRAME_MS = 1000 / 60
SMALL_KEYS = 100


@dataclass
class Row:
    row: str
    ours: float
    floor: float
    unit: str
    ratio: float
    target: str
    passed: bool
    note: str = ""
    #: Rows under load: ours_p50_ms, ours_p99_ms, floor_p50_ms, floor_p99_ms (printed in a table of their own).
    latency: dict[str, float] | None = None


# -- start, window visible, memory: separate processes -----------------------------------------


@dataclass
class Launch:
    lines: dict[str, tuple[float, int]]  # what → (seconds since Popen, peak RSS KiB)


def _launch(command: list[str], env: dict[str, str], expect: tuple[str, ...]) -> Launch:
    """Run `command` until it exits; time each expected stdout line from just before Popen."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines: dict[str, tuple[float, int]] = {}
    try:
        for line in proc.stdout:
            at = time.perf_counter() - started
            parts = line.split()
            if len(parts) == 2 and parts[0] in expect and parts[1].isdigit():
                lines[parts[0]] = (at, int(parts[1]))
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    missing = [what for what in expect if what not in lines]
    if code != 0 or missing:
        raise RuntimeError(f"{command[1:]} exited {code}, missing {missing}")
    return Launch(lines)


def _isolated_env(home: Path) -> dict[str, str]:
    """Settings, logs and data of these runs stay in the benchmark's folder, not the person's."""
    env = dict(os.environ)
    # Bytecode is cached as on an installed copy (pip and the .deb compile it): with PYTHONDONTWRITEBYTECODE
    # every run would compile the app's modules from source, a cost the floors (no modules of ours) never pay.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


def process_rows(big: Path, small: Path, home: Path, repeats: int, *, warm_up: bool = True) -> list[Row]:
    env = _isolated_env(home)
    app_env = dict(env, APIKEYS_BENCH_EXIT_ON_PAINT="1")
    app = [sys.executable, "-m", "desktop", "--database"]
    floor_orm = [sys.executable, str(FLOOR_WINDOW), "--orm"]
    floor_bare = [sys.executable, str(FLOOR_WINDOW)]
    start, visible, rss_big, rss_small, floor_start, floor_visible = [], [], [], [], [], []
    # One untimed round first: the OS caches the files and the Python bytecode for every contender alike.
    # (`--no-warm-up`, for the tests' tiny runs that only check every row is there: four process starts fewer.)
    first_timed = 1 if warm_up else 0
    for attempt in range(repeats + first_timed):
        ours = _launch([*app, str(big)], app_env, ("visible", "page"))
        orm = _launch(floor_orm, env, ("painted",))
        ours_small = _launch([*app, str(small)], app_env, ("visible", "page"))
        bare = _launch(floor_bare, env, ("painted",))
        if attempt < first_timed:
            continue
        start.append(ours.lines["page"][0])
        visible.append(ours.lines["visible"][0])
        rss_big.append(ours.lines["page"][1])
        rss_small.append(ours_small.lines["page"][1])
        floor_start.append(orm.lines["painted"][0])
        floor_visible.append(bare.lines["painted"][0])
    med = statistics.median
    start_ratio = med(start) / med(floor_start)
    visible_ratio = med(visible) / med(floor_visible)
    memory_ratio = med(rss_big) / med(rss_small)
    return [
        Row(
            "start",
            med(start),
            med(floor_start),
            "s",
            start_ratio,
            "≤ 1.25×",
            start_ratio <= 1.25,
            "process start → first page painted (1M keys) vs QMainWindow+QTableView+sqlalchemy.orm",
        ),
        Row(
            "window visible",
            med(visible),
            med(floor_visible),
            "s",
            visible_ratio,
            "≤ 1.5×",
            visible_ratio <= 1.5,
            "process start → window's first paint vs a bare QMainWindow",
        ),
        Row(
            "memory",
            med(rss_big) / 1024,
            med(rss_small) / 1024,
            "MiB",
            memory_ratio,
            "≤ 1.1×",
            memory_ratio <= 1.1,
            f"peak RSS at the first page painted: 1M-key database vs {SMALL_KEYS}-key database",
        ),
    ]


# -- page turn and count: the real window, in this process ---------------------------------------


class SqliteDepth:
    """Where the window's page turns start, and the OFFSET query at that depth (the contrast column)."""

    def __init__(self, database: Path) -> None:
        self.database = database

    def key_at(self, offset: int) -> int:
        """The id of the key `offset` places from the top: one OFFSET query, in setup only."""
        con = sqlite3.connect(self.database)
        try:
            (key_id,) = con.execute(
                "SELECT id FROM api_keys ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?", (offset,)
            ).fetchone()
        finally:
            con.close()
        return int(key_id)

    def offset_query_s(self, offset: int, size: int) -> float:
        return core_bench.offset_query_s(self.database, offset, size)


class Depth(Protocol):
    def key_at(self, offset: int) -> int: ...
    def offset_query_s(self, offset: int, size: int) -> float: ...


def _paint_spy_class() -> Any:
    from PySide6.QtCore import QEvent, QObject

    class PaintSpy(QObject):
        """Notes whether the view's viewport painted, so a page turn is timed with exactly one paint."""

        def __init__(self, watched: QObject) -> None:
            super().__init__(watched)
            self.seen = False
            watched.installEventFilter(self)

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen = True
            return False

    return PaintSpy


def window_rows(
    database: str, home: Path, repeats: int, depth: Depth, prefix: str = "", flat: tuple[str, ...] = ("last",)
) -> list[Row]:
    """Page turns through the real window on `database` (a path or URL), and the counts they trigger.

    The positions named in `flat` must also take at most 1.2× the first page's time (keyset paging does not
    slow down with depth).
    """
    from PySide6.QtCore import (
        QCoreApplication,
        QEvent,
        QSettings,
        qInstallMessageHandler,
    )
    from PySide6.QtWidgets import QApplication

    from desktop.core.store import KeyStore
    from desktop.ui import theme
    from desktop.ui.window.main_window import MainWindow
    from tests.benchmarks.offscreen import offscreen_application

    app = offscreen_application()
    settings = QSettings(str(home / "bench-window.ini"), QSettings.Format.IniFormat)
    store = KeyStore.open(database, create=True)
    window = MainWindow(store, settings=settings)
    window.resize(1040, 680)
    window.show()
    # Settled from its start before any turn is timed: on PostgreSQL the window LISTENs from a worker and, once
    # listening, reloads and recounts (a change made before LISTEN was not heard); that catch-up's count (about
    # 0.1 s of server time at 1M keys) must not land among the first page's turns.
    watch = window.controller.watch
    for _ in range(500):
        QApplication.processEvents()
        window.runner.wait()
        QApplication.processEvents()
        if window.runner.pending() == 0 and (watch.listening or not watch.active):
            break
        time.sleep(0.01)  # the LISTEN connection is being made on a worker: no event to wait on here
    pager = window.pager
    assert pager is not None
    size = pager.size
    total = store.count()

    counts = 0
    real_count = store.query_count

    def counting(*args: Any, **kwargs: Any) -> int:
        nonlocal counts
        counts += 1
        return real_count(*args, **kwargs)

    store.query_count = counting  # type: ignore[method-assign]  # how often a page turn makes the window count

    viewport = window.table.viewport()
    painted = _paint_spy_class()(viewport)

    def turn(slot: Callable[[], None]) -> float:
        painted.seen = False
        began = time.perf_counter()
        slot()
        # What the event loop does before the next frame: layout, the replaced widgets' deletion, the paint.
        QCoreApplication.sendPostedEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if not painted.seen:  # the platform deferred the paint: do it now, once
            viewport.repaint()
        return time.perf_counter() - began

    # The last position is the final full page (the list's end need not fall on a page boundary: the pg rows
    # add keys of their own), so each turn there replaces a page by one as long, as at the other positions.
    last_offset = max(0, total - size)
    positions = {"first": 0, "middle": (total // 2) // size * size, "last": last_offset}
    pairs = 10
    turns: dict[str, list[float]] = {}
    offsets: dict[str, list[float]] = {}
    turn_count = 0
    cursors = {
        name: None if offset == 0 else store.get(depth.key_at(offset)).cursor for name, offset in positions.items()
    }
    for name in positions:
        turns[name], offsets[name] = [], []
    # Round by round through the three positions, as every floor is alternated with its row: a slow minute on
    # this machine then hits all three alike, instead of making one position look deeper than it is.
    for _ in range(repeats + 1):
        for name, offset in positions.items():
            cursor = cursors[name]
            samples = []
            for _ in range(pairs):
                if cursor is None:
                    pager.first()
                else:
                    pager.jump(cursor, offset)
                window._show_page()
                # What the jump itself set going on the workers is set-up, not part of the turns timed next.
                window.runner.wait()
                QApplication.processEvents()
                # Away and back: Next then Previous, except at the last page where only Previous leads away.
                moves = (
                    (window._on_pagination_previous_clicked, window._on_pagination_next_clicked)
                    if name == "last" and offset > 0
                    else (window._on_pagination_next_clicked, window._on_pagination_previous_clicked)
                )
                for move in moves:
                    samples.append(turn(move))
                    turn_count += 1
            offsets[name].append(depth.offset_query_s(offset, size))
            turns[name].extend(samples)
    for name in positions:
        turns[name] = turns[name][2 * pairs :]  # the first round warms caches, untimed
        offsets[name] = offsets[name][1:]
    QApplication.processEvents()
    window.runner.wait()
    QApplication.processEvents()
    counts_per_turn = counts / turn_count
    store.query_count = real_count  # type: ignore[method-assign]
    count_s = core_bench.median_per_call(store.count, 3, repeats)
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    theme.icon.cache_clear()  # cached icons must go before the QApplication does
    qInstallMessageHandler(None)
    del app

    med = statistics.median
    ms = {name: med(samples) * 1000 for name, samples in turns.items()}
    offset_ms = {name: med(samples) * 1000 for name, samples in offsets.items()}
    rows = []
    for name, offset in positions.items():
        ratio = ms[name] / ms["first"]
        target = "< 16.7 ms" + (", ≤ 1.2× first" if name in flat else "")
        passed = ms[name] < FRAME_MS and (name not in flat or ratio <= 1.2)
        rows.append(
            Row(
                f"{prefix}page turn ({name})",
                ms[name],
                offset_ms[name],
                "ms",
                ratio,
                target,
                passed,
                f"Next/Previous + repaint at offset {offset:,} of {total:,}; floor column: OFFSET query at that depth;"
                " ratio: against the first page",
            )
        )
    rows.append(
        Row(
            f"{prefix}count",
            counts_per_turn * count_s * 1000,
            count_s * 1000,
            "ms",
            counts_per_turn,
            "< 1 count per turn",
            counts_per_turn < 1,
            f"count cost per page turn ({counts} count queries in {turn_count} turns) vs one store.count()"
            f" of {total:,} keys; ratio: counts per turn",
        )
    )
    return rows


# -- verify, seed: the core ------------------------------------------------------------------------


def verify_rows(database: Path, repeats: int) -> list[Row]:
    from tests.benchmarks import service_bench

    verify = core_bench.verify_row(database, repeats)
    locked = core_bench.locked_verify_row(database, repeats)
    limited = core_bench.limited_verify_row(database, repeats)
    cold = service_bench.cold_verify_row(database, repeats)
    return [
        Row(
            "verify (limited)",
            limited["ours_s"] * 1e6,
            limited["floor_s"] * 1e6,
            "µs",
            limited["ratio"],
            "≤ 4×",
            limited["ratio"] <= 4,
            "store.verify() of a key with a rate limit and credits (a write transaction per verify) vs"
            " store.verify() of a key without limits",
        ),
        Row(
            "verify",
            verify["ours_s"] * 1e6,
            verify["floor_s"] * 1e6,
            "µs",
            verify["ratio"],
            "≤ 1.5×",
            verify["ratio"] <= 1.5,
            "one store.verify() vs raw sqlite3 + hashlib.sha256, same indexed lookup",
        ),
        Row(
            "verify (locked)",
            locked["ours_s"] * 1e6,
            locked["floor_s"] * 1e6,
            "µs",
            locked["ratio"],
            "≤ 2×",
            locked["ratio"] <= 2,
            "store.verify() of a key due a last-use record while another process holds the write lock"
            " (BEGIN IMMEDIATE) vs store.verify() with no writer",
        ),
        Row(
            "cold verify (library)",
            cold["ours_s"] * 1e3,
            cold["floor_s"] * 1e3,
            "ms",
            cold["ratio"],
            "≤ 4×",
            cold["ratio"] <= 4,
            "a new process: `from apikeys import open_store`, open, one verify, exit vs a raw sqlite3 + hashlib"
            " script doing the same lookup",
        ),
    ]


def seed_rows(workdir: Path, seed_keys: int, repeats: int) -> list[Row]:
    seed = core_bench.seed_row(workdir, seed_keys, max(1, min(repeats, 3)))
    return [
        Row(
            "seed",
            seed["ours_keys_per_s"],
            seed["floor_keys_per_s"],
            "keys/s",
            seed["ratio"],
            "≥ 1/3",
            seed["ratio"] >= 1 / 3,
            f"`apikeys seed --count {seed_keys:,}` (whole command) vs raw sqlite3 executemany",
        ),
    ]


# -- output -----------------------------------------------------------------------------------------


def _number(value: float, unit: str) -> str:
    if unit.endswith("/s"):
        return f"{value:,.0f} {unit}"
    if unit == "MiB":
        return f"{value:,.1f} {unit}"
    return f"{value:.3g} {unit}"


def markdown(rows: list[Row]) -> str:
    lines = ["| row | ours | floor | ratio | target | pass |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row.row} | {_number(row.ours, row.unit)} | {_number(row.floor, row.unit)} | {row.ratio:.2f}"
            f" | {row.target} | {'pass' if row.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


def latency_markdown(rows: list[Row]) -> str:
    """Latency of the rows under load, ours and the floor's, in a table of its own ("" when there are none)."""
    lines = ["| row | ours p50 | ours p99 | floor p50 | floor p99 |", "|---|---|---|---|---|"]
    for row in rows:
        if row.latency:
            ms = [
                f"{row.latency[name]:.3g} ms" for name in ("ours_p50_ms", "ours_p99_ms", "floor_p50_ms", "floor_p99_ms")
            ]
            lines.append(f"| {row.row} | {' | '.join(ms)} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench", description=__doc__)
    parser.add_argument("--keys", type=int, default=1_000_000, help="keys in the benchmark database")
    parser.add_argument("--database", type=Path, default=Path("build/bench/keys-1m.db"), help="built once, reused")
    parser.add_argument("--json", type=Path, default=Path("build/bench/results.json"))
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per row (medians)")
    parser.add_argument("--seed-keys", type=int, default=100_000, help="keys per seed run (at most --keys)")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="time the first round of process starts too (rougher numbers: for a quick check that every row runs)",
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=None,
        help="the stall row: seconds the other processes verify and write in each session (default 4; the tests'"
        " tiny run gives 1: only that the row runs is checked there)",
    )
    parser.add_argument(
        "--pg-cluster",
        type=Path,
        default=REPO / "build" / "bench" / "pg",
        help="the PostgreSQL cluster of the pg rows (initdb once, started and stopped by each run; the postgres"
        " user must be able to reach it)",
    )
    parser.add_argument(
        "--load-seconds", type=float, default=3.0, help="the rows under load: seconds a run at most (default 3)"
    )
    parser.add_argument(
        "--load-requests",
        type=int,
        default=20_000,
        help="the rows under load: requests or calls a run at most (default 20,000)",
    )
    parser.add_argument(
        "--load-connections", type=int, default=16, help="the HTTP rows: autocannon's connections (default 16)"
    )
    parser.add_argument(
        "--node-folder",
        type=Path,
        default=http_bench.NODE_FOLDER,
        help="where autocannon is installed (node_modules inside; `make bench` installs it into build/bench/node)",
    )
    parser.add_argument(
        "--only",
        choices=GROUPS,
        action="append",
        help="run only these groups of rows (repeatable): process (start, window visible, memory), window"
        " (page turns, count), verify (verify, verify (locked), cold verify (library)), seed, stall (event loop,"
        " busy database), http (`apikeys serve` and the docs' WSGI middleware under autocannon, on 127.0.0.1),"
        " pg (the same on a PostgreSQL server, plus apikeys_verify() and live refresh), pgload (on the same"
        " server: verify at 8 and 64 concurrent clients, 1, 2 and 4 `apikeys serve` processes), query (search,"
        " filters and orders: first and last pages, migration 0004), usage (the usage charts' store calls at"
        " 100 counted verifies a key, on SQLite and the PostgreSQL cluster; a key's details and View ▸ Usage until"
        " painted, against the raw SQL of their aggregation); default: all",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # measured offscreen, like `make bench`
    database: Path = args.database.resolve()
    workdir = database.parent
    small = workdir / f"keys-{SMALL_KEYS}.db"
    repeats = max(1, args.repeats)
    groups = set(args.only or GROUPS)
    if groups - {"pg", "pgload"}:  # the PostgreSQL rows have databases of their own, on the server
        core_bench.ensure_seeded(database, args.keys)
        core_bench.ensure_seeded(small, SMALL_KEYS)
    rows: list[Row] = []
    skipped: list[str] = []
    unavailable = no_load = ""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="apikeys-bench-") as scratch:
        home = Path(scratch)
        if "process" in groups:
            rows += process_rows(database, small, home, repeats, warm_up=args.warm_up)
        if "window" in groups:
            rows += window_rows(str(database), home, repeats, SqliteDepth(database))
        if "verify" in groups:
            rows += verify_rows(database, repeats)
        if "seed" in groups:
            rows += seed_rows(workdir, min(args.seed_keys, args.keys), repeats)
        if "stall" in groups:
            from tests.benchmarks import stall_bench

            stall_s = args.stall_seconds
            rows += [Row(**row) for row in stall_bench.stall_rows(workdir, home, min(repeats, 3), stall_s)]
        if "query" in groups:
            from tests.benchmarks import query_bench

            rows += [Row(**row) for row in query_bench.query_rows(database, repeats)]
        if "usage" in groups:
            from tests.benchmarks import usage_bench, usage_store_bench
            from tests.pg import PgUnavailable

            rows += [Row(**row) for row in usage_store_bench.usage_rows(workdir, args.keys, repeats)]
            # The window's rows on the same database, seeded with usage history (`seed --usage`).
            rows += [Row(**row) for row in usage_bench.usage_rows(workdir / f"usage-{args.keys}.db", home, repeats)]
            try:
                rows += [Row(**row) for row in usage_store_bench.pg_usage_rows(args.pg_cluster, args.keys, repeats)]
            except PgUnavailable as err:
                unavailable = f"PostgreSQL usage rows: cannot run them here: {err}"
                skipped.append(unavailable)
        # The rows under load: a round per repeat, of a few seconds each, ours and the floor alternating, so that
        # a busy moment of this shared machine hits both alike (three rounds of 5 s gave one row 0.68 to 0.99).
        load = http_bench.Load(args.load_connections, args.load_requests, args.load_seconds)
        if "http" in groups:
            try:
                found_http = http_bench.http_rows(database, _isolated_env(home), home, repeats, load, args.node_folder)
                rows += [Row(**row) for row in found_http]
            except http_bench.LoadUnavailable as err:
                no_load = f"HTTP rows (serve verify, WSGI service): skipped: {err}"
                skipped.append(no_load)
        if "pg" in groups:
            from tests.benchmarks import pg_bench
            from tests.pg import PgUnavailable

            def pg_window(url: str, depth: pg_bench.PgDepth) -> list[dict[str, Any]]:
                turns = window_rows(url, home, repeats, depth, prefix="pg ", flat=("middle", "last"))
                return [asdict(row) for row in turns]

            try:
                found, skipped_pg = pg_bench.pg_rows(
                    args.pg_cluster, args.keys, min(args.seed_keys, args.keys), repeats, pg_window
                )
                skipped += skipped_pg
                rows += [Row(**row) for row in found]
            except PgUnavailable as err:
                # Not a pass: `make bench` is expected to show the PostgreSQL rows.
                unavailable = f"PostgreSQL rows: cannot run them here: {err}"
                skipped.append(unavailable)
        if "pgload" in groups:
            from tests.benchmarks import pg_load
            from tests.pg import PgUnavailable

            try:
                found, no_load_pg = pg_load.pg_load_rows(
                    args.pg_cluster, args.keys, _isolated_env(home), home, repeats, load, args.node_folder
                )
                rows += [Row(**row) for row in found]
                if no_load_pg:
                    no_load = no_load_pg
                    skipped.append(no_load)
            except PgUnavailable as err:
                unavailable = f"PostgreSQL rows under load: cannot run them here: {err}"
                skipped.append(unavailable)
    table = markdown(rows)
    latencies = latency_markdown(rows)
    load_after = os.getloadavg()
    busy = f"load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end (1 min)"
    print(f"\n{args.keys:,} keys, medians of {repeats} runs; {machine()}; {busy}\n")
    print(table)
    if latencies:
        print(f"\nLatency under load:\n\n{latencies}")
    for line in skipped:
        print(f"\n{line}")
    result = {
        "keys": args.keys,
        "repeats": repeats,
        "machine": machine(),
        "load_average": {"start": load_before, "end": load_after},
        "rows": [asdict(row) for row in rows],
        "skipped": skipped,
        "markdown": table,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    missed = [row.row for row in rows if not row.passed] + (["the PostgreSQL rows"] if unavailable else [])
    missed += ["the rows under load (no autocannon)"] if no_load else []
    if missed:
        print(f"\nmissed: {', '.join(missed)}", file=sys.stderr)
        return 0 if args.no_fail else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
