"""What the usage charts show: a period's verifies in buckets, stacked by outcome, and the keys used most.

Pure values and arithmetic (no database, no Qt): the store sums the hourly counts (`KeyStore.usage_series`,
`KeyStore.top_keys`) and this module puts them in buckets; the window draws them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from desktop.core.values import Verdict


class UsagePeriod(enum.Enum):
    """The periods a chart shows: (its length, one bar's length). Every period ends with the current hour."""

    DAY = ("24h", timedelta(hours=24), timedelta(hours=1))
    WEEK = ("7d", timedelta(days=7), timedelta(hours=6))
    MONTH = ("30d", timedelta(days=30), timedelta(days=1))

    def __init__(self, word: str, span: timedelta, step: timedelta) -> None:
        self.word = word
        self.span = span
        self.step = step

    @property
    def buckets(self) -> int:
        return self.span // self.step


class Outcome(enum.Enum):
    """How a chart stacks verdicts (the label a person reads, and the verdicts it sums)."""

    VALID = ("Valid", frozenset({Verdict.VALID}))
    REJECTED = ("Rejected", frozenset({Verdict.INACTIVE, Verdict.EXPIRED, Verdict.FORBIDDEN}))
    RATE_LIMITED = ("Rate limited", frozenset({Verdict.RATE_LIMITED}))
    OUT_OF_CREDITS = ("Out of credits", frozenset({Verdict.USAGE_EXCEEDED}))

    def __init__(self, label: str, verdicts: frozenset[Verdict]) -> None:
        self.label = label
        self.verdicts = verdicts

    @classmethod
    def of(cls, verdict: str) -> Outcome:
        """The stack a verdict counts in (a verdict this version does not know counts as rejected)."""
        for outcome in cls:
            if verdict in outcome.verdicts:
                return outcome
        return cls.REJECTED


@dataclass(frozen=True, slots=True)
class UsageBucket:
    """One bar: the verifies from `start` (UTC) for one step, per outcome."""

    start: datetime
    counts: Mapping[Outcome, int]

    def count(self, outcome: Outcome) -> int:
        return self.counts.get(outcome, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class UsageSeries:
    """A period's bars, oldest first, for one key (`key_id`) or every key (None); `end` is exclusive."""

    period: UsagePeriod
    key_id: int | None
    start: datetime
    end: datetime
    buckets: tuple[UsageBucket, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(bucket.count(outcome) for bucket in self.buckets)

    @property
    def total(self) -> int:
        return sum(bucket.total for bucket in self.buckets)


@dataclass(frozen=True, slots=True)
class KeyUse:
    """One line of "most used keys": a key's verifies in the period (every verdict) and its valid ones."""

    key_id: int
    total: int
    valid: int


def window(period: UsagePeriod, now: datetime) -> tuple[datetime, datetime]:
    """The period's [start, end) in UTC: it ends with the end of the current hour."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return end - period.span, end


def series(
    period: UsagePeriod, key_id: int | None, now: datetime, hourly: Iterable[tuple[datetime, str, int]]
) -> UsageSeries:
    """Bucket hourly sums (hour in UTC, verdict, count); hours outside the period are left out."""
    start, end = window(period, now)
    sums: list[dict[Outcome, int]] = [{} for _ in range(period.buckets)]
    for hour, verdict, count in hourly:
        if not start <= hour < end:
            continue
        counts = sums[(hour - start) // period.step]
        outcome = Outcome.of(verdict)
        counts[outcome] = counts.get(outcome, 0) + count
    buckets = tuple(UsageBucket(start + i * period.step, counts) for i, counts in enumerate(sums))
    return UsageSeries(period, key_id, start, end, buckets)
