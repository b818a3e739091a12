"""What a person asks of the key list: search text, a status filter, an order; checked, with clear messages.

Pure values (no database, no Qt): the CLI's `list` options and the window's search box, status filter and
sortable headers build the same `Query`, and the store answers it (desktop.core.db.queries).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from desktop.core import keys
from desktop.core.errors import InvalidInput
from desktop.core.validation import DESCRIPTION_MAX
from desktop.core.values import KeyRecord

#: `expiring`: active, not expired, and expiring within this long.
EXPIRING_WITHIN = timedelta(days=7)
#: A key used before but not for this long is "not used lately" in the key-health summary.
STALE_AFTER = timedelta(days=90)
#: Longer search text cannot match: a description has at most 256 characters (and a key 41).
SEARCH_MAX = DESCRIPTION_MAX

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# A masked key (`ak_7Gq2…x9Lp`) or a prefix of one, as people copy it from a table or a ticket; `...` for `…`.
_MASKED_PREFIX = re.compile(r"ak_([0-9A-Za-z]{0,4}|[0-9A-Za-z]{4}(?:…|\.\.\.)[0-9A-Za-z]{0,4})", re.IGNORECASE)


class Sort(enum.StrEnum):
    """The orders of the list (ties: higher id first); `Query.reverse` flips the whole order."""

    #: Newest first.
    CREATED = "created"
    #: Soonest first, keys that never expire last.
    EXPIRES = "expires"
    #: Most recently used first, never used last.
    LAST_USED = "last-used"
    #: A→Z, ignoring case.
    DESCRIPTION = "description"


class Filter(enum.StrEnum):
    """Which keys a query lists. The first five are `list --status`'s words; the rest serve the health summary."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    EXPIRED = "expired"
    #: Active, not expired, expiring within EXPIRING_WITHIN.
    EXPIRING = "expiring"
    #: Never used.
    UNUSED = "unused"
    #: No expiry date.
    NEVER_EXPIRES = "never-expires"
    #: Used once, but not within STALE_AFTER.
    STALE = "stale"
    #: No use within the last 24 hours, 7 or 30 days, never used included (View ▸ Usage's period: NOT_USED_WITHIN).
    NOT_USED_24H = "not-used-24h"
    NOT_USED_7D = "not-used-7d"
    NOT_USED_30D = "not-used-30d"


#: How far back each "not used" filter looks: a key last used before then, or never, is listed.
NOT_USED_WITHIN = {
    Filter.NOT_USED_24H: timedelta(hours=24),
    Filter.NOT_USED_7D: timedelta(days=7),
    Filter.NOT_USED_30D: timedelta(days=30),
}

#: What `apikeys list --status` accepts (the contract's words).
STATUS_WORDS = (Filter.ACTIVE, Filter.INACTIVE, Filter.EXPIRED, Filter.EXPIRING, Filter.UNUSED)


def _check_search(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput("The search text must be text.")
    cleaned = text.strip()
    if len(cleaned) > SEARCH_MAX:
        raise InvalidInput(
            f"The search text is {len(cleaned):,} characters long; descriptions have at most {SEARCH_MAX}, "
            "so search for a part of one."
        )
    for char in "" if cleaned.isprintable() else cleaned:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            # Never the text itself: it may hold a key.
            raise InvalidInput(
                f"The search text contains a control character (U+{ord(char):04X}), which no description holds; "
                "remove it and try again."
            )
    return cleaned


@dataclass(frozen=True, slots=True)
class Query:
    """Search text (trimmed; "" for none), a status filter (None: every key), an order and its direction.

    Building one checks it: InvalidInput says what is wrong without repeating the text (it may be a key).
    """

    #: Not in repr: it may be a full key.
    search: str = field(default="", repr=False)
    status: Filter | None = None
    sort: Sort = Sort.CREATED
    reverse: bool = False
    #: How far ahead the `expiring` filter looks (`apikeys expiring --within Nd`); the window's is the default.
    expiring_within: timedelta = EXPIRING_WITHIN

    def __post_init__(self) -> None:
        if self.expiring_within <= timedelta(0):
            raise InvalidInput("The expiry window must be longer than zero.")
        object.__setattr__(self, "search", _check_search(self.search))
        object.__setattr__(self, "status", None if self.status is None else Filter(self.status))
        object.__setattr__(self, "sort", Sort(self.sort))

    @classmethod
    def parse(
        cls, search: str | None = None, status: str | None = None, sort: str | None = None, reverse: bool = False
    ) -> Query:
        """From words people type (`list --status expiring --sort last-used`); InvalidInput names the choices."""
        status_value: Filter | None = None
        if status is not None:
            word = status.strip().lower()
            if word not in STATUS_WORDS:
                raise InvalidInput(f"Unknown status '{_quoted(status)}'; choose one of {', '.join(STATUS_WORDS)}.")
            status_value = Filter(word)
        sort_value = Sort.CREATED
        if sort is not None:
            word = sort.strip().lower()
            if word not in tuple(Sort):
                raise InvalidInput(f"Unknown sort '{_quoted(sort)}'; choose one of {', '.join(Sort)}.")
            sort_value = Sort(word)
        return cls(search or "", status_value, sort_value, reverse)

    @property
    def is_plain(self) -> bool:
        """Every key, newest first: what the plain keyset page answers."""
        return not self.search and self.status is None and self.sort is Sort.CREATED and not self.reverse

    @property
    def full_key_digest(self) -> bytes | None:
        """The digest to look for when the search text is a whole key (then only that key matches)."""
        return keys.digest(self.search) if keys.is_well_formed(self.search) else None

    @property
    def hint_prefix(self) -> str | None:
        """The start of the stored hint a masked form (or a prefix of one) stands for; None for other text."""
        match = _MASKED_PREFIX.fullmatch(self.search)
        if match is None:
            return None
        return match.group(1).replace("…", "").replace("...", "")

    def cursor(self, record: KeyRecord) -> SortCursor:
        return cursor_of(record, self.sort)


@dataclass(frozen=True, slots=True)
class SortCursor:
    """A position in a query's order: the row's sort key (None: no expiry, or never used) and its id."""

    value: datetime | str | None
    id: int


def cursor_of(record: KeyRecord, sort: Sort) -> SortCursor:
    value: datetime | str | None
    if sort is Sort.CREATED:
        value = record.created_at
    elif sort is Sort.EXPIRES:
        value = record.expires_at
    elif sort is Sort.LAST_USED:
        value = record.last_used_at
    else:
        value = record.description
    return SortCursor(value, record.id)


def _quoted(text: str) -> str:
    """Bad option text repeated in a message: short, and shown literally."""
    from desktop.core.presentation import shorten, shown

    return shown(shorten(text.strip(), 40))


@dataclass(frozen=True, slots=True)
class KeyHealth:
    """The key-health summary: how many keys need a look, each with the query that lists them."""

    never_expire: int
    never_used: int
    not_used_lately: int

    never_expire_query: Query = Query(status=Filter.NEVER_EXPIRES)
    never_used_query: Query = Query(status=Filter.UNUSED)
    not_used_lately_query: Query = Query(status=Filter.STALE, sort=Sort.LAST_USED)
