"""The window table's columns are the spec's (core/key_fields.py, issue 22 item 4): headers, places and cells."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.core.key_fields import TABLE_FIELDS
from desktop.core.store import KeyStore
from desktop.ui.control import key_table_model as table
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import wait_idle


def test_the_tables_headers_and_column_places_follow_the_spec(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    store.create("Billing", scopes=("read",))
    window: MainWindow = make_window()
    wait_idle(qtbot, window)
    model = window.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["API Key", "Description", "Created", "Expires", "Last used", "Status", "Credits", "Actions"]
    # The key's fields, then its remaining credits (read from its limits, not its row) and the row's actions.
    assert headers[:-2] == [f.header for f in TABLE_FIELDS]
    places = {
        "masked": table.COL_KEY,
        "description": table.COL_DESCRIPTION,
        "created_at": table.COL_CREATED,
        "expires_at": table.COL_EXPIRES,
        "last_used_at": table.COL_LAST_USED,
        "status": table.COL_STATUS,
    }
    assert {f.name: TABLE_FIELDS.index(f) for f in TABLE_FIELDS} == places
    assert (len(TABLE_FIELDS), model.columnCount() - 1) == (table.COL_CREDITS, table.COL_ACTIONS)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    shown = {name: model.data(model.index(0, column)) for name, column in places.items()}
    assert shown["masked"].startswith("ak_") and shown["description"] == "Billing"
    assert shown["status"] == "Active" and shown["last_used_at"] == "Never"
