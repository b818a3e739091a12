"""Issue 25 item 3, the store's side of the window's limits: a page's limit states in one statement, limits set on
many keys at once, and the CLI's messages naming the window's field. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from desktop.core.errors import InvalidInput
from desktop.core.limit_input import parse_credits, parse_rate
from desktop.core.store import KeyStore
from desktop.core.values import Limits, Rate, Refill, Verdict


@pytest.fixture
def store(database: str) -> Iterator[KeyStore]:
    with KeyStore.open(database, create=True) as opened:
        yield opened


def test_a_pages_limit_states_say_who_is_rate_limited_and_out_of_credits(store: KeyStore) -> None:
    plain = store.create("plain")
    rated = store.create("rated", rate=Rate(2, 3600))
    credited = store.create("credited", credits=2)
    assert not store.has_limits() or store.limit_states([plain.record.id]) == {}
    states = store.limit_states([plain.record.id, rated.record.id, credited.record.id])
    assert set(states) == {rated.record.id, credited.record.id}  # a key without limits has no state
    now = datetime.now(UTC)
    assert not states[rated.record.id].rate_limited(now) and not states[credited.record.id].out_of_credits
    assert states[credited.record.id].limits == Limits(credits=2)

    before = datetime.now(UTC)
    while store.check(rated.key).verdict is Verdict.VALID:
        pass
    while store.check(credited.key).verdict is Verdict.VALID:
        pass
    assert store.check(credited.key).verdict is Verdict.USAGE_EXCEEDED
    states = store.limit_states([rated.record.id, credited.record.id])
    until = states[rated.record.id].blocked_until
    assert until is not None and before + timedelta(hours=1) <= until <= datetime.now(UTC) + timedelta(hours=1)
    assert states[rated.record.id].rate_limited(datetime.now(UTC))
    assert not states[rated.record.id].rate_limited(until)  # free again once the oldest verify leaves the window
    assert states[credited.record.id].out_of_credits and states[credited.record.id].limits.credits == 0
    assert store.has_limits()


def test_limits_set_on_many_keys_change_only_what_was_given(store: KeyStore) -> None:
    first = store.create("first", rate=Rate(5, 60), credits=100).record.id
    second = store.create("second", credits=7).record.id
    third = store.create("third").record.id
    store.delete(third)
    result = store.set_limits_many([first, second, third], rate=Rate(100, 60))
    assert [r.id for r in result.changed] == [first, second] and result.missing == (third,)
    assert store.limits(first) == Limits(Rate(100, 60), 100)
    assert store.limits(second) == Limits(Rate(100, 60), 7)  # its credits kept
    store.set_limits_many([first, second], credits=None)
    assert store.limits(first) == Limits(Rate(100, 60)) and store.limits(second) == Limits(Rate(100, 60))
    store.set_limits_many([first, second], credits=50, refill=Refill(50, "week"))
    assert store.limits(second) == Limits(Rate(100, 60), 50, Refill(50, "week"))
    events = [e for e in store.events(20).items if e.action == "limits-changed" and e.key_id == second]
    assert len(events) == 4  # its create with credits, then one per change, as `apikeys limit` writes


def test_a_message_names_the_field_it_is_about() -> None:
    with pytest.raises(InvalidInput) as cli:
        parse_rate("100/1x")
    with pytest.raises(InvalidInput) as window:
        parse_rate("100/1x", "Rate limit")
    assert cli.value.message.startswith("--rate must be N/PERIOD")
    assert window.value.message == cli.value.message.replace("--rate", "Rate limit", 1)
    with pytest.raises(InvalidInput, match=r"^Credits must be a whole number"):
        parse_credits("lots", "Credits")
