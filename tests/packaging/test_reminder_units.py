"""The expiry reminder's systemd user units: they parse, run `apikeys remind`, and the .deb installs them enabled."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

UNITS = REPO / "resources" / "app" / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_the_service_runs_the_reminder_and_lets_the_window_outlive_it() -> None:
    service = _unit("apikeys-remind.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"] == "/usr/bin/apikeys remind"
    assert service["KillMode"] == "process"  # a click opens the window from the unit's process


def test_the_timer_runs_daily_and_after_log_in() -> None:
    timer = _unit("apikeys-remind.timer")
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* ")  # every day
    assert timer["Timer"]["OnStartupSec"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at this checkout's `apikeys`.
    program = tmp_path / "apikeys"
    program.write_text(f'#!/bin/sh\nexec {sys.executable} -m desktop "$@"\n')
    program.chmod(0o755)
    for name in ("apikeys-remind.service", "apikeys-remind.timer"):
        text = (UNITS / name).read_text(encoding="utf-8").replace("/usr/bin/apikeys", str(program))
        (tmp_path / name).write_text(text, encoding="utf-8")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    result = subprocess.run(
        ["systemd-analyze", "--user", "verify", "apikeys-remind.timer", "apikeys-remind.service"],
        cwd=tmp_path,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "apikeys-remind" not in result.stderr, result.stderr


def test_the_deb_installs_the_units_with_the_timer_enabled(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "packaging"))
    try:
        import build_deb  # type: ignore[import-not-found]  # packaging/ is on sys.path for this import only
    finally:
        sys.path.remove(str(REPO / "packaging"))
    build_deb.install_reminder_units(tmp_path)
    units = tmp_path / "usr" / "lib" / "systemd" / "user"
    for name in ("apikeys-remind.service", "apikeys-remind.timer"):
        assert (units / name).read_bytes() == (UNITS / name).read_bytes()
    wanted = units / "timers.target.wants" / "apikeys-remind.timer"
    assert wanted.is_symlink() and os.readlink(wanted) == "../apikeys-remind.timer"
    assert wanted.resolve() == (units / "apikeys-remind.timer").resolve()
    stage = (REPO / "packaging" / "build_deb.py").read_text(encoding="utf-8")
    assert "    install_reminder_units(root)\n" in stage  # stage() calls it
