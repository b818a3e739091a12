"""How keys are named to people, the same in the CLI and the window: status words, short descriptions, expiries
and the audit log's details."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time

from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.validation import expiry_date
from desktop.core.values import Action, Event, KeyRecord, Limits, Rate, Status

#: A description quoted in a message or a table cell is cut to this many characters, the ellipsis included.
SHORT_DESCRIPTION = 60

STATUS_TEXT = {Status.ACTIVE: "Active", Status.INACTIVE: "Inactive", Status.EXPIRED: "Expired"}

# Characters a terminal (or a person reading a status line) obeys instead of showing: C0/C1 controls
# (escape sequences, newlines), lone surrogates, line and paragraph separators, and bidirectional overrides
# and isolates, which reorder what a person reads. A description written through this program holds none of
# them (validate_description refuses them), but another program may have written the database.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def status_text(record: KeyRecord, now: datetime | None = None) -> str:
    """`Active`, `Inactive` or `Expired`, by the one rule (`Status.of`)."""
    return STATUS_TEXT[record.status(now)]


def limits_text(limits: Limits) -> str:
    """One line (`apikeys limit`, the window's Limits dialog): `rate 100/1m, credits 9,950 (refilled to 10,000
    each month)`, or `no limits`."""
    if not limits.any:
        return "no limits"
    parts = []
    if limits.rate is not None:
        parts.append(f"rate {limits.rate}")
    if limits.credits is not None:
        refill = "" if limits.refill is None else f" (refilled to {limits.refill.amount:,} each {limits.refill.period})"
        parts.append(f"credits {limits.credits:,}{refill}")
    return ", ".join(parts)


def rate_phrase(rate: Rate) -> str:
    """`100 per minute`, `5 per 10 minutes`: a rate as people say it."""
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if rate.period_s % seconds == 0:
            amount = rate.period_s // seconds
            return f"{rate.count:,} per {unit if amount == 1 else f'{amount:,} {unit}s'}"
    return f"{rate.count:,} per {rate.period_s:,} seconds"  # pragma: no cover  (every period is whole seconds)


def shorten(text: str, limit: int = SHORT_DESCRIPTION) -> str:
    """`text` whole if it fits in `limit` characters, else cut to `limit` with a trailing `…`."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(text: str) -> str:
    """`text` as it must be shown literally: unsafe characters escaped (``\\x1b``, ``\\u202e``), never obeyed."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# What JSON leaves raw (it escapes C0 itself): C1, DEL, lone surrogates, separators, bidi controls.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def inert_json(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with every character a terminal could obey written as
    a `\\uXXXX` escape: the same JSON value, nothing raw on screen. Such characters occur only inside strings."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def describe_key(record: KeyRecord) -> str:
    """How a message names a key: masked, with its description (shortened), e.g. `ak_7Gq2…x9Lp (“Billing”)`."""
    return f"{record.masked} (“{shown(shorten(record.description))}”)"


# -- expiries: the one rule for how a person reads one (window, CLI tables, the log's human form) --
#
# An expiry is stored as an instant (CONTRACT: a chosen date is "stored as the UTC instant of the following local
# midnight"). A roll's grace ends at an instant too (14:30 tomorrow). The two are told apart by where they fall:
# an expiry at a local midnight, to the microsecond, stands for a date and reads as the day before (the last day
# the key is valid); any other reads as a local date and time, and says so. A roll's grace that happens to end
# at a local midnight reads as the day before: the same moment, in the same words as a date expiry. A date chosen
# on a machine in another time zone falls on no local midnight here and reads as the instant it is (true here).


def expiry_is_date(expires_at: datetime) -> bool:
    """Whether an expiry stands for a date (it falls on a local midnight) rather than an instant."""
    return expires_at.astimezone().time() == time(0)


def local_moment(moment: datetime, now: datetime) -> str:
    """A moment at local time, as people say it: `14:30 today`, `09:00 tomorrow`, `23:10 yesterday`, else
    `2026-12-15 14:30`."""
    local = moment.astimezone()
    word = _NEAR_DAYS.get((local.date() - now.astimezone().date()).days)
    return f"{local:%H:%M} {word}" if word else f"{local:%Y-%m-%d %H:%M}"


_NEAR_DAYS = {-1: "yesterday", 0: "today", 1: "tomorrow"}


def expiry_when(expires_at: datetime, now: datetime) -> str:
    """An expiry in the fewest words: a date as its last valid day (`2026-12-14`), an instant as `14:30 today`."""
    return _last_day(expires_at) if expiry_is_date(expires_at) else local_moment(expires_at, now)


def expiry_cell(expires_at: datetime | None, now: datetime) -> str:
    """An expiry in a table cell (the window's Expires, `list`'s EXPIRES): `Never`; a date as its last valid day,
    `2026-12-14`, or `Expired 2026-12-14` once past; an instant as `Until 14:30 today`, or `Expired 14:30 today`."""
    if expires_at is None:
        return "Never"
    expired = now >= expires_at
    if expiry_is_date(expires_at):
        day = _last_day(expires_at)
        return f"Expired {day}" if expired else day
    when = local_moment(expires_at, now)
    return f"Expired {when}" if expired else f"Until {when}"


def expiry_phrase(expires_at: datetime | None, now: datetime | None = None) -> str:
    """An expiry in a sentence, whatever the time now: `never expires`, `valid through 2026-12-14`, or
    `until 14:30 today (local time)`. `now` None is the system clock's (as KeyRecord.status takes it)."""
    if expires_at is None:
        return "never expires"
    if expiry_is_date(expires_at):
        return f"valid through {_last_day(expires_at)}"
    return f"until {local_moment(expires_at, now or SYSTEM_CLOCK.now())} (local time)"


def _last_day(expires_at: datetime) -> str:
    day = expiry_date(expires_at)
    assert day is not None
    return day.isoformat()


# -- the audit log's details, as a person reads them (the Activity Log, a key's History, `apikeys log`) --


def _value(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(item) for item in value) or "none"
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)


def _limits(value: object) -> str:
    """A `limits-changed` side (the details' from or to) as `rate 100/1m, credits 50, refill 1000/month`."""
    from desktop.core.values import Limits, Rate, Refill

    if not isinstance(value, dict):
        return "no limits"
    rate, period, refill, every = (value.get(n) for n in ("rate_limit", "rate_period_s", "refill", "refill_period"))
    credits = value.get("credits")
    limits = Limits(
        Rate(rate, period) if isinstance(rate, int) and isinstance(period, int) else None,
        credits if isinstance(credits, int) else None,
        Refill(refill, every) if isinstance(refill, int) and isinstance(every, str) else None,
    )
    parts = [f"{name} {part}" for name, part in (("rate", limits.rate), ("refill", limits.refill)) if part]
    if limits.credits is not None:
        parts.insert(len(parts) - (limits.refill is not None), f"credits {limits.credits:,}")
    return ", ".join(parts) or "no limits"


def _instant(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _duration(seconds: object) -> str:
    total = int(seconds) if isinstance(seconds, int | float) else 0
    if total == 0:
        return "none"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if total % size == 0:
            count = total // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{total} s"


def details_text(event: Event, masked_keys: Mapping[int, str], now: datetime) -> str:
    """An event's details as a person reads them (plain text: descriptions as typed, unsafe characters escaped by
    the caller where it prints to a terminal). `masked_keys` names the keys the details refer to by id (a roll's
    other key): a person never sees ids in the table, so the key reads as its masked form."""

    def key(value: object) -> str:
        found = masked_keys.get(value) if isinstance(value, int) else None
        return found or f"key #{value}"

    def expiry(value: object) -> str:
        moment = _instant(value) if value is not None else None
        return "never expires" if value is None else expiry_phrase(moment, now) if moment else f"expires {value}"

    texts: dict[str, Callable[[object], str]] = {
        "description": _value,
        "expires_at": expiry,
        "active": lambda v: "active" if v else "inactive",
        "scopes": lambda v: f"scopes: {_value(v)}",
        "rolled_from": lambda v: f"rolled from {key(v)}",
        "new_key_id": lambda v: f"replaced by {key(v)}",
        "grace_seconds": lambda v: f"grace {_duration(v)}",
        "count": lambda v: f"{v:,} keys" if isinstance(v, int) else f"count: {v}",
        "interrupted": lambda v: "interrupted" if v else "",
    }
    details = dict(event.details)
    parts: list[str] = []
    if "from" in details and "to" in details:
        side = _limits if event.action == Action.LIMITS_CHANGED else _value
        parts.append(f"{side(details.pop('from'))} → {side(details.pop('to'))}")
    if event.action == Action.ROLLED and "expires_at" in details:
        parts.append(f"old key works {expiry(details.pop('expires_at')).removeprefix('valid ')}")
    for name in [n for n in texts if n in details]:
        parts.append(texts[name](details.pop(name)))
    parts.extend(f"{name.replace('_', ' ')}: {_value(value)}" for name, value in sorted(details.items()))
    return "; ".join(part for part in parts if part)
