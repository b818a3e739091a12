"""The audit log in a dialog: one key's history (`historyDialog`) or all events (`activityLogDialog`).

Paged by keyset like the keys (Previous/Next), newest first, at local time. The dialog only shows: its owner
reads each page off the GUI thread and hands it to `show_page`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core import presentation
from desktop.core.clock import SYSTEM_CLOCK
from desktop.core.values import Action, Event, EventCursor, EventPage
from desktop.ui.control.key_table_model import format_moment
from desktop.ui.text import plain_tooltip

EVENTS_PER_PAGE = 50
HEADERS = ("When", "Action", "Key", "Actor", "Details")
ALL_ACTIONS = "All actions"
#: How an action reads in the list and in the filter.
ACTION_TEXT = {
    Action.CREATED: "Created",
    Action.RENAMED: "Renamed",
    Action.ACTIVATED: "Activated",
    Action.DEACTIVATED: "Deactivated",
    Action.ROLLED: "Rolled",
    Action.SCOPES_CHANGED: "Scopes changed",
    Action.DELETED: "Deleted",
    Action.SEEDED: "Seeded",
    Action.CHANGED: "Changed",
    Action.LIMITS_CHANGED: "Limits changed",
}


def details_text(event: Event, masked_keys: Mapping[int, str] | None = None, now: datetime | None = None) -> str:
    """The details as a person reads them, by the CLI's rule (desktop.core.presentation)."""
    return presentation.details_text(event, masked_keys or {}, now or SYSTEM_CLOCK.now())


def actor_text(event: Event) -> str:
    return event.actor if not event.db_role else f"{event.actor} (role {event.db_role})"


class EventLogDialog(QDialog):
    """`pageRequested(before, action)` asks the owner for a page; `show_page` shows it."""

    pageRequested = Signal(object, object)  # EventCursor | None, Action | None

    def __init__(self, object_name: str, title: str, intro: str, parent: QWidget | None, *, filterable: bool) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(title)
        self.setModal(False)
        #: Where each page shown so far starts (None: the newest); the last is the one on screen.
        self._starts: list[EventCursor | None] = [None]
        self._next: EventCursor | None = None
        self.events: tuple[Event, ...] = ()

        intro_label = QLabel(intro, self)
        intro_label.setTextFormat(Qt.TextFormat.PlainText)
        intro_label.setWordWrap(True)
        self.action_filter = QComboBox(self)
        self.action_filter.setObjectName("actionFilter")
        self.action_filter.setAccessibleName("Show events of")
        self.action_filter.addItem(ALL_ACTIONS, None)
        for action, text in ACTION_TEXT.items():
            self.action_filter.addItem(text, action)
        self.action_filter.setVisible(filterable)
        top_widget = QWidget(self)
        top = QHBoxLayout(top_widget)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(intro_label, 1)
        top.addWidget(self.action_filter)

        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setObjectName("eventsTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in range(len(HEADERS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("eventsPageLabel")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.prev_button = QPushButton("Previous", self)
        self.prev_button.setObjectName("eventsPrevButton")
        self.next_button = QPushButton("Next", self)
        self.next_button.setObjectName("eventsNextButton")
        for button in (self.prev_button, self.next_button):
            button.setAutoDefault(False)
        pager_widget = QWidget(self)
        pager = QHBoxLayout(pager_widget)
        pager.setContentsMargins(0, 0, 0, 0)
        pager.addWidget(self.status_label, 1)
        pager.addWidget(self.prev_button)
        pager.addWidget(self.next_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(top_widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(pager_widget)
        layout.addWidget(buttons)
        self.resize(960, 480)
        self.prev_button.clicked.connect(self._on_prev_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.action_filter.currentIndexChanged.connect(self._on_action_filter_current_index_changed)
        self._set_loading()

    # -- what the owner calls --

    def action(self) -> Action | None:
        value = self.action_filter.currentData()  # Qt hands a StrEnum back as a plain str
        return Action(value) if value else None

    def start(self) -> None:
        """Ask for the newest page."""
        self._starts = [None]
        self._request()

    def wants(self, before: EventCursor | None, action: Action | None) -> bool:
        """Whether a page read for (before, action) is the one to show now (not one asked for before a click)."""
        return before == self._starts[-1] and action == self.action()

    def on_first_page(self) -> bool:
        return len(self._starts) == 1

    def refresh(self) -> None:
        """The page shown, read again (the log grew): no "Reading…" flash, the rows stay until it comes."""
        self.pageRequested.emit(self._starts[-1], self.action())

    def show_page(self, page: EventPage) -> None:
        self.events = page.items
        self._next = page.next
        self.table.setRowCount(len(page.items))
        now = SYSTEM_CLOCK.now()
        for row, event in enumerate(page.items):
            try:
                action = ACTION_TEXT[Action(event.action)]
            except ValueError:
                action = event.action  # written by a newer version
            details = details_text(event, page.masked_keys, now)
            cells = (format_moment(event.at), action, event.masked or "", actor_text(event), details)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text) if column == len(cells) - 1 and text else "")
                self.table.setItem(row, column, item)
        number = len(self._starts)
        first = (number - 1) * EVENTS_PER_PAGE + 1
        if page.items:
            self.status_label.setText(f"Events {first:,}–{first + len(page.items) - 1:,}")
        else:
            self.status_label.setText("No events." if number == 1 else "No more events.")
        self.prev_button.setEnabled(number > 1)
        self.next_button.setEnabled(page.next is not None)
        self.action_filter.setEnabled(True)

    def show_error(self, message: str) -> None:
        self.status_label.setText(message)
        self.prev_button.setEnabled(len(self._starts) > 1)
        self.next_button.setEnabled(False)
        self.action_filter.setEnabled(True)

    # -- inside --

    def _set_loading(self) -> None:
        self.status_label.setText("Reading the log…")
        self.prev_button.setEnabled(False)
        self.next_button.setEnabled(False)

    def _request(self) -> None:
        self._set_loading()
        self.pageRequested.emit(self._starts[-1], self.action())

    def _on_prev_button_clicked(self) -> None:
        if len(self._starts) > 1:
            self._starts.pop()
            self._request()

    def _on_next_button_clicked(self) -> None:
        if self._next is not None:
            self._starts.append(self._next)
            self._request()

    def _on_action_filter_current_index_changed(self, _index: int) -> None:
        self.start()


def history_dialog(masked: str, parent: QWidget | None) -> EventLogDialog:
    return EventLogDialog(
        "historyDialog", f"History of {masked}", f"Every change to {masked}, newest first.", parent, filterable=False
    )


def activity_log_dialog(parent: QWidget | None) -> EventLogDialog:
    return EventLogDialog(
        "activityLogDialog",
        "Activity Log",
        "Every change to every key, newest first, with who made it.",
        parent,
        filterable=True,
    )
