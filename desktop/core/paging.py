"""Where the window is in the newest-first list: one keyset page and its offset, without OFFSET queries."""

from __future__ import annotations

from typing import Protocol

from desktop.core.values import Cursor, KeyRecord, Page

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25


class PageSource(Protocol):
    """What the pager reads from: `KeyStore.page`."""

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page: ...


def _at_or_older(cursor: Cursor) -> Cursor:
    """A cursor whose `after` includes `cursor` itself: IDs are integers, so nothing sorts between."""
    return Cursor(cursor.created_at, cursor.id + 1)


class Pager:
    """One page of keys, anchored on its first key so a reload keeps the person's place.

    The offset (for "26–50 of 1,234") is kept by arithmetic on page turns and
    corrected by `set_position` when a background count says where the first
    key really is; at either end of the list it is exact by construction.
    """

    def __init__(self, store: PageSource, size: int = DEFAULT_PAGE_SIZE) -> None:
        self._store = store
        self._size = size
        self._items: tuple[KeyRecord, ...] = ()
        self._has_newer = False
        self._has_older = False
        self._offset = 0
        # None: the top of the list, so keys added meanwhile appear on reload.
        self._start: Cursor | None = None

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
    def start(self) -> Cursor | None:
        """The anchor of this page (its first key), or None at the top of the list."""
        return self._start

    def set_position(self, start: Cursor | None, offset: int) -> None:
        """Correct the offset from a count, if the page is still the one that was counted."""
        if start == self._start:
            self._offset = offset if start is not None else 0

    # -- moves --

    def first(self) -> None:
        self._show(self._store.page(self._size), offset=0)

    def next(self) -> bool:
        if not self._has_older or not self._items:
            return False
        page = self._store.page(self._size, after=self._items[-1].cursor)
        if not page.items:  # the older keys were deleted meanwhile
            self.reload()
            return False
        self._show(page, offset=self._offset + len(self._items))
        return True

    def previous(self) -> bool:
        if not self._has_newer or not self._items:
            return False
        page = self._store.page(self._size, before=self._items[0].cursor)
        # At the top the page may be short (after a change of page size, or keys deleted meanwhile): it is
        # shown as it is. Fetching a whole first page instead would repeat keys already seen on this one.
        self._show(page, offset=max(0, self._offset - len(page.items)))
        return True

    def reload(self) -> None:
        """The same place again: from the same first key on, or the top; a step back if nothing is left."""
        if self._start is None:
            self.first()
            return
        page = self._store.page(self._size, after=_at_or_older(self._start))
        if page.items:
            self._show(page, offset=self._offset)
            return
        # Everything from here on is gone: show the last page there is.
        back = self._store.page(self._size, before=self._start)
        if not back.has_newer:
            self.first()
        else:
            self._show(back, offset=max(0, self._offset - len(back.items)))

    def jump(self, start: Cursor, offset: int) -> None:
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
            back = self._store.page(skip, before=start)
            if not back.has_newer and len(back.items) <= skip:
                self.first()  # the offset was ahead of the truth (keys went meanwhile): the top it is
                return
            start, offset = back.items[0].cursor, offset - len(back.items)
        self._start, self._offset = start, offset
        self.reload()

    def adopt(self, other: Pager) -> None:
        """Take the page `other` read at this pager's place (off the GUI thread: a live refresh) as this one's."""
        self._size = other._size
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
            self._start = page.items[0].cursor

    # -- label --

    def label(self, total: int | None) -> str:
        """`26–50 of 1,234`; without a count yet, `26–50`."""
        if not self._items:
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
        return f"{first:,}–{last:,} of {total:,}"
