"""The store's reads: a key, the plain (newest first) pages and counts, the reads by Query (search, status filter,
order), the counts of the health summary; hearing of changes. An object given the store's database access, composed
by KeyStore.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from desktop.core.errors import KeyNotFound
from desktop.core.query import Filter, KeyHealth, Query, SortCursor
from desktop.core.values import ChangeListener, Cursor, KeyRecord, Page

if TYPE_CHECKING:
    from desktop.core.store_access import DatabaseAccess


class StoreReads:
    """The reads of keys; none writes."""

    def __init__(self, access: DatabaseAccess) -> None:
        self._access = access
        self._clock = access.clock
        self._usable = access.usable

    # -- reads --

    def get(self, key_id: int) -> KeyRecord:
        from desktop.core.db import statements as sql

        with self._usable().read() as conn:
            row = conn.execute(sql.GET, {"key_id": key_id}).first()
        if row is None:
            raise KeyNotFound(key_id)
        return sql.record(row)

    def count(self, *, newer_than: Cursor | None = None) -> int:
        """How many keys exist; with `newer_than`, how many sort before that position (its offset)."""
        return self._usable().count(newer_than)

    def all(self) -> list[KeyRecord]:
        """Every key, newest first (for `apikeys list`)."""
        from desktop.core.db import statements as sql

        with self._usable().read() as conn:
            return [sql.record(r) for r in conn.execute(sql.ALL)]

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        """One page, newest first, by keyset: the first page, the one after `after`, or before `before`."""
        if size < 1:
            raise ValueError("page size must be positive")
        if after is not None and before is not None:
            raise ValueError("give after or before, not both")
        return self._usable().page(size, after=after, before=before)

    def data_version(self) -> int | None:
        """A number that changes when another connection or process commits; None if unknown."""
        return self._usable().data_version()

    def preload(self) -> None:
        """Load what writes and full listings need (SQLAlchemy, its engine, the statements) ahead of the first.

        Opening a SQLite file and reading pages do without them; a window calls this in the background once its
        first page is on screen, so that the first change a person makes does not wait for the import.
        """
        from desktop.core.db import statements  # noqa: F401  # for its side effect: SQLAlchemy and the model loaded

        self._usable().engine  # noqa: B018  # built now rather than by the first write

    # -- by Query --

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
        return self._access.database.listen()


def _sort_cursor(cursor: SortCursor | Cursor | None) -> SortCursor | None:
    """A plain (created_at, id) cursor is a position in the `created` order."""
    if cursor is None or isinstance(cursor, SortCursor):
        return cursor
    return SortCursor(cursor.created_at, cursor.id)
