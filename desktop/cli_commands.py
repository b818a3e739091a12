"""The command line's seed command and its key lifecycle commands (rename, roll, scopes, log): what they run and
print. Split from desktop.cli to keep modules small; desktop.cli.execute() imports this when one of them runs,
and this never imports desktop.cli (what both print with is in desktop.cli_output).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from desktop import APP_ID as PROG
from desktop.cli_output import local_text
from desktop.core.errors import DomainError, InvalidInput
from desktop.core.lifecycle import parse_grace, validate_scopes
from desktop.core.operations import Operation
from desktop.core.presentation import details_text, done_text, expiry_phrase, inert_json, shown
from desktop.core.validation import expiry_instant, parse_key_id, validate_description
from desktop.core.values import Event, NewKey

if TYPE_CHECKING:
    import random

    from desktop.core.store import KeyStore

#: Keys written in one transaction by `seed` (and deleted in one by `seed --remove`).
SEED_BATCH = 10_000
#: Usage rows (key, hour, verdict, count) written in one transaction by `seed --usage`.
USAGE_BATCH = 250_000
#: `apikeys log --limit` at most.
LOG_MAX = 100_000

_SEED_SERVICES = ("Billing", "Search", "Checkout", "Mobile app", "Analytics", "Webhooks", "Reporting", "Inventory")
_SEED_PURPOSES = ("production", "staging", "CI pipeline", "partner integration", "load test", "nightly export")
_SEED_OWNERS = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "the data team", "the web team")


#: How a demo key's description starts: what tells it apart in the window and what `seed --remove` looks for.
DEMO_MARK = "[demo] "


def confirm_default_seed(args: argparse.Namespace, count: int) -> None:
    """Seeding the default database (no --database, no $APIKEYS_DATABASE) asks first on a terminal and needs
    --yes otherwise: demo keys among a person's real ones are easy to add by mistake. Before anything is opened."""
    import os

    from desktop.core.target import ENV_VAR, resolve_target

    if args.yes or args.database or os.environ.get(ENV_VAR, "").strip():
        return
    path = resolve_target(None)
    keys = f"{count:,} demo key{'s' if count != 1 else ''}"
    if sys.stdin is None or not sys.stdin.isatty():
        raise InvalidInput(
            f"Not adding {keys} to your default database {path} without --yes; "
            "give --yes, or choose another with --database or $APIKEYS_DATABASE."
        )
    sys.stderr.write(f"Add {keys} to your default database {path}? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise InvalidInput(f"Nothing added: {path} was left as it was.")


def remove_demo_keys(store: KeyStore, out: TextIO) -> None:
    """`seed --remove`: delete every key whose description starts with DEMO_MARK (each deletion in the log), and
    their usage counts."""
    from desktop.core.query import Query

    ids = [r.id for r in store.find(Query(DEMO_MARK.strip())) if r.description.startswith(DEMO_MARK)]
    removed = 0
    for first in range(0, len(ids), SEED_BATCH):
        batch = ids[first : first + SEED_BATCH]
        store.delete_usage(batch)  # their counts too (a deleted real key's are kept: its history stays)
        removed += len(store.delete_many(batch).changed)
    keys = f"{removed:,} demo key{'s' if removed != 1 else ''}"
    out.write(f"Removed {keys} from {store.location}.\n" if removed else f"No demo keys in {store.location}.\n")


def _seed_rows(first: int, last: int, count: int, now: datetime, rng: random.Random) -> list[NewKey]:
    """Demo rows `first`..`last` of `count`, spread over the last year (whole seconds: ties at scale)."""
    rows = []
    span = timedelta(days=365)
    today = now.astimezone().date()
    for i in range(first, last):
        created = (now - span * (1 - (i + 1) / count)).replace(microsecond=0)
        roll = rng.random()
        expires: datetime | None = None
        if roll < 0.05:  # expired: a day between its creation and yesterday
            created_day = created.astimezone().date()
            last_day = max(created_day, today - timedelta(days=1))
            expires = expiry_instant(min(created_day + timedelta(days=rng.randint(0, 30)), last_day))
        elif roll < 0.30:
            expires = expiry_instant(today + timedelta(days=rng.randint(7, 400)))
        service, purpose, owner = rng.choice(_SEED_SERVICES), rng.choice(_SEED_PURPOSES), rng.choice(_SEED_OWNERS)
        description = f"{DEMO_MARK}{service} {purpose} key for {owner}"
        rows.append(NewKey(description, created, expires, active=rng.random() >= 0.1))
    return rows


@contextlib.contextmanager
def _interrupt_after() -> Iterator[None]:
    """Ctrl+C during the block takes effect as it ends: a batch's COMMIT and the count of keys written go
    together. Otherwise an interrupt landing after the COMMIT but before insert_many() returned (closing the
    connection may checkpoint the WAL: that takes a while) left a batch written and uncounted, and the summary
    event of the interrupted seed unwritten or short."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield  # SIGINT ignored or handled by someone else: theirs to decide
        return
    interrupted: list[bool] = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if interrupted:
        raise KeyboardInterrupt


def _seed(store: KeyStore, count: int, now: datetime, usage: int = 0) -> None:
    import random

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    rng = random.Random()
    console = Console(stderr=True)
    # stdout gets the one line when done (the caller writes it); the bar goes to stderr, on a terminal only: a
    # script's stderr gets errors alone.
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("Seeding", total=count)
        done = 0
        before = store.last_key_id()
        try:
            for first in range(0, count, SEED_BATCH):
                last = min(first + SEED_BATCH, count)
                rows = _seed_rows(first, last, count, now, rng)
                # One audit event for the whole seed, written with its last batch.
                with _interrupt_after():
                    done += store.insert_many(rows, seeded=count if last == count else 0)
                progress.advance(task, len(rows))
        except BaseException:
            if 0 < done < count:
                # The batches already committed are in the log all the same (best effort: the error that
                # stopped the seed is the one to report).
                with contextlib.suppress(DomainError):
                    store.log_seeded(done, interrupted=True)
            # A refused seed (permission denied, read-only) leaves its one-line error alone, not the bar too.
            progress.live.transient = True
            raise
        if usage:
            try:
                _seed_usage(store, store.key_ids_after(before)[:count], usage, now, rng, progress)
            except BaseException:
                progress.live.transient = True
                raise


def _seed_usage(
    store: KeyStore, key_ids: Sequence[int], usage: int, now: datetime, rng: random.Random, progress: Any
) -> None:
    """The demo keys' usage history (desktop.core.usage_seed), USAGE_BATCH rows a transaction."""
    from desktop.core.usage_seed import history

    task = progress.add_task("Usage", total=usage)
    batch: list[tuple[int, datetime, str, int]] = []
    for rows in history(key_ids, usage, now, rng):
        batch.extend(rows)
        if len(batch) >= USAGE_BATCH:
            with _interrupt_after():
                store.add_usage_history(batch)
            progress.advance(task, sum(r[3] for r in batch))
            batch = []
    with _interrupt_after():
        store.add_usage_history(batch)
    progress.advance(task, sum(r[3] for r in batch))


def _log_limit(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", text.strip()) or not 1 <= int(text) <= LOG_MAX:
        raise InvalidInput(f"--limit must be a whole number from 1 to {LOG_MAX:,}, not '{text}'.")
    return int(text)


def _event_json(event: Event) -> dict[str, Any]:
    from desktop.core.export import iso

    return {
        "at": iso(event.at),
        "key_id": event.key_id,
        "masked": event.masked,
        "action": event.action,
        "actor": event.actor,
        "db_role": event.db_role,
        "details": event.details,
    }


def _print_events(events: Sequence[Event], out: TextIO, masked_keys: Mapping[int, str], now: datetime) -> None:
    for e in events:
        key = f"#{e.key_id} {e.masked}" if e.key_id is not None else "-"
        role = f" (role {e.db_role})" if e.db_role else ""
        # As the window's Activity Log reads them (--json keeps the stored details, instants and all).
        details = details_text(e, masked_keys, now)
        line = f"{local_text(e.at, '%Y-%m-%d %H:%M:%S')}  {e.action:<14}  {key}  {e.actor}{role}  {details}"
        out.write(shown(line.rstrip()) + "\n")
    if not events:
        out.write("No events.\n")


def _lifecycle_input(command: str, args: argparse.Namespace) -> dict[str, Any]:
    """What rename, roll, scopes and log were given, validated before any database is opened (exit 2 first)."""
    if command == "log":
        return {"log_key": None if args.key is None else parse_key_id(args.key), "limit": _log_limit(args.limit)}
    given: dict[str, Any] = {"key_id": parse_key_id(args.id)}
    if command == "rename":
        given["description"] = validate_description(args.description)
    elif command == "roll":
        given["grace"] = parse_grace(args.grace)
    else:
        given["scopes"] = validate_scopes(args.scopes)
    return given


def _lifecycle(store: KeyStore, command: str, args: argparse.Namespace, out: TextIO, given: dict[str, Any]) -> None:
    """rename, roll, scopes and log, with the values execute() validated before opening the database."""
    if command == "log":
        page = store.events(given["limit"], key_id=given["log_key"])
        if args.json:
            import json

            # Controls a description (old or new) or an actor may hold are \u escapes, never written raw.
            out.write(inert_json(json.dumps([_event_json(e) for e in page.items], ensure_ascii=False, indent=2)))
            out.write("\n")
        else:
            _print_events(page.items, out, page.masked_keys, store.clock.now())
        return
    key_id: int = given["key_id"]
    if command == "rename":
        renamed = store.rename(key_id, given["description"])
        out.write(done_text(Operation.RENAME, renamed) + "\n")
    elif command == "scopes":
        updated = store.set_scopes(key_id, given["scopes"])
        out.write(done_text(Operation.SET_SCOPES, updated) + "\n")
    else:
        rolled = store.roll(key_id, given["grace"])
        # Only after COMMIT (roll returned): the new key alone on stdout, what happened on stderr.
        out.write(rolled.new.key + "\n")
        out.flush()
        new = rolled.new.record
        now = store.clock.now()
        if new.status(now).value != "active":
            sys.stderr.write(
                f"{PROG}: note: key #{key_id} was {new.status(now).value}, so the new key #{new.id} is "
                f"{new.status(now).value} too.\n"
            )
        end = rolled.old.expires_at
        works = (
            "no longer works"
            if end is None or end <= now
            else f"keeps working {expiry_phrase(end, now).removeprefix('valid ')}"
        )
        sys.stderr.write(f"{PROG}: rolled key #{key_id} into #{new.id}; the old key {works}.\n")
