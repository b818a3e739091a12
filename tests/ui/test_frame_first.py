"""Start-up paints the window's frame first: nothing inside it is imported or built before that paint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from desktop.app import _window_only
from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
from tests.helpers import make_database

#: What the frame must not wait for: the command line, the table and its model, the controller, the values.
HEAVY = (
    "desktop.cli",
    "desktop.core.values",
    "desktop.core.paging",
    "desktop.ui.control.controller",
    "desktop.ui.control.notifications",
    "desktop.ui.theme",
    "desktop.ui.widgets.key_table_view",
    "desktop.ui.control.key_table_model",
    "sqlalchemy",
)

FRAME = f"""
import sys
import desktop.app
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.ui.launcher import configure_application
configure_application(app)
from desktop.ui.window.main_window import MainWindow
window = MainWindow(build=False)
window.show()
app.processEvents()
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_the_frame_is_painted_before_its_contents_are_imported(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", FRAME], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_window_built_after_its_frame_shows_its_keys(qtbot: QtBot, tmp_path: Path, settings: QSettings) -> None:
    database = tmp_path / "keys.db"
    make_database(database, keys=3)
    window = MainWindow(build=False, settings=settings, poll_interval_ms=100)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert (window.built, hasattr(window, "table")) == (False, False)
    window.build(KeyStore.open(str(database)))
    try:
        assert window.built
        qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
        assert window.generate_button.isEnabled()
    finally:
        window.shutdown()
        window.close()


def test_a_frame_closed_before_it_was_built_keeps_its_place(qtbot: QtBot, settings: QSettings) -> None:
    window = MainWindow(build=False, settings=settings)
    qtbot.addWidget(window)
    window.resize(700, 500)
    window.show()
    qtbot.waitExposed(window)
    window.close()  # e.g. the window manager's close button, before the launcher built the rest
    assert settings.value("window/geometry") is not None
    window.build()  # what the launcher does next: the window can still finish and shut down cleanly
    window.shutdown()
    again = MainWindow(build=False, settings=settings)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (True, None)),
        (["--database", "keys.db"], (True, "keys.db")),
        (["--database=postgresql://h/db"], (True, "postgresql://h/db")),
        (["--database", "--help"], (False, None)),
        (["--database", ""], (False, None)),
        (["--database"], (False, None)),
        (["list"], (False, None)),
        (["--database", "keys.db", "list"], (False, None)),
        (["--version"], (False, None)),
        (["--data", "keys.db"], (False, None)),  # argparse's abbreviations: left to the parser
    ],
)
def test_only_window_arguments_skip_the_command_line_parser(argv: list[str], expected: tuple[bool, str | None]) -> None:
    assert _window_only(argv) == expected
