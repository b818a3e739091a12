"""Fixtures shared by every test: an isolated home, real database files in tmp_path."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop.core.store import KeyStore
from tests.pg import PgCluster, throwaway_cluster


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's data, settings or logs."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("APIKEYS_DATABASE", raising=False)
    return home


@pytest.fixture(autouse=True)
def redact_captured_logs() -> None:
    """pytest's own log capture shows records on failure: give its handlers the app's key filter too."""
    from desktop.app import RedactKeys

    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactKeys) for f in handler.filters):
            handler.addFilter(RedactKeys())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "keys.db"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file as the program's first start leaves it (every migration run), closed: one file, 0600."""
    path = tmp_path_factory.mktemp("template") / "keys.db"
    with KeyStore.open(str(path), create=True):
        pass
    return path


@pytest.fixture
def store(db_path: Path, migrated_sqlite: Path) -> Iterator[KeyStore]:
    """The store on db_path, a copy of a migrated file: what create=True makes of a new path, without migrating
    again in every test (SQLite's migrations commit, and wait for the disk, a dozen times)."""
    shutil.copyfile(migrated_sqlite, db_path)
    db_path.chmod(0o600)
    with KeyStore.open(str(db_path)) as opened:
        yield opened


# -- PostgreSQL (team mode): one throwaway cluster per session, started when a test first needs it --


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running PostgreSQL cluster on a Unix socket; skips (fails under CI=true) when none can be started."""
    with throwaway_cluster() as cluster:
        yield cluster


#: The backends every store, CLI, migration, concurrency, crash and bad-input test runs against.
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "empty_database: the `database` fixture starts with no SQLite file or an empty PostgreSQL database"
    )


# -- pytest-xdist (`make test` runs on every core, `--dist loadgroup`) --
#
# Each worker is a process of its own, and everything a session shares is per process already: the PostgreSQL
# cluster (tests/pg.py: a socket and data folder from mkdtemp, databases named by pid, the migrated template per
# cluster), the migrated SQLite file and every tmp_path (pytest's basetemp has a folder per worker), the
# QSettings and XDG folders (per test), the D-Bus daemons (per test), ports (bound to port 0, then used).

# `@pytest.mark.xdist_group("heavy")`: the tests that run several processes at full speed for seconds (concurrent
# verifiers and writers, the bench's tiny runs). They run one after another on one worker, so two of them never
# share the cores. `@pytest.mark.xdist_group("long")`: the long tests of one process at a time (killed writers, a
# fresh virtualenv's pip install, the 60,000-key table), on a second worker beside them: all on one worker, they
# were ~190 s of one worker on a quiet machine, most of a run that two cores' CPU allows in ~270 s. Both are sent
# first (tests/xdist_order.py), not as the run's tail; the other workers meanwhile take the rest, test by test.


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadgroup`, with the longest groups at the head of the queue (tests/xdist_order.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.xdist_order import LongestFirst

    return LongestFirst(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """The tests of a module that use a module-scoped fixture run on one worker (loadgroup sends a group whole):
    spread over two, each worker would set the fixture up (a cluster of its own, docs' set-up scripts) again."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        scopes = {defs[-1].scope for defs in info.name2fixturedefs.values() if defs}
        if "module" in scopes:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    yield  # xdist's own hook among the others: it names each test's group in its id
    _name_groups_in_ids(config, items)


def _name_groups_in_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker with `--dist loadgroup`: "ID@GROUP" for each grouped test, as xdist means to write it.

    The scheduler learns a test's group only from that suffix. xdist 3.8 writes it into `item._nodeid`, which
    pytest 9.2 no longer reads (its ids are structured: pytest-dev/pytest-xdist#1386), so every group was
    silently spread over the workers. Where xdist's suffix is there already (other versions), nothing changes.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(names))
        if names and not item.nodeid.endswith(suffix):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture
def database(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """What `--database` is given: a SQLite file's path or a new PostgreSQL database's URL.

    Either already has the current schema (a copy of a migrated template: what the first `create` or window
    would make of a new one, without migrating it again in every test); a test marked `empty_database` (one
    about migrations or a new file) gets a path with no file yet, or an empty PostgreSQL database.
    """
    empty = request.node.get_closest_marker("empty_database") is not None
    if backend == "sqlite":
        if not empty:
            migrated: Path = request.getfixturevalue("migrated_sqlite")
            shutil.copyfile(migrated, db_path)
            db_path.chmod(0o600)
        return str(db_path)
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    if empty:
        return cluster.new_database()
    return cluster.new_migrated_database()
