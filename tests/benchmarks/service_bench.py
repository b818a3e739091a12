"""The service library's cold start: a new process that imports `apikeys` and verifies one key, against a raw
sqlite3 script doing the same lookup (issue 23, item 1)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from desktop.core.store import KeyStore

#: What a service's first request costs through the library: import, open, one verify. The key comes on stdin.
OURS = """
import sys
from apikeys import open_store
key = sys.stdin.readline().strip()
with open_store(sys.argv[1]) as store:
    sys.stdout.write(store.verify(key).value + "\\n")
"""

#: The floor: the same indexed lookup by a 10-line script on the standard library alone.
FLOOR = """
import hashlib, sqlite3, sys
key = sys.stdin.readline().strip()
con = sqlite3.connect(sys.argv[1])
row = con.execute(
    "SELECT id, active, expires_at, last_used_at FROM api_keys WHERE digest = ?",
    (hashlib.sha256(key.encode()).digest(),),
).fetchone()
con.close()
sys.stdout.write(("valid" if row and row[1] else "unknown") + "\\n")
"""


def _run(script: str, database: Path, key: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, str(database)], input=key + "\n", env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or done.stdout != "valid\n":
        raise RuntimeError(f"cold verify exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return elapsed


def cold_verify_row(database: Path, repeats: int) -> dict[str, float]:
    """Medians of `repeats` whole processes each, ours and the floor alternating, after one untimed round."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as on an installed copy
    with KeyStore.open(str(database), create=True) as store:
        created = store.create("benchmark cold verify")
        try:
            ours: list[float] = []
            floor: list[float] = []
            for attempt in range(repeats + 1):
                mine = _run(OURS, database, created.key, env)
                base = _run(FLOOR, database, created.key, env)
                if attempt:
                    ours.append(mine)
                    floor.append(base)
        finally:
            store.delete(created.record.id)
    ours_s, floor_s = statistics.median(ours), statistics.median(floor)
    return {"ours_s": ours_s, "floor_s": floor_s, "ratio": ours_s / floor_s}
