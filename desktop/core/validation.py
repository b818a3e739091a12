"""What people type, checked: descriptions, expiry dates and key IDs (pure; no database, no Qt)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.errors import InvalidDescription, InvalidExpiry, InvalidKeyId

DESCRIPTION_MAX = 256
MAX_EXPIRY = date(9999, 12, 30)
MAX_KEY_ID = 2**63 - 1
# Bidirectional overrides and isolates reorder what a person reads: refused like control characters.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ID_PATTERN = re.compile(r"[0-9]+")
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


def validate_description(text: str) -> str:
    """Trimmed description, or InvalidDescription saying what to fix."""
    if not isinstance(text, str):
        raise InvalidDescription("A description is required.")
    cleaned = text.strip()
    if not cleaned:
        raise InvalidDescription("A description is required: say what the key is for.")
    # isprintable() is False for every control, format (bidi) and surrogate character: a fast path.
    for char in "" if cleaned.isprintable() else cleaned:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            raise InvalidDescription(
                f"The description contains a control character (U+{ord(char):04X}); remove it and try again."
            )
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidDescription(
            f"The description is {len(cleaned):,} characters long; the limit is {DESCRIPTION_MAX}."
        )
    return cleaned


def local_today() -> date:
    """Today in the local time zone, by the system clock."""
    return SYSTEM_CLOCK.today()


def expiry_instant(expires_on: date) -> datetime:
    """The UTC instant of the local midnight after `expires_on`: valid through that whole day."""
    local_midnight = datetime.combine(expires_on + timedelta(days=1), time())
    return local_midnight.astimezone().astimezone(UTC)


def expiry_date(expires_at: datetime | None) -> date | None:
    """The calendar date through which a key expiring at `expires_at` is valid, in local time."""
    if expires_at is None:
        return None
    return (expires_at.astimezone() - timedelta(microseconds=1)).date()


def validate_expiry(expires_on: date | None, today: date | None = None) -> datetime | None:
    """The expiry instant for a chosen date (None: never), or InvalidExpiry for a past or too distant one."""
    if expires_on is None:
        return None
    today = today or local_today()
    if expires_on < today:
        raise InvalidExpiry(
            f"The expiry date {expires_on.isoformat()} is in the past; choose {today.isoformat()} or later."
        )
    if expires_on > MAX_EXPIRY:
        raise InvalidExpiry(f"The expiry date must be {MAX_EXPIRY.isoformat()} or earlier.")
    return expiry_instant(expires_on)


def parse_expiry(text: str) -> date:
    """A YYYY-MM-DD date, or InvalidExpiry."""
    try:
        if not _DATE_PATTERN.fullmatch(text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidExpiry(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2030-12-31.") from None


def parse_key_id(value: str | int) -> int:
    """A positive key ID, or InvalidKeyId."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        key_id = value
    else:
        text = value.strip()
        if not _ID_PATTERN.fullmatch(text) or len(text) > 19:
            raise InvalidKeyId(f"'{value}' is not a key ID; IDs are positive whole numbers, as `apikeys list` shows.")
        key_id = int(text)
    if not 1 <= key_id <= MAX_KEY_ID:
        raise InvalidKeyId(f"'{value}' is not a key ID; IDs are positive whole numbers, as `apikeys list` shows.")
    return key_id
