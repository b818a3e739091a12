"""PostgreSQL (team mode): the generic backend plus what a shared server needs.

`postgresql://` and `postgresql+psycopg://` both mean psycopg 3; query parameters reach libpq unchanged
(`host=/socket/folder`, `service=`, `sslmode=`), so a URL need carry no password (`.pgpass`, service file).
Connections use TCP keepalives, so a silently dead network is noticed, and a connect timeout. Every connection
pins its search_path (PIN_SEARCH_PATH: without `$user`), so a schema someone planted under the role's name
cannot capture the app's unqualified SQL; to a host beyond this machine it
verifies TLS unless told otherwise (desktop.core.db.pg_tls). It names its user@host in `apikeys.actor`, which
the server's audit triggers (migration 0009) write as each event's actor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import URL, Connection, Engine

from desktop.core.db.base import Found, Looked, NewRow, ScopedFound
from desktop.core.db.generic import SqlAlchemyDatabase, describe
from desktop.core.db.idle import BoundedConnections, Busy, limits_from_environment
from desktop.core.db.limits import taken
from desktop.core.db.pg_errors import translate
from desktop.core.errors import DatabaseLocked, DatabaseUnavailable, DomainError
from desktop.core.identity import actor
from desktop.core.values import ChangeListener, Cursor, Page, Taken

#: pg_advisory_xact_lock key taken while the schema is created or upgraded ("apikeys" in ASCII, as a number).
SCHEMA_LOCK = 0x61706B657973

#: At most this many digests are remembered as limited (then forgotten at once, and learnt again).
LIMITED_HINTS = 4096

#: libpq settings every connection gets unless the URL sets them: notice a dead server or network in ~30 s.
CONNECT_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
}


#: Run on every new connection unless the URL's `options` set a search_path: the session's path (the server's
#: default, or what its administrator set for the role or database) without `$user`, so that a schema named
#: after the role, which the default `"$user", public` searches first, cannot capture the app's SQL; `public`
#: when nothing is left; pg_temp last. Every name qualified: nothing is looked up before the path is pinned.
PIN_SEARCH_PATH = (
    "SELECT pg_catalog.set_config('search_path', pg_catalog.textcat(COALESCE(NULLIF("
    "pg_catalog.array_to_string(pg_catalog.array_remove(pg_catalog.array_remove(pg_catalog.regexp_split_to_array("
    "pg_catalog.current_setting('search_path'), '\\s*,\\s*'), '\"$user\"'), '$user'), ', '), ''), 'public'), "
    "', pg_temp'), false)"
)
#: How long any statement waits for another session's lock (SQLite's busy timeout), and the schema lock.
LOCK_WAIT_S = 5.0
SCHEMA_WAIT_S = 120.0


def psycopg_url(url: URL) -> URL:
    """The same URL with the driver spelled out: `postgresql://` means psycopg 3 here, not psycopg2."""
    return url.set(drivername="postgresql+psycopg")


class PostgresDatabase(SqlAlchemyDatabase):
    """A PostgreSQL database through psycopg 3."""

    def __init__(self, url: URL, target: str | None = None) -> None:
        from desktop.core.db import pg_tls

        super().__init__(psycopg_url(url), target)
        self.location = describe(url)  # the spelling people wrote (`postgresql://`), not the driver's
        try:
            size, wait_s = limits_from_environment()
        except ValueError as err:
            raise DatabaseUnavailable(f"Cannot use the database {self.location}: {err}.") from None
        #: lookup()'s and page()'s own autocommit connections, outside SQLAlchemy's pool: at most `size` open.
        self._readers: BoundedConnections[_Reader] = BoundedConnections(_Reader.close, size, wait_s)
        import psycopg  # here, not on every check: a module already imported is still looked up by `import`

        self._pg_error: type[Exception] = psycopg.Error
        self.tls = pg_tls.choose(self.url, self.location)
        self.warning = self.tls.warning
        #: Whether verify's lookup reads the table itself (this role may) or calls apikeys_lookup(); None: not asked.
        self._direct_lookup: bool | None = None
        #: Digests of keys a lookup read as limited: lookup_taking() takes from them in the lookup's statement.
        self._limited: set[bytes] = set()

    def _engine_arguments(self) -> dict[str, Any]:
        return {
            **super()._engine_arguments(),
            "connect_args": self._connect_args(pool=True),
            "pool_pre_ping": True,  # a connection the server dropped (restart) is replaced, not handed out
        }

    def _connect_args(self, *, pool: bool) -> dict[str, Any]:
        connect_args: dict[str, Any] = {
            name: value for name, value in CONNECT_DEFAULTS.items() if name not in self.url.query
        }
        if self.tls.default is not None:
            connect_args["sslmode"] = self.tls.default
        if self.tls.rootcert is not None:
            connect_args["sslrootcert"] = self.tls.rootcert
        # As on SQLite (its busy timeout), a change waits at most LOCK_WAIT_S for another session's lock, then
        # fails "busy"; PostgreSQL would wait for ever. Added to the URL's own `options`, unless they set it.
        options = self.url.query.get("options")
        options = options if isinstance(options, str) else " ".join(options or ())
        if "lock_timeout" not in options:
            options = f"{options} -c lock_timeout={int(LOCK_WAIT_S * 1000)}".strip()
        if "apikeys.actor" not in options:
            options = f"{options} -c apikeys.actor={_option_value(actor())}".strip()
        # psycopg prepares a statement run 5 times, and after 5 more PostgreSQL may plan it once for any
        # parameters: "is any key newer than $1?" then became a sequential scan of every key (200 ms at a
        # million, for each live refresh of the first page). A plan for the values at hand costs ~0.1 ms.
        # Not on our own connections: their lookup by digest has one good plan, and a page there is unprepared.
        if pool and "plan_cache_mode" not in options:
            options = f"{options} -c plan_cache_mode=force_custom_plan".strip()
        if options:
            connect_args["options"] = options
        return connect_args

    def _create_engines(self) -> tuple[Engine, Engine]:
        # Reads in autocommit on the same pool: no BEGIN and ROLLBACK round trips around each page
        # (psycopg switches autocommit on the client, and a rollback outside a transaction sends nothing).
        from sqlalchemy import event

        _, engine = super()._create_engines()
        event.listen(engine, "connect", self._pin_search_path)
        return engine.execution_options(isolation_level="AUTOCOMMIT"), engine

    def translate(self, err: BaseException) -> DomainError | None:
        return translate(err, self.location) or super().translate(err)

    # -- connections of our own, outside SQLAlchemy's pool --

    def connect_raw(self, *, connect_timeout: str | None = None) -> Any:
        """A new autocommit psycopg connection with the pool's settings (blocking); psycopg's errors unchanged.

        `connect_timeout` replaces the default one (not one the URL sets).
        """
        engine = self.engine
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        defaults = self._connect_args(pool=False)
        if connect_timeout is not None and "connect_timeout" in defaults:
            defaults["connect_timeout"] = connect_timeout
        conn = engine.dialect.loaded_dbapi.connect(*cargs, **{**defaults, **cparams, "autocommit": True})
        self._pin_search_path(conn, None)
        return conn

    def _pin_search_path(self, dbapi_connection: Any, _record: object) -> None:
        """PIN_SEARCH_PATH on a new connection, committed (a pooled one is not in autocommit)."""
        options = self.url.query.get("options")
        if "search_path" in (options if isinstance(options, str) else " ".join(options or ())):
            return
        dbapi_connection.execute(PIN_SEARCH_PATH)
        if not dbapi_connection.autocommit:
            dbapi_connection.commit()

    def _read_key(self, reader: _Reader, scoped: bool, digest: bytes | dict[str, Any]) -> Any:
        """The key's row by digest in one round trip on an idle autocommit connection of our own, on its own cursor
        (a cursor made per call was a tenth of the client's work: make bench, "pg verify"): a service's verify pays
        what a hand-written psycopg lookup pays. Through SQLAlchemy's pool it cost five (ping, BEGIN, the query,
        ROLLBACK) and five times the time.

        From the table itself when this role may read it (the owner, a manager): the function's call cost the
        server as much again as the lookup; else, a verifier, through the SECURITY DEFINER apikeys_lookup(). Asked
        once; a role whose privilege was taken away since falls back for good. `digest` may instead be
        lookup_taking()'s named parameters (the digest among them): the lookup and apikeys_consume in one."""
        cursor = reader.cursor
        direct = self._direct_lookup
        if direct is None:
            direct = self._direct_lookup = bool(cursor.execute(CAN_READ_KEYS_SQL).fetchone()[0])
        taking = isinstance(digest, dict)
        params = digest if taking else (digest,)
        if direct:
            try:
                sql = DIRECT_TAKING_SQL if taking else DIRECT_SCOPED_SQL if scoped else DIRECT_SQL
                return cursor.execute(sql, params).fetchone()
            except self._pg_error as err:  # only "permission denied" is ours to handle here
                if getattr(err, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                    raise
                self._direct_lookup = False  # autocommit: nothing to roll back on this connection
        sql = LOOKUP_TAKING_SQL if taking else LOOKUP_SCOPED_SQL if scoped else LOOKUP_SQL
        return cursor.execute(sql, params).fetchone()

    def _on_reader(self, read: Callable[..., Any], *args: Any) -> Any:
        """`read(reader, *args)` on an idle autocommit connection of our own, queueing for one when all are in use.

        A connection the server dropped means it restarted or went away, and then every idle one died with it:
        they are all closed, and `read` runs once more on a new connection. So the first check after a restart
        succeeds, and "cannot reach" is said only when a new connection cannot be made or used either.
        """
        readers = self._readers
        try:
            reader = readers.acquire()
        except Busy:
            raise DatabaseUnavailable(
                f"All {readers.size} connections to the database {self.location} stayed busy for "
                f"{readers.wait_s:g} s. Try again; if the server can take more, raise APIKEYS_MAX_CONNECTIONS."
            ) from None
        try:
            for fresh in (False, True):
                try:
                    if reader is None:
                        reader = _Reader(self.connect_raw())
                    return read(reader, *args)
                except self._pg_error as err:
                    if reader is not None and (reader.conn.closed or reader.conn.broken):
                        readers.discard(reader)
                        reader = None
                        if not fresh:
                            readers.close_all()  # they died together (a restart): none is handed out again
                            continue
                    raise self.translate(err) or err from None
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            readers.release(reader)

    def revision(self, known: Sequence[str]) -> str | None:
        """The schema's revision; a role without SELECT on alembic_version (a verifier) reads it through the
        SECURITY DEFINER `apikeys_revision()` (migration 0009). Before that, or on an empty database, as generic."""
        with self.read() as conn:
            readable = conn.exec_driver_sql(
                "SELECT coalesce(has_table_privilege(to_regclass('alembic_version'), 'SELECT'), true), "
                "coalesce(has_function_privilege(to_regprocedure('apikeys_revision()'), 'EXECUTE'), false)"
            ).one()
            if readable[0] or not readable[1]:
                return super().revision(known)
            return conn.exec_driver_sql("SELECT apikeys_revision()").scalar()

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        """The generic page in one statement on a reader: one round trip instead of three through the pool
        (`make bench`, "pg page turn"). Not prepared: each runs with a plan for its own position."""
        from desktop.core.db import pg_page

        sql, params = pg_page.statement(size, after, before)
        rows = self._on_reader(lambda reader: reader.cursor.execute(sql, params, prepare=False).fetchall())
        return pg_page.page(rows, size, after=after, before=before)

    def lookup(self, digest: bytes) -> Found | None:
        row = self._on_reader(self._read_key, False, digest)
        return None if row is None else _found(row)

    takes_on_lookup = True

    def lookup_taking(self, digest: bytes, required: tuple[str, ...] | None, cost: int, now: datetime) -> Looked:
        """A key seen limited before (a hint only: the server decides) is looked up with `apikeys_consume` in the
        same statement: one round trip where a limited key's verify took two (`make bench`, "pg verify
        (limited)"). Any other key by the plain lookup, which that statement would slow by half (CPU), so a key
        without limits pays nothing for them; a key found limited there is taken from by the store, as before."""
        hints = self._limited
        if digest not in hints:
            if required is None:
                found, scopes = self.lookup(digest), None
            else:
                scoped = self.lookup_scoped(digest)
                found, scopes = (None, None) if scoped is None else scoped
            if found is not None and found[5]:
                if len(hints) >= LIMITED_HINTS:
                    hints.clear()
                hints.add(digest)
            return found, scopes, None
        params = {"digest": digest, "cost": cost, "now": naive_utc(now), "wanted": list(required) if required else None}
        row = self._on_reader(self._read_key, True, params)
        if row is None or not row[5]:
            hints.discard(digest)  # gone, or its limits removed
        if row is None:
            return None, None, None
        return _found(row[:6]), None if required is None else row[6], None if row[7] is None else taken(row[7:])

    def lookup_scoped(self, digest: bytes) -> ScopedFound | None:
        """lookup() with the key's scopes, in the same one round trip."""
        row = self._on_reader(self._read_key, True, digest)
        return None if row is None else (_found(row[:6]), row[6])

    def dispose(self) -> None:
        self._readers.close_all()
        super().dispose()

    def lock_schema(self, conn: Connection) -> None:
        # Another process may be migrating under the lock, slowly on a busy server: wait longer than for a change.
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(SCHEMA_WAIT_S * 1000)}ms'")
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")

    def touch(self, key_id: int, now: datetime, stale: datetime, digest: bytes) -> None:
        """Record a use through `apikeys_touch` (a verifier may not UPDATE the keys): in one round trip on a reader,
        never waiting for a writer that holds the row (it is skipped), never later than the server's clock."""
        row = self._on_reader(
            lambda reader: reader.cursor.execute(TOUCH_SQL, (digest, naive_utc(now), naive_utc(stale))).fetchone()
        )
        if row is not None and row[0] is False:
            # Not recorded: verify touches only a key whose last use it read as stale, so another writer most
            # likely holds its row (SKIP LOCKED) or the table. Said as on SQLite, so the store rests before
            # trying again instead of a round trip per verify while the lock lasts.
            raise DatabaseLocked(f"The database {self.location} is busy: another writer holds the key.")

    def take(self, key_id: int, digest: bytes, cost: int, now: datetime) -> Taken:
        """The limits, applied by the server in `apikeys_consume` (a verifier may not touch the tables), under the
        key's row lock and by the server's clock, in one round trip on a reader."""
        row = self._on_reader(lambda reader: reader.cursor.execute(CONSUME_SQL, (digest, cost)).fetchone())
        return taken(row)

    def add_usage(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        """Through `apikeys_count_usage` (a verifier may not write the table), in one round trip: appended rows,
        so no process waits for another to count."""
        columns = [list(c) for c in zip(*rows, strict=True)]
        columns[1] = [naive_utc(h) for h in columns[1]]
        self._on_reader(lambda reader: reader.cursor.execute(COUNT_USAGE_SQL, columns).fetchall())

    def add_history(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        """By binary COPY and one apikeys_count_usage call (desktop/core/db/bulk_load.py); as add_usage() where the
        server allows no temporary tables."""
        from desktop.core.db.bulk_load import load_usage_postgresql

        if rows and not self._on_reader(lambda reader: load_usage_postgresql(reader.conn, rows, naive_utc)):
            self.add_usage(rows)

    def roll_up_usage(self, low: datetime, high: datetime) -> None:
        """Through `apikeys_roll_up_usage`: one statement, so counts appended meanwhile are left alone."""
        bounds = (naive_utc(low), naive_utc(high))
        self._on_reader(lambda reader: reader.cursor.execute("SELECT apikeys_roll_up_usage(%s, %s)", bounds).fetchall())

    def roll_up_tail(self) -> int:
        """Through `apikeys_roll_up_tail` (a verifier may not write the tables): one statement, one round trip."""
        rows = self._on_reader(lambda reader: reader.cursor.execute("SELECT apikeys_roll_up_tail()").fetchall())
        return int(rows[0][0])

    def insert_keys(self, conn: Connection, rows: Sequence[NewRow]) -> None:
        """COPY, on the caller's transaction: an INSERT per row costs a round trip each (seeding a million)."""
        dbapi: Any = conn.connection.dbapi_connection
        with (
            dbapi.cursor() as cursor,
            cursor.copy(
                "COPY api_keys (digest, hint, description, created_at, expires_at, active) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["bytea", "varchar", "varchar", "timestamp", "timestamp", "bool"])
            for row in rows:
                copy.write_row(
                    (
                        row.digest,
                        row.hint,
                        row.description,
                        naive_utc(row.created_at),
                        naive_utc(row.expires_at),
                        row.active,
                    )
                )

    def listen(self) -> ChangeListener | None:
        from desktop.core.db.pg_listen import LISTEN_CONNECT_TIMEOUT, PgChangeListener

        connect = partial(self.connect_raw, connect_timeout=LISTEN_CONNECT_TIMEOUT)
        return PgChangeListener.connect(connect, self.location)


#: verify's lookup by digest, through the SECURITY DEFINER function (a verifier has no privilege on the table).
LOOKUP_SQL = "SELECT id, digest, active, expires_at, last_used_at, limited FROM apikeys_lookup(%s)"
#: check's lookup: the same with the scopes.
LOOKUP_SCOPED_SQL = "SELECT id, digest, active, expires_at, last_used_at, limited, scopes FROM apikeys_lookup(%s)"
#: The same lookups straight from the table, for a role that may read it (same columns, same search path).
DIRECT_SQL = "SELECT id, digest, active, expires_at, last_used_at, limited FROM api_keys WHERE digest = %s"
DIRECT_SCOPED_SQL = (
    "SELECT id, digest, active, expires_at, last_used_at, limited, scopes FROM api_keys WHERE digest = %s"
)
#: verify's lookup (with the scopes) and, for a limited key it reads as otherwise valid (active, not expired at the
#: store's clock, holding the scopes asked for), its limits applied by `apikeys_consume` in the same statement, as
#: take() would: one round trip. Planned apart (OFFSET 0), the subquery's condition on the key is a one-time filter
#: (EXPLAIN: "Function Scan on apikeys_consume (never executed)"), so a key without limits pays no call. The
#: condition never says yes where the store's own checks say no (scopes: split on single spaces, and a scope asked
#: for holds none); where it says no and the store yes, the store takes as before, in a second round trip.
_TAKING_SQL = (
    "SELECT k.id, k.digest, k.active, k.expires_at, k.last_used_at, k.limited, k.scopes, "
    "t.verdict, t.remaining, t.rate_limit, t.rate_remaining, t.reset FROM {source} LEFT JOIN LATERAL ("
    "SELECT * FROM apikeys_consume(k.digest, %(cost)s) WHERE k.limited AND k.active "
    "AND (k.expires_at IS NULL OR k.expires_at > %(now)s) "
    "AND (%(wanted)s::text[] IS NULL OR %(wanted)s::text[] <@ string_to_array(k.scopes, ' ')) OFFSET 0) t ON true"
)
DIRECT_TAKING_SQL = _TAKING_SQL.format(source="api_keys k") + " WHERE k.digest = %(digest)s"
LOOKUP_TAKING_SQL = _TAKING_SQL.format(source="apikeys_lookup(%(digest)s) k")
#: Whether this session may read api_keys itself, every row of it (no row-level security a function would skip).
CAN_READ_KEYS_SQL = (
    "SELECT coalesce(bool_and(pg_catalog.has_table_privilege(c.oid, 'SELECT') AND NOT c.relrowsecurity), false) "
    "FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass('api_keys')"
)
INSUFFICIENT_PRIVILEGE = "42501"
#: Recording a use: SECURITY DEFINER too; it needs the key's digest, so only a key's holder can say it was used.
TOUCH_SQL = "SELECT apikeys_touch(%s, %s, %s)"
#: Usage counts, appended (migration 0010).
COUNT_USAGE_SQL = "SELECT apikeys_count_usage(%s::integer[], %s::timestamp[], %s::text[], %s::bigint[])"
#: A limited key's verify: its limits applied (migration 0010).
CONSUME_SQL = "SELECT verdict, remaining, rate_limit, rate_remaining, reset FROM apikeys_consume(%s, %s)"


class _Reader:
    """One of our own autocommit connections, with a cursor kept for it: psycopg builds a cursor in Python (its
    adapters copied, its state reset), which for a lookup by digest was a tenth of the client's work a check."""

    __slots__ = ("conn", "cursor")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cursor = conn.cursor()

    def close(self) -> None:
        self.conn.close()


def _option_value(value: str) -> str:
    """`value` as one word of libpq's `options` (spaces and backslashes escaped with a backslash)."""
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


def _found(row: Any) -> Found:
    key_id, digest, active, expires_at, last_used_at, limited = row
    return (
        key_id,
        bytes(digest),
        bool(active),
        None if expires_at is None else expires_at.replace(tzinfo=UTC),
        None if last_used_at is None else last_used_at.replace(tzinfo=UTC),
        bool(limited),
    )


def naive_utc(moment: datetime | None) -> datetime | None:
    """What the model's UTCDateTime stores (COPY bypasses it): naive UTC, whatever the session's TimeZone."""
    if moment is None:
        return None
    if moment.tzinfo is UTC:  # the clock's own times: no conversion to pay per row of a million
        return moment.replace(tzinfo=None)
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where UTC is required")
    return moment.astimezone(UTC).replace(tzinfo=None)
