"""Process hardening (issue 10.5): the window and the command line are not dumpable and have no core limit.

Seen from outside, as another process would: the kernel makes /proc/PID/environ (and mem, maps...)
of a non-dumpable process owned by root, and /proc/PID/limits shows the core limit. The child
runs as an unprivileged user when the tests run as root, so that root ownership means something.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, make_database
from tests.packaging.unprivileged import unprivileged

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")


@pytest.fixture
def home() -> Iterator[Path]:
    """A folder the unprivileged child owns (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="apikeys-harden-"))
    try:
        _, uid = unprivileged()
        for sub in ("", "data", "state", "config", "cache", "runtime"):
            path = folder / sub
            path.mkdir(exist_ok=True)
            path.chmod(0o700)
            os.chown(path, uid, uid if uid != os.geteuid() else os.getegid())
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spawn(args: list[str], home: Path, **env: str) -> subprocess.Popen[str]:
    prefix, _ = unprivileged()
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
        "LANG": "C.UTF-8",
        **env,
    }
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "desktop", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=child_env,
    )


def _core_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return " ".join(line.split()[4:6])
    raise AssertionError("no core limit in /proc/PID/limits")


def _running_python(pid: int) -> bool:
    """Past setpriv's exec: Python, under the unprivileged uid (in between, setpriv itself is not dumpable)."""
    _, uid = unprivileged()
    status = Path(f"/proc/{pid}/status").read_text()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    return real_uid == uid and os.readlink(f"/proc/{pid}/exe") == os.path.realpath(sys.executable)


def _hardened(pid: int) -> bool:
    return _running_python(pid) and Path(f"/proc/{pid}/environ").stat().st_uid == 0 and _core_limit(pid) == "0 0"


def _wait_until(condition: Callable[[], bool], child: subprocess.Popen[Any], timeout: float = 30.0) -> bool:
    """Until `condition` holds while the child still runs (the child needs a moment to reach main())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return False
        if condition():
            return True
        time.sleep(0.05)
    return False


def _stop(child: subprocess.Popen[str]) -> tuple[str, str]:
    if child.poll() is None:
        child.terminate()
    try:
        return child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.communicate()


def test_a_plain_child_would_fail_the_check(home: Path) -> None:
    """The check can fail: a plain Python child of the same user owns its /proc files and may raise its core limit."""
    prefix, uid = unprivileged()
    child = subprocess.Popen(
        [*prefix, sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, cwd=home, text=True
    )
    try:
        assert _wait_until(lambda: _running_python(child.pid), child)
        assert Path(f"/proc/{child.pid}/environ").stat().st_uid == uid != 0
        assert not _hardened(child.pid)
    finally:
        child.communicate(input="", timeout=30)


def test_the_command_line_is_not_dumpable_and_has_no_core_limit(home: Path) -> None:
    # `verify -` waits for the key on stdin: the process is alive, past start-up, before any key arrives.
    child = _spawn(["verify", "-", "--database", str(home / "data" / "keys.db")], home)
    try:
        assert _wait_until(lambda: _hardened(child.pid), child), "apikeys verify is dumpable or may dump core"
    finally:
        _out, err = _stop(child)
    assert "Traceback" not in err


def test_the_window_is_not_dumpable_and_has_no_core_limit(home: Path) -> None:
    db = make_database(home / "data" / "keys.db")
    _, uid = unprivileged()
    os.chown(db, uid, -1)
    db.chmod(0o600)
    child = _spawn(["--database", str(db)], home, QT_QPA_PLATFORM="offscreen")
    try:
        assert _wait_until(lambda: _hardened(child.pid), child), "the window is dumpable or may dump core"
    finally:
        _out, err = _stop(child)
    assert "Traceback" not in err, err[-2000:]
