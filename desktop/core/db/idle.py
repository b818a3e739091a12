"""A small set of idle connections kept for the fast paths (SQLite's reads, PostgreSQL's lookup).

Not one connection per thread: a threaded server starts a thread per request, and those connections would
pile up with the threads. Taken and given back without a lock of ours (SimpleQueue does it in C); never
reused across fork().
"""

from __future__ import annotations

import contextlib
import os
import queue
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
            self._idle, self._pid = queue.SimpleQueue(), os.getpid()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return None

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
