"""The rules of the key lifecycle that need no database: scopes and a roll's grace period.

Shared by the command line and (later) the window, so both refuse the same input with the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from desktop.core.errors import InvalidInput

SCOPE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
#: More scopes than this on one key is a mistake (a pasted list), not a permission model.
MAX_SCOPES = 64

DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)
_GRACE = re.compile(r"([0-9]{1,6})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class InvalidScope(InvalidInput):
    pass


class InvalidGrace(InvalidInput):
    pass


def validate_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes sorted, duplicates dropped; InvalidScope naming the first bad one."""
    found = set()
    for scope in scopes:
        # fullmatch and no strip: "read " is a different string than the one a service will ask for.
        if not isinstance(scope, str) or not SCOPE_PATTERN.fullmatch(scope):
            raise InvalidScope(
                f"Invalid scope {scope!r}: a scope is 1-64 characters of a-z, 0-9 and _ . : - "
                "starting with a letter or digit (e.g. billing:read)."
            )
        found.add(scope)
    if len(found) > MAX_SCOPES:
        raise InvalidScope(f"Too many scopes ({len(found)}): a key may have at most {MAX_SCOPES}.")
    return tuple(sorted(found))


def parse_grace(text: str) -> timedelta:
    """`now`, or N followed by m, h or d (minutes, hours, days), at most 30 days; InvalidGrace otherwise."""
    cleaned = text.strip().lower()
    if cleaned == "now":
        return timedelta(0)
    match = _GRACE.fullmatch(cleaned)
    grace = timedelta(**{_UNITS[match[2]]: int(match[1])}) if match else None
    if grace is None or grace > MAX_GRACE:
        raise InvalidGrace(
            f"Invalid grace {text!r}: give now, or a number followed by m, h or d (e.g. 30m, 24h, 7d), at most 30d."
        )
    return grace
