"""KeyStore's reads by Query: search, status filter, order; counts and the health summary; hearing of changes
(a mixin of KeyStore).

Split from desktop.core.store to keep modules small; KeyStore inherits it, so the public API is the store's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from desktop.core.clock import Clock
from desktop.core.query import Filter, KeyHealth, Query, SortCursor
from desktop.core.values import ChangeListener, Cursor, KeyRecord, Page

if TYPE_CHECKING:
    from desktop.core.db import Database


class QueryMixin:
    """The Query reads; KeyStore provides the database, the clock and the plain (newest first) page and count."""

    if TYPE_CHECKING:
        _clock: Clock
        _db: Database

        def _usable(self) -> Database: ...

        def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page: ...

        def count(self, *, newer_than: Cursor | None = None) -> int: ...

    def query_page(
        self,
        query: Query,
        size: int,
        *,
        after: SortCursor | Cursor | None = None,
        before: SortCursor | Cursor | None = None,
    ) -> Page:
        """One keyset page of the keys `query` finds, in its order (`query.cursor(record)` gives positions)."""
        if query.is_plain and not isinstance(after, SortCursor) and not isinstance(before, SortCursor):
            return self.page(size, after=after, before=before)
        if size < 1:
            raise ValueError("page size must be positive")
        if after is not None and before is not None:
            raise ValueError("give after or before, not both")
        from desktop.core.db import queries

        now = self._clock.now()
        with self._usable().read() as conn:
            return queries.page(conn, query, now, size, after=_sort_cursor(after), before=_sort_cursor(before))

    def query_count(self, query: Query, *, before: SortCursor | Cursor | None = None) -> int:
        """How many keys `query` finds; with `before`, how many of them come before that position."""
        if query.is_plain and not isinstance(before, SortCursor):
            return self.count(newer_than=before)  # the plain keyset count: no SQLAlchemy, and one index
        from desktop.core.db import queries

        now = self._clock.now()
        with self._usable().read() as conn:
            return queries.count(conn, query, now, before=_sort_cursor(before))

    def expiring_count(self) -> int:
        """Active keys that expire within the next 7 days (the window's expiry banner)."""
        return self.query_count(Query(status=Filter.EXPIRING))

    def health(self) -> KeyHealth:
        """The key-health summary: keys that never expire, were never used, were not used for 90 days."""
        return KeyHealth(
            never_expire=self.query_count(Query(status=Filter.NEVER_EXPIRES)),
            never_used=self.query_count(Query(status=Filter.UNUSED)),
            not_used_lately=self.query_count(Query(status=Filter.STALE)),
        )

    def find(self, query: Query, *, limit: int | None = None, batch: int = 1000) -> Iterator[KeyRecord]:
        """Every key `query` finds, in its order, read in keyset batches (never the whole list at once)."""
        from desktop.core.db import queries

        left = limit
        size = batch if left is None else max(1, min(batch, left))
        for rows in queries.batches(self._usable().read, query, self._clock.now(), size):
            if left is not None:
                rows = rows[:left]
                left -= len(rows)
            yield from rows
            if left is not None and left <= 0:
                return

    def listen(self) -> ChangeListener | None:
        """A new listener for changes committed by anyone, on a connection of its own (PostgreSQL's LISTEN).

        Blocking (it connects): call it off the GUI thread. None when the database has no notifications (SQLite:
        poll data_version() instead); ServerUnreachable when the server cannot be reached.
        """
        return self._db.listen()


def _sort_cursor(cursor: SortCursor | Cursor | None) -> SortCursor | None:
    """A plain (created_at, id) cursor is a position in the `created` order."""
    if cursor is None or isinstance(cursor, SortCursor):
        return cursor
    return SortCursor(cursor.created_at, cursor.id)
