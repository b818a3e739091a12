"""Start-up: the window and its first page of keys are painted before SQLAlchemy is imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, make_database

# The benchmark's first-paint hook, told to also say whether SQLAlchemy was loaded at each paint.
WATCHED_START = """
import sys
import desktop.ui.bench_hook as hook
reported = hook._report
def report(what):
    reported(what)
    print(what, "sqlalchemy" in sys.modules, flush=True)
hook._report = report
from desktop.app import main
sys.exit(main(["--database", sys.argv[1]]))
"""


def test_the_first_page_is_painted_before_sqlalchemy_is_imported(tmp_path: Path) -> None:
    path = make_database(tmp_path / "keys.db", keys=30)
    env = {**os.environ, "APIKEYS_BENCH_EXIT_ON_PAINT": "1", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", WATCHED_START, str(path)], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if line.endswith((" False", " True"))]
    assert said == ["visible False", "page False"]
