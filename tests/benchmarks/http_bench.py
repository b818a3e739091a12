"""HTTP rows of `make bench` (issue 23 item 5): real servers on 127.0.0.1 driven by autocannon, each against a floor
on the same server library in the same run.

- serve verify (HTTP): `apikeys serve` answering POST /v1/keys/verify for a valid key, against granian (WSGI, the
  same worker and threads) answering a constant verify answer without any store.
- WSGI service: the middleware of docs/service.md (the Python API inside a real service) guarding a one-line app,
  against the 10-line `sqlite3` middleware of docs/performance.md guarding the same app, both on granian.

autocannon 7 comes from npm into build/bench/node (`make bench` installs it once); without it these rows are
skipped with one line saying how to get it. The load is bounded in connections, requests and seconds, and the
plan (with the key) reaches autocannon on stdin, never on a command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.benchmarks.core_bench import REPO

NODE_FOLDER = REPO / "build" / "bench" / "node"
LOAD_JS = Path(__file__).with_name("load.js")
VERIFY_PATH = "/v1/keys/verify"
INSTALL_HINT = "npm install --no-audit --no-fund --prefix build/bench/node autocannon@7 (`make bench` does it once)"


class LoadUnavailable(Exception):
    """autocannon (or node) is not here: the HTTP rows are skipped, with this one line."""


@dataclass(frozen=True)
class Load:
    """One autocannon run: at most `amount` requests over `connections` connections, stopped after `seconds`."""

    connections: int = 16
    amount: int = 20_000
    seconds: float = 3.0


@dataclass(frozen=True)
class Target:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    expect: str | None = None  # the answer every request must get (autocannon counts others as mismatches)

    def plan(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "headers": dict(self.headers),
            "body": self.body,
            "expect": self.expect,
        }


@dataclass(frozen=True)
class Result:
    per_s: float
    p50_ms: float
    p99_ms: float
    requests: int


def node_modules(folder: Path = NODE_FOLDER) -> Path:
    """The node_modules autocannon is in; LoadUnavailable (one line) when node or autocannon is missing."""
    if shutil.which("node") is None:
        raise LoadUnavailable("autocannon needs Node.js, which is not installed (apt-get install nodejs npm)")
    modules = folder / "node_modules"
    if not (modules / "autocannon" / "package.json").is_file():
        raise LoadUnavailable(f"autocannon is not installed in {folder}: {INSTALL_HINT}")
    return modules


def drive(modules: Path, targets: list[Target], load: Load) -> list[Result]:
    """One autocannon run against all `targets` at once (the load shared evenly); every answer must be right."""
    plan = {
        "targets": [target.plan() for target in targets],
        "connections": load.connections,
        "amount": load.amount,
        "seconds": load.seconds,
    }
    env = dict(os.environ, NODE_PATH=str(modules))
    done = subprocess.run(
        ["node", str(LOAD_JS)],
        input=json.dumps(plan),
        env=env,
        capture_output=True,
        text=True,
        timeout=load.seconds + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"autocannon failed: {done.stderr.strip()[-300:]}")
    results = []
    for target, answer in zip(targets, json.loads(done.stdout), strict=True):
        wrong = {name: answer[name] for name in ("errors", "timeouts", "non2xx", "mismatches") if answer[name]}
        if wrong or not answer["requests"]:
            raise RuntimeError(f"{target.method} {target.url}: {answer['requests']} right answers, and {wrong}")
        results.append(Result(answer["per_s"], float(answer["p50_ms"]), float(answer["p99_ms"]), answer["requests"]))
    return results


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], probe: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, answering `probe` (any HTTP status) before this yields; SIGTERM and wait at the end."""
    with log.open("wb") as output:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                tail = log.read_text(encoding="utf-8", errors="replace").strip()[-300:]
                raise RuntimeError(f"{command[2:4]} exited {proc.returncode} before answering: {tail}")
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers (401, 405...): up
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[2:4]} did not answer {probe} within 60 s") from None
                time.sleep(0.1)  # the process is starting: nothing to wait on but its port
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def serve_command(database: str, port: int) -> list[str]:
    return [sys.executable, "-m", "desktop", "serve", "--database", database, "--listen", f"127.0.0.1:{port}"]


def app_command(kind: str, port: int) -> list[str]:
    return [sys.executable, "-m", "tests.benchmarks.http_apps", kind, str(port)]


def ask(target: Target) -> tuple[int, bytes]:
    """One request by the standard library: the status and body every request of the run must then get."""
    data = None if target.body is None else target.body.encode()
    request = urllib.request.Request(target.url, data, dict(target.headers), method=target.method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def verify_target(port: int, key: str) -> Target:
    body = json.dumps({"key": key})
    return Target(f"http://127.0.0.1:{port}{VERIFY_PATH}", "POST", (("Content-Type", "application/json"),), body, None)


def expecting(target: Target) -> Target:
    """The target with the answer it gives now (checked to be a 200) as the one every request must get."""
    status, body = ask(target)
    if status != 200:
        raise RuntimeError(f"{target.method} {target.url} answered {status}: {body[:200]!r}")
    return Target(target.url, target.method, target.headers, target.body, body.decode())


def alternate(modules: Path, pairs: dict[str, list[Target]], load: Load, repeats: int) -> dict[str, Result]:
    """Each group of targets driven in turn, round by round after one short untimed round; medians per group."""
    samples: dict[str, list[list[Result]]] = {name: [] for name in pairs}
    warm = Load(load.connections, max(load.connections, load.amount // 10), min(load.seconds, 1.0))
    for targets in pairs.values():
        drive(modules, targets, warm)
    for _ in range(repeats):
        for name, targets in pairs.items():
            samples[name].append(drive(modules, targets, load))
    med = statistics.median
    return {
        name: Result(
            med(sum(result.per_s for result in run) for run in runs),
            med(max(result.p50_ms for result in run) for run in runs),
            med(max(result.p99_ms for result in run) for run in runs),
            sum(result.requests for run in runs for result in run),
        )
        for name, runs in samples.items()
    }


def latency(ours: Result, floor: Result) -> dict[str, float]:
    return {
        "ours_p50_ms": ours.p50_ms,
        "ours_p99_ms": ours.p99_ms,
        "floor_p50_ms": floor.p50_ms,
        "floor_p99_ms": floor.p99_ms,
    }


#: The throughput targets (ours / floor), picked from measurement: docs/performance.md says how.
SERVE_TARGET = 0.25
SERVICE_TARGET = 0.9


def http_rows(
    database: Path, env: dict[str, str], logs: Path, repeats: int, load: Load, node: Path = NODE_FOLDER
) -> list[dict[str, Any]]:
    """The serve and WSGI-service rows on the SQLite database (a valid key of its own, deleted again)."""
    from desktop.core.store import KeyStore

    modules = node_modules(node)
    ports = {kind: free_port() for kind in ("serve", "constant", "snippet", "baseline")}
    app_env = dict(env, APIKEYS_DATABASE=str(database))
    with KeyStore.open(str(database), create=True) as store:
        created = store.create("benchmark http verify")
        try:
            store.verify(created.key)  # its use is recorded now: a run within the minute writes nothing
            bearer = (("Authorization", f"Bearer {created.key}"),)
            with contextlib.ExitStack() as stack:
                stack.enter_context(
                    server(
                        serve_command(str(database), ports["serve"]),
                        env,
                        f"http://127.0.0.1:{ports['serve']}/healthz",
                        logs / "serve.log",
                    )
                )
                for kind in ("constant", "snippet", "baseline"):
                    stack.enter_context(
                        server(
                            app_command(kind, ports[kind]),
                            app_env,
                            f"http://127.0.0.1:{ports[kind]}/",
                            logs / f"{kind}.log",
                        )
                    )
                serve = expecting(verify_target(ports["serve"], created.key))
                if json.loads(serve.expect or "{}").get("verdict") != "valid":
                    raise RuntimeError("apikeys serve did not answer valid for the benchmark's key")
                constant = expecting(verify_target(ports["constant"], created.key))
                snippet = expecting(Target(f"http://127.0.0.1:{ports['snippet']}/", headers=bearer))
                baseline = expecting(Target(f"http://127.0.0.1:{ports['baseline']}/", headers=bearer))
                for guarded in (snippet, baseline):  # both really check: a key no database holds is refused
                    status, _ = ask(Target(guarded.url, headers=(("Authorization", "Bearer nope"),)))
                    if status != 401:
                        raise RuntimeError(f"{guarded.url} answered {status} to an unknown key, not 401")
                found = alternate(
                    modules,
                    {"serve": [serve], "constant": [constant], "snippet": [snippet], "baseline": [baseline]},
                    load,
                    repeats,
                )
        finally:
            store.delete(created.record.id)
    rows = []
    for name, ours, floor, target, note in (
        (
            "serve verify (HTTP)",
            found["serve"],
            found["constant"],
            SERVE_TARGET,
            "`apikeys serve` POST /v1/keys/verify (valid key) vs granian WSGI answering a constant JSON",
        ),
        (
            "WSGI service (docs' middleware)",
            found["snippet"],
            found["baseline"],
            SERVICE_TARGET,
            "docs/service.md's require_api_key() guarding an app on granian vs docs/performance.md's 10-line sqlite3"
            " middleware on granian",
        ),
    ):
        ratio = ours.per_s / floor.per_s
        rows.append(
            {
                "row": name,
                "ours": ours.per_s,
                "floor": floor.per_s,
                "unit": "req/s",
                "ratio": ratio,
                "target": f"≥ {target:g}×",
                "passed": ratio >= target,
                "note": f"{note}; autocannon, {load.connections} connections, ≤ {load.amount:,} requests,"
                f" ≤ {load.seconds:g} s a run",
                "latency": latency(ours, floor),
            }
        )
    return rows
