"""Crash safety: SIGKILL a writer at random moments; every key it showed must survive intact.

SQLite tests itself by killing writers mid-transaction; this does the same on our
code. `make test` runs the counts below; `make stress` raises them with
APIKEYS_STRESS=1.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop.core.db import migrate as dbmod
from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from tests.backends import is_server
from tests.helpers import REPO, STRESS

KILLS = 200 if STRESS else 12

# Writers started and killed for seconds, one at a time: with the other long tests, first (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("long")

WRITER = textwrap.dedent(
    """
    import sys
    from desktop.core.store import KeyStore
    store = KeyStore.open(sys.argv[1], create=True)
    i = 0
    while True:
        key = store.create(f"crash test {i}").key  # returns only after COMMIT
        sys.stdout.write(key + "\\n")
        sys.stdout.flush()
        i += 1
    """
)


def _integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


class Lines:
    """Lines a child prints on a binary pipe, read without ever blocking past a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buffer = b""
        self.closed = False

    def read_until(self, deadline: float, *, want: int | None = None) -> list[str]:
        lines: list[str] = []
        while not self.closed and (want is None or len(lines) < want):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                break
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.closed = True
                break
            self.buffer += chunk
            *complete, self.buffer = self.buffer.split(b"\n")
            lines.extend(line.decode() for line in complete)
        return lines


def _spawn(*args: str, stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO
    )


def test_sigkilled_writer_never_loses_a_shown_key(database: str) -> None:
    """On a server too: a key printed after its COMMIT returned survives its writer's SIGKILL."""
    rng = random.Random(1234)
    shown: list[str] = []
    # A server session dies with its client whatever the moment: fewer kills tell as much there.
    kills = KILLS if not is_server(database) else KILLS // 2
    for _ in range(kills):
        proc = _spawn(WRITER, database)
        lines = Lines(proc)
        # Wait for the first committed key, then kill at a random moment in the write loop.
        first = lines.read_until(time.monotonic() + 60, want=1)
        assert first, "writer printed nothing"
        shown.extend(first)
        shown.extend(lines.read_until(time.monotonic() + rng.uniform(0.0, 0.05)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Whatever reached the pipe before the kill was printed after its COMMIT returned.
        shown.extend(lines.read_until(time.monotonic() + 5))
        assert proc.stdout is not None
        proc.stdout.close()
        if not is_server(database):
            assert _integrity(Path(database)) == "ok"
    with KeyStore.open(database, create=True) as store:
        bad = [i for i, key in enumerate(shown) if store.verify(key) is not Verdict.VALID]
        assert not bad, f"{len(bad)} of {len(shown)} shown keys do not verify"
        assert store.count() >= len(shown)
    assert len(shown) >= kills


MIGRATOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from desktop.core.db import migrate, open_database
    migrate.MIGRATIONS_DIR = Path(sys.argv[2])
    migrate.KNOWN_REVISIONS = (*migrate.KNOWN_REVISIONS, "test_slow")
    migrate.HEAD_REVISION = "test_slow"
    print("start", flush=True)
    open_database(sys.argv[1], create=True).dispose()
    print("done", flush=True)
    """
)

SLOW_MIGRATION = textwrap.dedent(
    """
    revision = "test_slow"
    down_revision = "{head}"
    branch_labels = None
    depends_on = None

    def upgrade():
        import sqlalchemy as sa
        from alembic import op
        op.add_column("api_keys", sa.Column("note", sa.String(64), nullable=True))
        import select, sys
        print("in-transaction", flush=True)
        # Work until the test's SIGKILL, so the kill lands in the middle of it however fast the machine; stdin
        # ends it only if the test is gone (its end of the pipe closed).
        while not select.select([sys.stdin], [], [], 0)[0]:
            op.execute("UPDATE api_keys SET note = hex(randomblob(16))")
        op.create_index("ix_api_keys_note", "api_keys", ["note"])

    def downgrade():
        pass
    """
)


def _schema_state(path: Path) -> tuple[str, bool, bool]:
    con = sqlite3.connect(path)
    try:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        columns = {row[1] for row in con.execute("PRAGMA table_info(api_keys)")}
        index = bool(con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ix_api_keys_note'").fetchall())
        return revision, "note" in columns, index
    finally:
        con.close()


@pytest.mark.parametrize("attempt", range(8 if STRESS else 2))
def test_killed_migration_leaves_the_old_schema_never_half(tmp_path: Path, attempt: int) -> None:
    import shutil

    migrations = tmp_path / "migrations"
    shutil.copytree(dbmod.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "test_slow.py").write_text(SLOW_MIGRATION.replace("{head}", dbmod.HEAD_REVISION))
    path = tmp_path / "migrate.db"
    with KeyStore.open(str(path), create=True) as store:
        store.insert_many([])
        for i in range(300):
            store.create(f"before migration {i}")
    keys_before = _integrity(path)
    assert keys_before == "ok"

    # Its stdin is never written: it closes when the test ends, however it ends, and only that ends the work.
    proc = _spawn(MIGRATOR, str(path), str(migrations), stdin=subprocess.PIPE)
    lines = Lines(proc)
    assert lines.read_until(time.monotonic() + 60, want=2) == ["start", "in-transaction"]
    # Kill at a random moment inside the upgrade's transaction.
    assert lines.read_until(time.monotonic() + random.Random(attempt).uniform(0.0, 0.3)) == []
    proc.send_signal(signal.SIGKILL)
    proc.communicate()

    assert _integrity(path) == "ok"
    state = _schema_state(path)
    assert state == (dbmod.HEAD_REVISION, False, False), state
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 300
    con.close()


CREATOR = "import sys; from desktop.core.db import open_database; open_database(sys.argv[1], create=True).dispose()"


def test_killed_creation_leaves_no_file_or_a_complete_one(tmp_path: Path) -> None:
    rng = random.Random(99)
    for attempt in range(20 if STRESS else 4):
        path = tmp_path / f"new{attempt}.db"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from desktop.core.db import open_database; open_database(sys.argv[1], create=True)",
                str(path),
            ],
            cwd=REPO,
        )
        time.sleep(rng.uniform(0.2, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if path.exists():
            assert _integrity(path) == "ok"
            with KeyStore.open(str(path), create=True) as store:
                assert store.count() == 0
        # Either way the next open works.
        with KeyStore.open(str(path), create=True) as store:
            store.create("after the crash")
