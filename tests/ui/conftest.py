"""Fixtures for the window tests: real SQLite files, settings in a temporary folder, a window factory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui import theme
from desktop.ui.control.notifications import Notice
from desktop.ui.platform.clipboard import drop_secret_mime_data
from desktop.ui.window.main_window import MainWindow
from tests.ui.helpers import leaked_widgets, top_levels, wait_idle

# The offscreen platform warns that it cannot resize a window to its size hints; it is
# the test platform speaking, not the app. Every other Qt warning still fails a test.
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(scope="session", autouse=True)
def qt_settings_in_tmp() -> Iterator[None]:
    """No test writes the real user's settings: QSettings() is an INI file in a temporary folder, one per test
    (qt_settings_of_its_own)."""
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    yield
    # Cached icons must go before the QApplication does, or their destructors run after it at exit.
    theme.icon.cache_clear()
    # Likewise a QMimeData made in Python and left on the clipboard: its destructor would run at exit.
    drop_secret_mime_data()


@pytest.fixture(autouse=True)
def qt_settings_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test's QSettings() starts empty, under the test names: a window that ran before (launcher.run names
    the application "API Key Manager") cannot leave a remembered query or Open Recent list to the next test's
    window (test_show_expiring_opens_the_window_filtered left "Expiring soon" to test_team_mode's second window,
    which then showed no key without an expiry)."""
    folder = tmp_path_factory.mktemp("qsettings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    QCoreApplication.setOrganizationName("apikeys-tests")
    QCoreApplication.setApplicationName("API Key Manager tests")


@pytest.fixture(autouse=True)
def notices_outlast_a_busy_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A status message stays 60 times as long as in the app (5 s becomes 5 min).

    On a loaded machine a 5 s message could time out before a test read it (test_deactivate_confirmed did).
    Tests about a message's time on screen fire `noticeExpiryTimer` themselves or start it short, and the
    durations keep their order and floor, so nothing they check changes.
    """
    duration = vars(Notice)["duration_ms"]
    assert isinstance(duration, property)
    shown_for = duration.fget
    assert shown_for is not None
    monkeypatch.setattr(Notice, "duration_ms", property(lambda notice: 60 * shown_for(notice)))


@pytest.fixture
def short_folder() -> Iterator[Path]:
    """A folder with a short path, as the default database's: the window's header shows the database's path whole,
    so its length sets the window's minimum width. For tests that narrow the window: tmp_path's length varies
    (pytest-xdist adds `popen-gwN/`, pytest adds the test's name), and 480 or 640 px were then out of reach. Ask for
    it before make_window, so it is removed after the windows are closed."""
    folder = Path(tempfile.mkdtemp(prefix="apikeys-k"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def window_database(db_path: Path) -> str:
    """What make_window's windows open: db_path; a module overrides it (team mode: a PostgreSQL URL)."""
    return str(db_path)


@pytest.fixture
def make_window(
    qtbot: QtBot, window_database: str, settings: QSettings, migrated_sqlite: Path
) -> Iterator[WindowFactory]:
    """A shown MainWindow on window_database (or `database=`), its count loaded; other keywords go to MainWindow.

    A window_database file that does not exist yet starts as a copy of a migrated one (tests/conftest.py): what
    the window's create=True would make of it, without SQLite's dozen migration commits in every test.

    Like napari's make_napari_viewer, it fails the test that leaves database work pending or leaves a
    top-level widget (a dialog, a message box) alive after the windows are gone.
    """

    made: list[MainWindow] = []
    before = top_levels()

    def make(database: str | None = None, **kwargs: object) -> MainWindow:
        kwargs.setdefault("settings", settings)
        kwargs.setdefault("poll_interval_ms", 100)
        path = Path(window_database)
        if database is None and "://" not in window_database and path.parent.is_dir() and not path.exists():
            shutil.copyfile(migrated_sqlite, path)
            path.chmod(0o600)
        store = KeyStore.open(database or window_database, create=True)
        window = MainWindow(store, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        made.append(window)  # qtbot keeps only a weak reference: a collected window would skip its shutdown
        window.show()
        qtbot.waitExposed(window)
        wait_idle(qtbot, window)
        return window

    yield make
    pending = [window.runner.pending() for window in made if window.runner.pending()]
    for window in made:
        window.shutdown()  # as on quit: clipboard cleared, writes finished, store closed
        window.close()
        window.deleteLater()
    leaked = leaked_widgets(before)
    problems = []
    if pending:
        problems.append(f"database work still pending when the test ended: {pending}")
    if leaked:
        problems.append(f"top-level widgets left alive: {', '.join(leaked)}")
    if problems:
        pytest.fail("; ".join(problems))
