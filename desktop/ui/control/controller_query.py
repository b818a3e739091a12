"""The controller's current query (search text, status filter, order) and its triage counts: two QObjects.

The controller (controller.py) owns both and listens to them. A new query's first page is read off the GUI
thread and is handed over (`read`) only when it is still the latest one asked for, so typing fast never shows
an older answer over a newer one; its count follows (Controller._recount).
Live reloads keep the query. The expiry banner's and key-health summary's figures (several counts over the whole
table, seconds at a million keys) are read on a thread of their own after each change, never in the way of a page,
a count or a write.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.paging import Pager
from desktop.core.query import KeyHealth, Query
from desktop.ui.control.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.core.store import KeyStore


#: After a triage count the next one waits at least this long, and at least TRIAGE_REST_FACTOR times as long
#: as that count took: on a busy million-key database (every verify records a use, a change each second) the
#: counts take at most a fifth of a core instead of all of it. Changes heard meanwhile make one count after.
TRIAGE_REST_MS = 500
TRIAGE_REST_FACTOR = 4


@dataclass(frozen=True, slots=True)
class Triage:
    """What the expiry banner and the key-health summary show: counted with every recount."""

    expiring: int
    health: KeyHealth


class QueryControl(QObject):
    """The query shown and the one asked for; reads a new query's first page on the runner it is given."""

    #: A new query's first page was read: (the store it was read from, the query, a Pager on its first page).
    read = Signal(object, object, object)
    #: Reading a new query failed: (the store, the error); the query shown stays.
    failed = Signal(object, object)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        #: What the list shows now; the pager reads by it. Replaced only when a new query's first page arrives.
        self._query = Query()
        self._tokens = itertools.count(1)
        self._wanted = 0
        #: The latest query asked for while it is being read (None: none in flight).
        self._asked: Query | None = None

    @property
    def query(self) -> Query:
        return self._query

    @property
    def wanted(self) -> Query:
        """The query asked for last: the next change (a second header click) builds on it, not on the one shown."""
        return self._asked if self._asked is not None else self._query

    def show(self, query: Query) -> None:
        """`query` is the one shown now (its first page arrived, or no store is open to read it from)."""
        self._query = query

    def ask(self, store: KeyStore, query: Query, size: int) -> None:
        """Read the first page of `query` off the GUI thread; `read` or `failed` follows if still the latest."""
        token = self._wanted = next(self._tokens)
        self._asked = query

        def work() -> Pager:
            fresh = Pager(store, size, query)
            fresh.first()
            return fresh

        self._runner.submit(
            work,
            lambda fresh: self._on_read(token, lambda: self.read.emit(store, query, fresh)),
            lambda err: self._on_read(token, lambda: self.failed.emit(store, err)),
        )

    def _on_read(self, token: int, say: Callable[[], None]) -> None:
        if token != self._wanted:
            return  # the person typed on meanwhile
        self._asked = None
        say()


class TriageCount(QObject):
    """The expiry banner's and key-health summary's figures, counted on a thread of its own, rested between."""

    #: The figures (a Triage) of the store attached.
    counted = Signal(object)
    #: Counting them failed (the error), on the store attached.
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store: KeyStore | None = None
        self._runner: TaskRunner | None = None
        self._running = False
        self._dirty = False
        #: time.monotonic() before which no count starts; a timer is set for the one waiting.
        self._next_at = 0.0
        self._waiting = False

    def attach(self, store: KeyStore) -> None:
        """Count `store` from now on (after `finish`: the one before was closed)."""
        self._store = store

    def request(self) -> None:
        """Count again after a change: from the event loop, not now (at start-up the launcher paints the first
        page before the loop runs, and the count's thread would import SQLAlchemy beside that paint)."""
        QTimer.singleShot(0, self, self._count)

    def pending(self) -> int:
        return 0 if self._runner is None else self._runner.pending()

    def _count(self) -> None:
        store = self._store
        if store is None:
            return
        if self._running:
            self._dirty = True
            return
        rest = self._next_at - time.monotonic()
        if rest > 0:
            if not self._waiting:
                self._waiting = True
                QTimer.singleShot(int(rest * 1000) + 1, self, self._on_rest_over)
            return
        if self._runner is None:
            self._runner = TaskRunner(self)
        self._running = True

        def work() -> tuple[Triage, float]:
            started = time.monotonic()
            return Triage(store.expiring_count(), store.health()), time.monotonic() - started

        self._runner.submit(
            work,
            lambda result: self._on_done(store, *result),
            lambda err: self._on_failed(store, err),
        )

    def _on_rest_over(self) -> None:
        self._waiting = False
        self._count()

    def _on_done(self, store: KeyStore, triage: Triage, took: float) -> None:
        self._running = False
        self._next_at = time.monotonic() + max(TRIAGE_REST_MS / 1000, took * TRIAGE_REST_FACTOR)
        if store is self._store:
            self.counted.emit(triage)
        if self._dirty:
            self._dirty = False
            self._count()  # after the rest

    def _on_failed(self, store: KeyStore, err: Exception) -> None:
        self._running = False
        self._dirty = False
        if store is self._store:
            self.failed.emit(err)

    def finish(self, *, closing: bool = False) -> None:
        """Before the store closes (another database, or quitting): the count in flight ends first."""
        runner = self._runner
        if runner is None:
            return
        if closing:
            runner.shutdown()
        else:
            runner.wait()
            self._running = self._dirty = False  # the new store's figures are read afresh
            self._next_at = 0.0
