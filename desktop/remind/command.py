"""`apikeys remind [--on|--off|--status|--dry-run] [--wait SECONDS]`: the daily expiry reminder and its switch.

Run by the systemd user timer the .deb installs (apikeys-remind.timer), and at log-in by the XDG autostart
entry. Which database: `--database`, else the one `remind --on --database X` (or the window's View ▸ Expiry
Reminders) remembered, else the default ($APIKEYS_DATABASE, else keys.db in the user data folder).
"""

from __future__ import annotations

import argparse
import logging
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from typing import TextIO

from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.errors import InvalidInput
from desktop.core.presentation import shorten, shown
from desktop.core.query import EXPIRING_WITHIN, Filter, Query, Sort
from desktop.core.values import KeyRecord
from desktop.remind import config

log = logging.getLogger(__name__)

#: How long a click on the notification opens the window (the service may keep it longer; later clicks do nothing).
WAIT_DEFAULT_S = 3600
WAIT_MAX_S = 24 * 3600
#: Keys named in the notification at most; the rest are counted.
SHOWN_MAX = 5
#: The window's option that selects its status filter (`apikeys --show expiring`).
SHOW_OPTION = "--show"


def _wait(text: str | None) -> int:
    if text is None:
        return WAIT_DEFAULT_S
    if not re.fullmatch(r"[0-9]{1,6}", text.strip()) or int(text) > WAIT_MAX_S:
        raise InvalidInput(f"--wait must be a number of seconds from 0 to {WAIT_MAX_S}, not '{shorten(text, 40)}'.")
    return int(text)


DAYS = EXPIRING_WITHIN.days


def _chosen(args: argparse.Namespace, settings: config.ReminderConfig) -> str | None:
    """The database named for the reminder; None: the default one (the window finds it the same way)."""
    return args.database or settings.database


def _target(database: str | None) -> str:
    from desktop.core.target import resolve_target

    return resolve_target(database)


def _where(database: str | None) -> str:
    """The database as people read it: a path, or a URL without its password."""
    from desktop.core.store_admin import location

    return location(_target(database))


def expiring_keys(database: str) -> list[KeyRecord]:
    """Active keys expiring within 7 days, soonest first: `apikeys expiring`'s answer."""
    from desktop.core.store import open_store

    with open_store(database, SYSTEM_CLOCK, create=False) as store:
        return list(store.find(Query(status=Filter.EXPIRING, sort=Sort.EXPIRES)))


def _when(record: KeyRecord, today: date) -> str:
    """The last day the key is valid, as the table's Expires column counts it (a calendar date)."""
    last = record.expires_on
    if last is None:
        return ""
    days = (last - today).days
    if days <= 0:
        return "valid through today"
    if days == 1:
        return "valid through tomorrow"
    return f"valid through {last:%a %-d %b} ({days} days)"


def message_lines(records: list[KeyRecord], now: datetime) -> tuple[str, list[str]]:
    """The summary and body lines: masked keys and descriptions only, never a secret."""
    count = len(records)
    summary = f"{count} API key{'s' if count != 1 else ''} expire{'s' if count == 1 else ''} within {DAYS} days"
    today = now.astimezone().date()
    lines = [f"{r.masked}  {shown(shorten(r.description, 60))} — {_when(r, today)}" for r in records[:SHOWN_MAX]]
    if count > SHOWN_MAX:
        lines.append(f"and {count - SHOWN_MAX} more")
    return summary, lines


def window_command(database: str | None) -> list[str]:
    """The command that opens the window on `database` (None: the default) showing only the keys expiring soon."""
    program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "desktop"]
    chosen = ["--database", database] if database else []
    return [*program, *chosen, SHOW_OPTION, Filter.EXPIRING.value]


def open_window(database: str | None) -> None:
    subprocess.Popen(
        window_command(database),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the reminder (and its systemd unit's cgroup is not waited for)
        close_fds=True,
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """0 when done (sent, nothing to send, or off); 2 for bad input; 3 when the notification cannot be shown."""
    out = out or sys.stdout
    settings = config.load()
    if args.on or args.off:
        database = args.database if args.on and args.database else settings.database
        path = config.save(replace(settings, enabled=bool(args.on), database=database))
        if args.on:
            out.write(f"Expiry reminders are on, for {_where(database)}.\n")
        else:
            out.write(f"Expiry reminders are off. Turn them on again with: apikeys remind --on ({path})\n")
        return 0
    if args.status:
        state = "on" if settings.enabled else "off"
        out.write(f"Expiry reminders are {state}, for {_where(_chosen(args, settings))}.\n")
        return 0
    wait_s = _wait(args.wait)
    if not settings.enabled and not args.dry_run:
        log.info("expiry reminders are off")
        return 0
    database = _chosen(args, settings)
    now = SYSTEM_CLOCK.now()
    records = expiring_keys(_target(database))
    if not records:
        if args.dry_run:
            out.write(f"No active key expires within {DAYS} days ({_where(database)}): no reminder.\n")
        return 0
    summary, lines = message_lines(records, now)
    if args.dry_run:
        out.write("\n".join([summary, *lines]) + "\n")
        if not settings.enabled:
            out.write("(Reminders are off: nothing would be shown.)\n")
        return 0
    from desktop.remind.notify import Notification, NotifyError, show

    try:
        clicked = show(Notification(summary, lines, "Show keys"), wait_s)
    except NotifyError as err:
        sys.stderr.write(f"apikeys: {err}\n")
        return 3
    if clicked:
        open_window(database)
        out.write(f"Opened the window on {_where(database)}, showing the keys expiring soon.\n")
    return 0
