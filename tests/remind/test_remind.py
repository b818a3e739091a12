"""`apikeys remind`: a desktop notification on a REAL session bus (dbus-daemon) to a fake notification server."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.helpers import run_cli, run_cli_process

ONE_LINE_ERROR = re.compile(r"^apikeys: [^\n]+\n$")
FULL_KEY = re.compile(r"ak_[0-9A-Za-z]{38}")


def _env(tmp_path: Path, bus: str) -> dict[str, str]:
    return {
        "DBUS_SESSION_BUS_ADDRESS": bus,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        # The window a click opens: off screen, and it quits at its first paint.
        "QT_QPA_PLATFORM": "offscreen",
        "APIKEYS_BENCH_EXIT_ON_PAINT": "1",
    }


def _fill(database: str) -> list[str]:
    """Keys: one expiring in 2 days (its description needs escaping), one in 20 days, one never; the full keys."""
    now = datetime.now(UTC)
    with KeyStore.open(database, create=True) as store:
        store.insert_many(
            [
                NewKey("Later", now - timedelta(days=3), now + timedelta(days=20)),
                NewKey("Never", now - timedelta(days=3), None),
            ]
        )
        soon = store.create("Billing <b>prod</b> & co", now.date() + timedelta(days=2))
    return [soon.key]


def _sent(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_reminder_shows_masked_keys_and_escaped_descriptions(
    database: str, tmp_path: Path, session_bus: str, notification_server: Callable[..., Path]
) -> None:
    full_keys = _fill(database)
    log = notification_server()
    result = run_cli("--database", database, "remind", "--wait", "0", env=_env(tmp_path, session_bus))
    assert result.returncode == 0 and not result.stderr, result.stderr
    (sent,) = _sent(log)
    assert sent["signature"] == "susssasa{sv}i"
    assert sent["app_name"] == "API Key Manager" and sent["hints"]["desktop-entry"] == "apikeys"
    assert sent["summary"] == "1 API key expires within 7 days"
    body = str(sent["body"])
    assert re.fullmatch(
        r"ak_[0-9A-Za-z]{4}…[0-9A-Za-z]{4}  Billing &lt;b&gt;prod&lt;/b&gt; &amp; co"
        r" — valid through \w{3} \d{1,2} \w{3} \(2 days\)",
        body,
    )
    for text in (result.stdout, json.dumps(sent)):
        assert not FULL_KEY.search(text) and not any(key in text for key in full_keys)
    assert sent["actions"] == []  # --wait 0: nothing to click


def test_click_opens_the_window_filtered(
    tmp_path: Path, session_bus: str, notification_server: Callable[..., Path]
) -> None:
    database = str(tmp_path / "keys.db")
    _fill(database)
    log = notification_server(click=True)
    # A process of its own: the click starts the window as a separate process that outlives the reminder (in
    # this one, the window's Popen would be left to the test process).
    result = run_cli_process("--database", database, "remind", "--wait", "600", env=_env(tmp_path, session_bus))
    assert result.returncode == 0 and not result.stderr, result.stderr
    (sent,) = _sent(log)
    assert sent["actions"] == ["default", "Show keys"]
    assert result.stdout == f"Opened the window on {database}, showing the keys expiring soon.\n"


def test_nothing_is_sent_when_no_key_expires_or_when_off(
    tmp_path: Path, session_bus: str, notification_server: Callable[..., Path]
) -> None:
    database = str(tmp_path / "keys.db")
    env = _env(tmp_path, session_bus)
    log = notification_server()
    run_cli("--database", database, "create", "--description", "Forever")
    quiet = run_cli("--database", database, "remind", "--wait", "0", env=env)
    assert quiet.returncode == 0 and quiet.stdout == "" and not quiet.stderr
    assert _sent(log) == []

    _fill(database)
    off = run_cli("remind", "--off", env=env)
    assert off.returncode == 0 and "Expiry reminders are off" in off.stdout and "apikeys remind --on" in off.stdout
    settings = tmp_path / "config" / "apikeys" / "reminders.json"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.parent.stat().st_mode) == 0o700
    silent = run_cli("--database", database, "remind", "--wait", "0", env=env)
    assert silent.returncode == 0 and silent.stdout == "" and _sent(log) == []
    status = run_cli("--database", database, "remind", "--status", env=env)
    assert status.stdout == f"Expiry reminders are off, for {database}.\n"

    on = run_cli("--database", database, "remind", "--on", env=env)
    assert on.stdout == f"Expiry reminders are on, for {database}.\n"
    # The database remembered by --on is the one reminded about (the timer runs `apikeys remind` alone).
    again = run_cli("remind", "--wait", "0", env=env)
    assert again.returncode == 0 and len(_sent(log)) == 1


def test_dry_run_prints_the_notification(tmp_path: Path) -> None:
    database = str(tmp_path / "keys.db")
    full_keys = _fill(database)
    result = run_cli("--database", database, "remind", "--dry-run", env={"XDG_CONFIG_HOME": str(tmp_path / "c")})
    assert result.returncode == 0 and not result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 API key expires within 7 days"
    assert (
        "Billing <b>prod</b> & co — valid through " in lines[1]
        and lines[1].endswith("(2 days)")
        and full_keys[0] not in result.stdout
    )


def test_without_a_notification_service_one_line_exit_3(tmp_path: Path, session_bus: str) -> None:
    database = str(tmp_path / "keys.db")
    _fill(database)
    result = run_cli("--database", database, "remind", "--wait", "0", env=_env(tmp_path, session_bus))
    assert result.returncode == 3 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "notification service" in result.stderr


@pytest.mark.parametrize("args", [("--wait", "soon"), ("--wait", "-1"), ("--on", "--off")])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_cli("--database", str(tmp_path / "k.db"), "remind", *args, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr


def test_a_password_is_never_remembered(tmp_path: Path) -> None:
    url = "postgresql://alice:s3cret@db.example/keys"
    result = run_cli("--database", url, "remind", "--on", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr) and "s3cret" not in result.stderr
    assert not (tmp_path / "apikeys" / "reminders.json").exists()
