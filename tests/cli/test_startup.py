"""Start-up: the window and its first page of keys are painted before SQLAlchemy is imported; a window closed
while the database opens ends the program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui import launcher
from desktop.ui.launcher import Ask
from tests.helpers import REPO, make_database
from tests.ui.conftest import OFFSCREEN_NOISE

# The benchmark's first-paint hook, told to also say whether SQLAlchemy was loaded at each paint.
WATCHED_START = """
import sys
import desktop.ui.platform.bench_hook as hook
reported = hook._report
def report(what):
    reported(what)
    print(what, "sqlalchemy" in sys.modules, flush=True)
hook._report = report
from desktop.app import main
sys.exit(main(["--database", sys.argv[1]]))
"""


# The window grows its minimum size as it is built after the frame is shown: offscreen Qt says it cannot pass that on.
pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def test_the_first_page_is_painted_before_sqlalchemy_is_imported(tmp_path: Path) -> None:
    path = make_database(tmp_path / "keys.db", keys=30)
    env = {**os.environ, "APIKEYS_BENCH_EXIT_ON_PAINT": "1", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", WATCHED_START, str(path)], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if line.endswith((" False", " True"))]
    assert said == ["visible False", "page False"]


def test_a_window_closed_while_the_database_opens_ends_the_run(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: run() entered the event loop with no window left, and waited for ever."""
    path = make_database(tmp_path / "keys.db")
    opening = launcher.open_store_interactively

    def close_first(database: str | None, parent: QWidget | None, *args: Ask) -> KeyStore | None:
        assert parent is not None
        parent.close()  # as a person closing the window while the bad-database dialog was up
        return opening(database, parent, *args)

    monkeypatch.setattr(launcher, "open_store_interactively", close_first)
    stuck: list[bool] = []
    rescue = QTimer()
    rescue.setSingleShot(True)

    def give_up() -> None:
        stuck.append(True)
        QApplication.quit()

    rescue.timeout.connect(give_up)
    rescue.start(5000)
    try:
        assert launcher.run(str(path)) == 0
    finally:
        rescue.stop()
    assert not stuck
