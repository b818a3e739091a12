"""Limits as people type them (`apikeys limit`, `create`, and the window's limits dialog): one rule for each, and a
one-line message that names the form for anything else."""

from __future__ import annotations

import re

from desktop.core.errors import InvalidInput
from desktop.core.presentation import shorten, shown
from desktop.core.values import REFILL_PERIODS, Rate, Refill

#: At most this many verifies per window: the rate log keeps one row per verify counted (docs/service.md).
RATE_MAX = 100_000
#: The longest window, in seconds (a year).
PERIOD_MAX_S = 366 * 86400
CREDITS_MAX = 10**15
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NONE = ("none", "")


def _quoted(text: str) -> str:
    return shown(shorten(text, 40))


def parse_rate(text: str, field: str = "--rate") -> Rate | None:
    """`100/1m` (N verifies per an integer of s, m, h or d; `100/m` is `100/1m`); `none` clears. `field` names
    what was typed in a message (the window's label; the CLI's option by default): the words after it are one."""
    cleaned = text.strip().lower()
    if cleaned in _NONE:
        return None
    match = re.fullmatch(r"([0-9]{1,9})\s*/\s*([0-9]{0,9})\s*([smhd])", cleaned)
    if match is None:
        raise InvalidInput(
            f"{field} must be N/PERIOD, e.g. 100/1m (PERIOD: a number and s, m, h or d), or none,"
            f" not '{_quoted(text)}'."
        )
    count, amount, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    if not 1 <= count <= RATE_MAX:
        raise InvalidInput(f"{field} allows 1 to {RATE_MAX:,} verifies per period, not {count:,}.")
    seconds = amount * _UNITS[unit]
    if not 1 <= seconds <= PERIOD_MAX_S:
        raise InvalidInput(f"{field}'s period must be from 1s to {PERIOD_MAX_S // 86400}d, not '{_quoted(text)}'.")
    return Rate(count, seconds)


def parse_credits(text: str, field: str = "--credits") -> int | None:
    """A whole number of credits, 0 or more (`10000`, `10_000` or `10,000`); `none` clears."""
    cleaned = text.strip().lower()
    if cleaned in _NONE:
        return None
    digits = cleaned.replace(",", "").replace("_", "")
    if not re.fullmatch(r"[0-9]{1,16}", digits) or int(digits) > CREDITS_MAX:
        raise InvalidInput(f"{field} must be a whole number from 0 to {CREDITS_MAX:,}, or none, not '{_quoted(text)}'.")
    return int(digits)


def parse_refill(text: str, field: str = "--refill") -> Refill | None:
    """`10000/month` (day, week or month; also daily, weekly, monthly); `none` clears."""
    cleaned = text.strip().lower()
    if cleaned in _NONE:
        return None
    match = re.fullmatch(r"([0-9][0-9_,]{0,20})\s*/\s*([a-z]+)", cleaned)
    period = None if match is None else {"daily": "day", "weekly": "week", "monthly": "month"}.get(match.group(2))
    period = period or (match.group(2) if match is not None else None)
    if match is None or period not in REFILL_PERIODS:
        raise InvalidInput(
            f"{field} must be N/day, N/week or N/month, e.g. 10000/month, or none, not '{_quoted(text)}'."
        )
    amount = parse_credits(match.group(1), field)
    if not amount:
        raise InvalidInput(f"{field} must refill at least 1 credit, not '{_quoted(text)}'.")
    return Refill(amount, period)
