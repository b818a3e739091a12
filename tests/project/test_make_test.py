"""Issue 22 item 7: `make test` runs lint and the type check beside the suite, not before it, and still fails when
any of the three does.

The Makefile runs for real, on a stand-in virtual environment: its `python`, `ruff`, `lint-imports` and `mypy`
are small scripts that write down that they ran, so nothing of the real suite runs here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO

#: The suite's stand-in (`python -m pytest …`): says it started, then ends with $SUITE_STATUS.
PYTHON = """#!/bin/sh
touch "$MARKS/suite-started"
echo "suite ran: $*"
echo "bytecode: ${PYTHONDONTWRITEBYTECODE:-written}"
echo "tmpdir: ${TMPDIR:-unset}"
exit "${SUITE_STATUS:-0}"
"""

#: mypy's stand-in: passes only once the suite has started, i.e. when it runs beside it. Run before the suite (as
#: a prerequisite of `test`), it waits in vain, then fails: the bound is for a broken Makefile only.
MYPY = """#!/bin/sh
tries=0
until [ -e "$MARKS/suite-started" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then echo "mypy ran before the suite started"; exit 1; fi
    sleep 0.1
done
echo "mypy ran"
"""

RUFF = """#!/bin/sh
echo "ruff $1 ran"
exit "${RUFF_STATUS:-0}"
"""

LINT_IMPORTS = """#!/bin/sh
echo "lint-imports ran"
"""


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    for name, body in (("python", PYTHON), ("mypy", MYPY), ("ruff", RUFF), ("lint-imports", LINT_IMPORTS)):
        (folder / "bin" / name).write_text(body)
        (folder / "bin" / name).chmod(0o755)
    (folder / ".installed-test").touch()  # newer than pyproject.toml: nothing is installed
    (tmp_path / "marks").mkdir()
    return folder


def make_test(venv: Path, **env: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("no make on this machine")
    # The Makefile's own defaults, not the caller's choices (`make test PYTEST_ARGS=…` exports them to the suite).
    caller = ("MAKEFLAGS", "MFLAGS", "PYTEST_ARGS", "TEST_WORKERS", "TEST_TMPDIR")
    inherited = {name: value for name, value in os.environ.items() if name not in caller}
    environment = {**inherited, "MARKS": str(venv.parent / "marks"), **env}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "test", f"VENV={venv}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_lint_and_the_type_check_run_beside_the_suite(venv: Path) -> None:
    done = make_test(venv)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "suite ran: -m pytest -n" in done.stdout
    for line in ("ruff check ran", "ruff format ran", "lint-imports ran", "mypy ran"):
        assert line in done.stdout.splitlines(), done.stdout
    # The checks' output is printed whole after the suite's, not interleaved with its progress.
    assert done.stdout.index("suite ran") < done.stdout.index("ruff check ran")


def test_the_suite_caches_bytecode_even_where_the_shell_says_not_to(venv: Path) -> None:
    """With PYTHONDONTWRITEBYTECODE set (as some shells and CI images do) nothing is ever cached: each of the
    suite's hundreds of Python processes compiled the app's modules again, and each worker the tests and their
    assertion rewriting (pytest writes that cache only where Python may: ~8 s of CPU a worker). make test lets
    Python write `__pycache__` (ignored by git) as it does by default."""
    done = make_test(venv, PYTHONDONTWRITEBYTECODE="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bytecode: written" in done.stdout.splitlines(), done.stdout


def test_a_lint_failure_fails_make_test_after_the_suite_ran(venv: Path) -> None:
    done = make_test(venv, RUFF_STATUS="1")
    assert done.returncode != 0
    assert "suite ran" in done.stdout
    assert "make test: lint or type check failed (above)" in done.stderr


def test_a_failing_suite_fails_make_test(venv: Path) -> None:
    done = make_test(venv, SUITE_STATUS="1")
    assert done.returncode != 0
    assert "mypy ran" in done.stdout.splitlines()  # the checks still ran, and said so
    assert "lint or type check failed" not in done.stderr


def _with_fakes(tmp_path: Path, *, cores: int | None = None, free_kb: int | None = None) -> str:
    """A PATH whose `nproc` says `cores` and whose `df` says `free_kb` are free (each only when given), so both
    branches of the Makefile's choices are tested on any machine, not only the one this machine takes."""
    fakes = tmp_path / "fakes"
    fakes.mkdir(exist_ok=True)
    if cores is not None:
        (fakes / "nproc").write_text(f"#!/bin/sh\necho {cores}\n")
    if free_kb is not None:
        (fakes / "df").write_text(
            "#!/bin/sh\necho 'Filesystem 1024-blocks Used Available Capacity Mounted on'\n"
            f"echo 'tmpfs {free_kb * 2} {free_kb} {free_kb} 50% /dev/shm'\n"
        )
    for fake in fakes.iterdir():
        fake.chmod(0o755)
    return f"{fakes}:{os.environ.get('PATH', '/usr/bin:/bin')}"


@pytest.mark.parametrize(("cores", "workers"), [(1, 2), (2, 3), (3, 4), (8, 4)])
def test_the_suite_runs_one_worker_more_than_there_are_cores_at_most_four(
    venv: Path, tmp_path: Path, cores: int, workers: int
) -> None:
    """With one worker a core, a third of two cores' time went idle while tests waited on servers, processes,
    timers and locks: one worker more fills it (each worker has its own PostgreSQL cluster: four at most)."""
    done = make_test(venv, PATH=_with_fakes(tmp_path, cores=cores))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"suite ran: -m pytest -n {workers} --dist loadgroup" in done.stdout, done.stdout


def test_the_worker_count_is_the_cores_whatever_openmp_is_told(venv: Path) -> None:
    """GNU nproc answers OMP_NUM_THREADS when it is set (some CI images set it to 1): the Makefile asks for the
    cores this process may use."""
    done = make_test(venv, OMP_NUM_THREADS="1", OMP_THREAD_LIMIT="1")
    assert done.returncode == 0, done.stdout + done.stderr
    workers = min(len(os.sched_getaffinity(0)) + 1, 4)  # the cores `nproc` counts
    assert f"suite ran: -m pytest -n {workers} --dist loadgroup" in done.stdout, done.stdout


def _shm_usable() -> bool:
    """/dev/shm there, writable and not mounted noexec: what the Makefile checks besides its free space."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        return False
    mounts = Path("/proc/mounts").read_text().splitlines() if Path("/proc/mounts").exists() else []
    return not any(len(f := line.split()) > 3 and f[1] == "/dev/shm" and "noexec" in f[3].split(",") for line in mounts)


@pytest.mark.parametrize(("free_kb", "room"), [(3 * 1024**2, True), (64 * 1024, False)])
def test_the_suite_keeps_its_temporary_files_in_ram_where_there_is_room(
    venv: Path, tmp_path: Path, free_kb: int, room: bool
) -> None:
    """SQLite's commits wait for the disk (an fsync each): on /dev/shm the suite's files are the same real files
    without the wait. Where /dev/shm is missing, noexec or small (a container's 64 MB), TMPDIR stays as it was."""
    path = _with_fakes(tmp_path, free_kb=free_kb)
    done = make_test(venv, TMPDIR=str(tmp_path), PATH=path)
    assert done.returncode == 0, done.stdout + done.stderr
    in_ram = room and _shm_usable()
    expected = "/dev/shm" if in_ram else str(tmp_path)
    assert f"tmpdir: {expected}" in done.stdout.splitlines(), done.stdout
    # In RAM, only the failed tests' folders are kept after a run (all of a run's are ~290 MB).
    assert ("-o tmp_path_retention_policy=failed" in done.stdout) == in_ram, done.stdout
    # TEST_TMPDIR= (empty) keeps the caller's TMPDIR.
    kept = make_test(venv, TMPDIR=str(tmp_path), TEST_TMPDIR="", PATH=path)
    assert f"tmpdir: {tmp_path}" in kept.stdout.splitlines(), kept.stdout
    assert "tmp_path_retention_policy" not in kept.stdout
