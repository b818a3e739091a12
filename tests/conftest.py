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
        "markers", "empty_database: the `database` fixture's PostgreSQL database starts empty (a migration test)"
    )


@pytest.fixture
def database(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """What `--database` is given: a SQLite file path (not created yet) or a new PostgreSQL database's URL.

    On PostgreSQL the database already has the current schema (a copy of a migrated template: what the first
    `create` or window would make of an empty one, without migrating it again in every test); a test marked
    `empty_database` (one about migrations) gets it empty.
    """
    if backend == "sqlite":
        return str(db_path)
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    if request.node.get_closest_marker("empty_database"):
        return cluster.new_database()
    return cluster.new_migrated_database()
