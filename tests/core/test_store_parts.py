"""KeyStore is its parts wired together (issue 22 item 1): a delegating method keeps its part's signature and words."""

from __future__ import annotations

import inspect

import pytest

from desktop.core.store import KeyStore
from desktop.core.store_access import DatabaseAccess
from desktop.core.store_lifecycle import StoreLifecycle
from desktop.core.store_limits import StoreLimits
from desktop.core.store_queries import StoreReads
from desktop.core.store_usage import StoreUsage

PARTS = (DatabaseAccess, StoreReads, StoreLifecycle, StoreLimits, StoreUsage)
#: The store's own close() closes every part; the rest of what a part and the store both have is delegated.
DELEGATED = [
    (part, name)
    for part in PARTS
    for name, value in vars(part).items()
    if callable(value) and not name.startswith("_") and name in vars(KeyStore) and name != "close"
]


def test_every_part_is_reached_through_the_store() -> None:
    assert {part for part, _ in DELEGATED} == set(PARTS)
    assert len(DELEGATED) >= 40


@pytest.mark.parametrize(("part", "name"), DELEGATED, ids=lambda p: p if isinstance(p, str) else p.__name__)
def test_a_delegating_method_takes_and_says_what_its_part_does(part: type, name: str) -> None:
    ours, theirs = getattr(KeyStore, name), getattr(part, name)
    assert inspect.signature(ours) == inspect.signature(theirs)
    assert ours.__doc__ == theirs.__doc__
