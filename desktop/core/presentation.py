"""How keys are named to people, the same in the CLI and the window: status words, short descriptions, expiries,
the audit log's details, and what is said about each `Operation` (done, refused, failed)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time

from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.operations import Operation
from desktop.core.validation import expiry_date
from desktop.core.values import Action, BulkResult, Event, KeyRecord, Limits, Rate, Status

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


# -- operations: every word a person reads about one, and what the log calls it --

#: An operation's verb where a key follows it: "Could not deactivate ak_7Gq2…x9Lp: …".
_VERBS = {
    Operation.ACTIVATE: "activate",
    Operation.DEACTIVATE: "deactivate",
    Operation.DELETE: "delete",
    Operation.RENAME: "rename",
    Operation.ROLL: "roll",
    Operation.SET_SCOPES: "change the scopes of",
    Operation.SET_LIMITS: "change the limits of",
}
#: What a refusal before a write says was not done: "Could not activate the key: the database file … was deleted".
_REFUSED = {
    **{op: f"{verb} the key" for op, verb in _VERBS.items()},
    Operation.SET_SCOPES: "change the key's scopes",
    Operation.SET_LIMITS: "change the limits",
    Operation.CREATE: "generate a key",
}
#: The same, for a change to several keys at once.
_REFUSED_MANY = {
    op: f"{_VERBS[op]} the keys" for op in (Operation.ACTIVATE, Operation.DEACTIVATE, Operation.DELETE)
} | {Operation.SET_LIMITS: "change the limits"}
#: How the log names the rest: "count failed: …", "unexpected error in event handler".
_NAMES = {
    Operation.CREATE: "create",
    Operation.OPEN: "open",
    Operation.CHECK_FILE: "check the file",
    Operation.TURN_PAGE: "turn the page",
    Operation.READ_LOG: "read the log",
    Operation.READ_LIMITS: "read the limits",
    Operation.READ_USAGE: "read the usage",
    Operation.OPEN_KEY: "open the key",
    Operation.EXPORT: "export the keys",
    Operation.REMINDERS_ON: "turn expiry reminders on",
    Operation.REMINDERS_OFF: "turn expiry reminders off",
    Operation.HANDLE_EVENT: "event handler",
}


#: What a dialog says above its reason when its change to one key was not made: "Not renamed: …".
_NOT_DONE = {
    Operation.RENAME: "Not renamed",
    Operation.ROLL: "Not rolled",
    Operation.SET_SCOPES: "Not changed",
    Operation.SET_LIMITS: "Not changed",
}


def not_done_text(operation: Operation) -> str:
    return _NOT_DONE[operation]


def operation_name(operation: Operation) -> str:
    """The operation as the log names it: `deactivate`, `count`, `read the log`."""
    return _VERBS.get(operation) or _NAMES.get(operation) or operation.value


def refused_text(operation: Operation, *, many: bool = False) -> str:
    """What a write refused before it started did not do, after "Could not ": `activate the keys`."""
    return (_REFUSED_MANY if many else _REFUSED)[operation]


def failed_text(operation: Operation, message: str, record: KeyRecord | None = None) -> str:
    """A DomainError's `message`, said as the failure of `operation` (on `record`, as the person saw it)."""
    if operation is Operation.CREATE:
        return f"Could not generate a key: {message}"
    if operation is Operation.OPEN:
        return f"Could not open that database: {message}"
    if record is not None and operation in _VERBS:
        return f"Could not {_VERBS[operation]} {record.masked}: {message}"
    return message


def failed_log(operation: Operation, message: str, record: KeyRecord | None = None) -> str:
    """The log's line for the same failure (a key by its id)."""
    if operation is Operation.CREATE:
        return f"could not create a key: {message}"
    if operation is Operation.OPEN:
        return f"could not open a database: {message}"
    if record is not None and operation in _VERBS:
        return f"could not {_VERBS[operation]} key #{record.id}: {message}"
    return f"{operation_name(operation)} failed: {message}"


def done_text(
    operation: Operation, record: KeyRecord, before: KeyRecord | None = None, now: datetime | None = None
) -> str:
    """What is said once `operation` changed `record` (the key as it is now; for a delete, as it was): the same
    words on the command line and in the window's status bar. A rename given the key `before` it names the key as
    the person knew it (the window); without, as it is now (the command line). A roll: `record` is the new key,
    `before` the old one with its shortened expiry, `now` the store's clock."""
    if operation is Operation.ACTIVATE:
        return f"Activated {describe_key(record)}: clients using it are accepted again."
    if operation is Operation.DEACTIVATE:
        return f"Deactivated {describe_key(record)}: clients using it will be rejected."
    if operation is Operation.DELETE:
        return f"Deleted {describe_key(record)}."
    if operation is Operation.SET_SCOPES:
        return f"Scopes of {describe_key(record)}: {', '.join(record.scopes) if record.scopes else 'none'}."
    if operation is Operation.RENAME:
        if before is not None:
            return f"Renamed {before.masked} to “{shown(shorten(record.description))}”."
        return f"Renamed {describe_key(record)}."
    if operation is Operation.ROLL and before is not None:
        return _rolled_text(before, record, now)
    raise ValueError(f"nothing is said of {operation} alone")


def _rolled_text(old: KeyRecord, new: KeyRecord, now: datetime | None) -> str:
    if old.expires_at is not None and now is not None and old.expires_at <= now:
        until = "the old key no longer works"
    else:
        until = f"the old key keeps working {expiry_phrase(old.expires_at, now).removeprefix('valid ')}"
    state = (
        ""
        if new.status(now) is Status.ACTIVE
        else f"; the new key is {status_text(new, now).lower()}, as the old one was"
    )
    return f"Rolled {describe_key(old)} into {new.masked}: {until}{state}. Copy the new key now."


def _keys(count: int) -> str:
    return f"{count:,} key" if count == 1 else f"{count:,} keys"


def limits_set_text(record: KeyRecord, limits: Limits) -> str:
    """What is said once one key's limits were set: "Limits of ak_7Gq2…x9Lp (“CI”): rate 100/1m."."""
    return f"Limits of {describe_key(record)}: {limits_text(limits)}."


def done_many_text(operation: Operation, result: BulkResult) -> str:
    """One line for a change to many keys: "Deleted 3 keys.", "2 deleted; 1 was already gone."."""
    if operation is Operation.SET_LIMITS:
        changed, missing = len(result.changed), len(result.missing)
        if not changed:
            return (
                f"Nothing was changed: {'the key was' if missing == 1 else f'all {missing:,} keys were'} already gone."
            )
        also = f"; {missing:,} {'was' if missing == 1 else 'were'} already gone (deleted)" if missing else ""
        return f"Changed the limits of {_keys(changed)}{also}."
    verb, deleting = f"{_VERBS[operation]}d", operation is Operation.DELETE
    done, gone = len(result.changed), len(result.missing)
    if not gone:
        return f"{verb.capitalize()} {_keys(done)}."
    if not done:
        return f"Nothing was {verb}: {'the key was' if gone == 1 else f'all {gone:,} keys were'} already gone."
    return f"{done:,} {verb}; {gone:,} {'was' if gone == 1 else 'were'} already gone{'' if deleting else ' (deleted)'}."


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
