"""How keys are named to people, the same in the CLI and the window: status words, short descriptions."""

from __future__ import annotations

import re
from datetime import datetime

from desktop.core.values import KeyRecord, Status

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
