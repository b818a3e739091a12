"""The window's query as settings and headers: what is remembered for the next start, which header sorts by
which order, and the key-health links' lists. Apart from query_actions.py, which the window's frame imports
before its first paint: these tables need Qt's namespace and the core's query types, loaded after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from desktop.core.errors import InvalidInput
from desktop.core.query import Filter, KeyHealth, Query, Sort
from desktop.ui.control.key_table_model import COL_CREATED, COL_DESCRIPTION, COL_EXPIRES, COL_LAST_USED

if TYPE_CHECKING:
    from desktop.ui.platform.private_settings import PrivateSettings

SETTINGS_SEARCH = "query/search"
SETTINGS_STATUS = "query/status"
SETTINGS_SORT = "query/sort"
SETTINGS_REVERSE = "query/reverse"


#: Which header sorts by which order; the order each shows unreversed (newest / soonest / latest / A→Z first).
SORT_COLUMNS = {
    COL_CREATED: (Sort.CREATED, Qt.SortOrder.DescendingOrder),
    COL_EXPIRES: (Sort.EXPIRES, Qt.SortOrder.AscendingOrder),
    COL_LAST_USED: (Sort.LAST_USED, Qt.SortOrder.DescendingOrder),
    COL_DESCRIPTION: (Sort.DESCRIPTION, Qt.SortOrder.AscendingOrder),
}


#: The lists the key-health summary links to, by link name (KeyHealth's queries).
_HEALTH = KeyHealth(0, 0, 0)
HEALTH_QUERIES = {
    "never-expire": _HEALTH.never_expire_query,
    "never-used": _HEALTH.never_used_query,
    "not-used-lately": _HEALTH.not_used_lately_query,
}


def flipped(order: Qt.SortOrder) -> Qt.SortOrder:
    ascending = Qt.SortOrder.AscendingOrder
    return Qt.SortOrder.DescendingOrder if order == ascending else ascending


def saved_query(settings: PrivateSettings) -> Query:
    """The query remembered from the last run; anything unreadable falls back to its default."""
    search = settings.value(SETTINGS_SEARCH, "")
    status = settings.value(SETTINGS_STATUS, "")
    sort = settings.value(SETTINGS_SORT, Sort.CREATED.value)
    reverse = settings.value(SETTINGS_REVERSE, False)
    try:
        status_value = Filter(status) if isinstance(status, str) and status else None
    except ValueError:
        status_value = None
    try:
        sort_value = Sort(sort) if isinstance(sort, str) else Sort.CREATED
    except ValueError:
        sort_value = Sort.CREATED
    reversed_ = reverse is True or (isinstance(reverse, str) and reverse.lower() == "true")
    try:
        return Query(search if isinstance(search, str) else "", status_value, sort_value, reversed_)
    except InvalidInput:
        return Query(status=status_value, sort=sort_value, reverse=reversed_)
