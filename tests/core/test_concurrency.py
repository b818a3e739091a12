"""Concurrency: verifiers, a writer and the window on one database at once (a SQLite file, a PostgreSQL server).

Four processes verify keys in a loop while one creates, toggles and deletes;
every answer must be right for the key's state at that time and no
"database is locked" may reach anyone. `make test` runs a few seconds;
`make stress` (APIKEYS_STRESS=1) runs 20.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.helpers import REPO, STRESS

#: How long the bench's stall row keeps the others running (its tiny run in tests/benchmarks: --stall-seconds).
DURATION_S = 20.0 if STRESS else 4.0
#: How long this module's verifiers and writer run (and tests/ui/test_busy_database's): `make test` keeps a short
#: run (every process still checks at least MIN_CHECKS keys or makes MIN_OPS changes, however long that takes),
#: `make stress` the long one.
CONCURRENT_S = 20.0 if STRESS else 2.0

# Several processes at full speed for seconds: one after another with the other heavy tests (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("heavy")

# Each verifier knows what every key must answer: stable keys exactly, churned keys within a set.
#: Each process runs the seconds it is given, and longer on a busy machine until it did this much (at most CAP_S).
MIN_CHECKS, MIN_OPS, CAP_S = 100, 30, 120.0
_MINIMA = f"MIN_CHECKS, MIN_OPS, CAP_S = {MIN_CHECKS}, {MIN_OPS}, {CAP_S}\n"

VERIFIER = _MINIMA + textwrap.dedent(
    """
    import json, sys, time
    from desktop.core.errors import DomainError
    from desktop.core.store import KeyStore
    path, plan_file, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    plan = json.load(open(plan_file))
    expected = [(k, set(answers)) for k, answers in plan]
    wrong = errors = checks = 0
    with KeyStore.open(path, create=True) as store:
        # From the open on (a server's driver takes a while to load), and on until enough checks were made
        # however busy the machine is (a cap keeps a hang finite).
        start = time.monotonic()
        while time.monotonic() - start < seconds or (checks <= MIN_CHECKS and time.monotonic() - start < CAP_S):
            for key, answers in expected:
                try:
                    verdict = store.verify(key)
                except DomainError as err:
                    errors += 1
                    print("error:", type(err).__name__, file=sys.stderr)
                    continue
                checks += 1
                if str(verdict) not in answers:
                    wrong += 1
                    print("wrong:", verdict, sorted(answers), file=sys.stderr)
    print(json.dumps({"checks": checks, "wrong": wrong, "errors": errors}))
    """
)

WRITER = _MINIMA + textwrap.dedent(
    """
    import json, sys, time
    from desktop.core.errors import DomainError
    from desktop.core.store import KeyStore
    path, toggled, seconds = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
    ops = errors = 0
    with KeyStore.open(path, create=True) as store:
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds or (ops <= MIN_OPS and time.monotonic() - start < CAP_S):
            try:
                created = store.create(f"churn {i}")
                store.set_active(toggled[i % len(toggled)], i % 2 == 0)
                store.delete(created.record.id)
                ops += 3
            except DomainError as err:
                errors += 1
                print("error:", type(err).__name__, err.message, file=sys.stderr)
            i += 1
    print(json.dumps({"ops": ops, "errors": errors}))
    """
)


def _spawn(script: str, *args: str, nice: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # no threads yet in the child
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, int]:
    out, err = proc.communicate(timeout=DURATION_S + CAP_S + 60)
    assert proc.returncode == 0, err[-2000:]
    assert "locked" not in err.lower() and "Traceback" not in err, err[-2000:]
    result: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return result


def prepare(database: str | Path, tmp_path: Path) -> tuple[Path, list[int]]:
    """Stable keys (active, inactive, expired) and keys the writer toggles; the plan each verifier checks.

    `database`: a path or URL (the window's busy-database test and the stall benchmark pass a Path).
    """
    plan: list[tuple[str, list[str]]] = []
    with KeyStore.open(str(database), create=True) as store:
        store.insert_many([NewKey(f"filler {i}", datetime.now(UTC) - timedelta(days=1)) for i in range(2000)])
        for i in range(5):
            plan.append((store.create(f"stable active {i}").key, ["valid"]))
        for i in range(3):
            created = store.create(f"stable inactive {i}")
            store.set_active(created.record.id, False)
            plan.append((created.key, ["inactive"]))
        expired = store.create("expired", date.today())
        with store.database.write_engine.begin() as conn:
            conn.execute(
                text("UPDATE api_keys SET expires_at = '2001-01-01 00:00:00.000000' WHERE id = :id"),
                {"id": expired.record.id},
            )
        plan.append((expired.key, ["expired"]))
        toggled = []
        for i in range(4):
            created = store.create(f"toggled {i}")
            toggled.append(created.record.id)
            plan.append((created.key, ["valid", "inactive"]))
        deleted = store.create("gone")
        store.delete(deleted.record.id)
        plan.append((deleted.key, ["unknown"]))
        plan.append(("ak_" + "0" * 38, ["malformed"]))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    return plan_file, toggled


@pytest.mark.timeout(300)
def test_verifiers_and_a_writer_never_collide(database: str, tmp_path: Path) -> None:
    plan_file, toggled = prepare(database, tmp_path)
    seconds = str(CONCURRENT_S)
    verifiers = [_spawn(VERIFIER, database, str(plan_file), seconds) for _ in range(4)]
    writer = _spawn(WRITER, database, json.dumps(toggled), seconds)
    results = [_result(p) for p in verifiers]
    written = _result(writer)
    assert written["errors"] == 0 and written["ops"] > MIN_OPS
    for result in results:
        assert result["errors"] == 0 and result["wrong"] == 0
        assert result["checks"] > MIN_CHECKS
    with KeyStore.open(database, create=True) as store:
        assert store.count() == 2000 + 5 + 3 + 1 + 4
    print(f"verifications: {sum(r['checks'] for r in results)}, writes: {written['ops']} in {CONCURRENT_S:g} s or more")
