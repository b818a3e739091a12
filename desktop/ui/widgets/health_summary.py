"""One line under the search box: keys that never expire, were never used, or not for 90 days; each a link."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from desktop.core.query import KeyHealth, Query

#: Link targets: which of KeyHealth's queries a link lists.
_LINKS = ("never-expire", "never-used", "not-used-lately")


class HealthSummary(QLabel):
    """`healthSummary`: counted off the GUI thread with every recount; a click lists those keys."""

    #: The query that lists the keys a link counts.
    queryRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthSummary")
        self.setTextFormat(Qt.TextFormat.RichText)
        # By mouse: keyboard users have the same lists in View (a label taking Tab would trap it among its links).
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.setWordWrap(True)
        self.health: KeyHealth | None = None
        self.linkActivated.connect(self._on_link_activated)
        self.hide()

    def set_health(self, health: KeyHealth) -> None:
        self.health = health
        parts = (
            (health.never_expire, "never expire", "never expires"),
            (health.never_used, "never used", "never used"),
            (health.not_used_lately, "not used for 90 days", "not used for 90 days"),
        )
        links = [
            f"<a href='{link}'>{count:,} {many if count != 1 else one}</a>" if count else f"0 {many}"
            for link, (count, many, one) in zip(_LINKS, parts, strict=True)
        ]
        self.setText("Key health: " + " · ".join(links))
        self.setToolTip("Click a figure to list those keys.")
        self.show()

    def query_for(self, link: str) -> Query | None:
        health = self.health
        if health is None or link not in _LINKS:
            return None
        return (health.never_expire_query, health.never_used_query, health.not_used_lately_query)[_LINKS.index(link)]

    def _on_link_activated(self, link: str) -> None:
        query = self.query_for(link)
        if query is not None:
            self.queryRequested.emit(query)
