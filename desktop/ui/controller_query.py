"""The controller's current query (search text, status filter, order): a mixin of Controller.

A new query is read off the GUI thread (its first page and its count together) and replaces the pager only when
it is still the latest one asked for, so typing fast never shows an older answer over a newer one. Counts, live
reloads and the expiry banner's and key-health summary's figures all follow the query shown.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.core.paging import Pager, Position
from desktop.core.query import KeyHealth, Query

if TYPE_CHECKING:
    from desktop.core.store import KeyStore


@dataclass(frozen=True, slots=True)
class Triage:
    """What the expiry banner and the key-health summary show: counted with every recount."""

    expiring: int
    health: KeyHealth


class QueryControl:
    """Mixed into Controller (which provides the store, the pager, the runner and the signals used here)."""

    #: What the list shows now; the pager reads by it. Replaced only when a new query's first page arrives.
    _query: Query = Query()
    _query_tokens = itertools.count(1)
    _query_wanted = 0
    #: The latest query asked for while it is being read (None: none in flight).
    _query_asked: Query | None = None

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

        def work() -> tuple[Pager, int]:
            fresh = Pager(store, size, query)
            fresh.first()
            return fresh, store.query_count(query)

        self.runner.submit(  # type: ignore[attr-defined]
            work,
            lambda result: self._on_query_done(store, token, query, result),
            lambda err: self._on_query_failed(store, token, err),
        )

    def _on_query_done(self, store: KeyStore, token: int, query: Query, result: tuple[Pager, int]) -> None:
        if token != self._query_wanted:
            return  # the person typed on meanwhile
        self._query_asked = None
        if store is not self._store:  # type: ignore[attr-defined]
            return  # another database is shown now (with this query's predecessor)
        fresh, total = result
        self._query = query
        self._pager = fresh
        self._total = total
        # Read after this query's page: a change committed before it is in the page already.
        self._seen_version = store.data_version()
        self.pageChanged.emit(fresh.items, None)  # type: ignore[attr-defined]
        self.totalChanged.emit(total)  # type: ignore[attr-defined]
        self.queryApplied.emit(query)  # type: ignore[attr-defined]

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
        return store.count() if self._query.is_plain else store.query_count(self._query)

    def _count_work(self, store: KeyStore, start: Position | None) -> Any:
        """The recount off the GUI thread: the query's total, this page's offset, and the triage figures."""
        query = self._query

        def work() -> tuple[int, int, Triage | None]:
            if query.is_plain:
                total = store.count()
                offset = store.count(newer_than=start) if start is not None else 0  # type: ignore[arg-type]
            else:
                total = store.query_count(query)
                offset = store.query_count(query, before=start) if start is not None else 0
            return total, offset, Triage(store.expiring_count(), store.health())

        return work

    def _on_triage_counted(self, triage: Triage | None) -> None:
        if triage is not None:
            self.triageChanged.emit(triage)  # type: ignore[attr-defined]
