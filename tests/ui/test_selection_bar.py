"""Issue 21.11: the selection bar shows for two or more rows and offers only what applies to them."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import generate, select_keys, wait_idle
from tests.ui.widgets import child


def offered(window: MainWindow) -> list[str]:
    """The bar's buttons a person sees, left to right; [] while the bar is hidden."""
    bar = window.selection_bar
    if not bar.isVisible():
        return []
    buttons = [b for b in bar.findChildren(QPushButton) if b.isVisible()]
    return [b.text() for b in sorted(buttons, key=lambda b: b.x())]


def test_one_selected_row_shows_no_bar(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    first = store.create("first").record.id
    store.create("second")
    window = make_window()
    select_keys(window, first)
    assert window.table.selected_key_ids() == [first]
    assert offered(window) == []
    assert not window.selection_bar.isVisible()


def test_no_bar_after_generate(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    store.create("older")
    window = make_window()
    shown = generate(qtbot, window, "just made")
    child(shown, QPushButton, "copyKeyButton").click()
    shown.accept()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: len(window.model.records()) == 2)
    assert len(window.table.selected_key_ids()) == 1  # the new key is selected
    assert offered(window) == []


def test_the_bar_offers_only_what_applies(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    ids = [store.create(name).record.id for name in ("a", "b", "c", "d")]
    store.set_active(ids[2], False)
    store.set_active(ids[3], False)
    window = make_window()

    select_keys(window, ids[0], ids[1])  # both active
    assert offered(window) == ["Deactivate", "Delete", "Clear"]
    assert window.selection_bar.label.text() == "2 selected —"
    assert not window.key_actions.activate_selected_action.isEnabled()
    assert (
        window.key_actions.deactivate_selected_action.isEnabled()
        and window.key_actions.delete_selected_action.isEnabled()
    )

    select_keys(window, ids[2], ids[3])  # both inactive
    assert offered(window) == ["Activate", "Delete", "Clear"]
    assert (
        window.key_actions.activate_selected_action.isEnabled()
        and not window.key_actions.deactivate_selected_action.isEnabled()
    )

    select_keys(window, ids[0], ids[2], ids[3])  # mixed
    assert offered(window) == ["Activate", "Deactivate", "Delete", "Clear"]
    assert window.selection_bar.label.text() == "3 selected —"


def test_the_bar_follows_a_change_of_the_selected_keys(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = [store.create(name).record.id for name in ("a", "b")]
    window = make_window()
    select_keys(window, *ids)
    assert offered(window) == ["Deactivate", "Delete", "Clear"]
    window.selection_bar.buttons["selectionDeactivateButton"].click()
    from tests.ui.helpers import answer

    answer(qtbot, "confirmDeactivateSelectedDialog", "confirmButton")
    qtbot.waitUntil(lambda: offered(window) == ["Activate", "Delete", "Clear"])
