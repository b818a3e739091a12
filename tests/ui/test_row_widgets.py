"""The row buttons are reused from page to page: after every turn each acts on, and names, the key in its row."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.core.paging import Pager
from desktop.core.store import KeyStore
from desktop.ui.key_table_model import KeyTableModel
from desktop.ui.widgets.key_table_view import ActionCell, KeyTableView
from tests.ui.helpers import seed


def test_row_buttons_follow_their_rows_across_page_turns(qtbot, store: KeyStore) -> None:  # type: ignore[no-untyped-def]
    seed(store, 60)
    for record in store.all()[25:30]:  # some inactive keys on the second page
        store.set_active(record.id, False)
    model = KeyTableModel()
    view = KeyTableView(model)
    qtbot.addWidget(view)
    view.resize(1000, 1200)
    view.show()
    qtbot.waitExposed(view)
    pager = Pager(store, 25)
    pager.first()
    model.reload(pager.items)
    first_cells = [view.cell(row) for row in range(25)]
    while pager.next():
        model.reload(pager.items)
        rows = model.rowCount()
        for row in range(rows):
            record, cell = model.record(row), view.cell(row)
            assert cell is not None and cell.isVisibleTo(view)
            assert cell.key_id == record.id and cell.active == record.active
            toggle = cell.toggle_button
            assert toggle.text() == ("Deactivate" if record.active else "Activate")
            assert toggle.accessibleName().endswith(record.masked)
            assert cell.delete_button.accessibleName() == f"Delete {record.masked}"
            with qtbot.waitSignal(view.toggleRequested) as toggled:
                qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
            assert toggled.args == [record.id]
            with qtbot.waitSignal(view.deleteRequested) as deleted:
                qtbot.mouseClick(cell.delete_button, Qt.MouseButton.LeftButton)
            assert deleted.args == [record.id]
    # The last page is short: the widgets it does not need are hidden, none was made anew.
    assert model.rowCount() == 10
    cells = view.viewport().findChildren(ActionCell)
    assert len(cells) == 25 and set(cells) == set(first_cells)
    assert sum(cell.isVisibleTo(view) for cell in cells) == 10
    pager.previous()
    model.reload(pager.items)
    assert [view.cell(row).key_id for row in range(25)] == [r.id for r in model.records()]
    assert all(cell.isVisibleTo(view) for cell in cells)
