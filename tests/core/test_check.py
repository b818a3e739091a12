"""store.check() and store.verify() are one routine (issue 11): the same verdict for every state of a key, the
same rule for recording a use, the same watch on the file; check() adds the scopes and `forbidden`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from desktop.core import keys
from desktop.core.clock import FixedClock
from desktop.core.errors import DatabaseMissing
from desktop.core.store import FILE_CHECK_INTERVAL_S, TOUCH_INTERVAL, KeyStore
from desktop.core.validation import expiry_instant
from desktop.core.values import Verdict, VerifyResult
from tests.core.test_store import T0, Ticker
from tests.helpers import Secret


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def clocked(database: str, clock: FixedClock) -> Iterator[KeyStore]:
    with KeyStore.open(database, clock=clock, create=True) as opened:
        yield opened


def _states(store: KeyStore) -> dict[str, tuple[str, int | None]]:
    """A key in each state the verdicts tell apart: its text and id."""
    today = T0.astimezone().date()
    valid = store.create("valid", scopes=["orders:read"])
    inactive = store.create("inactive", scopes=["orders:read"])
    store.set_active(inactive.record.id, False)
    expiring = store.create("expires tomorrow", today + timedelta(days=1), today=today, scopes=["orders:read"])
    unknown = keys.generate()
    return {
        "valid": (Secret(valid.key), valid.record.id),
        "inactive": (Secret(inactive.key), inactive.record.id),
        "expired": (Secret(expiring.key), expiring.record.id),
        "unknown": (Secret(unknown), None),
        "malformed": ("ak_" + "0" * 38, None),
    }


def test_check_without_scopes_answers_what_verify_answers_in_every_state(clocked: KeyStore, clock: FixedClock) -> None:
    states = _states(clocked)
    clock.moment = expiry_instant(T0.astimezone().date() + timedelta(days=1))  # "expires tomorrow" has expired
    expected = {
        "valid": Verdict.VALID,
        "inactive": Verdict.INACTIVE,
        "expired": Verdict.EXPIRED,
        "unknown": Verdict.UNKNOWN,
        "malformed": Verdict.MALFORMED,
    }
    for state, (key, key_id) in states.items():
        verdict = clocked.verify(key)
        result = clocked.check(key)
        assert verdict is expected[state], state
        scopes = ("orders:read",) if verdict is Verdict.VALID else ()
        assert result == VerifyResult(verdict, key_id, scopes), state


def test_check_records_a_use_as_verify_does_and_only_for_a_valid_answer(clocked: KeyStore, clock: FixedClock) -> None:
    made = clocked.create("service", scopes=["orders:read"])
    key, key_id = Secret(made.key), made.record.id
    assert clocked.check(key, ["orders:write"]).verdict is Verdict.FORBIDDEN
    assert clocked.get(key_id).last_used_at is None
    assert clocked.check(key, ["orders:read"]).ok
    assert clocked.get(key_id).last_used_at == T0
    clock.moment = T0 + TOUCH_INTERVAL - timedelta(seconds=1)
    assert clocked.check(key).ok and clocked.verify(key) is Verdict.VALID
    assert clocked.get(key_id).last_used_at == T0  # at most once a minute, whichever of the two asked
    clock.moment = T0 + TOUCH_INTERVAL
    assert clocked.check(key).ok
    assert clocked.get(key_id).last_used_at == T0 + TOUCH_INTERVAL


@pytest.mark.parametrize("ask", [KeyStore.verify, KeyStore.check], ids=["verify", "check"])
def test_both_raise_while_the_file_is_missing_and_recover(
    db_path: Path, tmp_path: Path, ask: Callable[[KeyStore, str], object]
) -> None:
    ticks = Ticker()
    with KeyStore.open(str(db_path), create=True, monotonic=ticks) as watched:
        key = Secret(watched.create("service key").key)
        shutil.move(db_path, tmp_path / "away.db")
        ticks.now += FILE_CHECK_INTERVAL_S
        for _ in range(2):
            with pytest.raises(DatabaseMissing, match="deleted or moved"):
                ask(watched, key)
        shutil.move(tmp_path / "away.db", db_path)
        ticks.now += FILE_CHECK_INTERVAL_S
        assert watched.verify(key) is Verdict.VALID
        assert watched.check(key) == VerifyResult(Verdict.VALID, watched.all()[0].id)


def test_every_valid_answer_carries_the_key_as_it_is_now(database: str, tmp_path: Path) -> None:
    """check()'s valid answers are kept and handed out again (issue 23.3: building one was a tenth of a check):
    one whose key's scopes changed, or another database's key of the same id, still gets its own scopes."""
    with KeyStore.open(database, create=True) as store, KeyStore.open(str(tmp_path / "other.db"), create=True) as other:
        mine = store.create("mine", scopes=["orders:read"])
        theirs = other.create("theirs", scopes=["billing:read"])
        assert mine.record.id == theirs.record.id  # the same id in two databases
        answers = [store.check(mine.key, ["orders:read"]), store.check(mine.key), other.check(theirs.key)]
        store.set_scopes(mine.record.id, ["orders:read", "orders:write"])
        answers += [store.check(mine.key, ["orders:write"]), store.check(mine.key)]
        store.set_scopes(mine.record.id, [])
        answers += [store.check(mine.key, ["orders:read"]), store.check(mine.key)]
        store.set_active(mine.record.id, False)
        answers.append(store.check(mine.key))
        key_id = mine.record.id
    assert answers == [
        VerifyResult(Verdict.VALID, key_id, ("orders:read",)),
        VerifyResult(Verdict.VALID, key_id, ("orders:read",)),
        VerifyResult(Verdict.VALID, key_id, ("billing:read",)),
        VerifyResult(Verdict.VALID, key_id, ("orders:read", "orders:write")),
        VerifyResult(Verdict.VALID, key_id, ("orders:read", "orders:write")),
        VerifyResult(Verdict.FORBIDDEN, key_id, ()),
        VerifyResult(Verdict.VALID, key_id, ()),
        VerifyResult(Verdict.INACTIVE, key_id, ()),
    ]


def test_a_services_read_of_ok_is_no_python_call(tmp_path: Path) -> None:
    """Issue 23.3 (the WSGI row): the docs' middleware reads `result.ok` on every request. It was a property, a
    Python call each time; it is now a field set when the answer is made (check() hands valid answers out again)."""
    import sys

    with KeyStore.open(str(tmp_path / "keys.db"), create=True) as store:
        key = Secret(store.create("read").key)
        valid, unknown = store.check(key), store.check(Secret(keys.generate()))
        events: list[str] = []
        sys.setprofile(lambda _frame, event, _arg: events.append(event))
        try:
            answers = (valid.ok, unknown.ok)
        finally:
            sys.setprofile(None)
    assert answers == (True, False)
    assert "call" not in events, events  # only setprofile(None) itself, a C call
    assert VerifyResult(Verdict.VALID, 1) == VerifyResult(Verdict.VALID, 1) and "ok" not in repr(valid)
