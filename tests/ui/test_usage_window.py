"""Issue 25 items 1, 2 and 4: a key's details with its usage chart, View ▸ Usage, and the chart loaded only when shown.

Real windows on real SQLite files; the verifies are counted by the store's own path (verify/check), some of them by
a store whose clock stands days back, so that the periods differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.clock import SYSTEM_CLOCK, FixedClock
from desktop.core.store import KeyStore
from desktop.core.usage_report import Outcome
from desktop.ui.control.key_table_model import COL_DESCRIPTION
from desktop.ui.window.main_window import MainWindow
from desktop.ui.window.usage_view import UsageView
from tests.helpers import make_database
from tests.ui.conftest import OFFSCREEN_NOISE, WindowFactory
from tests.ui.helpers import click, row_of, select_keys, shown_ids, wait_for, wait_idle
from tests.ui.widgets import child


def verify(store: KeyStore, key: str, times: int, *, days_ago: float = 0, scopes: list[str] | None = None) -> None:
    """`times` verifies of `key` through the store's own path, `days_ago` in the past; counts written at once."""
    if days_ago:
        with KeyStore.open(store.location, FixedClock(SYSTEM_CLOCK.now() - timedelta(days=days_ago))) as past:
            verify(past, key, times, scopes=scopes)
        return
    for _ in range(times):
        if scopes is None:
            store.verify(key)
        else:
            store.check(key, scopes)
    store.flush_usage()


@pytest.fixture
def used(store: KeyStore) -> Iterator[dict[str, int]]:
    """Three keys: `busy` (5 valid and 2 forbidden now, 4 valid 3 days ago), `quiet` (1 valid 10 days ago),
    `idle` (never used: dict[str, int]). Their ids by name."""
    made = {name: store.create(name, scopes=["read"]) for name in ("busy", "quiet", "idle")}
    verify(store, made["busy"].key, 5)
    verify(store, made["busy"].key, 2, scopes=["write"])
    verify(store, made["busy"].key, 4, days_ago=3)
    verify(store, made["quiet"].key, 1, days_ago=10)
    yield {name: created.record.id for name, created in made.items()}


def chart_text(dialog: QWidget) -> str:
    chart = dialog.findChild(QWidget, "usageChart")
    assert chart is not None
    return chart.accessibleDescription()


def details(qtbot: QtBot) -> QDialog:
    return wait_for(qtbot, QDialog, "keyDetailsDialog")


def period(dialog: QWidget, word: str) -> QPushButton:
    button = dialog.findChild(QPushButton, f"period{word}Button")
    assert button is not None
    return button


def test_enter_opens_the_keys_details_with_its_totals_as_text(
    qtbot: QtBot, make_window: WindowFactory, used: dict[str, int]
) -> None:
    window = make_window()
    select_keys(window, used["busy"])
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    dialog = details(qtbot)
    # 7 days by default: every verify of the key (5 valid, 2 forbidden now, 4 valid 3 days ago), none of the others'.
    qtbot.waitUntil(lambda: "total 11, valid 9, rejected 2" in chart_text(dialog))
    totals = child(dialog, QLabel, "usageTotalsLabel")
    assert totals.text() == "11 verifications in the last 7 days: 9 valid, 2 rejected."
    record = window.model.record(row_of(window, used["busy"]))
    assert child(dialog, QLabel, "detailsKeyLabel").text() == record.masked
    assert child(dialog, QLabel, "detailsDescriptionLabel").text() == "busy"
    assert child(dialog, QLabel, "detailsScopesLabel").text() == "read"
    assert child(dialog, QLabel, "detailsCreditsLabel").text() == "Unlimited"
    dialog.close()


def test_double_click_on_a_row_opens_its_details_and_the_period_switch_changes_the_totals(
    qtbot: QtBot, make_window: WindowFactory, used: dict[str, int]
) -> None:
    window = make_window()
    row = row_of(window, used["busy"])
    rect = window.table.visualRect(window.model.index(row, COL_DESCRIPTION))
    # As a person double-clicks: a press first (QTest's double-click alone is no click on an item).
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = details(qtbot)
    qtbot.waitUntil(lambda: "total 11, valid 9" in chart_text(dialog))
    click(qtbot, period(dialog, "24h"))
    qtbot.waitUntil(lambda: "last 24 hours: total 7, valid 5, rejected 2" in chart_text(dialog))
    click(qtbot, period(dialog, "30d"))
    qtbot.waitUntil(lambda: "last 30 days: total 11, valid 9" in chart_text(dialog))
    dialog.close()


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, r"This plugin does not support raise\(\)")  # offscreen, on a tool tip
def test_details_action_hover_and_history(qtbot: QtBot, make_window: WindowFactory, used: dict[str, int]) -> None:
    from desktop.ui.widgets.usage_chart import UsageChart

    window = make_window()
    action = window.findChild(type(window.reload_action), "detailsAction")
    assert action is not None and action in window.key_actions.key_menu.actions()
    select_keys(window, used["quiet"])
    action.trigger()
    dialog = details(qtbot)
    click(qtbot, period(dialog, "30d"))
    qtbot.waitUntil(lambda: "last 30 days: total 1, valid 1" in chart_text(dialog))
    chart = child(dialog, UsageChart, "usageChart")
    assert chart.series is not None
    # Hovering the bar of 10 days ago shows its numbers.
    index = next(i for i, b in enumerate(chart.series.buckets) if b.total)
    bar_set = chart._sets[Outcome.VALID]
    bar_set.hovered.emit(True, index)
    assert "1 verification" in QToolTip.text() and "Valid: 1" in QToolTip.text()
    click(qtbot, dialog.findChild(QPushButton, "detailsHistoryButton"))
    history = wait_for(qtbot, QDialog, "historyDialog")
    history.close()
    dialog.close()


def test_details_follow_a_rename_elsewhere_and_new_use(
    qtbot: QtBot, make_window: WindowFactory, used: dict[str, int], store: KeyStore
) -> None:
    window = make_window()
    window.usage.open_details(used["idle"])
    dialog = details(qtbot)
    qtbot.waitUntil(lambda: "total 0, valid 0" in chart_text(dialog))
    store.rename(used["idle"], "renamed by a colleague")
    qtbot.waitUntil(lambda: child(dialog, QLabel, "detailsDescriptionLabel").text() == "renamed by a colleague")
    created = store.create("another")  # new use of idle needs its key: a fresh one is counted instead
    verify(store, created.key, 3)
    window.usage.open_details(created.record.id)
    other = details(qtbot)
    qtbot.waitUntil(lambda: "total 3, valid 3" in chart_text(other))
    store.delete(created.record.id)
    qtbot.waitUntil(lambda: "deleted" in other.windowTitle())
    other.close()


def test_usage_view_lists_the_top_keys_in_order_and_a_link_opens_the_key(
    qtbot: QtBot, make_window: WindowFactory, used: dict[str, int]
) -> None:
    window = make_window()
    child(window, type(window.reload_action), "usageAction").trigger()
    view = wait_for(qtbot, UsageView, "usageView")
    # 7 days by default: busy's 11 verifies; quiet's one was 10 days ago.
    qtbot.waitUntil(lambda: "total 11, valid 9" in chart_text(view))
    assert [b.property("keyId") for b in view.key_buttons] == [used["busy"]]
    click(qtbot, period(view, "30d"))
    qtbot.waitUntil(lambda: "total 12, valid 10" in chart_text(view))
    assert [b.property("keyId") for b in view.key_buttons] == [used["busy"], used["quiet"]]
    click(qtbot, view.key_buttons[1])
    dialog = details(qtbot)
    assert child(dialog, QLabel, "detailsDescriptionLabel").text() == "quiet"
    assert window.table.selected_key_id() == used["quiet"]
    dialog.close()
    view.close()


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, r"This plugin does not support raise\(\)")  # the window comes forward
def test_the_unused_link_lists_the_keys_with_no_use_in_the_period(
    qtbot: QtBot, make_window: WindowFactory, used: dict[str, int]
) -> None:
    window = make_window()
    child(window, type(window.reload_action), "usageAction").trigger()
    view = wait_for(qtbot, QDialog, "usageView")
    unused = child(view, QPushButton, "unusedKeysButton")
    assert unused.text() == "Show the keys not used in the last 7 days"
    click(qtbot, unused)
    # busy was used now (a valid verify): quiet (10 days ago) and idle (never) are listed.
    qtbot.waitUntil(lambda: sorted(shown_ids(window)) == sorted([used["quiet"], used["idle"]]))
    assert window.query_bar.search_bar.status_filter.placeholderText() == "Not used in 7 days"
    click(qtbot, period(view, "30d"))
    click(qtbot, unused)
    qtbot.waitUntil(lambda: shown_ids(window) == [used["idle"]])
    wait_idle(qtbot, window)
    view.close()


CHART_MODULES = ("desktop.ui.widgets.usage_chart", "PySide6.QtCharts", "desktop.ui.dialogs.key_details")

STARTED = f"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
window = MainWindow(KeyStore.open(sys.argv[1]))
window.show()
while window.runner.pending() or window.total is None:
    app.processEvents()
print(sorted(m for m in {CHART_MODULES!r} if m in sys.modules))
window.usage.open_details(1)
while window.usage.details_dialog is None or window.runner.pending():
    app.processEvents()
print(sorted(m for m in {CHART_MODULES!r} if m in sys.modules))
window.close()
"""


def test_start_up_does_not_import_the_chart_and_a_details_dialog_does(tmp_path: Path) -> None:
    path = make_database(tmp_path / "keys.db")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", STARTED, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    started, opened = result.stdout.strip().splitlines()[-2:]
    assert started == "[]"
    assert opened == str(sorted(CHART_MODULES))


def test_details_are_for_one_key_at_a_time(qtbot: QtBot, make_window: WindowFactory, used: dict[str, int]) -> None:
    window: MainWindow = make_window()
    select_keys(window, used["busy"])
    assert window.usage.details_action.isEnabled()
    select_keys(window, used["busy"], used["quiet"])
    assert not window.usage.details_action.isEnabled()
