"""Issue 21.3 and 21.16 in the real window: the Activity Log, the Roll dialog and the table read one expiry as one
date (a date as its last valid day, a grace's end as a local time that says so), and a roll's log entry names
the other key by its masked form, as the table shows it, never by an id."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QTableWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.control.key_table_model import COL_EXPIRES
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import item_text, row_of, select_keys, wait_for, wait_idle
from tests.ui.widgets import child

LOCAL_TIME = r"\d\d:\d\d (today|tomorrow) \(local time\)"


def _details(dialog: QDialog) -> list[str]:
    table = child(dialog, QTableWidget, "eventsTable")
    return [item_text(table, row, 4) for row in range(table.rowCount())]


def test_the_activity_log_reads_a_date_as_its_last_day_and_names_the_new_key_masked(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    last_day = date.today() + timedelta(days=30)
    store.create("dated", last_day)
    old = store.create("rolled").record
    rolled = store.roll(old.id, timedelta(hours=1))
    window = make_window()
    child(window, QAction, "activityLogAction").trigger()
    log = wait_for(qtbot, QDialog, "activityLogDialog")
    qtbot.waitUntil(lambda: len(_details(log)) == 4)
    details = _details(log)
    assert any(f"valid through {last_day.isoformat()}" in text for text in details), details
    assert not any("expires " in text for text in details), details
    rolled_text = details[0]
    assert re.search(f"old key works until {LOCAL_TIME}", rolled_text), rolled_text
    assert f"replaced by {rolled.new.record.masked}" in rolled_text and "#" not in rolled_text
    assert f"rolled from {old.masked}" in details[1] and "#" not in details[1]
    log.grab().save("/tmp/expiry-activity-log.png")
    log.close()
    wait_idle(qtbot, window)


def test_the_roll_dialog_reads_its_own_date_expiry_as_a_day_and_a_grace_as_a_local_time(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    last_day = date.today() + timedelta(days=2)
    key_id = store.create("soon", last_day).record.id
    window = make_window()
    select_keys(window, key_id)
    child(window, QAction, "rollAction").trigger()
    dialog = wait_for(qtbot, QDialog, "rollDialog")
    label = child(dialog, QLabel, "graceUntilLabel")
    combo = child(dialog, QComboBox, "graceCombo")
    combo.setCurrentIndex(combo.findText("7 days"))
    assert f"keeps working through {last_day.isoformat()}, its own expiry" in label.text(), label.text()
    assert (last_day + timedelta(days=1)).isoformat() not in label.text()
    combo.setCurrentIndex(combo.findText("1 hour"))
    assert re.search(f"keeps working until {LOCAL_TIME}", label.text()), label.text()
    dialog.grab().save("/tmp/expiry-roll-dialog.png")
    dialog.reject()
    wait_idle(qtbot, window)


def test_the_table_reads_a_grace_ended_now_as_expired_and_a_date_as_its_last_day(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    last_day = date.today() + timedelta(days=30)
    dated = store.create("dated", last_day).record.id
    old = store.create("old").record.id
    store.roll(old, timedelta(0))
    window = make_window()
    cell = window.model.index(row_of(window, old), COL_EXPIRES)
    assert re.fullmatch(r"Expired \d\d:\d\d today", str(cell.data())), cell.data()
    assert window.model.index(row_of(window, dated), COL_EXPIRES).data() == last_day.isoformat()


def test_demo_keys_seeded_by_the_cli_read_as_demo_in_the_window(
    qtbot: QtBot, make_window: WindowFactory, db_path: Path
) -> None:
    """Issue 21.8: a person tells demo keys from real ones in the table."""
    from desktop.ui.control.key_table_model import COL_DESCRIPTION
    from tests.helpers import run_cli

    KeyStore.open(str(db_path), create=True).close()
    with KeyStore.open(str(db_path)) as store:
        store.create("Billing production key for Hana")
    assert run_cli("seed", "--count", "12", "--database", str(db_path)).returncode == 0
    window = make_window()
    qtbot.waitUntil(lambda: window.model.rowCount() == 13)
    texts = [str(window.model.index(row, COL_DESCRIPTION).data()) for row in range(13)]
    assert sum(text.startswith("[demo] ") for text in texts) == 12
    assert "Billing production key for Hana" in texts
    window.resize(1040, 640)
    window.grab().save("/tmp/expiry-demo-window.png")
