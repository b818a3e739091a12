"""Where "now" comes from: one injectable clock for the store, validation, the CLI and the window."""

from __future__ import annotations

from datetime import UTC, date, datetime


class Clock:
    """The system clock. Tests pass a subclass (or `FixedClock`) instead of patching `datetime`."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in the machine's local time zone (what an expiry date is measured against)."""
        return self.now().astimezone().date()


class FixedClock(Clock):
    """A clock that says what it is told: for tests, benchmarks and replaying a moment."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's moment must be timezone-aware")
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


#: The clock every caller gets unless it injects another.
SYSTEM_CLOCK = Clock()
