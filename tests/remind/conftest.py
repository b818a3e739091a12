"""A real session bus (dbus-daemon) per test, and the fake notification server on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture
def session_bus(tmp_path: Path) -> Iterator[str]:
    """The address of a new, private session bus (`dbus-daemon --session`), stopped afterwards."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        if os.environ.get("CI"):
            pytest.fail("dbus-daemon is missing: apt-get install -y dbus")
        pytest.skip("dbus-daemon is missing (apt-get install -y dbus)")
    proc = subprocess.Popen([daemon, "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    try:
        assert address.startswith("unix:"), address
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.fixture
def notification_server(session_bus: str, tmp_path: Path) -> Iterator[Callable[[bool], Path]]:
    """Start the fake notification server on the bus (clicking each notification when asked); its log's path."""
    started: list[subprocess.Popen[str]] = []

    def start(click: bool = False) -> Path:
        log = tmp_path / "notifications.jsonl"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.remind.fake_notifications", str(log), *(["--click"] if click else [])],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": session_bus},
        )
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return log

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
