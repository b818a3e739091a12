"""PostgreSQL verify under load (issue 23 item 5): many clients at once, and `apikeys serve` scaled out.

- pg verify, N clients: N threads of one process calling `store.verify()` as fast as they can, against N threads
  each with a raw psycopg connection of its own doing the same lookup. Threads, not processes: the connections a
  process opens are bounded per process (APIKEYS_MAX_CONNECTIONS, default 8) and the services that check keys at
  once (granian's and gunicorn's threads, FastAPI's thread pool, `acheck`'s pool) do it on threads of one
  process, so threads are what meets that bound and its queue; N processes would each open a pool of their own
  (and the scale-out rows below cover processes).
- pg serve, N processes: N `apikeys serve` processes on one database driven by one autocannon run (the load
  shared evenly), against one process under the same load.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.store import KeyStore
from tests.benchmarks import http_bench
from tests.benchmarks.pg_bench import bench_row as pg_bench_row
from tests.benchmarks.pg_bench import connect, ensure_seeded, running_cluster

LOOKUP = "SELECT id, active, expires_at, last_used_at FROM api_keys WHERE digest = %s"
CLIENTS = (8, 64)
PROCESSES = (1, 2, 4)
#: Targets picked from measurement (docs/performance.md says how).
CLIENTS_TARGET = 0.5  # ours / raw psycopg with a connection per client, at each client count
FLAT_TARGET = 0.9  # 64 clients / 8 clients, ours: throughput stays flat as clients grow
SCALE_TARGET = 0.8  # N serve processes / one: more processes cost (almost) nothing where the cores are all busy


@dataclass(frozen=True)
class Burst:
    per_s: float
    p50_ms: float
    p99_ms: float
    calls: int


def burst(clients: int, make: Callable[[], Callable[[], bool]], seconds: float, calls: int) -> Burst:
    """`clients` threads, each calling what `make()` gave it (True: a right answer), started together once every
    thread has its callable (and its connection); they share `calls` tickets and stop when those run out or
    `seconds` have passed, so that all of them stop at about the same time (no straggler timed alone)."""
    ready = threading.Barrier(clients + 1)
    times: list[list[float]] = [[] for _ in range(clients)]
    wrong = [0] * clients
    failed: list[BaseException] = []
    tickets = itertools.count()  # next() on it is atomic under the GIL
    deadline = [0.0]

    def client(index: int) -> None:
        try:
            call = make()
        except BaseException as err:
            failed.append(err)
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        mine = times[index]
        clock = time.perf_counter
        try:
            while next(tickets) < calls:
                began = clock()
                if not call():
                    wrong[index] += 1
                ended = clock()
                mine.append(ended - began)
                if ended > deadline[0]:
                    break
        except BaseException as err:
            failed.append(err)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    started = time.perf_counter()
    deadline[0] = started + seconds
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - started
    if failed:
        raise RuntimeError(f"a client failed: {type(failed[0]).__name__}: {failed[0]}")
    if any(wrong):
        raise RuntimeError(f"{sum(wrong)} wrong answers from {clients} clients")
    merged = sorted(t for mine in times for t in mine)
    return Burst(
        len(merged) / elapsed,
        merged[len(merged) // 2] * 1000,
        merged[min(len(merged) - 1, int(len(merged) * 0.99))] * 1000,
        len(merged),
    )


def _row(row: str, ours: float, floor: float, unit: str, target: float, note: str, **extra: Any) -> dict[str, Any]:
    """A throughput row (higher is better): passes at `target` times its floor or more."""
    passed = floor > 0 and ours / floor >= target
    return {**pg_bench_row(row, ours, floor, unit, f"≥ {target:g}×", passed, note), **extra}


def _median(bursts: list[Burst]) -> Burst:
    med = statistics.median
    return Burst(
        med(b.per_s for b in bursts),
        med(b.p50_ms for b in bursts),
        med(b.p99_ms for b in bursts),
        sum(b.calls for b in bursts),
    )


def client_rows(url: str, repeats: int, seconds: float, calls: int) -> list[dict[str, Any]]:
    """Verify throughput at 8 and 64 concurrent clients (threads), ours and raw psycopg alternating."""
    from desktop.core.values import Verdict

    opened: list[Any] = []
    lock = threading.Lock()
    with KeyStore.open(url) as store:
        created = store.create("benchmark concurrent verify")
        key = created.key
        try:
            store.verify(key)  # its use is recorded now: the timed calls within the minute write nothing

            def ours() -> Callable[[], bool]:
                return lambda: store.verify(key) is Verdict.VALID

            def floor() -> Callable[[], bool]:
                conn = connect(url, autocommit=True)
                with lock:
                    opened.append(conn)
                # The digest is computed per call, as verify computes it.
                return lambda: bool(conn.execute(LOOKUP, (hashlib.sha256(key.encode()).digest(),)).fetchall())

            found: dict[tuple[str, int], list[Burst]] = {}
            for clients in CLIENTS:  # one untimed round each: connections made, plans cached
                burst(clients, ours, min(seconds, 0.5), clients * 10)
            for _ in range(repeats):
                for clients in CLIENTS:
                    found.setdefault(("ours", clients), []).append(burst(clients, ours, seconds, calls))
                    found.setdefault(("floor", clients), []).append(burst(clients, floor, seconds, calls))
                    while opened:
                        opened.pop().close()
        finally:
            while opened:
                opened.pop().close()
            store.delete(created.record.id)
    rows = []
    for clients in CLIENTS:
        mine, base = _median(found[("ours", clients)]), _median(found[("floor", clients)])
        rows.append(
            _row(
                f"pg verify, {clients} clients",
                mine.per_s,
                base.per_s,
                "checks/s",
                CLIENTS_TARGET,
                f"{clients} threads calling store.verify() (at most 8 connections, the rest queue) vs {clients} threads"
                f" each with its own raw psycopg connection; ≤ {calls:,} calls, ≤ {seconds:g} s a run",
                latency={
                    "ours_p50_ms": mine.p50_ms,
                    "ours_p99_ms": mine.p99_ms,
                    "floor_p50_ms": base.p50_ms,
                    "floor_p99_ms": base.p99_ms,
                },
            )
        )
    few, many = _median(found[("ours", CLIENTS[0])]), _median(found[("ours", CLIENTS[-1])])
    rows.append(
        _row(
            f"pg verify, {CLIENTS[-1]} / {CLIENTS[0]} clients",
            many.per_s,
            few.per_s,
            "checks/s",
            FLAT_TARGET,
            f"store.verify() throughput at {CLIENTS[-1]} threads vs at {CLIENTS[0]} (the floor column): flat as"
            " clients grow",
        )
    )
    return rows


def scale_rows(
    url: str, env: dict[str, str], logs: Path, repeats: int, load: http_bench.Load, node: Path
) -> list[dict[str, Any]]:
    """HTTP verify throughput of 1, 2 and 4 `apikeys serve` processes sharing the database."""
    modules = http_bench.node_modules(node)
    ports = [http_bench.free_port() for _ in range(max(PROCESSES))]
    with KeyStore.open(url) as store:
        created = store.create("benchmark serve scale-out")
        try:
            store.verify(created.key)
            with contextlib.ExitStack() as stack:
                for number, port in enumerate(ports):
                    stack.enter_context(
                        http_bench.server(
                            http_bench.serve_command(url, port),
                            env,
                            f"http://127.0.0.1:{port}/healthz",
                            logs / f"serve-pg-{number}.log",
                        )
                    )
                targets = [http_bench.expecting(http_bench.verify_target(port, created.key)) for port in ports]
                found = http_bench.alternate(modules, {str(n): targets[:n] for n in PROCESSES}, load, repeats)
        finally:
            store.delete(created.record.id)
    one = found["1"]
    rows = []
    for n in PROCESSES[1:]:
        mine = found[str(n)]
        rows.append(
            _row(
                f"pg serve, {n} processes",
                mine.per_s,
                one.per_s,
                "req/s",
                SCALE_TARGET,
                f"{n} `apikeys serve` processes on one PostgreSQL database vs one (the floor column), one autocannon"
                f" run sharing {load.connections} connections among them; ≤ {load.amount:,} requests,"
                f" ≤ {load.seconds:g} s a run",
                latency=http_bench.latency(mine, one),
            )
        )
    return rows


def pg_load_rows(
    folder: Path, keys: int, env: dict[str, str], logs: Path, repeats: int, load: http_bench.Load, node: Path
) -> tuple[list[dict[str, Any]], str]:
    """Both kinds on the benchmark's cluster (the pg rows' database), and the line saying why the scale-out rows
    were skipped ("" when they ran); PgUnavailable when there is no server."""
    with running_cluster(folder) as cluster:
        url = ensure_seeded(cluster, keys)
        rows = client_rows(url, repeats, load.seconds, load.amount)
        try:
            rows += scale_rows(url, env, logs, repeats, load, node)
        except http_bench.LoadUnavailable as err:
            return rows, f"pg serve, 2 and 4 processes: skipped: {err}"
    return rows, ""
