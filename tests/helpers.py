"""Helpers for tests: run the command line as a person or a script does."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.core.store import KeyStore

REPO = Path(__file__).resolve().parent.parent
#: `make stress` (APIKEYS_STRESS=1): the crash, concurrency and property tests with their big counts; `make test`
#: runs the same tests with small ones.
STRESS = os.environ.get("APIKEYS_STRESS") == "1"
#: What every command-line error looks like: one line on stderr.
ONE_LINE_ERROR = re.compile(r"^apikeys: [^\n]+\n$")


class Secret(str):
    """A key read from output or a widget: its repr is withheld, so no assertion message prints it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<secret withheld>"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


#: run_cli's limit: under pytest-timeout's 120 s, so a hung command is reported with where it hung.
CLI_TIMEOUT_S = 90


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> CliResult:
    """`apikeys ARGS` as a person or a script runs it: `desktop.app.main(ARGS)` inside this process.

    What a new process would have of its own is given to the call and taken back after it (tests/in_process.py):
    stdin/stdout/stderr, os.environ with `env` on top, the working folder (the repository), and whatever a run
    leaves behind. A command still running after CLI_TIMEOUT_S fails the test with what it was doing: every
    thread's stack and, on a server, the sessions that were not idle. APIKEYS_TEST_CLI=process runs every call
    in a subprocess instead (run_cli_process), to compare.
    """
    if os.environ.get("APIKEYS_TEST_CLI") == "process":
        return run_cli_process(*args, stdin=stdin, env=env)
    from tests.in_process import call_main

    status, stdout, stderr, hung = call_main(
        list(args), stdin=stdin, env=env, cwd=REPO, timeout=CLI_TIMEOUT_S, diagnose=lambda: _busy_sessions(args)
    )
    if hung is not None:
        raise AssertionError(f"`{_command(args)}` still running after {CLI_TIMEOUT_S} s\n--- its stacks:\n{hung}")
    return CliResult(status, stdout, stderr)


def _command(args: tuple[str, ...]) -> str:
    return args[0] if args and not args[0].startswith("-") else "apikeys"


def run_cli_process(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> CliResult:
    """`python -m desktop ARGS` in a subprocess: for the tests about the process itself (its start-up, signals,
    pipes, terminal, memory), which say why at each call. Same result as run_cli.

    A command still running after CLI_TIMEOUT_S fails the test with what it was doing: the Python stack of
    each of its threads (faulthandler, on SIGABRT) and, on a server, the sessions that were not idle.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop", *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})},
        cwd=REPO,
    )
    try:
        stdout, stderr = proc.communicate(stdin, timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        sessions = _busy_sessions(args)
        proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack, then the process ends
        try:
            _, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        raise AssertionError(
            f"`{_command(args)}` still running after {CLI_TIMEOUT_S} s\n--- its stderr:\n{stderr}\n"
            f"--- sessions on the server:\n{sessions}"
        ) from None
    return CliResult(proc.returncode, stdout, stderr)


def _busy_sessions(args: tuple[str, ...]) -> str:
    """The server's sessions that are not idle, the locks they wait for and its log's end: why a command may
    hang there."""
    urls = [arg for arg in args if arg.startswith("postgresql")]
    if not urls:
        return "(not on a server)"
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(urls[0])
        with psycopg.connect(
            host=str(url.query["host"]), user="postgres", dbname="postgres", autocommit=True, connect_timeout=5
        ) as conn:
            rows = conn.execute(
                "SELECT pid, datname, state, wait_event_type, wait_event, now() - query_start, left(query, 120) "
                "FROM pg_stat_activity WHERE state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid()"
            ).fetchall()
            locks = conn.execute(
                "SELECT pid, locktype, database, relation, objid, mode, granted FROM pg_locks WHERE NOT granted"
            ).fetchall()
    except Exception as err:  # a diagnosis only: the test fails either way
        return f"(could not ask the server: {type(err).__name__})"
    # tests/pg.py's clusters keep their server log beside the socket's folder.
    log = Path(str(url.query["host"])).parent / "log"
    tail = log.read_text(errors="replace").splitlines()[-20:] if log.is_file() else ["(no server log)"]
    text = "\n".join([*map(str, rows), "--- locks waited for:", *map(str, locks), f"--- the end of {log}:", *tail])
    return re.sub(r"ak_[0-9A-Za-z]+", "ak_<withheld>", text)  # a statement's text could hold a key


def seed(store: KeyStore, count: int, *, ties: int = 1, start: datetime | None = None) -> None:
    """`count` keys, oldest first; every `ties` consecutive keys share one created_at."""
    from desktop.core.values import NewKey

    base = start or datetime(2025, 1, 1, tzinfo=UTC)
    rows = [NewKey(f"key {index:03d}", base + timedelta(minutes=index // ties)) for index in range(count)]
    store.insert_many(rows)


def sqlite_plan(path: Path, sql: str, params: Sequence[object] | Mapping[str, object]) -> str:
    """SQLite's EXPLAIN QUERY PLAN of `sql` on the database at `path`, its steps joined by " | "."""
    con = sqlite3.connect(path)
    try:
        return " | ".join(row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        con.close()


# -- database files in known states, for the bad-file tests ----------------------


def make_database(path: Path, keys: int = 1) -> Path:
    """A real database with `keys` keys, in rollback-journal mode so the one file holds everything."""
    from desktop.core.store import KeyStore

    with KeyStore.open(str(path), create=True) as store:
        for i in range(keys):
            store.create(f"key {i}")
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode = DELETE")
    finally:
        con.close()
    return path


def make_newer_schema(path: Path, revision: str = "9999") -> Path:
    """A database written by a (pretend) newer version of the program."""
    make_database(path)
    con = sqlite3.connect(path)
    try:
        con.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        con.commit()
    finally:
        con.close()
    return path


def make_truncated(path: Path) -> Path:
    """A database cut to a third of its size, as a failed copy leaves it."""
    make_database(path, keys=150)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def make_not_a_database(path: Path) -> Path:
    path.write_text("shopping list\n")
    return path


def make_zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def make_directory(path: Path) -> Path:
    path.mkdir()
    return path


def fingerprint(path: Path) -> str:
    """What must not change when a bad file is refused: its bytes, or that it is a folder or absent."""
    if path.is_dir():
        return "dir"
    if not path.exists():
        return "missing"
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class BadFile:
    """One entry of the catalogue: how to make it in a folder, and a fragment the reason given must contain."""

    make: Callable[[Path], Path]
    reason: str


#: The bad database files every opener must refuse without changing them: the core (KeyStore.open), the
#: CLI and the window all take their cases from here.
BAD_FILES: dict[str, BadFile] = {
    "not a database": BadFile(lambda folder: make_not_a_database(folder / "notes.db"), "not a database file"),
    "truncated": BadFile(lambda folder: make_truncated(folder / "truncated.db"), "damaged"),
    "zero bytes": BadFile(lambda folder: make_zero_bytes(folder / "empty.db"), "empty file"),
    "a directory": BadFile(lambda folder: make_directory(folder / "folder.db"), "is a folder"),
    "missing folder": BadFile(lambda folder: folder / "no" / "such" / "keys.db", "does not exist"),
    "newer schema": BadFile(lambda folder: make_newer_schema(folder / "future.db", "zz99"), "newer version"),
}


def files_holding(needles: list[bytes], *roots: Path) -> list[str]:
    """Every file under `roots` (those that exist) that holds any of `needles`: where a secret leaked to."""
    files = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
    return [str(p) for p in files if any(n in p.read_bytes() for n in needles)]


@contextlib.contextmanager
def verify_path_statements(store: KeyStore) -> Iterator[list[str]]:
    """The SQL a SQLite store's verify path runs during the block, parameters filled in, on its one pooled
    connection (the store has verified once, so there is one)."""
    pool = store.database._idle  # type: ignore[attr-defined]
    conn = pool.take()
    assert conn is not None
    pool.give(conn)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        conn.set_trace_callback(None)
