"""The command line's limits: `apikeys limit ID [--rate N/P|none] [--credits N|none] [--refill N/P|none]`, the
same options on `create`, and what `verify` says of them. desktop.cli calls these; nothing here imports it."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from desktop.core.limit_input import parse_credits, parse_rate, parse_refill
from desktop.core.presentation import describe_key
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


def limits_text(limits: Limits) -> str:
    """One line: `rate 100/1m, credits 9,950 (refilled to 10,000 each month)`, or `no limits`."""
    if not limits.any:
        return "no limits"
    parts = []
    if limits.rate is not None:
        parts.append(f"rate {limits.rate}")
    if limits.credits is not None:
        refill = "" if limits.refill is None else f" (refilled to {limits.refill.amount:,} each {limits.refill.period})"
        parts.append(f"credits {limits.credits:,}{refill}")
    return ", ".join(parts)


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
        import json

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
