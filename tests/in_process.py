"""The command line run inside the test process: `desktop.app.main(argv)` as `python -m desktop` runs it.

A new Python process costs 0.45–0.7 s of CPU before the command starts (interpreter, SQLAlchemy, Alembic);
the same command in-process costs 0.03–0.1 s. What a process would have had of its own is given to the call
and taken back after it, so tests stay as independent as with a subprocess:

- stdin, stdout and stderr: streams over bytes, decoded the way `subprocess.run(text=True)` decodes a child's
  output (the locale's encoding, universal newlines), stdin empty when none is given (a child's /dev/null);
- the environment: `os.environ` with the call's `env` on top (libpq and platformdirs read it at call time,
  a TZ is applied with time.tzset()),
  restored exactly after; the working folder: the repository, as for the child;
- the exit status: main's return value, or SystemExit's code as the interpreter turns it into one;
- what a run leaves behind: the log handler it adds to the root logger (closed and removed, so the next call
  logs into its own home), logger levels, signal handlers, the umask, the once-per-process caches, and
  harden_process's core limit and dumpable flag.

A command still running after `timeout` seconds is reported like a child's: every thread's stack
(faulthandler) and, on a server, the sessions that were not idle; it is then interrupted (SIGINT to the main
thread: the CLI's own Ctrl+C path) and the test fails with that report.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import locale
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

#: Loggers whose level configure_logging() sets: put back after each call.
_LOGGERS = ("", "sqlalchemy", "alembic", "desktop")
#: Signals whose handlers a command may change; SIGKILL and SIGSTOP cannot be handled.
_SIGNALS = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4


def _decoded(data: bytes) -> str:
    """What `subprocess` with text=True makes of a child's output."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=locale.getpreferredencoding(False)).read()


def _stream(data: bytes, errors: str) -> io.TextIOWrapper:
    """A text stream over bytes, as a child's sys.stdin/stdout/stderr over a pipe: UTF-8, no newline translation."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors, newline="\n")


def _exit_status(code: object, stderr: io.TextIOWrapper) -> int:
    """SystemExit's code as the interpreter makes it the process's status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    stderr.write(f"{code}\n")
    return 1


@contextlib.contextmanager
def _environment(env: dict[str, str] | None) -> Iterator[None]:
    """`env` on top of os.environ for the call; a TZ in it takes effect (time.tzset) as in a child started with it."""
    saved = dict(os.environ)
    os.environ.update(env or {})
    zone_changed = os.environ.get("TZ") != saved.get("TZ")
    if zone_changed:
        time.tzset()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if zone_changed:
            time.tzset()


@contextlib.contextmanager
def _working_folder(folder: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _process_state_restored() -> Iterator[None]:
    """Signal handlers, the umask, and what harden_process() sets (the core limit, the dumpable flag)."""
    import ctypes
    import resource

    handlers = {s: signal.getsignal(s) for s in _SIGNALS}
    umask = os.umask(0o077)
    os.umask(umask)
    core = resource.getrlimit(resource.RLIMIT_CORE)
    libc = ctypes.CDLL(None, use_errno=True)
    dumpable = libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) if sys.platform.startswith("linux") else -1
    try:
        yield
    finally:
        for number, handler in handlers.items():
            if signal.getsignal(number) is not handler and handler is not None:
                signal.signal(number, handler)
        os.umask(umask)
        # Raising the hard limit back needs root; otherwise the test process just keeps no core files.
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, core)
        if dumpable >= 0:
            libc.prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0)


@contextlib.contextmanager
def _fresh_caches() -> Iterator[None]:
    """The caches a new process starts without: emptied for the call, given back after."""
    from desktop.core import audit
    from desktop.core.db import sqlite_files

    warned = set(sqlite_files._NOT_WAL_WARNED)
    sqlite_files._NOT_WAL_WARNED.clear()
    audit.actor.cache_clear()
    try:
        yield
    finally:
        sqlite_files._NOT_WAL_WARNED.clear()
        sqlite_files._NOT_WAL_WARNED.update(warned)
        audit.actor.cache_clear()


class _Watchdog:
    """After `seconds`, the stacks of every thread and `diagnose()`'s text, then SIGINT to the main thread."""

    def __init__(self, seconds: float, diagnose: Callable[[], str]) -> None:
        self.report: str | None = None
        self._diagnose = diagnose
        self._lock = threading.Lock()
        self._finished = False
        self._main = threading.main_thread().ident
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._finished = True
        self._timer.cancel()

    def _fire(self) -> None:
        with tempfile.TemporaryFile("w+") as dump:
            faulthandler.dump_traceback(dump, all_threads=True)
            dump.seek(0)
            stacks = dump.read()
        diagnosis = self._diagnose()
        with self._lock:
            if self._finished:
                return
            self.report = f"{stacks}\n--- sessions on the server:\n{diagnosis}"
            if self._main is not None and threading.current_thread().ident != self._main:
                signal.pthread_kill(self._main, signal.SIGINT)


def call_main(
    argv: list[str],
    *,
    stdin: str | None,
    env: dict[str, str] | None,
    cwd: Path,
    timeout: float,
    diagnose: Callable[[], str],
) -> tuple[int, str, str, str | None]:
    """(status, stdout, stderr, hang report or None) of `desktop.app.main(argv)` run in this process."""
    from desktop.app import main

    out, err = _stream(b"", "strict"), _stream(b"", "backslashreplace")
    given = _stream((stdin or "").encode(), "strict")
    watchdog = _Watchdog(timeout, diagnose)
    with (
        _environment(env),
        _working_folder(cwd),
        _logging_restored(),
        _process_state_restored(),
        _fresh_caches(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        saved_stdin, sys.stdin = sys.stdin, given
        try:
            try:
                with watchdog:
                    status = main(argv)
            except SystemExit as stop:
                status = _exit_status(stop.code, err)
            except KeyboardInterrupt:
                if watchdog.report is None:
                    raise
                status = 130
            except Exception:  # what the interpreter prints of an uncaught exception, and its status
                traceback.print_exc(file=err)
                status = 1
        finally:
            sys.stdin = saved_stdin
    out.flush()
    err.flush()
    stdout = _decoded(out.buffer.getvalue())  # type: ignore[attr-defined]
    stderr = _decoded(err.buffer.getvalue())  # type: ignore[attr-defined]
    return status, stdout, stderr, watchdog.report
