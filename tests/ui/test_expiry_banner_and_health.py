"""The expiry banner and the key-health summary, through the real window on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.query import Filter, Query, Sort
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, wait_idle
from tests.ui.widgets import child


def shown_ids(window: MainWindow) -> list[int]:
    return [record.id for record in window.model.records()]


def wait_triaged(qtbot: QtBot, window: MainWindow) -> None:
    """Until the banner's and health summary's counts (on a thread of their own) have been shown."""
    summary = child(window, QLabel, "healthSummary")
    qtbot.waitUntil(lambda: window.controller.triage.pending() == 0 and summary.isVisible())


def banner(window: MainWindow) -> QWidget:
    found = window.findChild(QWidget, "expiryBanner")
    assert found is not None
    return found


def test_the_banner_shows_while_an_active_key_expires_within_7_days_and_show_them_lists_them(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 30)
    store.create("expires in ten days", date.today() + timedelta(days=10))
    window = make_window()
    wait_triaged(qtbot, window)
    assert not banner(window).isVisible()
    # Another process adds two keys that expire soon (and one that is inactive: not counted).
    soon = {store.create(f"soon {n}", date.today() + timedelta(days=n)).record.id for n in (1, 6)}
    store.set_active(store.create("soon but off", date.today() + timedelta(days=2)).record.id, False)
    qtbot.waitUntil(lambda: banner(window).isVisible(), timeout=5000)
    text = child(window, QLabel, "expiryBannerText").text()
    assert "2 active keys expire within 7 days" in text
    child(window, QPushButton, "expiryShowButton").click()
    combo = child(window, QComboBox, "statusFilter")
    assert combo.currentText() == "Expiring soon"
    qtbot.waitUntil(lambda: set(shown_ids(window)) == soon)
    # After a write through the window (deactivating one), the count follows.
    record = window.model.record(0)
    window.controller.set_active(record, False)
    qtbot.waitUntil(lambda: "1 active key expires within 7 days" in child(window, QLabel, "expiryBannerText").text())
    other = next(iter(soon - {record.id}))
    window.controller.set_active(store.get(other), False)
    qtbot.waitUntil(lambda: not banner(window).isVisible())
    wait_idle(qtbot, window)


def test_an_expired_key_still_marked_active_reads_expired_in_red(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    now = datetime.now(UTC)
    store.insert_many([NewKey("expired but active", now - timedelta(days=30), now - timedelta(days=1))])
    store.create("fine")
    window = make_window()
    model = window.model
    status = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index("Status")
    rows = {record.description: row for row, record in enumerate(model.records())}
    expired = model.index(rows["expired but active"], status)
    fine = model.index(rows["fine"], status)
    assert expired.data() == "Expired" and fine.data() == "Active"
    assert expired.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert fine.data(Qt.ItemDataRole.ForegroundRole) is None


def test_the_health_summary_counts_and_each_figure_lists_its_keys(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, db_path: Path
) -> None:
    from desktop.core.clock import FixedClock

    never_expire = {store.create(f"forever {n}").record.id for n in range(3)}
    dated = store.create("dated", date.today() + timedelta(days=60))
    store.verify(dated.key)
    old = store.create("used long ago", date.today() + timedelta(days=200))
    with KeyStore.open(str(db_path), FixedClock(datetime.now(UTC) - timedelta(days=120))) as back_then:
        back_then.verify(old.key)  # last used 120 days ago
    window = make_window()
    wait_triaged(qtbot, window)
    summary = child(window, QLabel, "healthSummary")
    text = summary.text()
    assert "3 never expire" in text and "3 never used" in text and "1 not used for 90 days" in text
    expected = {
        "never-expire": (never_expire, Filter.NEVER_EXPIRES, "Never expire"),
        "never-used": (never_expire, Filter.UNUSED, "Never used"),
        "not-used-lately": ({old.record.id}, Filter.STALE, "Not used for 90 days"),
    }
    combo = child(window, QComboBox, "statusFilter")
    for link, (ids, status, shown) in expected.items():
        summary.linkActivated.emit(link)  # what a click on that figure sends

        def filtered(status: Filter = status) -> bool:
            return window.controller.query.status is status

        qtbot.waitUntil(filtered)
        assert set(shown_ids(window)) == ids
        assert (
            combo.currentText() or combo.placeholderText()
        ) == shown  # an item, or the combo's placeholder for the summary's own filters
    assert window.controller.query.sort is Sort.LAST_USED
    wait_idle(qtbot, window)
    assert window.controller.query == Query(status=Filter.STALE, sort=Sort.LAST_USED)
    # The same lists from the View menu, for the keyboard.
    view = {action.text(): action for action in window.view_menu.actions()}
    for text, (ids, status, shown) in zip(
        ("Keys That Never &Expire", "Keys Never &Used", "Keys Not Used for &90 Days"), expected.values(), strict=True
    ):
        view[text].trigger()

        def filtered(status: Filter = status) -> bool:
            return window.controller.query.status is status

        qtbot.waitUntil(filtered)
        assert set(shown_ids(window)) == ids
        assert (combo.currentText() or combo.placeholderText()) == shown
    wait_idle(qtbot, window)


def test_the_banner_and_health_counts_never_hold_up_a_search_or_a_write(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    import threading

    from PySide6.QtWidgets import QLineEdit

    seed(store, 30)
    billing = store.create("billing").record.id
    window = make_window()
    qtbot.waitUntil(lambda: window.controller.triage.pending() == 0)
    runner = window.controller.triage._runner
    assert runner is not None
    release = threading.Event()
    runner.submit(lambda: release.wait(10), lambda _result: None, lambda _err: None)  # a triage that takes long
    try:
        qtbot.keyClicks(window.findChild(QLineEdit, "searchEdit"), "billing")
        qtbot.waitUntil(lambda: shown_ids(window) == [billing])
        wait_idle(qtbot, window)
        assert child(window, QLabel, "pageLabel").text() == "1–1 of 1 matching"
        window.controller.set_active(store.get(billing), False)
        qtbot.waitUntil(lambda: not window.model.record(0).active)
    finally:
        release.set()
    qtbot.waitUntil(lambda: window.controller.triage.pending() == 0)


def test_the_banner_is_tinted_and_readable_on_light_and_dark_palettes(qtbot: QtBot) -> None:
    from PySide6.QtGui import QColor, QPalette

    from desktop.ui import theme
    from desktop.ui.widgets.expiry_banner import ExpiryBanner
    from tests.ui.screenshot import dark_palette

    banner = ExpiryBanner()
    qtbot.addWidget(banner)
    for palette in (QPalette(QColor("#f0f0f0")), dark_palette()):
        banner.setPalette(palette)
        background = banner.styleSheet().split("background: ")[1].split(";")[0]
        text = banner.palette().color(QPalette.ColorRole.WindowText)
        assert theme.contrast_ratio(QColor(background), text) >= theme.MIN_CONTRAST, background
    assert banner.styleSheet().count("#3d3014") == 1  # the dark tint, after the dark palette
