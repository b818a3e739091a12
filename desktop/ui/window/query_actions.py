"""The window's search box, status filter, sortable headers, expiry banner and key-health summary.

A QObject the window makes (main_window.py), given itself, the controller, the table, the settings and the View
menu; it puts its widgets over the table and its actions in the menu. The controller runs each query off the GUI
thread (controller_query.py); this shows what it applied, and remembers it for the next start.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QMenu

    from desktop.core.query import Query
    from desktop.core.values import KeyRecord
    from desktop.ui.control.controller import Controller
    from desktop.ui.control.controller_query import Triage
    from desktop.ui.platform.private_settings import PrivateSettings
    from desktop.ui.widgets.key_table_view import KeyTableView

#: What the empty table says: with no search or filter, and with one that matches nothing.
EMPTY_TEXT = "No API keys yet. Generate one to get started."
NOTHING_MATCHED = "No keys match the search and filter."
CLEAR_ACTION = "Clear search and filter"


class QueryActions(QObject):
    """Search, filter, order, the expiry banner and the key-health summary; see the module's docstring."""

    def __init__(
        self,
        window: QMainWindow,
        controller: Controller,
        table: KeyTableView,
        settings: PrivateSettings,
        view_menu: QMenu,
    ) -> None:
        """The search row, the banner and the health line, over the table; the query remembered is restored."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence
        from PySide6.QtWidgets import QVBoxLayout, QWidget

        from desktop.ui.control.query_settings import saved_query
        from desktop.ui.widgets.expiry_banner import ExpiryBanner
        from desktop.ui.widgets.health_summary import HealthSummary
        from desktop.ui.widgets.search_bar import SearchBar

        super().__init__(window)
        self.controller = controller
        self.table = table
        self._settings = settings
        self.search_bar = SearchBar(window)
        self.search_edit = self.search_bar.search_edit
        self.status_filter = self.search_bar.status_filter
        self.expiry_banner = ExpiryBanner(window)
        self.health_summary = HealthSummary(window)
        block = QWidget(window)
        block.setObjectName("queryBlock")
        column = QVBoxLayout(block)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.expiry_banner)
        column.addWidget(self.search_bar)
        column.addWidget(self.health_summary)
        central = window.centralWidget()
        assert central is not None
        layout = central.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, block)  # under the title, over the table
        self.find_action = QAction("&Find Keys…", window)
        self.find_action.setObjectName("findAction")
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.clear_query_action = QAction("&Clear Search and Filter", window)
        self.clear_query_action.setObjectName("clearQueryAction")
        # The key-health summary's lists, for the keyboard too.
        self.health_actions = {}
        for link, text in (
            ("never-expire", "Keys That Never &Expire"),
            ("never-used", "Keys Never &Used"),
            ("not-used-lately", "Keys Not Used for &90 Days"),
        ):
            action = QAction(text, window)
            action.setObjectName(f"{link.replace('-', '_')}_action")
            action.triggered.connect(lambda _checked=False, link=link: self._on_health_action_triggered(link))
            self.health_actions[link] = action
        first = view_menu.actions()[0]
        view_menu.insertActions(first, [self.find_action, self.clear_query_action])
        view_menu.insertSeparator(first)
        view_menu.insertActions(first, list(self.health_actions.values()))
        view_menu.insertSeparator(first)
        query = saved_query(self._settings)
        self.controller.queries.show(query)
        self._show_query(query)

    def connect_signals(self) -> None:
        """After the window's own: the controller's signals reach the window first."""
        controller = self.controller
        controller.queryApplied.connect(self._on_controller_query_applied)
        controller.triageChanged.connect(self._on_controller_triage_changed)
        controller.pageChanged.connect(self._on_controller_page_changed)
        self.search_bar.changed.connect(self._on_search_bar_changed)
        self.table.sortRequested.connect(self._on_table_sort_requested)
        self.table.emptyActionClicked.connect(self.clear_query)
        self.expiry_banner.showRequested.connect(self._on_expiry_banner_show_requested)
        self.health_summary.queryRequested.connect(self._on_health_summary_query_requested)
        self.find_action.triggered.connect(self.search_bar.focus_search)
        self.clear_query_action.triggered.connect(self.clear_query)

    # -- asking --

    def clear_query(self) -> None:
        """Every key again (the order stays)."""
        self.search_bar.show_error(None)
        self.search_bar.clear()

    def apply_query(self, query: Query) -> None:
        """Show `query`'s keys: the widgets say it at once, the controller reads it off the GUI thread."""
        self.search_bar.show_error(None)
        self._show_query(query)
        self.controller.set_query(query)

    def _on_search_bar_changed(self) -> None:
        from desktop.core.errors import InvalidInput
        from desktop.core.query import Query

        current = self.controller.queries.wanted
        try:
            query = Query(self.search_bar.search_text(), self.search_bar.status(), current.sort, current.reverse)
        except InvalidInput as err:
            # The list stays as it was; the message says what to change (never repeating the text).
            self.search_bar.show_error(err.message)
            return
        self.search_bar.show_error(None)
        if query != current:
            self.controller.set_query(query)

    def _on_table_sort_requested(self, column: int) -> None:
        from desktop.ui.control.query_settings import SORT_COLUMNS

        sort, _order = SORT_COLUMNS[column]
        current = self.controller.queries.wanted
        reverse = not current.reverse if current.sort is sort else False
        self.apply_query(replace(current, sort=sort, reverse=reverse))

    def _on_expiry_banner_show_requested(self) -> None:
        from desktop.core.query import Filter

        self.search_bar.set_status(Filter.EXPIRING)

    def _on_health_action_triggered(self, link: str) -> None:
        from desktop.ui.control.query_settings import HEALTH_QUERIES

        query = HEALTH_QUERIES[link]
        self.apply_query(replace(query, search=self.search_bar.search_text()))

    def _on_health_summary_query_requested(self, query: Query) -> None:
        self.apply_query(replace(query, search=self.search_bar.search_text()))

    # -- showing --

    def _show_query(self, query: Query, *, search_bar: bool = True) -> None:
        from desktop.ui.control.query_settings import SORT_COLUMNS, flipped

        if search_bar:
            self.search_bar.set_state(query.search, query.status)
        column = next(c for c, (sort, _) in SORT_COLUMNS.items() if sort is query.sort)
        order = SORT_COLUMNS[column][1]
        self.table.set_sort_indicator(column, flipped(order) if query.reverse else order)
        if query.search or query.status is not None:
            self.table.set_empty_text(NOTHING_MATCHED, CLEAR_ACTION)
        else:
            self.table.set_empty_text(EMPTY_TEXT)

    def _on_controller_query_applied(self, query: Query) -> None:
        # Not the search box: the person may have typed on since this query was asked for.
        self._show_query(query, search_bar=False)
        self._remember_query(query)

    def _on_controller_page_changed(self, _records: list[KeyRecord], _select: int | None) -> None:
        self.clear_query_action.setEnabled(bool(self.controller.query.search or self.controller.query.status))

    def _on_controller_triage_changed(self, triage: Triage) -> None:
        self.expiry_banner.set_count(triage.expiring)
        self.health_summary.set_health(triage.health)

    def _remember_query(self, query: Query) -> None:
        # Never a whole key: the settings' gate (private_settings.py) keeps a key in the text only masked, which
        # finds the same key by its hint, and drops a text that names a password.
        from desktop.ui.control.query_settings import SETTINGS_REVERSE, SETTINGS_SEARCH, SETTINGS_SORT, SETTINGS_STATUS

        self._settings.setValue(SETTINGS_SEARCH, query.search)
        self._settings.setValue(SETTINGS_STATUS, query.status.value if query.status is not None else "")
        self._settings.setValue(SETTINGS_SORT, query.sort.value)
        self._settings.setValue(SETTINGS_REVERSE, query.reverse)
