"""The controller's current query (search text, status filter, order): a mixin of Controller.

A new query's first page is read off the GUI thread and replaces the pager only when it is still the latest one
asked for, so typing fast never shows an older answer over a newer one; its count follows (Controller._recount).
Live reloads keep the query. The expiry banner's and key-health summary's figures (several counts over the whole
table, seconds at a million keys) are read on a thread of their own after each change, never in the way of a page,
a count or a write.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer

from desktop.core.paging import Pager, Position
from desktop.core.query import KeyHealth, Query
from desktop.ui.tasks import TaskRunner

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


class QueryControl:
    """Mixed into Controller (which provides the store, the pager, the runner and the signals used here)."""

    _pager: Pager | None
    _total: int | None

    #: What the list shows now; the pager reads by it. Replaced only when a new query's first page arrives.
    _query: Query = Query()
    _query_tokens = itertools.count(1)
    _query_wanted = 0
    #: The latest query asked for while it is being read (None: none in flight).
    _query_asked: Query | None = None
    #: The next recount is for a new query only: the data did not change, the triage figures stand.
    _skip_triage = False
    _triage_runner: TaskRunner | None = None
    _triage_running = False
    _triage_dirty = False
    #: time.monotonic() before which no triage count starts; a timer is set for the one waiting.
    _triage_next_at = 0.0
    _triage_waiting = False

    @property
    def query(self) -> Query:
        return self._query

    @property
    def wanted_query(self) -> Query:
        """The query asked for last: the next change (a second header click) builds on it, not on the one shown."""
        return self._query_asked if self._query_asked is not None else self._query

    def restore_query(self, query: Query) -> None:
        """The query to show from the next store on (remembered settings), without reading anything now."""
        self._query = query

    def set_query(self, query: Query) -> None:
        """Show the first page of `query` and count it, off the GUI thread; `queryApplied` follows."""
        store: KeyStore | None = self._store  # type: ignore[attr-defined]
        if store is None:
            self._query = query
            return
        token = self._query_wanted = next(self._query_tokens)
        self._query_asked = query
        size = self._page_size  # type: ignore[attr-defined]

        def work() -> Pager:
            fresh = Pager(store, size, query)
            fresh.first()
            return fresh

        self.runner.submit(  # type: ignore[attr-defined]
            work,
            lambda result: self._on_query_done(store, token, query, result),
            lambda err: self._on_query_failed(store, token, err),
        )

    def _on_query_done(self, store: KeyStore, token: int, query: Query, fresh: Pager) -> None:
        if token != self._query_wanted:
            return  # the person typed on meanwhile
        self._query_asked = None
        if store is not self._store:  # type: ignore[attr-defined]
            return  # another database is shown now (with this query's predecessor)
        self._query = query
        self._pager = fresh
        self._total = None  # "1–25" until the count says "of 312 matching"
        self.pageChanged.emit(fresh.items, None)  # type: ignore[attr-defined]
        self.totalChanged.emit(None)  # type: ignore[attr-defined]
        self.queryApplied.emit(query)  # type: ignore[attr-defined]
        self._skip_triage = True
        self._recount()  # type: ignore[attr-defined]

    def _on_query_failed(self, store: KeyStore, token: int, err: Exception) -> None:
        if token != self._query_wanted:
            return
        self._query_asked = None
        if store is not self._store:  # type: ignore[attr-defined]
            return
        self.report(err, "search")  # type: ignore[attr-defined]
        self.queryApplied.emit(self._query)  # type: ignore[attr-defined]

    # -- the hooks Controller calls (set_store, _recount, _live_reload) --

    def _new_pager(self, store: KeyStore, size: int) -> Pager:
        return Pager(store, size, self._query)

    def _count_all(self, store: KeyStore) -> int:
        return store.query_count(self._query)

    def _count_work(self, store: KeyStore, start: Position | None) -> Any:
        """The recount off the GUI thread: the query's total and this page's offset (the triage: on its own)."""
        query = self._query
        if self._skip_triage:
            self._skip_triage = False
        else:
            # From the event loop, not now: at start-up the launcher paints the first page before the loop runs,
            # and the triage's thread would import SQLAlchemy beside that paint, slowing it down.
            QTimer.singleShot(0, self, self._retriage)  # type: ignore[call-overload]

        def work() -> tuple[int, int]:
            total = store.query_count(query)
            return total, (store.query_count(query, before=start) if start is not None else 0)

        return work

    # -- the expiry banner's and key-health summary's figures, on a thread of their own --

    def _retriage(self) -> None:
        store: KeyStore | None = self._store  # type: ignore[attr-defined]
        if store is None:
            return
        if self._triage_running:
            self._triage_dirty = True
            return
        rest = self._triage_next_at - time.monotonic()
        if rest > 0:
            if not self._triage_waiting:
                self._triage_waiting = True
                QTimer.singleShot(int(rest * 1000) + 1, self, self._on_triage_rest_over)  # type: ignore[call-overload]
            return
        if self._triage_runner is None:
            self._triage_runner = TaskRunner(self)  # type: ignore[arg-type]
        self._triage_running = True

        def work() -> tuple[Triage, float]:
            started = time.monotonic()
            return Triage(store.expiring_count(), store.health()), time.monotonic() - started

        self._triage_runner.submit(
            work,
            lambda result: self._on_triage_done(store, *result),
            lambda err: self._on_triage_failed(store, err),
        )

    def _on_triage_rest_over(self) -> None:
        self._triage_waiting = False
        self._retriage()

    def _on_triage_done(self, store: KeyStore, triage: Triage, took: float) -> None:
        self._triage_running = False
        self._triage_next_at = time.monotonic() + max(TRIAGE_REST_MS / 1000, took * TRIAGE_REST_FACTOR)
        if store is self._store:  # type: ignore[attr-defined]
            self.triageChanged.emit(triage)  # type: ignore[attr-defined]
        if self._triage_dirty:
            self._triage_dirty = False
            self._retriage()  # after the rest

    def _on_triage_failed(self, store: KeyStore, err: Exception) -> None:
        self._triage_running = False
        self._triage_dirty = False
        if store is self._store:  # type: ignore[attr-defined]
            self._background_failed(err, "count")  # type: ignore[attr-defined]

    def triage_pending(self) -> int:
        return 0 if self._triage_runner is None else self._triage_runner.pending()

    def _finish_triage(self, *, closing: bool = False) -> None:
        """Before the store closes (another database, or quitting): the triage read ends first."""
        runner = self._triage_runner
        if runner is None:
            return
        if closing:
            runner.shutdown()
        else:
            runner.wait()
            self._triage_running = self._triage_dirty = False  # the new store's figures are read afresh
            self._triage_next_at = 0.0
