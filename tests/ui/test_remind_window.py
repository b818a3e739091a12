"""The window's side of expiry reminders: View ▸ Expiry Reminders, and `--show expiring` (what a click opens)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.query import Filter
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from desktop.ui import launcher
from desktop.ui.window.main_window import MainWindow
from tests.helpers import run_cli
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import event_loop_limit


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "apikeys" / "reminders.json"


def _keys(database: str) -> None:
    now = datetime.now(UTC)
    with KeyStore.open(database, create=True) as store:
        store.insert_many(
            [
                NewKey("Soon", now - timedelta(days=3), now + timedelta(days=2)),
                NewKey("Later", now - timedelta(days=3), now + timedelta(days=40)),
                NewKey("Never", now - timedelta(days=3), None),
            ]
        )


def test_show_expiring_opens_the_window_filtered(qtbot: QtBot, tmp_path: Path) -> None:
    database = str(tmp_path / "keys.db")
    _keys(database)
    seen: list[tuple[str, list[str]]] = []

    def look_and_quit() -> None:
        for widget in QApplication.topLevelWidgets():
            # The frame is shown before its contents are built (no controller yet): look again later.
            if isinstance(widget, MainWindow) and hasattr(widget, "controller") and widget.store is not None:
                rows = [record.description for record in widget.model.records()]
                if widget.query_bar.status_filter.currentText() == "Expiring soon" and rows == ["Soon"]:
                    seen.append((widget.query_bar.status_filter.currentText(), rows))
                    widget.grab().save("/tmp/remind-window-filtered.png")
                    widget.close()
                    return
        QTimer.singleShot(20, look_and_quit)

    QTimer.singleShot(20, look_and_quit)
    with event_loop_limit():
        quit_status = launcher.run(database, status=Filter.EXPIRING)
    assert quit_status == 0
    assert seen == [("Expiring soon", ["Soon"])]


def test_bad_show_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_cli("--database", str(tmp_path / "keys.db"), "--show", "soon")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "expiring" in result.stderr
    assert not (tmp_path / "keys.db").exists()


def test_view_menu_turns_reminders_off_and_on(make_window: WindowFactory, config_home: Path, db_path: Path) -> None:
    window = make_window()
    action = window.findChild(type(window.reload_action), "expiryRemindersAction")
    assert action is not None and action in window.view_menu.actions()
    assert action.isCheckable() and action.isChecked()  # on unless turned off

    action.trigger()
    assert not action.isChecked()
    assert json.loads(config_home.read_text())["enabled"] is False
    assert "Expiry reminders are off" in window.notification_area.text()

    # Turned on again elsewhere (`apikeys remind --on`): the menu reads it when it opens.
    config_home.write_text(json.dumps({"enabled": True, "database": None}))
    window.view_menu.aboutToShow.emit()
    assert action.isChecked()
    action.trigger()
    action.trigger()  # off, then on here: the window's database is the one reminded about
    saved = json.loads(config_home.read_text())
    assert saved == {"enabled": True, "database": str(db_path)}
