"""SQLAlchemy on SQLite: the engine a file's writes and counts use, and in-memory databases."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine

from desktop.core.db import sqlite_conn
from desktop.core.db.generic import SqlAlchemyDatabase
from desktop.core.errors import DomainError


def _install_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        sqlite_conn.configure(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so a reader turned writer never gets an instant "database is
        # locked" that busy_timeout cannot retry.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _engines(url: URL) -> tuple[Engine, Engine]:
    connect_args = {"timeout": sqlite_conn.BUSY_TIMEOUT_S, "check_same_thread": False}
    engine = create_engine(url, hide_parameters=True, connect_args=connect_args)
    _install_listeners(engine)
    return engine, engine.execution_options(sqlite_begin="IMMEDIATE")


def file_engines(path: Path, url: URL | None) -> tuple[Engine, Engine]:
    """The engines of a SQLite file, connecting the way sqlite.SqliteDatabase.connect does (never creating it)."""
    if url is None or url.query.get("uri") != "true":
        url = URL.create("sqlite+pysqlite", database=f"file:{quote(str(path))}", query={"mode": "rw", "uri": "true"})
    return _engines(url)


class SqliteMemoryDatabase(SqlAlchemyDatabase):
    """`sqlite://`: every connection to it is a new, empty database, so everything runs on SQLAlchemy's pool."""

    def __init__(self, url: URL, target: str) -> None:
        super().__init__(url, target)
        self._watch: Any = None
        self._watch_lock = threading.Lock()

    def _create_engines(self) -> tuple[Engine, Engine]:
        return _engines(self.url)

    def translate(self, err: BaseException) -> DomainError | None:
        return sqlite_conn.translate_any(err, self.location)

    def data_version(self) -> int | None:
        with self._watch_lock, self.translated():
            if self._watch is None:  # one connection of the pool, kept: data_version is per connection
                self._watch = self.engine.raw_connection()
            cursor = self._watch.cursor()
            try:
                cursor.execute("PRAGMA data_version")
                return int(cursor.fetchone()[0])
            finally:
                cursor.close()

    def dispose(self) -> None:
        with self._watch_lock:
            watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()
        super().dispose()
