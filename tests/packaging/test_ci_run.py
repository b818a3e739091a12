"""`.ci/run`: PostgreSQL's server is installed when missing, and `make test` then `make stress` run with CI=true
(no skipping).

The script runs for real; `make`, `apt-get` and `sudo` are stand-ins on its PATH that write down how they
were called (and `apt-get install` puts a pg_ctl where Debian's package would), so nothing is installed here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO

RECORDER = """#!/bin/sh
echo "$(basename "$0") $* CI=${CI:-unset}" >> "$CALLS"
"""

APT_GET = (
    RECORDER
    + """case "$*" in *"install -y postgresql"*)
    mkdir -p "$APIKEYS_PG_LIBDIR/15/bin" && printf '#!/bin/sh\\n' > "$APIKEYS_PG_LIBDIR/15/bin/pg_ctl"
    chmod +x "$APIKEYS_PG_LIBDIR/15/bin/pg_ctl" ;;
esac
"""
)

MAKE = RECORDER + 'if [ "$1" = test ] && [ -n "${FAIL_TEST:-}" ]; then exit 2; fi\n'


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in (("make", MAKE), ("apt-get", APT_GET)):
        (bindir / name).write_text(body)
        (bindir / name).chmod(0o755)
    return bindir


def run_ci(tmp_path: Path, stubs: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = tmp_path / "calls"
    calls.touch()
    environment = {
        # No /usr/local/bin: this machine's own pg_ctl must not count.
        "PATH": f"{stubs}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CALLS": str(calls),
        "APIKEYS_PG_LIBDIR": str(tmp_path / "lib" / "postgresql"),
        **env,
    }
    proc = subprocess.run(
        [str(REPO / ".ci" / "run")], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    return proc, calls.read_text().splitlines()


def test_a_missing_server_is_installed_and_the_tests_run_with_ci_true(tmp_path: Path, stubs: Path) -> None:
    (stubs / "pg_ctl").symlink_to(tmp_path / "gone" / "pg_ctl")  # dangling: left by a removed install
    proc, calls = run_ci(tmp_path, stubs)
    assert proc.returncode == 0, proc.stderr
    assert calls == [
        "apt-get update CI=unset",
        "apt-get install -y postgresql CI=unset",
        "make test CI=true",
        "make stress CI=true",
        "make smoke CI=true",
    ]


def test_an_installed_server_is_used_as_it_is(tmp_path: Path, stubs: Path) -> None:
    server = tmp_path / "lib" / "postgresql" / "16" / "bin"
    server.mkdir(parents=True)
    (server / "pg_ctl").write_text("#!/bin/sh\n")
    (server / "pg_ctl").chmod(0o755)
    proc, calls = run_ci(tmp_path, stubs, CI="false")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["make test CI=true", "make stress CI=true", "make smoke CI=true"]


def test_a_failing_test_suite_stops_ci_before_the_smoke_test(tmp_path: Path, stubs: Path) -> None:
    (stubs / "pg_ctl").write_text("#!/bin/sh\n")
    (stubs / "pg_ctl").chmod(0o755)
    proc, calls = run_ci(tmp_path, stubs, FAIL_TEST="1")
    assert proc.returncode != 0
    assert calls == ["make test CI=true"]


def test_the_script_is_executable() -> None:
    assert os.access(REPO / ".ci" / "run", os.X_OK)
