"""PostgreSQL (team mode) in the core and the command line: URLs and libpq parameters, passwords never shown,
concurrent first opens, naive UTC whatever the server's TimeZone, COPY, and a server that is missing or gone.

The suites shared with SQLite (store, CLI, paging, concurrency, crash, bad input) run on both backends through
the `database` fixture; what is here is PostgreSQL's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core import keys
from desktop.core.db.migrate import HEAD_REVISION
from desktop.core.errors import PermissionDenied, ServerUnreachable
from desktop.core.store import KeyStore
from desktop.core.validation import expiry_instant
from desktop.core.values import NewKey, Verdict
from tests.helpers import ONE_LINE_ERROR, REPO, STRESS, CliResult, Secret, run_cli
from tests.pg import PgCluster, throwaway_cluster

#: A password that must never be printed, logged or raised: every test that gives it greps for it.
CANARY = "Canary-pw-7f3a91"
T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _dbname(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def _no_canary(*texts: str, home: Path | None = None) -> None:
    """The canary is in no output, and in no file under the isolated home (logs, settings)."""
    for text in texts:
        assert CANARY not in text, "the password was printed"
    if home is not None:
        for path in home.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), f"the password is in {path}"


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PgCluster]:
    """A private cluster this module may stop; role `alice` logs in over the socket with a password only.

    Its pg_hba.conf trusts `postgres` (the fixtures' superuser) and asks every other role for a SCRAM password,
    written before the server starts so no reload races the first login.
    """
    with throwaway_cluster() as cluster:
        cluster.stop()
        (cluster.data / "pg_hba.conf").write_text("local all postgres trust\nlocal all all scram-sha-256\n")
        cluster.start()
        cluster.execute(f"CREATE ROLE alice LOGIN PASSWORD '{CANARY}'")
        yield cluster


@pytest.fixture
def running(own_cluster: PgCluster) -> PgCluster:
    """The private cluster, started again if a test before stopped it."""
    if not (own_cluster.data / "postmaster.pid").exists():
        own_cluster.start()
    return own_cluster


def _alice_database(cluster: PgCluster) -> str:
    name = _dbname(cluster.new_database())
    cluster.execute(f'ALTER DATABASE "{name}" OWNER TO alice')
    return name


# -- item 1: URLs -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_both_url_spellings_open_through_psycopg_3(pg_cluster: PgCluster, scheme: str) -> None:
    url = pg_cluster.url(_dbname(pg_cluster.new_migrated_database()), scheme=scheme)
    with KeyStore.open(url) as store:
        assert store.database.engine.dialect.driver == "psycopg"
        created = store.create("through psycopg 3")
        assert store.verify(created.key) is Verdict.VALID


def test_libpq_parameters_reach_the_server_unchanged(pg_cluster: PgCluster) -> None:
    base = pg_cluster.new_migrated_database()
    url = f"{base}&sslmode=disable&application_name=apikeys-test&options=-c%20statement_timeout%3D4321"
    with KeyStore.open(url) as store, store.database.read() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "4321ms"
        assert conn.exec_driver_sql("SHOW application_name").scalar() == "apikeys-test"
        # A Unix socket: no SSL to disable, and no TCP address.
        assert conn.exec_driver_sql("SELECT inet_client_addr()").scalar() is None


def test_a_service_file_names_the_whole_connection(pg_cluster: PgCluster, tmp_path: Path) -> None:
    name = _dbname(pg_cluster.new_migrated_database())
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[team]\nhost={pg_cluster.socket}\ndbname={name}\nuser=postgres\n")
    env = {"PGSERVICEFILE": str(services)}
    created = run_cli("create", "--description", "via a service", "--database", "postgresql:///?service=team", env=env)
    assert created.returncode == 0, created.stderr
    listed = run_cli("list", "--json", "--database", "postgresql://?service=team", env=env)
    assert [entry["description"] for entry in json.loads(listed.stdout)] == ["via a service"]
    assert pg_cluster.execute("SELECT count(*) FROM api_keys", name) == [(1,)]


def test_a_password_from_pgpass_never_appears_in_the_url_or_any_output(
    running: PgCluster, tmp_path: Path, isolated_home: Path
) -> None:
    name = _alice_database(running)
    url = f"postgresql://alice@/{name}?host={running.socket}"
    refused = run_cli("list", "--database", url, env={"PGPASSFILE": str(tmp_path / "none")})
    assert refused.returncode == 3 and ONE_LINE_ERROR.match(refused.stderr), refused.stderr
    assert "refused the login" in refused.stderr and "no password supplied" in refused.stderr
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:*:alice:{CANARY}\n")
    pgpass.chmod(0o600)
    env = {"PGPASSFILE": str(pgpass)}
    key = Secret(run_cli("create", "--description", "scram", "--database", url, env=env).stdout.strip())
    assert keys.is_well_formed(key)
    verified = run_cli("verify", "-", "--database", url, stdin=key, env=env)
    assert (verified.stdout, verified.returncode) == ("valid\n", 0), verified.stderr
    _no_canary(refused.stdout, refused.stderr, verified.stderr, home=isolated_home)


def test_a_wrong_password_is_one_line_without_it(running: PgCluster, isolated_home: Path) -> None:
    name = _alice_database(running)
    for url in (
        f"postgresql://alice:{CANARY}x@/{name}?host={running.socket}",
        f"postgresql://alice@/{name}?host={running.socket}&password={CANARY}x",
    ):
        result = run_cli("list", "--database", url)
        assert result.returncode == 3 and ONE_LINE_ERROR.match(result.stderr), result.stderr
        assert "password authentication failed" in result.stderr and "***" in result.stderr
        _no_canary(result.stdout, result.stderr)
    _no_canary(home=isolated_home)


def test_the_location_reads_as_written_with_the_password_hidden(pg_cluster: PgCluster) -> None:
    name = _dbname(pg_cluster.new_migrated_database())
    url = f"postgresql://postgres:{CANARY}@/{name}?host={pg_cluster.socket}&sslmode=disable&password={CANARY}"
    with KeyStore.open(url) as store:
        assert (
            store.location == f"postgresql://postgres:***@/{name}?host={pg_cluster.socket}&sslmode=disable&password=***"
        )


# -- item 2: the schema -------------------------------------------------------------

#: `apikeys create` through the real entry point, started only when the test says go: every process has
#: imported what it needs and connects within the same moment (what made 6 of 10 runs fail unlocked).
AT_ONCE = textwrap.dedent(
    """
    import sys
    import alembic.command, psycopg, sqlalchemy  # noqa: F401  # loaded before the start line
    from desktop.app import main
    print("ready", flush=True)
    sys.stdin.readline()
    sys.exit(main(["create", "--description", "first open", "--database", sys.argv[1]]))
    """
)


@pytest.mark.timeout(300)
def test_concurrent_first_opens_of_an_empty_database_all_succeed(pg_cluster: PgCluster) -> None:
    for _ in range(4 if STRESS else 1):  # six processes a round: `make stress` runs more rounds
        url = pg_cluster.new_database()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", AT_ONCE, url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
            )
            for _ in range(6)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = [proc.communicate(timeout=120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 6, [err for _, err in outcomes]
        name = _dbname(url)
        assert pg_cluster.execute("SELECT version_num FROM alembic_version", name) == [(HEAD_REVISION,)]
        assert pg_cluster.execute("SELECT count(*) FROM api_keys", name) == [(6,)]
        # Each trigger once (the migrations ran once): the change announcement and the truncate one, and the
        # audit log's (migration 0009).
        triggers = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'api_keys'::regclass AND NOT tgisinternal"
        audit = ("apikeys_audit_insert", "apikeys_audit_delete", "apikeys_audit_truncate", "apikeys_audit_update")
        expected = {"apikeys_changed", "apikeys_truncated", *audit}
        found = [row[0] for row in pg_cluster.execute(triggers, name)]
        assert sorted(found) == sorted(expected)


def test_times_are_naive_utc_whatever_the_servers_time_zone(pg_cluster: PgCluster) -> None:
    url = pg_cluster.new_database()
    name = _dbname(url)
    # UTC+14: a time stored or read in the session's zone would be off by half a day.
    pg_cluster.execute(f"ALTER DATABASE \"{name}\" SET timezone = 'Pacific/Kiritimati'")
    day = date.today() + timedelta(days=10)
    before = datetime.now(UTC)
    key = Secret(run_cli("create", "--description", "zoned", "--expires", day.isoformat(), "--database", url).stdout)
    assert run_cli("verify", "-", "--database", url, stdin=key).stdout == "valid\n"
    after = datetime.now(UTC)
    [entry] = json.loads(run_cli("list", "--json", "--database", url).stdout)
    created_at = datetime.fromisoformat(entry["created_at"])
    last_used_at = datetime.fromisoformat(entry["last_used_at"])
    assert before <= created_at <= last_used_at <= after
    assert datetime.fromisoformat(entry["expires_at"]) == expiry_instant(day)
    assert entry["created_at"].endswith("+00:00")
    # What the table holds is the UTC wall time, not the session's.
    [(stored,)] = pg_cluster.execute("SELECT created_at FROM api_keys", name)
    assert isinstance(stored, datetime) and stored.tzinfo is None
    assert stored.replace(tzinfo=UTC) == created_at
    # Bulk insertion (COPY) too, to the microsecond.
    with KeyStore.open(url) as store:
        store.insert_many([NewKey("copied", T0, T0 + timedelta(days=1), active=False)])
        copied = next(r for r in store.all() if r.description == "copied")
    assert (copied.created_at, copied.expires_at, copied.active) == (T0, T0 + timedelta(days=1), False)


def test_no_column_has_a_server_side_time_default(pg_cluster: PgCluster) -> None:
    with KeyStore.open(pg_cluster.new_migrated_database()) as store, store.database.read() as conn:
        defaults: dict[str, object] = dict(
            conn.exec_driver_sql(
                "SELECT column_name, column_default FROM information_schema.columns "
                "WHERE table_name = 'api_keys' AND column_default IS NOT NULL"
            ).all()
        )
    assert set(defaults) == {"id", "active", "scopes", "limited"}, defaults


# -- item 3: seeding through COPY ---------------------------------------------------


def test_bulk_insertion_is_one_copy_per_batch(pg_cluster: PgCluster) -> None:
    """Before: one INSERT statement per row (3,000 round trips); COPY is one statement."""
    url = pg_cluster.new_migrated_database()
    name = _dbname(url)
    with KeyStore.open(url) as store:
        pg_cluster.execute(
            """
            CREATE TABLE statements (n int);
            INSERT INTO statements VALUES (0);
            CREATE FUNCTION count_statement() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN UPDATE statements SET n = n + 1; RETURN NULL; END $$;
            CREATE TRIGGER counted AFTER INSERT ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION count_statement();
            """,
            name,
        )
        rows = [NewKey(f"seeded {i}", T0 + timedelta(seconds=i // 2)) for i in range(3000)]
        assert store.insert_many(rows) == 3000
        assert store.count() == 3000
        ids = [r.id for r in store.all()]
    assert pg_cluster.execute("SELECT n FROM statements", name) == [(1,)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3000


# -- item 4: the command line when the server is missing, gone or refuses ------------


def _assert_server_error(result: CliResult, *fragments: str) -> None:
    stderr = result.stderr
    assert result.returncode == 3 and ONE_LINE_ERROR.match(stderr), stderr
    for fragment in fragments:
        assert fragment in stderr, stderr
    for sqlite_advice in ("Check the path", "chmod", "database file", "Is the server running"):
        assert sqlite_advice not in stderr, stderr


def test_an_unreachable_server_is_exit_3_naming_it_and_the_cause(running: PgCluster, isolated_home: Path) -> None:
    name = _alice_database(running)
    running.stop()
    url = f"postgresql://alice:{CANARY}@/{name}?host={running.socket}"
    for args in (
        ["list"],
        ["create", "--description", "x"],
        ["verify", "-"],
        ["delete", "1"],
        ["seed", "--count", "5"],
    ):
        result = run_cli(*args, "--database", url, stdin=keys.generate())
        _assert_server_error(result, "Cannot reach the database server", f"host={running.socket}", "No such file")
        assert f"alice:***@/{name}" in result.stderr
        _no_canary(result.stdout, result.stderr)
    tcp = run_cli("list", "--database", f"postgresql://alice:{CANARY}@127.0.0.1:9/{name}?connect_timeout=5")
    _assert_server_error(tcp, "127.0.0.1:9", "Connection refused")
    _no_canary(tcp.stderr, home=isolated_home)


def _backend_waiting_on_a_lock(cluster: PgCluster, name: str) -> bool:
    rows = cluster.execute(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND wait_event_type = 'Lock'", name
    )
    return rows == [(1,)]


def test_a_server_that_goes_away_mid_command_is_exit_3(running: PgCluster, isolated_home: Path) -> None:
    import psycopg

    name = _alice_database(running)
    url = f"postgresql://alice@/{name}?host={running.socket}&password={CANARY}"
    assert run_cli("create", "--description", "before", "--database", url).returncode == 0
    # Hold the table so the command's INSERT waits inside its transaction, then take the server away.
    holder = psycopg.connect(host=str(running.socket), user="postgres", dbname=name)
    try:
        holder.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop", "create", "--description", "during", "--database", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        deadline = time.monotonic() + 60
        while not _backend_waiting_on_a_lock(running, name):  # a guard against a hang, not a measurement
            assert proc.poll() is None and time.monotonic() < deadline, "the command never reached its INSERT"
            time.sleep(0.05)
        running.stop("immediate")
        out, err = proc.communicate(timeout=60)
    finally:
        holder.close()
    _assert_server_error(CliResult(proc.returncode, out, err), "Cannot reach")
    assert out == "" and "server closed the connection" in err
    _no_canary(out, err, home=isolated_home)


def test_a_database_that_does_not_exist_is_the_servers_to_create(pg_cluster: PgCluster, isolated_home: Path) -> None:
    url = pg_cluster.url("no_such_db", role=f"postgres:{CANARY}")  # the trust cluster ignores the password
    for args in (["create", "--description", "x"], ["seed", "--count", "3"], ["list"]):
        result = run_cli(*args, "--database", url)
        _assert_server_error(result, 'no database "no_such_db"', "createdb no_such_db", "--database", "postgres:***@")
        _no_canary(result.stdout, result.stderr)
    _no_canary(home=isolated_home)
    assert pg_cluster.execute("SELECT count(*) FROM pg_database WHERE datname = 'no_such_db'") == [(0,)]


def test_permission_denied_is_one_line_exit_3(pg_cluster: PgCluster, isolated_home: Path) -> None:
    url = pg_cluster.new_migrated_database()
    name = _dbname(url)
    assert run_cli("create", "--description", "owner's", "--database", url).returncode == 0
    role = pg_cluster.create_role(f"nobody_{name}")
    # The trust cluster ignores the password: it is there to be hidden.
    stranger = pg_cluster.url(name, role=f"{role}:{CANARY}")
    for args in (["list"], ["create", "--description", "x"], ["verify", "-"]):
        result = run_cli(*args, "--database", stranger, stdin=keys.generate())
        _assert_server_error(result, "Permission denied", f"{role}:***@")
        _no_canary(result.stdout, result.stderr)
    _no_canary(home=isolated_home)


def test_the_core_raises_typed_errors_for_a_gone_server_and_a_refusal(
    running: PgCluster, pg_cluster: PgCluster
) -> None:
    url = pg_cluster.new_migrated_database()
    with KeyStore.open(url) as store:
        store.create("kept")
    role = pg_cluster.create_role(f"typed_{_dbname(url)}")
    with pytest.raises(PermissionDenied):
        KeyStore.open(pg_cluster.url(_dbname(url), role=role))
    name = _alice_database(running)
    with KeyStore.open(f"postgresql://alice:{CANARY}@/{name}?host={running.socket}") as store:
        running.stop("immediate")
        with pytest.raises(ServerUnreachable) as raised:
            store.all()
    assert CANARY not in str(raised.value) and "***" in str(raised.value)


def test_verify_answers_across_a_server_restart_and_says_when_it_is_down(running: PgCluster) -> None:
    """verify's own connections (one round trip each, outside the pool) are replaced after a restart."""
    name = _alice_database(running)
    with KeyStore.open(f"postgresql://alice:{CANARY}@/{name}?host={running.socket}") as store:
        created = store.create("survives restarts")
        assert store.verify(created.key) is Verdict.VALID
        running.stop("fast")
        running.start()
        assert store.verify(created.key) is Verdict.VALID  # the dropped connection replaced, no error shown
        running.stop("fast")
        with pytest.raises(ServerUnreachable) as raised:
            store.verify(created.key)
        assert CANARY not in str(raised.value)
        running.start()
        assert store.verify(created.key) is Verdict.VALID
        store.set_active(created.record.id, False)
        assert store.verify(created.key) is Verdict.INACTIVE
