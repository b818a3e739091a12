"""Realistic usage history for demo keys (`apikeys seed --count N --usage M`): exactly M counted verifies over the
last HISTORY_DAYS days, as the aggregated rows the store keeps (key id, hour, verdict, count).

Pure arithmetic over a random generator (no database): skewed popularity (a fifth of the keys are used at all,
their totals falling off as 1/rank^1.1, so a few keys get most of the use), a daily and weekly rhythm, bursts
for the little-used keys (a CI key runs a few times in an hour, then not for days), and a verdict mix (mostly
valid, some rejected, rate limited or out of credits).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

#: How far back the history goes (the longest chart shows 30 days).
HISTORY_DAYS = 35
#: The share of the keys that are used at all.
USED_SHARE = 0.2
#: How steeply use falls off with a key's rank.
ZIPF_EXPONENT = 1.1
#: Of each hour's verifies: the verdicts other than valid, and their shares (valid gets the rest).
VERDICT_MIX = (("rejected", 0.03), ("rate_limited", 0.02), ("usage_exceeded", 0.01))
#: What a key's rejected verifies are (one kind per key: a deactivated key, an expired one, a missing scope).
REJECTED = ("inactive", "expired", "forbidden")
#: A little-used key's verifies come in bursts of about this many within an hour.
BURSTS = (1, 2, 5, 10, 20)

#: One usage row: (key id, hour, verdict, count).
Row = tuple[int, datetime, str, int]


def spread(total: int, weights: Sequence[float], rng: random.Random) -> list[int]:
    """`total` split in proportion to `weights`, exactly (what rounding leaves goes to random shares)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    left = total - sum(counts)
    if left:
        fractions = [s - c for s, c in zip(shares, counts, strict=True)]
        for i in rng.choices(range(len(counts)), weights=fractions, k=left):
            counts[i] += 1
    return counts


def rhythm(hour: datetime) -> float:
    """How busy an hour is: a daily curve peaking at 15:00 UTC, quieter at weekends."""
    daily = 0.25 + 0.75 * (1 + math.cos(2 * math.pi * (hour.hour - 15) / 24)) / 2
    return daily * (0.6 if hour.weekday() >= 5 else 1.0)


def key_totals(keys: int, total: int, rng: random.Random) -> list[int]:
    """Each key's verifies (in the keys' order), `total` in all: USED_SHARE of them used, by a skewed law."""
    used = max(1, round(keys * USED_SHARE)) if keys else 0
    if not used or not total:
        return [0] * keys
    ranks = rng.sample(range(keys), used)
    counts = spread(total, [1 / (r + 1) ** ZIPF_EXPONENT for r in range(used)], rng)
    totals = [0] * keys
    for key, count in zip(ranks, counts, strict=True):
        totals[key] = count
    return totals


def split_verdicts(count: int, rejected: str, rng: random.Random) -> list[tuple[str, int]]:
    """One hour's verifies of a key by verdict (each share rounded at random, so small hours vary)."""
    out = []
    rest = count
    for verdict, share in VERDICT_MIX:
        n = min(rest, int(count * share + rng.random()))
        if n:
            out.append((rejected if verdict == "rejected" else verdict, n))
            rest -= n
    if rest:
        out.append(("valid", rest))
    return out


def history(key_ids: Sequence[int], total: int, now: datetime, rng: random.Random) -> Iterator[list[Row]]:
    """The rows of each used key in turn (one list per key), `total` verifies in all, in the HISTORY_DAYS days
    ending with the hour of `now` (UTC)."""
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=h) for h in range(HISTORY_DAYS * 24 - 1, -1, -1)]
    busy = [rhythm(h) for h in hours]
    for key_id, key_total in zip(key_ids, key_totals(len(key_ids), total, rng), strict=True):
        if not key_total:
            continue
        if key_total >= 4 * len(hours):  # a busy key: used every hour, by the rhythm with some noise
            per_hour = spread(key_total, [b * rng.uniform(0.7, 1.3) for b in busy], rng)
            counts = {i: c for i, c in enumerate(per_hour) if c}
        else:  # a little-used key: a few bursts, at busy hours more likely
            bursts = max(1, min(len(hours), key_total // rng.choice(BURSTS)))
            counts = {}
            at = rng.choices(range(len(hours)), weights=busy, k=bursts)
            for i, c in zip(at, spread(key_total, [1.0] * bursts, rng), strict=True):
                if c:
                    counts[i] = counts.get(i, 0) + c
        rejected = rng.choice(REJECTED)
        yield [
            (key_id, hours[i], verdict, n)
            for i, c in sorted(counts.items())
            for verdict, n in split_verdicts(c, rejected, rng)
        ]
