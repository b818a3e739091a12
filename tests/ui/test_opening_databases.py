"""Which databases the window may create, and the start-up dialog's offers (another file, Create, Fix).

Only the window's own default database is created without asking; a path given by --database or
$APIKEYS_DATABASE, or typed into File ▸ Open Database, is created only after "No database at X. Create it?";
File ▸ New Database… creates one. Real dialogs, answered by timers, as a person would.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import platformdirs
import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLineEdit, QMenu, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop import app
from desktop.core.store import KeyStore
from desktop.ui import launcher
from desktop.ui.window.main_window import MainWindow
from tests.helpers import make_database
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, wait_for, wait_idle
from tests.ui.widgets import child

Answer = Callable[[QWidget], None]


class Modals:
    """Answers the modal dialogs that come up, in order, each by objectName; anything else is refused.

    A dialog run with exec() blocks the test, so a timer answers it (the approach pytest-qt documents).
    An unexpected dialog is recorded and rejected, so a test fails instead of hanging.
    """

    def __init__(self, *script: tuple[str, Answer]) -> None:
        self.script = list(script)
        self.seen: list[str] = []
        self.texts: dict[str, str] = {}
        self.unexpected: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or not widget.isVisible():
            return
        name = widget.objectName()
        if isinstance(widget, QMessageBox):
            self.texts[name] = f"{widget.text()}\n{widget.informativeText()}"
        if self.script and self.script[0][0] == name:
            self.seen.append(name)
            _, answer = self.script.pop(0)
            answer(widget)
            return
        self.unexpected.append(name)
        if isinstance(widget, QDialog):
            widget.reject()

    def stop(self) -> None:
        self.timer.stop()


ModalsFactory = Callable[..., Modals]


@pytest.fixture
def modals() -> Iterator[ModalsFactory]:
    made: list[Modals] = []

    def make(*script: tuple[str, Answer]) -> Modals:
        answering = Modals(*script)
        made.append(answering)
        return answering

    yield make
    for answering in made:
        answering.stop()


def press(name: str) -> Answer:
    def answer(widget: QWidget) -> None:
        button = widget.findChild(QPushButton, name)
        if button is None:  # not offered: close the dialog, so the test fails instead of hanging
            assert isinstance(widget, QDialog)
            widget.reject()
            return
        button.click()

    return answer


def pick_file(path: Path) -> Answer:
    def answer(widget: QWidget) -> None:
        assert isinstance(widget, QFileDialog)
        widget.selectFile(str(path))  # drops a file the dialog had selected to start with
        child(widget, QLineEdit, "fileNameEdit").setText(str(path))  # as a person types it
        widget.accept()

    return answer


def default_database() -> Path:
    return platformdirs.user_data_path("apikeys", appauthor=False) / "keys.db"


# -- 9.4: at start-up --------------------------------------------------------------------------


def test_the_default_database_is_created_on_first_start_without_asking(qtbot: QtBot, modals: ModalsFactory) -> None:
    answering = modals()
    assert not default_database().exists()
    store = launcher.open_store_interactively(None, None)
    assert store is not None
    try:
        assert Path(store.location) == default_database() and default_database().is_file()
    finally:
        store.close()
    assert answering.unexpected == []


@pytest.mark.parametrize("given_by", ["--database", "$APIKEYS_DATABASE"])
def test_a_missing_database_named_by_the_person_is_created_only_after_asking(
    qtbot: QtBot, modals: ModalsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given_by: str
) -> None:
    typo = tmp_path / "tpyo.db"
    database = str(typo) if given_by == "--database" else None
    if given_by == "$APIKEYS_DATABASE":
        monkeypatch.setenv("APIKEYS_DATABASE", str(typo))
    # Quit: nothing is created.
    answering = modals(("missingDatabaseDialog", press("quitButton")))
    assert launcher.open_store_interactively(database, None) is None
    assert answering.seen == ["missingDatabaseDialog"] and answering.unexpected == []
    assert f"No database at {typo}. Create it?" in answering.texts["missingDatabaseDialog"]
    assert not typo.exists() and not default_database().exists()
    answering.stop()
    # Create: now it is.
    answering = modals(("missingDatabaseDialog", press("createButton")))
    store = launcher.open_store_interactively(database, None)
    assert store is not None
    try:
        assert store.location == str(typo) and store.count() == 0
    finally:
        store.close()
    assert typo.is_file() and answering.unexpected == []


def test_choosing_a_file_that_does_not_exist_asks_before_creating_it(
    qtbot: QtBot, modals: ModalsFactory, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("shopping list\n")
    new = tmp_path / "new.db"
    answering = modals(
        ("badDatabaseDialog", press("chooseFileButton")),
        ("chooseDatabaseDialog", pick_file(new)),
        ("missingDatabaseDialog", press("createButton")),
    )
    store = launcher.open_store_interactively(str(bad), None)
    assert store is not None
    try:
        assert store.location == str(new)
    finally:
        store.close()
    assert answering.unexpected == [] and answering.script == []


def test_choose_another_file_starts_in_the_bad_files_folder(
    qtbot: QtBot, modals: ModalsFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    bad = folder / "notes.db"
    bad.write_text("shopping list\n")
    where: list[str] = []

    def note_folder_and_cancel(widget: QWidget) -> None:
        assert isinstance(widget, QFileDialog)
        where.append(widget.directory().absolutePath())
        widget.reject()

    answering = modals(
        ("badDatabaseDialog", press("chooseFileButton")),
        ("chooseDatabaseDialog", note_folder_and_cancel),
        ("badDatabaseDialog", press("quitButton")),  # cancelling the file dialog comes back to the choice
    )
    assert launcher.open_store_interactively(str(bad), None) is None
    assert where == [str(folder)] and Path.cwd() != folder
    assert answering.unexpected == []


def test_a_missing_folder_starts_the_file_dialog_in_the_nearest_folder_there_is(tmp_path: Path) -> None:
    assert launcher.folder_of(str(tmp_path / "no" / "such" / "keys.db")) == str(tmp_path)


def test_create_window_creates_a_missing_database(qtbot: QtBot, tmp_path: Path, settings: QSettings) -> None:
    """The programmatic entry point keeps creating: a program that asks for a window on a path means it."""
    path = tmp_path / "programmatic.db"
    window = app.create_window(str(path))
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    try:
        assert path.is_file() and window.store is not None
    finally:
        window.shutdown()


# -- 10.1: Fix Permissions ---------------------------------------------------------------------------


def test_fix_permissions_makes_the_file_private_and_opens_it(
    qtbot: QtBot, modals: ModalsFactory, tmp_path: Path
) -> None:
    path = make_database(tmp_path / "shared.db", keys=2)
    path.chmod(0o644)
    answering = modals(("badDatabaseDialog", press("fixPermissionsButton")))
    store = launcher.open_store_interactively(str(path), None)
    assert store is not None
    try:
        assert store.count() == 2
    finally:
        store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert answering.seen == ["badDatabaseDialog"] and answering.unexpected == []
    assert "chmod 600" in answering.texts["badDatabaseDialog"]


def test_no_fix_is_offered_when_the_mode_is_not_the_problem(
    qtbot: QtBot, modals: ModalsFactory, tmp_path: Path
) -> None:
    target = make_database(tmp_path / "real.db")
    link = tmp_path / "link.db"
    link.symlink_to(target)
    offered: list[bool] = []

    def look_then_quit(widget: QWidget) -> None:
        offered.append(widget.findChild(QPushButton, "fixPermissionsButton") is not None)
        child(widget, QPushButton, "quitButton").click()

    answering = modals(("badDatabaseDialog", look_then_quit))
    assert launcher.open_store_interactively(str(link), None) is None
    assert offered == [False] and answering.unexpected == []


# -- 9.4: in the window ------------------------------------------------------------------------------


def test_open_database_with_a_new_name_asks_and_cancel_creates_nothing(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path, db_path: Path
) -> None:
    seed(store, 2)
    window = make_window()
    typo = tmp_path / "tpyo.db"
    window.open_action.trigger()
    chooser = wait_for(qtbot, QFileDialog, "openDatabaseDialog")
    pick_file(typo)(chooser)
    box = wait_for(qtbot, QMessageBox, "missingDatabaseDialog")
    assert f"No database at {typo}. Create it?" in box.text()
    child(box, QPushButton, "cancelButton").click()
    qtbot.waitUntil(lambda: not box.isVisible())
    assert not typo.exists()
    assert window.store is not None and window.store.location == str(db_path) and window.model.rowCount() == 2


def test_open_database_with_a_new_name_creates_it_after_yes(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    window = make_window()
    new = tmp_path / "second.db"
    window.databases.open_database(str(new))
    box = wait_for(qtbot, QMessageBox, "missingDatabaseDialog")
    child(box, QPushButton, "createButton").click()
    qtbot.waitUntil(lambda: window.store is not None and window.store.location == str(new))
    assert new.is_file()
    wait_idle(qtbot, window)


def test_new_database_from_the_file_menu(qtbot: QtBot, make_window: WindowFactory, tmp_path: Path) -> None:
    window = make_window()
    file_menu = window.menuBar().actions()[0].menu()
    assert isinstance(file_menu, QMenu)
    assert "New &Database…" in [a.text() for a in file_menu.actions()]
    window.new_database_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "newDatabaseDialog")
    assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    pick_file(tmp_path / "team")(dialog)  # the .db suffix is added
    created = tmp_path / "team.db"
    qtbot.waitUntil(lambda: window.store is not None and window.store.location == str(created))
    assert created.is_file() and window.model.rowCount() == 0
    assert "Created" in window.notification_area.text()
    wait_idle(qtbot, window)


def test_new_database_never_replaces_an_existing_file(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path, db_path: Path
) -> None:
    existing = make_database(tmp_path / "existing.db", keys=3)
    before = existing.read_bytes()
    window = make_window()
    window.databases.new_database(str(existing))
    assert existing.read_bytes() == before
    assert window.store is not None and window.store.location == str(db_path)
    assert "already exists" in window.notification_area.text()
