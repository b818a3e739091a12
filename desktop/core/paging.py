"""Where the window is in the list: one keyset page and its offset, without OFFSET queries.

Newest first by default; with a `Query` (search, status filter, any order) the same moves, on cursors that
hold the order's sort key.
"""

from __future__ import annotations

from typing import Protocol

from desktop.core.query import Query, SortCursor
from desktop.core.values import Cursor, KeyRecord, Page

#: A place in the list: (created_at, id) newest first, or a query order's (sort key, id).
Position = Cursor | SortCursor

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25


class PageSource(Protocol):
    """What the pager reads from: `KeyStore.page`, and `KeyStore.query_page` for a query."""

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page: ...

    def query_page(
        self, query: Query, size: int, *, after: Position | None = None, before: Position | None = None
    ) -> Page: ...


def _at_or_older(cursor: Position, reverse: bool = False) -> Position:
    """A cursor whose `after` includes `cursor` itself: IDs are integers, so nothing sorts between.

    Ties go to the higher id first, so the next higher id stands just before `cursor` (reversed: the lower).
    """
    step = -1 if reverse else 1
    if isinstance(cursor, SortCursor):
        return SortCursor(cursor.value, cursor.id + step)
    return Cursor(cursor.created_at, cursor.id + step)


class Pager:
    """One page of keys, anchored on its first key so a reload keeps the person's place.

    The offset (for "26–50 of 1,234") is kept by arithmetic on page turns and
    corrected by `set_position` when a background count says where the first
    key really is; at either end of the list it is exact by construction.
    """

    def __init__(self, store: PageSource, size: int = DEFAULT_PAGE_SIZE, query: Query | None = None) -> None:
        self._store = store
        self._size = size
        #: None or a plain query: the newest-first list, read by `page` (the window's fast first page).
        self._query = None if query is None or query.is_plain else query
        self._items: tuple[KeyRecord, ...] = ()
        self._has_newer = False
        self._has_older = False
        self._offset = 0
        # None: the top of the list, so keys added meanwhile appear on reload.
        self._start: Position | None = None

    # -- state --

    @property
    def size(self) -> int:
        return self._size

    @property
    def items(self) -> tuple[KeyRecord, ...]:
        return self._items

    @property
    def has_newer(self) -> bool:
        return self._has_newer

    @property
    def has_older(self) -> bool:
        return self._has_older

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def query(self) -> Query:
        return self._query or Query()

    def _page(self, size: int, *, after: Position | None = None, before: Position | None = None) -> Page:
        if self._query is None:
            assert not isinstance(after, SortCursor) and not isinstance(before, SortCursor)
            return self._store.page(size, after=after, before=before)
        return self._store.query_page(self._query, size, after=after, before=before)

    def _cursor(self, record: KeyRecord) -> Position:
        return record.cursor if self._query is None else self._query.cursor(record)

    @property
    def start(self) -> Position | None:
        """The anchor of this page (its first key), or None at the top of the list."""
        return self._start

    def set_position(self, start: Position | None, offset: int) -> None:
        """Correct the offset from a count, if the page is still the one that was counted."""
        if start == self._start:
            self._offset = offset if start is not None else 0

    # -- moves --

    def first(self) -> None:
        self._show(self._page(self._size), offset=0)

    def next(self) -> bool:
        if not self._has_older or not self._items:
            return False
        page = self._page(self._size, after=self._cursor(self._items[-1]))
        if not page.items:  # the older keys were deleted meanwhile
            self.reload()
            return False
        self._show(page, offset=self._offset + len(self._items))
        return True

    def previous(self) -> bool:
        if not self._has_newer or not self._items:
            return False
        page = self._page(self._size, before=self._cursor(self._items[0]))
        # At the top the page may be short (after a change of page size, or keys deleted meanwhile): it is
        # shown as it is. Fetching a whole first page instead would repeat keys already seen on this one.
        self._show(page, offset=max(0, self._offset - len(page.items)))
        return True

    def reload(self) -> None:
        """The same place again: from the same first key on, or the top; a step back if nothing is left."""
        if self._start is None:
            self.first()
            return
        page = self._page(self._size, after=_at_or_older(self._start, self.query.reverse))
        if page.items:
            self._show(page, offset=self._offset)
            return
        # Everything from here on is gone: show the last page there is.
        back = self._page(self._size, before=self._start)
        if not back.has_newer:
            self.first()
        else:
            self._show(back, offset=max(0, self._offset - len(back.items)))

    def jump(self, start: Position, offset: int) -> None:
        """Show the page that begins at `start`, the key `offset` places from the top (from a count or OFFSET)."""
        self._start = start
        self._offset = offset
        self.reload()

    def resize(self, size: int) -> None:
        """A new page size: the page of that size (counted from the top) that holds the first key shown.

        Aligning on the new size keeps the key in view and makes Previous end exactly at the top,
        with pages of the new size all the way.
        """
        self._size = size
        start, offset = self._start, self._offset
        if start is None or offset < size:
            self.first()
            return
        skip = offset % size  # keys between the aligned page's first key and this one
        if skip:
            back = self._page(skip, before=start)
            if not back.has_newer and len(back.items) <= skip:
                self.first()  # the offset was ahead of the truth (keys went meanwhile): the top it is
                return
            start, offset = self._cursor(back.items[0]), offset - len(back.items)
        self._start, self._offset = start, offset
        self.reload()

    def adopt(self, other: Pager) -> None:
        """Take the page `other` read at this pager's place (off the GUI thread: a live refresh) as this one's."""
        self._size = other._size
        self._query = other._query
        self._items = other._items
        self._has_newer = other._has_newer
        self._has_older = other._has_older
        self._offset = other._offset
        self._start = other._start

    def _show(self, page: Page, offset: int) -> None:
        self._items = page.items
        self._has_newer = page.has_newer
        self._has_older = page.has_older
        if not page.has_newer or not page.items:
            self._offset = 0
            self._start = None
        else:
            self._offset = max(offset, 1)
            self._start = self._cursor(page.items[0])

    # -- label --

    def label(self, total: int | None) -> str:
        """`26–50 of 1,234`; without a count yet, `26–50`; with a search or filter, `1–25 of 312 matching`."""
        query = self._query
        matching = query is not None and (bool(query.search) or query.status is not None)
        if not self._items:
            if matching:
                return "No matching keys" if total in (None, 0) else f"0 of {total:,} matching"
            return "No keys" if total in (None, 0) else f"0 of {total:,}"
        count = len(self._items)
        if not self._has_newer:
            first = 1
        elif not self._has_older and total is not None:
            first = max(2, total - count + 1)  # the last page ends at the total by construction
        else:
            first = self._offset + 1
        last = first + count - 1
        if total is None:
            return f"{first:,}–{last:,}"
        # A count a moment older than the page must not contradict it; the next refresh corrects it.
        total = max(total, last + (1 if self._has_older else 0))
        return f"{first:,}–{last:,} of {total:,}" + (" matching" if matching else "")
