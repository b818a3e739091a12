"""Connections of our own for the fast paths (SQLite's reads, PostgreSQL's lookups and pages).

Not one connection per thread: a threaded server starts a thread per request, and those connections would
pile up with the threads. Taken and given back without a lock of ours (SimpleQueue does it in C); never
reused across fork().

`IdleConnections` keeps a few idle and lets more be open at once (a SQLite file costs no server process).
`BoundedConnections` never has more than its bound open: a caller beyond it waits for one to be given back,
at most `wait_s`, then gets None (PostgreSQL: each connection is a server process, and a service at 64
concurrent requests that opened 64 ran slower than one that queued for a few).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

#: Connections kept idle; more may be open at once, the rest are closed when given back.
POOL_SIZE = 8

C = TypeVar("C")


class IdleConnections(Generic[C]):
    def __init__(self, close: Callable[[C], object], size: int = POOL_SIZE) -> None:
        self._close = close
        self._size = size
        self._idle: queue.SimpleQueue[C] = queue.SimpleQueue()
        self._pid = os.getpid()

    def take(self) -> C | None:
        """An idle connection, or None: the caller connects."""
        if self._pid != os.getpid():  # the parent's connections belong to the parent
            self._forked()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return None

    def _forked(self) -> None:
        self._idle, self._pid = queue.SimpleQueue(), os.getpid()

    def give(self, conn: C, *, reusable: bool = True) -> None:
        if reusable and self._idle.qsize() < self._size:
            self._idle.put(conn)
        else:
            self.discard(conn)

    def discard(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # a broken connection may fail even to close
            self._close(conn)

    def qsize(self) -> int:
        return self._idle.qsize()

    def close_all(self) -> None:
        idle, self._idle = self._idle, queue.SimpleQueue()
        while True:
            try:
                conn = idle.get_nowait()
            except queue.Empty:
                break
            self.discard(conn)


class BoundedConnections(IdleConnections[C]):
    """At most `size` connections open (idle or in use); beyond it a caller queues.

    Every connection is either idle or held by a caller that holds one of `size` slots, and a caller
    connects only when it holds a slot and finds none idle: so at most `size` are ever open.
    """

    def __init__(self, close: Callable[[C], object], size: int, wait_s: float) -> None:
        super().__init__(close, size)
        self.wait_s = wait_s
        self._slots = threading.BoundedSemaphore(size)

    @property
    def size(self) -> int:
        return self._size

    def _forked(self) -> None:
        super()._forked()
        self._slots = threading.BoundedSemaphore(self._size)

    def acquire(self) -> bool:
        """A slot, waiting at most `wait_s` for one; False when none came free. Then take() or connect."""
        if self._pid != os.getpid():
            self._forked()
        return self._slots.acquire(timeout=self.wait_s)

    def release(self, conn: C | None, *, reusable: bool = True) -> None:
        """Give back the slot and the connection it held (None: it never got one); idle before the slot is free."""
        try:
            if conn is not None:
                if reusable:
                    self._idle.put(conn)
                else:
                    self.discard(conn)
        finally:
            self._slots.release()


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
