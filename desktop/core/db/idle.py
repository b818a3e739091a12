"""Connections of our own for the fast paths (SQLite's reads, PostgreSQL's lookups and pages).

Not one connection per thread: a threaded server starts a thread per request, and those connections would
pile up with the threads. Never reused across fork().

`IdleConnections` keeps a few idle and lets more be open at once (a SQLite file costs no server process); taken
and given back without a lock of ours (SimpleQueue does it in C).
`BoundedConnections` never has more than its bound open: a caller beyond it queues for one to be given back,
served within about `fair_after_s` while checks go on, at most `wait_s`, then gets Busy (PostgreSQL: each
connection is a server process, and a service at 64 concurrent requests that opened 64 ran slower than one that
queued for a few).
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

#: Connections kept idle; more may be open at once, the rest are closed when given back.
POOL_SIZE = 8

C = TypeVar("C")

#: Every pool of this process: a forked child starts each one afresh (the parent's connections are the
#: parent's), so that taking a connection need not ask for the process id (a system call) every time.
_POOLS: weakref.WeakSet[IdleConnections[Any] | BoundedConnections[Any]] = weakref.WeakSet()  # any kind of connection


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


class _Turn:
    """A queued caller: blocked on its own lock until a connection (or a token: None) is handed to it."""

    __slots__ = ("conn", "due", "handed")

    def __init__(self, due: float) -> None:
        self.conn: Any = None
        self.due = due  # from then on, a connection given back is handed to the longest waiter, not left idle
        self.handed = threading.Lock()
        self.handed.acquire()


#: How long a queued caller may be overtaken: until then, a connection given back by a thread that asks again at
#: once is left idle for it; after it, every one given back is handed to the longest waiter. It sets how often
#: connections change threads (each waiter is handed one about this often: 56 waiters, ~560 handovers a second)
#: and the wait of a caller that queues: at 50 ms, 64 threads on 8 connections spent a quarter to a third more
#: client CPU a check than 8 threads (docs/performance.md, "The fairness bound: 100 ms").
FAIR_AFTER_S = 0.1
#: A queued caller sleeps until a connection is handed to it, or until this fraction of `fair_after_s` past its due
#: time: then it looks for an idle one itself (one left idle for a thread that, this time, did not ask again).
#: Looking at its due time, it woke about every third time to find every connection in use, and slept again.
LOOK_AFTER_DUE = 0.5
#: "At once": a thread that, the last time it gave a connection back while others queued, asked again within this.
AT_ONCE_S = 0.001


class BoundedConnections(Generic[C]):
    """At most `size` connections open, idle or in use; beyond it a caller queues, at most `wait_s`, and is served
    within about `fair_after_s` of queueing as long as connections are being given back.

    An idle connection is always handed out before a new one is opened, the one given back last first: one
    thread checking keys one after another keeps one connection (one server process, its plans warm), however
    large `size`. Opening one takes a token (`size` of them); a caller given None connects, and gives back None
    (its token) when it closed the connection or never made one.

    A connection given back while callers queue is handed to the one that has waited longest, which is woken,
    unless the thread giving it back asked again at once (within `at_once_s`) the last time it gave one back
    while others queued: then it is left idle for that thread, until the longest waiter has waited
    `fair_after_s`. Handing every one over cost a thread woken per check: with 64 threads on 8 connections, the
    thread giving one back, checking again at once, queued and slept while the waiter woke, about ten context
    switches a check where 8 threads needed one, and a third of the throughput (`make bench`, "pg verify, 64 /
    8 clients"). Left idle, it is taken again by that thread without a switch, and the waiters sleep until due.
    A thread that goes on to other work (a service answering its request) hands it over at once, as before.
    Nobody is left waiting beside an idle connection for long: one given back while another is still idle is
    handed over, and a waiter not handed one within half its `fair_after_s` past due looks for an idle one itself
    (sooner, it woke only to find them all in use). Before all this, queued callers
    looked every 5 ms and whoever looked first won, without a bound: a few threads did all the checks while the
    rest waited seconds.
    """

    def __init__(
        self,
        close: Callable[[C], object],
        size: int,
        wait_s: float,
        fair_after_s: float = FAIR_AFTER_S,
        at_once_s: float = AT_ONCE_S,
    ) -> None:
        self._close = close
        self._size = size
        self.wait_s = wait_s
        self.fair_after_s = fair_after_s
        self.at_once_s = at_once_s
        self._fresh()
        _POOLS.add(self)

    def _fresh(self) -> None:
        self._lock = threading.Lock()  # held for a few list operations, never while connecting or waiting
        self._idle: list[C] = []
        self._tokens = self._size
        self._waiting: collections.deque[_Turn] = collections.deque()
        #: Per thread, asked only while callers queue: `gave` when it last gave one back, `again` whether it then
        #: asked again at once.
        self._mine = threading.local()

    @property
    def size(self) -> int:
        return self._size

    def _forked(self) -> None:
        self._fresh()  # the parent's connections are left alone, never closed or used; its lock may be held

    def acquire(self) -> C | None:
        """An idle connection, else None (connect one: a token is taken). Raises Busy when neither came within
        `wait_s`."""
        with self._lock:
            if self._idle:
                if self._waiting:
                    self._asked_again()
                return self._idle.pop()
            if self._tokens:
                self._tokens -= 1
                return None
            self._asked_again()
            fair = min(self.fair_after_s, self.wait_s)
            look = min(fair * (1 + LOOK_AFTER_DUE), self.wait_s)
            turn = _Turn(time.monotonic() + fair)
            self._waiting.append(turn)
        try:
            # Until due, a connection may be left idle instead of handed over; due, it is handed the next one given
            # back. Only if none is given back for a while does it look for one itself.
            handed = turn.handed.acquire(timeout=look) or self._idle_at_due(turn)
            if not handed and self.wait_s > look:
                handed = turn.handed.acquire(timeout=self.wait_s - look)
        except BaseException:  # interrupted (KeyboardInterrupt): what was handed to it meanwhile goes on to the next
            if not self._withdraw(turn):
                self.release(turn.conn)
            raise
        if handed or not self._withdraw(turn):  # not withdrawn: handed one just as the wait ended
            return turn.conn  # type: ignore[no-any-return]
        raise Busy

    def _asked_again(self) -> None:
        """Note whether this thread, asking while others queue, asks within `at_once_s` of giving one back."""
        mine = self._mine
        gave = getattr(mine, "gave", None)
        if gave is not None:
            mine.again = time.monotonic() - gave < self.at_once_s
            mine.gave = None

    def _idle_at_due(self, turn: _Turn) -> bool:
        """A waiter come due: an idle connection (or a token) is handed to it, when one is there and it still waits."""
        with self._lock:
            if turn not in self._waiting:  # handed one just as the wait ended
                return turn.handed.acquire(blocking=False)
            if self._idle:
                turn.conn = self._idle.pop()
            elif self._tokens:
                self._tokens -= 1
            else:
                return False
            self._waiting.remove(turn)
            return True

    def _withdraw(self, turn: _Turn) -> bool:
        """Take `turn` out of the queue; False when it is no longer there (a connection was handed to it)."""
        with self._lock:
            try:
                self._waiting.remove(turn)
            except ValueError:
                return False
            return True

    def release(self, conn: C | None) -> None:
        """Give back what acquire() gave: the connection, or None when there is none (closed, or never made)."""
        with self._lock:
            waiting = self._waiting
            if waiting:
                mine = self._mine
                now = mine.gave = time.monotonic()
                # Left idle only for a thread that asks again at once, while no other one is idle (its giver did
                # not) and the longest waiter is not yet due; else handed over: a token always.
                if conn is None or self._idle or now >= waiting[0].due or not getattr(mine, "again", False):
                    turn = waiting.popleft()
                    turn.conn = conn
                    turn.handed.release()
                    return
            if conn is None:
                self._tokens += 1
            else:
                self._idle.append(conn)

    def discard(self, conn: C) -> None:
        """Close a connection (give back its token with release(None))."""
        with contextlib.suppress(Exception):  # a broken connection may fail even to close
            self._close(conn)

    def qsize(self) -> int:
        """Idle connections."""
        return len(self._idle)

    def idle(self) -> list[C]:
        """The idle connections, most recently given back last (a copy)."""
        with self._lock:
            return list(self._idle)

    def close_all(self) -> None:
        """Close every idle connection, its token handed to a waiter or given back. Connections in use are given
        back by their holders."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self.discard(conn)
            self.release(None)


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
