"""Connections of our own for the fast paths (SQLite's reads, PostgreSQL's lookups and pages).

Not one connection per thread: a threaded server starts a thread per request, and those connections would
pile up with the threads. Taken and given back without a lock of ours (SimpleQueue does it in C); never
reused across fork().

`IdleConnections` keeps a few idle and lets more be open at once (a SQLite file costs no server process).
`BoundedConnections` never has more than its bound open: a caller beyond it waits for one to be given back,
at most `wait_s`, then gets Busy (PostgreSQL: each connection is a server process, and a service at 64
concurrent requests that opened 64 ran slower than one that queued for a few).
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

#: Connections kept idle; more may be open at once, the rest are closed when given back.
POOL_SIZE = 8

C = TypeVar("C")

#: Every pool of this process: a forked child starts each one afresh (the parent's connections are the
#: parent's), so that taking a connection need not ask for the process id (a system call) every time.
_POOLS: weakref.WeakSet[IdleConnections[Any]] = weakref.WeakSet()  # pools of any kind of connection


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class IdleConnections(Generic[C]):
    def __init__(self, close: Callable[[C], object], size: int = POOL_SIZE) -> None:
        self._close = close
        self._size = size
        #: The idle connections. Public for verify's lookup, which takes and gives inline (a call each way to
        #: take() and give() was a tenth of its cost): what it takes it puts back here, or discards.
        self.queue: queue.SimpleQueue[C] = queue.SimpleQueue()
        _POOLS.add(self)

    def take(self) -> C | None:
        """An idle connection, or None: the caller connects."""
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            return None

    def _forked(self) -> None:
        self.queue = queue.SimpleQueue()  # the parent's connections are left alone, never closed or used

    def give(self, conn: C, *, reusable: bool = True) -> None:
        if reusable and self.queue.qsize() < self._size:
            self.queue.put(conn)
        else:
            self.discard(conn)

    def discard(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # a broken connection may fail even to close
            self._close(conn)

    def qsize(self) -> int:
        return self.queue.qsize()

    def close_all(self) -> None:
        idle, self.queue = self.queue, queue.SimpleQueue()
        while True:
            try:
                conn = idle.get_nowait()
            except queue.Empty:
                break
            self.discard(conn)


class Busy(Exception):
    """Every connection of a BoundedConnections stayed in use for its whole wait."""


class BoundedConnections(IdleConnections[C]):
    """At most `size` connections open, idle or in use; beyond it a caller queues, at most `wait_s`.

    An idle connection is always handed out before a new one is opened: one thread checking keys one after
    another keeps one connection (one server process, its plans warm), however large `size`. Opening one takes
    a token (`size` of them); a caller given None connects, and gives back None (its token) when it closed the
    connection or never made one. One C-level queue operation each way on the usual path; a caller that finds
    every connection in use looks again every few milliseconds until one is given back or its wait is over.
    """

    #: How often a queued caller looks for an idle connection or a token.
    _POLL_S = 0.005

    def __init__(self, close: Callable[[C], object], size: int, wait_s: float) -> None:
        super().__init__(close, size)
        self.wait_s = wait_s
        self._tokens: queue.SimpleQueue[None] = self._fresh_tokens()

    def _fresh_tokens(self) -> queue.SimpleQueue[None]:
        tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(self._size):
            tokens.put(None)
        return tokens

    @property
    def size(self) -> int:
        return self._size

    def _forked(self) -> None:
        super()._forked()
        self._tokens = self._fresh_tokens()

    def acquire(self) -> C | None:
        """An idle connection, else None (connect one: a token is taken). Raises Busy when neither came within
        `wait_s`."""
        idle, tokens = self.queue, self._tokens
        # try/except, not contextlib.suppress: free when nothing is raised, where suppress costs three Python calls
        # on every verify.
        try:
            return idle.get_nowait()
        except queue.Empty:
            pass
        try:
            return tokens.get_nowait()
        except queue.Empty:
            pass
        deadline = time.monotonic() + self.wait_s
        while True:
            with contextlib.suppress(queue.Empty):
                return idle.get(timeout=self._POLL_S)
            with contextlib.suppress(queue.Empty):
                return tokens.get_nowait()
            if time.monotonic() >= deadline:
                raise Busy

    def release(self, conn: C | None) -> None:
        """Give back what acquire() gave: the connection, or None when there is none (closed, or never made)."""
        if conn is None:
            self._tokens.put(None)
        else:
            self.queue.put(conn)

    def take(self) -> C | None:
        raise TypeError("a bounded pool hands out connections or tokens: acquire() and release()")

    def give(self, conn: C, *, reusable: bool = True) -> None:
        raise TypeError("a bounded pool hands out connections or tokens: acquire() and release()")

    def close_all(self) -> None:
        """Close every idle connection, giving back its token. Connections in use are given back by their holders."""
        while True:
            try:
                conn = self.queue.get_nowait()
            except queue.Empty:
                break
            self.discard(conn)
            self._tokens.put(None)


#: PostgreSQL: the connections a process opens for reads and checks at most (APIKEYS_MAX_CONNECTIONS), and
#: how long a caller beyond them waits for one (APIKEYS_CONNECTION_WAIT, seconds).
MAX_CONNECTIONS = 8
CONNECTION_WAIT_S = 10.0


def limits_from_environment(environ: dict[str, str] | None = None) -> tuple[int, float]:
    """(bound, wait) from $APIKEYS_MAX_CONNECTIONS and $APIKEYS_CONNECTION_WAIT; ValueError saying which is wrong."""
    env = os.environ if environ is None else environ
    size, wait = MAX_CONNECTIONS, CONNECTION_WAIT_S
    raw = env.get("APIKEYS_MAX_CONNECTIONS", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise ValueError(f"APIKEYS_MAX_CONNECTIONS must be a whole number from 1 to 1000, not '{raw[:20]}'")
        size = int(raw)
    raw = env.get("APIKEYS_CONNECTION_WAIT", "").strip()
    if raw:
        try:
            wait = float(raw)
        except ValueError:
            wait = -1.0
        if not 0 < wait <= 3600:
            raise ValueError(f"APIKEYS_CONNECTION_WAIT must be a number of seconds from 0 to 3600, not '{raw[:20]}'")
    return size, wait
