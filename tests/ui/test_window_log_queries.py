"""The two store reads the window's lifecycle part needs, on both backends: the log filtered by action, and
which keys on a page were rolled (the table's "Retiring …")."""

from __future__ import annotations

from datetime import timedelta

from desktop.core.store import KeyStore
from desktop.core.values import Action


def test_events_filtered_by_action_page_by_keyset(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        ids = [store.create(f"k{i}").record.id for i in range(5)]
        for key_id in ids:
            store.rename(key_id, f"renamed {key_id}")
        store.set_active(ids[0], False)
        first = store.events(3, action=Action.RENAMED)
        assert [e.action for e in first.items] == ["renamed"] * 3
        assert first.next is not None
        rest = store.events(3, action=Action.RENAMED, before=first.next)
        assert [e.key_id for e in first.items + rest.items] == list(reversed(ids))
        assert rest.next is None
        assert [e.key_id for e in store.events(10, action=Action.DEACTIVATED).items] == [ids[0]]
        assert [e.action for e in store.events(10, key_id=ids[1], action=Action.CREATED).items] == ["created"]


def test_rolled_among_names_only_rolled_keys_of_those_asked(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        a, b, c = (store.create(name).record.id for name in "abc")
        rolled = store.roll(a, timedelta(hours=1))
        store.roll(c, timedelta(0))
        assert store.rolled_among([a, b, rolled.new.record.id]) == {a}
        assert store.rolled_among([a, b, c]) == {a, c}
        assert store.rolled_among([]) == frozenset()
        store.delete(a)
        assert store.rolled_among([a]) == {a}  # its events stay; the window never asks for a key it does not show
