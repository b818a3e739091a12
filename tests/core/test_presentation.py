"""Status words and shortened descriptions: the rule the CLI and the window share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from desktop.core.presentation import SHORT_DESCRIPTION, describe_key, expiry_phrase, shorten, shown, status_text
from desktop.core.values import KeyRecord, Status

NOW = datetime(2030, 6, 1, 12, tzinfo=UTC)


def record(**changes: object) -> KeyRecord:
    values: dict[str, object] = {
        "id": 1,
        "masked": "ak_7Gq2…x9Lp",
        "description": "Billing",
        "created_at": NOW - timedelta(days=3),
        "expires_at": None,
        "active": True,
        "last_used_at": None,
    }
    values.update(changes)
    return KeyRecord(**values)  # type: ignore[arg-type]


def test_status_is_inactive_first_then_expired_then_active() -> None:
    past, future = NOW - timedelta(seconds=1), NOW + timedelta(seconds=1)
    assert record(active=False, expires_at=past).status(NOW) is Status.INACTIVE
    assert record(active=True, expires_at=past).status(NOW) is Status.EXPIRED
    assert record(active=True, expires_at=NOW).status(NOW) is Status.EXPIRED  # the instant itself is past
    assert record(active=True, expires_at=future).status(NOW) is Status.ACTIVE
    assert record(active=True, expires_at=None).status(NOW) is Status.ACTIVE
    assert status_text(record(expires_at=past), NOW) == "Expired"
    assert status_text(record(active=False), NOW) == "Inactive"


@given(st.text(max_size=300))
def test_shorten_keeps_what_fits_and_cuts_the_rest_to_the_limit(text: str) -> None:
    short = shorten(text)
    assert len(short) <= SHORT_DESCRIPTION
    if len(text) <= SHORT_DESCRIPTION:
        assert short == text
    else:
        assert short.endswith("…") and text.startswith(short[:-1])


def test_shown_escapes_what_a_terminal_would_obey() -> None:
    assert shown("a\x1b[31mb\u202ec\nd") == "a\\x1b[31mb\\u202ec\\nd"
    assert shown("Grüße 💡") == "Grüße 💡"


def test_describe_key_names_the_key_masked_with_its_description() -> None:
    assert describe_key(record(description="Billing")) == "ak_7Gq2…x9Lp (“Billing”)"
    described = describe_key(record(description="x" * 100))
    assert described == f"ak_7Gq2…x9Lp (“{'x' * (SHORT_DESCRIPTION - 1)}…”)"


def test_an_expiry_phrase_without_a_time_given_is_said_at_the_system_clock() -> None:
    """As KeyRecord.status(None) and status_text(record, None) do: the window's roll notice passes no time when
    its store was closed meanwhile (mypy --strict on desktop/ui found the None reaching local_moment)."""
    soon = datetime.now(UTC) + timedelta(hours=1)
    assert expiry_phrase(soon, None) == expiry_phrase(soon, datetime.now(UTC))
    assert expiry_phrase(None, None) == "never expires"
