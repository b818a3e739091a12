"""File dialogs start in the person's folders, never the process's working directory; New Database… suggests a
name that does not exist yet, never the file open now (issue 21, item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui import launcher
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import wait_for, wait_idle


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> Path:
    """A home of the test's own (its XDG folders inside), and a working directory elsewhere that no dialog may
    start in."""
    home = isolated_home
    monkeypatch.setenv("HOME", str(home))
    elsewhere = tmp_path / "started-from-here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return home


def _documents() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation))


def _selected(dialog: QFileDialog) -> Path:
    return Path(dialog.selectedFiles()[0])


def _close(qtbot: QtBot, dialog: QFileDialog) -> None:
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_new_database_suggests_a_free_name_in_documents_never_the_open_file(
    qtbot: QtBot, make_window: WindowFactory, home: Path
) -> None:
    documents = _documents()
    assert documents.is_relative_to(home)
    documents.mkdir(parents=True)
    open_now = documents / "keys.db"
    KeyStore.open(str(open_now), create=True).close()
    (documents / "keys-2.db").write_bytes(b"")  # someone's file: not suggested either
    window = make_window(database=str(open_now))
    window.new_database_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "newDatabaseDialog")
    suggested = _selected(dialog)
    assert suggested == documents / "keys-3.db" and not suggested.exists()
    assert Path(dialog.directory().absolutePath()) == documents
    _close(qtbot, dialog)
    wait_idle(qtbot, window)


def test_without_a_documents_folder_the_dialogs_start_in_a_folder_of_the_person_s(
    qtbot: QtBot, make_window: WindowFactory, home: Path, tmp_path: Path
) -> None:
    assert not _documents().exists()
    window = make_window()
    window.new_database_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "newDatabaseDialog")
    folder = _selected(dialog).parent
    assert folder.is_dir() and folder.is_relative_to(home) and folder != Path.cwd()
    assert not _selected(dialog).exists()
    _close(qtbot, dialog)

    window.exports.export_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "exportDialog")
    folder = Path(dialog.directory().absolutePath())
    assert folder.is_dir() and folder.is_relative_to(home) and folder != Path.cwd()
    _close(qtbot, dialog)
    wait_idle(qtbot, window)


def test_open_starts_in_the_open_file_s_folder_and_a_server_in_the_person_s(
    qtbot: QtBot, make_window: WindowFactory, home: Path, db_path: Path
) -> None:
    window = make_window()
    window.open_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "openDatabaseDialog")
    assert Path(dialog.directory().absolutePath()) == db_path.parent
    _close(qtbot, dialog)
    wait_idle(qtbot, window)
    # The bad-database dialog's "Choose Another File…" after a server URL: not the working directory either.
    folder = Path(launcher.folder_of("postgresql://alice@db.example.com/apikeys"))
    assert folder.is_dir() and folder.is_relative_to(home)
