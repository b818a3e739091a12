"""A file moved away while a background read is under way reads as "deleted or moved away", whatever notices
first: the count, a live reload or a search that hits the vanished file, or the file watch (issue 21, item 17)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.core.db.sqlite import SqliteDatabase
from desktop.core.store import KeyStore
from desktop.ui.control.notifications import Level
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import open_store, seed, wait_idle

#: The file watch's poll never comes within a test: only the background read can notice the file is gone.
NO_POLL = 600_000


def _move_away(db_path: Path, tmp_path: Path) -> list[tuple[Path, Path]]:
    away = tmp_path / "moved-away"
    away.mkdir()
    moves = [(p, away / p.name) for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    for source, target in moves:
        source.rename(target)
    return moves


def _drop_idle_connections(window: MainWindow) -> None:
    """Close the SQLite database's idle read connections, so that the next read connects anew."""
    database = open_store(window).database
    assert isinstance(database, SqliteDatabase)
    database._idle.close_all()


def _level(window: MainWindow) -> Level | None:
    notice = window.notification_area.notice()
    return None if notice is None else notice.level


def test_a_read_that_hits_a_moved_file_first_says_it_was_moved(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, db_path: Path, tmp_path: Path
) -> None:
    seed(store, 30)
    store.close()
    window = make_window(poll_interval_ms=NO_POLL)
    shown = [record.id for record in window.model.records()]
    moves = _move_away(db_path, tmp_path)
    # The reads' idle connections are gone, as when the page and the count ran at once and one of them had
    # to connect anew (the race a busy machine makes): the next read opens the path, and finds no file there.
    _drop_idle_connections(window)
    window.controller.reload()  # the page again, then the count in the background
    qtbot.waitUntil(lambda: _level(window) is Level.ERROR, timeout=5000)
    wait_idle(qtbot, window)
    text = window.notification_area.text()
    assert "deleted or moved away" in text, text
    assert "I/O" not in text and "Cannot use the database" not in text
    assert [record.id for record in window.model.records()] in (shown, [])  # never a key no database holds

    for source, target in moves:
        target.rename(source)
    window.controller.poll_timer.timeout.emit()
    qtbot.waitUntil(lambda: "is back" in window.notification_area.text(), timeout=5000)
    wait_idle(qtbot, window)


def test_a_page_turn_that_hits_a_moved_file_says_it_was_moved(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, db_path: Path, tmp_path: Path
) -> None:
    """The page turn's slot reports a failure as Operation.TURN_PAGE (issue 22 item 6), a read: the vanished file
    explains it, not the driver's words."""
    seed(store, 120)
    store.close()
    window = make_window(poll_interval_ms=NO_POLL)
    wait_idle(qtbot, window)
    shown = [record.id for record in window.model.records()]
    _move_away(db_path, tmp_path)
    _drop_idle_connections(window)
    window.controller.next()  # on the GUI thread: the slot's guard reports what the read raised
    qtbot.waitUntil(lambda: _level(window) is Level.ERROR, timeout=5000)
    text = window.notification_area.text()
    assert "deleted or moved away" in text, text
    assert "Something went wrong" not in text and "I/O" not in text
    assert [record.id for record in window.model.records()] == shown  # the page stays as it was
    wait_idle(qtbot, window)
