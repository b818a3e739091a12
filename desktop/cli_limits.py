"""The command line's limits and usage: `apikeys limit ID [--rate N/P|none] [--credits N|none] [--refill
N/P|none]`, the same options on `create`, what `verify` says of them, and `apikeys usage [ID] [--since Nh|Nd]
[--json]`. desktop.cli calls these; nothing here imports it."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from desktop.core.errors import InvalidInput
from desktop.core.limit_input import parse_credits, parse_rate, parse_refill
from desktop.core.presentation import describe_key, limits_text, shorten, shown
from desktop.core.values import Limits, RateLimitState, Verdict, VerifyResult

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.core.store_limits import Keep


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", metavar="N/PERIOD", help="at most N valid verifies per PERIOD, e.g. 100/1m")
    parser.add_argument("--credits", metavar="N", help="a balance of N credits; a valid verify costs 1")
    parser.add_argument("--refill", metavar="N/PERIOD", help="set the credits to N each day, week or month (UTC)")


def add_limit_command(command: Any) -> None:
    limit = command("limit", "set a key's rate limit and credits, or print them (none clears one)")
    limit.add_argument("id", metavar="ID", help="the key's ID, as `apikeys list` shows")
    add_limit_options(limit)
    usage = command("usage", "verifies counted per key, hour and verdict")
    usage.add_argument("id", metavar="ID", nargs="?", help="only this key's (default: every key's)")
    usage.add_argument("--since", metavar="Nh|Nd", default="7d", help="how far back, in hours or days (default 7d)")
    usage.add_argument(
        "--json", action="store_true", help='print a JSON array of {"key_id", "hour", "verdict", "count"}'
    )


#: `apikeys usage --since` at most, in days.
SINCE_MAX_DAYS = 3660


def parse_since(text: str) -> timedelta:
    """`36h` or `7d`; InvalidInput names the form."""
    match = re.fullmatch(r"([0-9]{1,6})([hd])", text.strip().lower())
    span = None if match is None else timedelta(**{"hours" if match.group(2) == "h" else "days": int(match.group(1))})
    if span is None or not timedelta(hours=1) <= span <= timedelta(days=SINCE_MAX_DAYS):
        raise InvalidInput(
            f"--since must be a number of hours or days, e.g. 36h or 7d, not '{shown(shorten(text, 40))}'."
        )
    return span


def run_usage(store: KeyStore, key_id: int | None, since: timedelta, as_json: bool, out: TextIO) -> None:
    start = store.clock.now() - since
    counts = store.usage(key_id, since=start)
    if as_json:
        rows = [{"key_id": c.key_id, "hour": _iso(c.hour), "verdict": c.verdict, "count": c.count} for c in counts]
        out.write(json.dumps(rows, indent=2) + "\n")
        return
    if not counts:
        which = "" if key_id is None else f" of key #{key_id}"
        out.write(f"No verifies{which} counted since {start.astimezone(UTC):%Y-%m-%d %H:00} UTC.\n")
        return
    header = ("HOUR (UTC)", "KEY", "VERDICT", "COUNT")
    cells = [(f"{c.hour.astimezone(UTC):%Y-%m-%d %H:00}", str(c.key_id), c.verdict, f"{c.count:,}") for c in counts]
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(4)]
    for row in (header, *cells):
        out.write(
            "  ".join(
                cell.rjust(w) if i in (1, 3) else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            + "\n"
        )


def limit_input(args: argparse.Namespace) -> dict[str, Any]:
    """The options given (validated before anything is opened): rate, credits, refill; absent ones left out."""
    given: dict[str, Any] = {}
    if args.rate is not None:
        given["rate"] = parse_rate(args.rate)
    if args.credits is not None:
        given["credits"] = parse_credits(args.credits)
    if args.refill is not None:
        given["refill"] = parse_refill(args.refill)
    return given


def limits_command(args: argparse.Namespace) -> Callable[[KeyStore, TextIO], None]:
    """`limit` or `usage`, its arguments validated now (bad input is exit 2 before anything is opened): what
    runs once the store is open."""
    from desktop.core.validation import parse_key_id

    if args.command == "limit":
        key_id, given = parse_key_id(args.id), limit_input(args)
        return lambda store, out: run_limit(store, key_id, given, out)
    usage_of = None if args.id is None else parse_key_id(args.id)
    since = parse_since(args.since)
    return lambda store, out: run_usage(store, usage_of, since, args.json, out)


def run_limit(store: KeyStore, key_id: int, given: dict[str, Keep | Any], out: TextIO) -> None:
    record = store.get(key_id)  # KeyNotFound: exit 1
    if not given:
        out.write(f"Key {describe_key(record)}: {limits_text(store.limits(key_id))}.\n")
        return
    before = store.limits(key_id)
    after = store.set_limits(key_id, **given)
    if after == before:
        out.write(f"Key {describe_key(record)} already has {limits_text(after)}; nothing was changed.\n")
    else:
        out.write(f"Key {describe_key(record)} now has {limits_text(after)}.\n")


def limit_fields(limits: Limits | None) -> dict[str, Any]:
    """What `list --json` adds to a key: rate (`100/1m`), credits_remaining and refill (`10000/month`), or nulls."""
    limits = limits or Limits()
    return {
        "rate": None if limits.rate is None else str(limits.rate),
        "credits_remaining": limits.credits,
        "refill": None if limits.refill is None else str(limits.refill),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def ratelimit_json(state: RateLimitState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"limit": state.limit, "remaining": state.remaining, "reset": _iso(state.reset)}


def print_verdict(result: VerifyResult, as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump(
            {
                "verdict": result.verdict.value,
                "id": result.key_id,
                "scopes": list(result.scopes),
                "remaining": result.remaining,
                "ratelimit": ratelimit_json(result.ratelimit),
            },
            out,
        )
        out.write("\n")
        return
    out.write(f"{result.verdict}\n")
    retry = result.retry_at
    if result.verdict is Verdict.RATE_LIMITED and retry is not None:
        seconds = max(0, int((retry - datetime.now(UTC)).total_seconds() + 0.999))
        sys.stderr.write(f"apikeys: rate limited: try again after {_iso(retry)} (in {seconds} s).\n")
    elif result.verdict is Verdict.USAGE_EXCEEDED:
        sys.stderr.write("apikeys: the key has no credits left for this verify.\n")
