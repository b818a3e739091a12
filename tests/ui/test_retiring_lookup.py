"""The "Retiring …" lookup: asked once while no key was ever rolled, asked again after any change."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.control.key_table_model import COL_EXPIRES
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import row_of, wait_idle


def test_no_page_turn_asks_which_keys_were_rolled_until_one_is(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    soon = date.today() + timedelta(days=30)
    ids = [store.create(f"key {number}", soon).record.id for number in range(60)]
    window = make_window()
    shown = window.controller.store
    asked: list[str] = []
    for name in ("has_rolled", "rolled_among"):
        real = getattr(shown, name)

        def spy(*args: Any, _real: Any = real, _name: str = name) -> Any:
            asked.append(_name)
            return _real(*args)

        setattr(shown, name, spy)  # counts what each page turn asks the database; the answers are the real ones

    def turned() -> None:  # the lookup is asked from the event loop, after the page is shown: let it be asked
        qtbot.waitUntil(lambda: not window.key_actions._rolled_wanted)
        wait_idle(qtbot, window)

    for _ in range(3):
        window.next_action.trigger()
        turned()
        window.previous_action.trigger()
        turned()
    # Keys that could be retiring are on every page, yet no key was ever rolled: asked once at most, then never.
    assert asked.count("has_rolled") <= 1 and "rolled_among" not in asked

    # Another process rolls a key on this page: the window hears the change, and asks again.
    rolled = ids[-1]
    assert rolled in [record.id for record in window.model.records()]
    store.roll(rolled, timedelta(days=7))
    qtbot.waitUntil(lambda: window.model.row_of(rolled) is not None, timeout=5000)
    qtbot.waitUntil(
        lambda: str(window.model.index(row_of(window, rolled), COL_EXPIRES).data()).startswith("Retiring "),
        timeout=5000,
    )
    assert "rolled_among" in asked
    # Now that a key was rolled, each turn asks which of its keys were, and no longer whether any was.
    wait_idle(qtbot, window)
    asked.clear()
    for _ in range(2):
        window.next_action.trigger()
        turned()
        window.previous_action.trigger()
        turned()
    assert asked == ["rolled_among"] * 4
