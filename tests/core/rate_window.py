"""An exact sliding window as a model, and time passing for a rate-limited key on either backend: shared by the
ring-wrapping tests of test_limits and test_limited_verify."""

from __future__ import annotations

from datetime import datetime, timedelta

from desktop.core.clock import FixedClock
from tests.backends import execute, is_server

#: Steps of 7 s and a 60 s window: no verify is ever within 3 s of the window's edge (60 = 4 mod 7); repeated, they
#: wrap a rate log of 4 round many times through bursts, pauses and long idles.
STEPS = [0, 7, 0, 0, 7, 14, 0, 0, 0, 63, 7, 7, 0, 21, 0, 0, 35, 7, 0, 0, 0, 0, 14, 70, 0, 7, 7, 7, 7, 7, 0, 28]


def rate_model(hits: list[float], now: float, count: int, period: float) -> tuple[str, int, float]:
    """What an exact sliding window answers at `now` (seconds) given the valid verifies so far: (verdict,
    ratelimit.remaining, ratelimit.reset); a valid answer appends its time to `hits`."""
    if len(hits) >= count and hits[-count] > now - period:
        return "rate_limited", 0, hits[-count] + period
    hits.append(now)
    in_window = [t for t in hits if t > now - period]
    return "valid", count - len(in_window), in_window[0] + period


def let_pass(database: str, clock: FixedClock, start: datetime, now: float, step: float, key_id: int) -> None:
    """`step` seconds pass, to `now` after `start`: on SQLite the store's clock moves; on PostgreSQL the server's
    clock counts, so the key's logged verifies move back instead."""
    if is_server(database):
        execute(
            database,
            "UPDATE key_rate_hits SET at = at - make_interval(secs => :d) WHERE key_id = :k",
            {"d": step, "k": key_id},
        )
    else:
        clock.moment = start + timedelta(seconds=now)
