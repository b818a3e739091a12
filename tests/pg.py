"""Throwaway PostgreSQL clusters for the tests: one per session, more for tests that stop a server.

A cluster listens on a Unix socket only (no TCP port, so clusters never clash) in a folder the `postgres`
user can reach; as root, the server runs as `postgres` (it refuses to run as root). Every role trusts the
socket, so `postgresql+psycopg://ROLE@/DB?host=SOCKET` connects as any role the test created.

When PostgreSQL cannot be started here (not installed, no `postgres` user), `start_cluster` raises
PgUnavailable with one line saying why: the fixtures skip with it, except under CI=true, where they fail.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest


class PgUnavailable(Exception):
    """PostgreSQL cannot be started on this machine; the message says why in one line."""


def _bindir() -> Path:
    """The folder of initdb and pg_ctl: PATH's pg_ctl when it works, else Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found and Path(found).resolve().exists():
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if versions:
        return Path(versions[-1]).parent
    raise PgUnavailable("PostgreSQL is not installed (no pg_ctl): `sudo apt install postgresql` to run these tests")


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:
        raise PgUnavailable("running as root without runuser: cannot start PostgreSQL as the postgres user")
    return ["runuser", "-u", "postgres", "--", *argv]


class PgCluster:
    """A running throwaway cluster; `new_database()` gives a fresh empty database's URL."""

    _names = itertools.count(1)

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.socket = folder / "sock"
        self.log = folder / "log"
        self._bin = _bindir()
        self._template: str | None = None
        self._owned_template: tuple[str, str] | None = None  # (database, the role that migrated it)

    # -- URLs --

    def url(self, database: str = "postgres", *, role: str = "postgres", scheme: str = "postgresql+psycopg") -> str:
        return f"{scheme}://{role}@/{database}?host={self.socket}"

    def new_database(self, *, owner: str = "postgres") -> str:
        """Create an empty database and return its URL (as its owner)."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name, role=owner)

    def new_migrated_database(self) -> str:
        """A new database with the current schema, as the program's first start leaves it, owned by postgres.

        A copy of a template migrated once per cluster (CREATE DATABASE … TEMPLATE …: ~0.1 s) rather than every
        migration run again from empty (~0.5 s). Migration tests take new_database() and start empty.
        """
        if self._template is None:
            from desktop.core.store import KeyStore

            url = self.new_database()
            with KeyStore.open(url, create=True):  # the program's own first start: every migration, then closed
                pass
            self._template = url.split("?", 1)[0].rsplit("/", 1)[1]
            # No one may connect to it any more: a connection would make the copies fail.
            self.execute(f'ALTER DATABASE "{self._template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        name = f"t{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}" OWNER "postgres"')
        return self.url(name)

    def new_owned_migrated_database(self, owner: str) -> str:
        """A new database with the current schema, its tables and functions `owner`'s (as if `owner` had opened
        it first, the team's set-up), and its URL as `owner`.

        A copy of a template migrated once per cluster by a role of its own, whose objects then pass to `owner`
        (REASSIGN OWNED, one statement in the copy; ~0.1 s against ~0.5 s of migrating). The template database
        itself is among what the statement hands over: it is given back to its role.
        """
        if self._owned_template is None:
            from desktop.core.store import KeyStore

            role = self.create_role(f"template_owner_{os.getpid()}")
            url = self.new_database(owner=role)
            with KeyStore.open(url, create=True):  # the owner's own first start: every migration, then closed
                pass
            self._owned_template = (url.split("?", 1)[0].rsplit("/", 1)[1], role)
            self.execute(f'ALTER DATABASE "{self._owned_template[0]}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        template, role = self._owned_template
        name = f"t{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER "{owner}"')
        self.execute(f'REASSIGN OWNED BY "{role}" TO "{owner}"', database=name)
        self.execute(f'ALTER DATABASE "{template}" OWNER TO "{role}"')
        return self.url(name, role=owner)

    # -- administration, as the superuser over the socket --

    def execute(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser, autocommit; the rows it returns, if any."""
        import psycopg

        with psycopg.connect(host=str(self.socket), user="postgres", dbname=database, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def create_role(self, name: str) -> str:
        """A login role with no rights of its own (what `apikeys grant` is then given)."""
        self.execute(f'CREATE ROLE "{name}" LOGIN')
        return name

    # -- the server process --

    def pg_ctl(self, *args: str) -> None:
        command = _as_server_user([str(self._bin / "pg_ctl"), "-D", str(self.data), *args])
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PgUnavailable(f"pg_ctl {args[0]} failed: {result.stderr.strip() or result.stdout.strip()} {log}")

    def start(self) -> None:
        options = f"-k {self.socket} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self.pg_ctl("-l", str(self.log), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server, and delete its folder in the background: the session's cluster holds a database a
        test (hundreds of megabytes in small files), whose deletion on a busy disk outlasted pytest-timeout's
        limit in the last test's teardown."""
        with contextlib.suppress(PgUnavailable):
            self.stop("immediate")
        # `sh` returns at once; the `rm` it leaves running finishes on its own.
        subprocess.run(
            ["sh", "-c", 'rm -rf -- "$1" >/dev/null 2>&1 &', "sh", str(self.folder)],
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=60,
        )


#: The data folder of one initdb per test process (by bin folder): every cluster starts from a copy of it
#: (`cp -a`, a fraction of a second, against initdb's one to two seconds of CPU).
_PRISTINE: dict[Path, Path] = {}


def _server_folder(prefix: str) -> Path:
    """A fresh folder under the system's temporary folder that the server's user owns."""
    # pytest's tmp folders are 0700 and root's: the server (as postgres) could not reach them.
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


def _pristine_data(bindir: Path) -> Path:
    """A data folder fresh from initdb, never started; made once, removed when the test process exits."""
    if bindir in _PRISTINE:
        return _PRISTINE[bindir]
    folder = _server_folder("apikeys-pg-initdb-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    data = folder / "data"
    initdb = _as_server_user(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]
    )
    result = subprocess.run(initdb, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise PgUnavailable(f"initdb failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    _PRISTINE[bindir] = data
    return data


def start_cluster() -> PgCluster:
    """A new cluster (a copy of one initdb's data folder) started in a fresh folder under the system's temporary
    folder."""
    bindir = _bindir()
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            raise PgUnavailable("running as root and there is no postgres user to run the server as") from None
    pristine = _pristine_data(bindir)
    folder = _server_folder("apikeys-pg-")
    (folder / "sock").mkdir(mode=0o755)
    if os.geteuid() == 0:
        shutil.chown(folder / "sock", "postgres", "postgres")
    cluster = PgCluster(folder)
    copied = subprocess.run(
        _as_server_user(["cp", "-a", str(pristine), str(cluster.data)]), capture_output=True, text=True, timeout=300
    )
    if copied.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise PgUnavailable(f"copying the initdb data folder failed: {copied.stderr.strip()[-200:]}")
    try:
        cluster.start()
    except PgUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return cluster


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[PgCluster]:
    """A cluster of the caller's own for the block, removed after; skips (fails under CI=true) without one."""
    try:
        cluster = start_cluster()
    except PgUnavailable as err:
        unavailable(str(err))
        raise  # not reached: unavailable() skips or fails
    try:
        yield cluster
    finally:
        cluster.remove()


def unavailable(reason: str) -> NoReturn:
    """Skip with one line; under CI=true, fail instead: CI must run the PostgreSQL suites."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")
