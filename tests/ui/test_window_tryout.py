"""The window's fixes from a new user's tryout (issue 9, items 9–11): titles, columns, messages, keys, menus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDateEdit,
    QDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QToolTip,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.core.clock import FixedClock
from desktop.core.store import KeyStore
from desktop.core.validation import expiry_instant
from desktop.core.values import NewKey
from desktop.ui import launcher, theme
from desktop.ui.control.key_table_model import COL_CREATED, COL_DESCRIPTION, COL_EXPIRES, COL_KEY, COL_STATUS
from desktop.ui.names import APP_NAME
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import OFFSCREEN_NOISE, WindowFactory
from tests.ui.helpers import cell_of, open_store, seed, wait_for, wait_idle
from tests.ui.widgets import child


def shown_title(widget: QWidget) -> str:
    """The title a window manager shows: Qt appends " — <display name>" unless the title is that name."""
    title = widget.windowTitle()
    return title if title == APP_NAME else f"{title} — {APP_NAME}"


# -- 9.9: titles ---------------------------------------------------------------------


def test_no_title_repeats_the_app_name(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    seed(store, 2)
    window = make_window()
    titles = {"main window": shown_title(window)}
    window.about_action.trigger()
    about = wait_for(qtbot, QMessageBox, "aboutDialog")
    titles["about"] = shown_title(about)
    about.close()
    window.generate_button.click()
    generate = wait_for(qtbot, QDialog, "generateDialog")
    titles["generate"] = shown_title(generate)
    generate.reject()
    cell_of(window, 0).delete_button.click()
    confirm = wait_for(qtbot, QMessageBox, "confirmDeleteDialog")
    titles["confirm"] = shown_title(confirm)
    confirm.reject()

    bad = tmp_path / "bad.db"
    bad.write_text("not a database")

    def quit_bad_database_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "badDatabaseDialog":
            titles["bad database"] = shown_title(box)
            child(box, QPushButton, "quitButton").click()
        else:
            timer.start()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.setInterval(20)
    timer.timeout.connect(quit_bad_database_box)
    timer.start()
    assert launcher.open_store_interactively(str(bad), None) is None
    assert str(open_store(window).location) in titles["main window"]
    repeated = {name: title for name, title in titles.items() if title.count(APP_NAME) != 1}
    assert repeated == {}
    assert isinstance(window, MainWindow)
    wait_idle(qtbot, window)


# -- 9.10: the Description column in a narrow window -----------------------------------------


def test_description_keeps_a_minimum_width_and_the_table_scrolls(
    short_folder: Path, qtbot: QtBot, make_window: WindowFactory
) -> None:
    path = short_folder / "keys.db"  # the header shows it whole: a long tmp_path kept the window wider than 640 px
    with KeyStore.open(str(path), create=True) as store:
        seed(store, 30)
    window = make_window(str(path))
    window.resize(640, 420)
    header = window.table.horizontalHeader()
    qtbot.waitUntil(lambda: window.width() == 640)
    QApplication.processEvents()
    description = header.sectionSize(COL_DESCRIPTION)
    assert description >= header.sectionSizeFromContents(COL_DESCRIPTION).width()  # not "Descr"
    assert description >= window.table.fontMetrics().averageCharWidth() * 20
    scroll = window.table.horizontalScrollBar()
    assert scroll.maximum() > 0 and window.table.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    # Wide again: the description takes the room, and nothing scrolls.
    window.resize(1300, 700)
    qtbot.waitUntil(lambda: window.width() == 1300)
    QApplication.processEvents()
    assert header.sectionSize(COL_DESCRIPTION) > description and scroll.maximum() == 0


# -- 9.11: columns that do not jump, the empty state, tool tips ------------------------------


def test_column_widths_do_not_jump_with_inactive_or_expired_rows(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, settings: QSettings
) -> None:
    now = datetime.now(UTC)
    # Expired on a date (what Generate and `create --expires` set): `Expired 2026-12-06`, the usual form.
    yesterday = expiry_instant((now - timedelta(days=2)).astimezone().date())
    older = [
        NewKey(f"older {i}", now - timedelta(days=60 - i), expires_at=yesterday, active=i % 2 == 0) for i in range(10)
    ]
    newer = [NewKey(f"newer {i}", now - timedelta(days=20 - i)) for i in range(10)]
    store.insert_many(older + newer)
    settings.setValue("table/pageSize", 10)
    window = make_window()
    header = window.table.horizontalHeader()
    assert all(not window.model.record(r).is_expired() and window.model.record(r).active for r in range(10))
    before = [header.sectionSize(c) for c in range(header.count())]
    window.pagination.next_button.click()  # Inactive and Expired rows
    QApplication.processEvents()
    assert any(not window.model.record(r).active for r in range(10))
    after = [header.sectionSize(c) for c in range(header.count())]
    assert after == before
    # Whatever the page, each cell's text fits its column (nothing elided but a long description).
    for row in range(window.model.rowCount()):
        for column in (COL_KEY, COL_CREATED, COL_EXPIRES, COL_STATUS):
            assert window.table.sizeHintForColumn(column) <= header.sectionSize(column), (row, column)


def test_the_empty_state_is_inside_the_table(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    label = window.findChild(QLabel, "emptyLabel")
    assert label is not None and label.isVisible() and "No API keys" in label.text()
    assert window.table.viewport().isAncestorOf(label)
    viewport = window.table.viewport().rect()
    assert viewport.contains(label.geometry())
    assert label.geometry().center().y() > viewport.height() // 4  # in the middle, not under the header


def test_the_empty_state_goes_when_a_key_arrives(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    window = make_window()
    label = child(window, QLabel, "emptyLabel")
    assert label.isVisible()
    store.create("From the command line")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=3000)
    assert not label.isVisible()


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, r"This plugin does not support raise\(\)")  # offscreen, on a tool tip
def test_a_description_tooltip_is_hidden_when_a_live_refresh_moves_the_rows(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 5)
    window = make_window()
    # Active, as under a person's mouse: a tip over an inactive window is hidden by Qt at once, fix or not.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    table = window.table
    index = window.model.index(2, COL_DESCRIPTION)
    where = table.viewport().mapToGlobal(table.visualRect(index).center())
    # Shown for a minute unless something hides it: only the reload may.
    QToolTip.showText(where, str(index.data(Qt.ItemDataRole.ToolTipRole)), table.viewport(), QRect(), 60_000)
    qtbot.waitUntil(QToolTip.isVisible)
    store.create("Another program's key")  # the rows move down one
    qtbot.waitUntil(lambda: window.model.rowCount() == 6, timeout=3000)
    # Qt fades a hidden tip out over a moment (on X11); left alone it would stay for ten seconds or more.
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=1500)


def test_generated_message_stays_while_the_key_is_shown(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    expiry = child(window.notification_area, QTimer, "noticeExpiryTimer")
    window.generate_button.click()
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    child(dialog, QPushButton, "generateConfirmButton").click()
    shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
    wait_idle(qtbot, window)
    assert "Generated" in window.notification_area.text() and "Copy it now" in window.notification_area.text()
    assert not expiry.isActive()  # no timer takes it away while the key is on screen
    child(shown, QPushButton, "copyKeyButton").click()
    assert "Generated" in window.notification_area.text()
    shown.accept()
    qtbot.waitUntil(lambda: not shown.isVisible())
    assert expiry.isActive()  # now it goes in its own time
    expiry.timeout.emit()
    assert window.notification_area.text() == ""


# -- the Generate dialog ---------------------------------------------------------------------


def _open_generate(qtbot: QtBot, window: MainWindow) -> QDialog:
    window.generate_button.click()
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    return dialog


def test_generate_says_why_it_is_disabled_from_the_start_and_keeps_its_size(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    dialog = _open_generate(qtbot, window)
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    reason = child(dialog, QLabel, "errorLabel")
    edit = child(dialog, QLineEdit, "descriptionEdit")
    assert not confirm.isEnabled()
    assert reason.isVisible() and "description is required" in reason.text().lower()
    size = dialog.size()
    sizes = {"open": size}
    qtbot.keyClicks(edit, "Billing")
    QApplication.processEvents()
    assert confirm.isEnabled() and not reason.isVisible()
    sizes["valid"] = dialog.size()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    QApplication.processEvents()
    assert reason.isVisible() and not confirm.isEnabled()
    sizes["emptied"] = dialog.size()
    qtbot.keyClicks(edit, "x" * 257)
    QApplication.processEvents()
    sizes["too long"] = dialog.size()
    assert all(value == size for value in sizes.values()), sizes
    assert reason.heightForWidth(reason.width()) <= reason.height()  # and the reason is not cut
    dialog.reject()


def test_text_over_the_limit_is_refused_with_the_counter_in_red_not_cut(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    dialog = _open_generate(qtbot, window)
    edit = child(dialog, QLineEdit, "descriptionEdit")
    counter = child(dialog, QLabel, "descriptionCounter")
    confirm = child(dialog, QPushButton, "generateConfirmButton")
    edit.insert("y" * 300)  # as a paste does
    assert edit.text() == "y" * 300  # kept whole, for the person to shorten
    assert counter.text() == "300 / 256"
    assert not confirm.isEnabled()
    reason = child(dialog, QLabel, "errorLabel")
    assert reason.isVisible() and "300" in reason.text() and "256" in reason.text()
    red = theme.error_text(dialog.palette())
    assert _text_colour(counter) == red
    edit.setText("y" * 256)
    assert counter.text() == "256 / 256" and _text_colour(counter) != red and confirm.isEnabled()
    dialog.reject()


def _text_colour(label: QLabel) -> QColor:
    """The colour the label's text is drawn in: its darkest or most saturated rendered pixel."""
    image = label.grab().toImage()
    background = image.pixelColor(0, 0)
    counts: dict[str, int] = {}
    for x in range(image.width()):
        for y in range(image.height()):
            colour = image.pixelColor(x, y)
            if colour != background:
                counts[colour.name()] = counts.get(colour.name(), 0) + 1
    # Antialiasing blends the text colour with the background; the full colour is the most frequent.
    return QColor(max(counts, key=lambda name: counts[name]))


def test_past_dates_in_the_calendar_look_disabled(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(clock=FixedClock(datetime(2031, 3, 18, 12, tzinfo=UTC)))
    dialog = _open_generate(qtbot, window)
    child(dialog, QCheckBox, "expiryEnabled").setChecked(True)
    edit = child(dialog, QDateEdit, "expiryEdit")
    calendar = edit.calendarWidget()
    calendar.setCurrentPage(2031, 3)
    calendar.resize(420, 300)
    calendar.show()
    qtbot.waitExposed(calendar)
    image = calendar.grab().toImage()
    view = child(calendar, QTableView)
    model = view.model()

    def darkest_in(day: int) -> int:
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                index = model.index(row, column)
                if str(index.data()) == str(day):
                    cell = view.visualRect(index)
                    rect = QRect(view.viewport().mapTo(calendar, cell.topLeft()), cell.size())
                    return min(
                        image.pixelColor(x, y).lightness()
                        for x in range(rect.left() + 2, rect.right() - 2)
                        for y in range(rect.top() + 2, rect.bottom() - 2)
                    )
        raise AssertionError(f"no cell for day {day}")

    # Days 15–22 appear once in any month's grid (the other months' days shown are ≥ 23 or ≤ 14);
    # the 17th (a Monday) and 20th (a Thursday) are weekdays, drawn in the text colour, not the weekend red.
    past, allowed = darkest_in(17), darkest_in(20)
    # The allowed day's number is drawn in the text colour; the past day's only in the faint disabled one.
    assert past - allowed > 60, (past, allowed)
    calendar.hide()
    dialog.reject()


# -- keys: PgUp/PgDn in the table ---------------------------------------------------------------


def test_page_down_scrolls_inside_the_table_and_alt_arrows_turn_pages(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 120)
    window = make_window()
    window.resize(900, 420)
    window.pagination.size_combo.setCurrentIndex(window.pagination.size_combo.findData(100))
    window.pagination.size_combo.activated.emit(window.pagination.size_combo.currentIndex())
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    label = child(window, QLabel, "pageLabel")
    table = window.table
    table.setFocus()
    table.selectRow(0)
    qtbot.waitUntil(table.hasFocus)
    scroll = table.verticalScrollBar()
    assert scroll.maximum() > 0 and scroll.value() == 0
    qtbot.keyClick(table, Qt.Key.Key_PageDown)
    assert label.text().startswith("1–100")  # the same page…
    assert scroll.value() > 0  # …scrolled
    qtbot.keyClick(table, Qt.Key.Key_PageUp)
    assert scroll.value() == 0 and label.text().startswith("1–100")
    qtbot.keyClick(table, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert label.text().startswith("101–120")
    qtbot.keyClick(table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert label.text().startswith("1–100")


# -- the delete confirmation ------------------------------------------------------------------


def test_delete_confirmation_says_it_once(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    seed(store, 1)
    window = make_window()
    cell_of(window, 0).delete_button.click()
    box = wait_for(qtbot, QMessageBox, "confirmDeleteDialog")
    detail = box.informativeText().lower()
    assert "rejected" in detail
    assert detail.count("cannot be") + detail.count("can't be") == 1, detail
    box.reject()


# -- File ▸ Open Recent --------------------------------------------------------------------------


def test_open_recent_remembers_databases_and_reopens_them(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path, db_path: Path
) -> None:
    others = []
    for name in ("first.db", "second & third.db"):
        path = tmp_path / name
        with KeyStore.open(str(path), create=True) as opened:
            seed(opened, 2)
        others.append(path)
    window = make_window()
    for path in others:
        window.databases.open_database(str(path))
    window.close()
    again = make_window()  # a new window, the same settings: remembered across runs
    menu = again.findChild(QMenu, "openRecentMenu")
    assert menu is not None and menu.isEnabled()
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if a.data()]
    assert [a.data() for a in entries] == [str(db_path), str(others[1]), str(others[0])]  # most recent first
    assert "second && third.db" in entries[1].text()  # an & in a path is not a mnemonic
    assert not entries[0].isEnabled()  # the one open now
    entries[2].trigger()
    qtbot.waitUntil(lambda: again.store is not None and again.store.location == str(others[0]))
    menu.aboutToShow.emit()
    assert next(a.data() for a in menu.actions() if a.data()) == str(others[0])
    clear = next(a for a in menu.actions() if a.objectName() == "clearRecentAction")
    clear.trigger()
    assert not menu.isEnabled() and not [a for a in menu.actions() if a.data()]
    wait_idle(qtbot, again)
