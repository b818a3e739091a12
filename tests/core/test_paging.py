"""Keyset paging: every key exactly once in both directions, ties included; place kept on reload (both backends)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.core.paging import Pager
from desktop.core.store import KeyStore
from desktop.core.values import Cursor
from tests.helpers import seed


@pytest.fixture
def store(database: str) -> Iterator[KeyStore]:
    with KeyStore.open(database, create=True) as opened:
        yield opened


def walk_forward(pager: Pager) -> list[list[int]]:
    pager.first()
    pages = [[r.id for r in pager.items]]
    while pager.next():
        pages.append([r.id for r in pager.items])
    return pages


@pytest.mark.parametrize(("count", "ties", "size"), [(60, 3, 25), (60, 7, 10), (25, 1, 25), (1, 1, 10), (0, 1, 10)])
def test_walk_every_key_exactly_once_both_ways(store: KeyStore, count: int, ties: int, size: int) -> None:
    seed(store, count, ties=ties)
    expected = [r.id for r in store.all()]
    pager = Pager(store, size)
    pages = walk_forward(pager)
    assert [key for page in pages for key in page] == expected
    assert not pager.has_older
    backward = [[r.id for r in pager.items]]
    while pager.previous():
        backward.append([r.id for r in pager.items])
    assert backward[::-1] == pages
    assert not pager.has_newer and pager.offset == 0


def test_labels_along_the_way(store: KeyStore) -> None:
    seed(store, 60, ties=3)
    pager = Pager(store, 25)
    pager.first()
    assert pager.label(None) == "1–25"
    assert pager.label(60) == "1–25 of 60"
    pager.next()
    assert pager.label(60) == "26–50 of 60"
    pager.next()
    assert pager.label(60) == "51–60 of 60"
    pager.previous()
    assert pager.label(60) == "26–50 of 60"


def test_label_thousands_separator_and_empty(store: KeyStore) -> None:
    pager = Pager(store, 25)
    pager.first()
    assert pager.label(0) == "No keys"
    seed(store, 30)
    pager.first()
    assert pager.label(1234) == "1–25 of 1,234"


def test_reload_keeps_the_first_key_and_shows_new_keys_only_at_the_top(store: KeyStore) -> None:
    seed(store, 30)
    pager = Pager(store, 10)
    pager.first()
    pager.next()
    first_id = pager.items[0].id
    seed(store, 5, start=store.all()[0].created_at)  # newer keys arrive
    pager.reload()
    assert pager.items[0].id == first_id


def test_reload_steps_back_when_the_page_emptied(store: KeyStore) -> None:
    seed(store, 26)
    pager = Pager(store, 25)
    pager.first()
    assert pager.next()
    assert len(pager.items) == 1
    store.delete(pager.items[0].id)
    pager.reload()
    assert len(pager.items) == 25 and not pager.has_older and not pager.has_newer
    assert pager.label(25) == "1–25 of 25"


def test_position_correction_applies_only_to_the_counted_page(store: KeyStore) -> None:
    seed(store, 40)
    pager = Pager(store, 10)
    pager.first()
    pager.next()
    start = pager.start
    assert isinstance(start, Cursor)  # the plain order's (created_at, id)
    assert store.count(newer_than=start) == 10
    pager.set_position(start, 12)
    assert pager.offset == 12
    pager.next()
    pager.set_position(start, 3)  # a count for a page no longer shown
    assert pager.offset == 22


def test_resize_keeps_the_first_key_in_view_on_a_page_of_the_new_size(store: KeyStore) -> None:
    seed(store, 60)
    everything = [r.id for r in store.all()]
    pager = Pager(store, 10)
    pager.first()
    pager.next()
    pager.next()
    first_id = pager.items[0].id  # the 21st key
    pager.resize(50)  # the page of 50 that holds it is the top one
    assert [r.id for r in pager.items] == everything[:50] and first_id in [r.id for r in pager.items]
    assert pager.label(60) == "1–50 of 60"
    pager.resize(10)
    assert pager.next() and pager.next() and pager.next()
    pager.resize(25)  # the 31st key is on the page of 25 that starts at the 26th
    assert [r.id for r in pager.items] == everything[25:50]
    assert pager.label(60) == "26–50 of 60"
    assert pager.previous() and [r.id for r in pager.items] == everything[:25] and not pager.has_newer


def test_jump_shows_the_page_from_that_key_and_pages_on_from_there(store: KeyStore) -> None:
    seed(store, 60)
    everything = store.all()
    pager = Pager(store, 10)
    pager.jump(everything[35].cursor, 35)
    assert [r.id for r in pager.items] == [r.id for r in everything[35:45]]
    assert pager.label(60) == "36–45 of 60"
    assert pager.next() and [r.id for r in pager.items] == [r.id for r in everything[45:55]]
    assert pager.previous() and pager.previous()
    assert [r.id for r in pager.items] == [r.id for r in everything[25:35]]
    pager.jump(everything[55].cursor, 55)  # the last page
    assert not pager.has_older and pager.label(60) == "56–60 of 60"
