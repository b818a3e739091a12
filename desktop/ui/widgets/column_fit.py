"""The keys table's column widths: each fixed column as wide as its texts in the current font, Description the rest.

Widths come from the font and the style, not from a fixed pixel count: a larger font makes every column wider. The
usual texts of a column (a date, Never, Expired with its icon, Inactive…) set its width whatever the
page, so paging from Active rows to Inactive or Expired ones moves no column. A rarer, longer text (a rolled key's
"Retiring …", a limited key's "Active · rate limited", a large balance of credits) widens its column while its
page is shown, instead of every page keeping room for it. Description gets what is left, down to a minimum below
which the table scrolls sideways rather than squeezing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from desktop.ui import theme
from desktop.ui.control.key_table_model import (
    COL_CREATED,
    COL_CREDITS,
    COL_DESCRIPTION,
    COL_EXPIRES,
    COL_KEY,
    COL_LAST_USED,
    COL_STATUS,
    KeyTableModel,
)
from desktop.ui.widgets.action_cell import small_icon

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTableView

#: The widest usual texts of each fixed column, and whether they carry an icon. The masked key is in a
#: monospaced font: any 4 + 4 characters are as wide.
USUAL_TEXTS: dict[int, tuple[tuple[str, bool], ...]] = {
    COL_KEY: (("ak_MMMM…MMMM", False),),
    COL_CREATED: (("9999-12-30", False),),
    # A date (its last valid day): what Generate and `create --expires` set. An instant (a roll's grace, a key
    # made through the API) reads longer, `Until 14:30 tomorrow`, and widens the column on its page only.
    COL_EXPIRES: (("Expired 9999-12-30", True), ("9999-12-30", False), ("Never", False)),
    COL_LAST_USED: (("11 months ago", False), ("23 hours ago", False), ("59 minutes ago", False)),
    COL_STATUS: (("Inactive", False), ("Active", False)),
    COL_CREDITS: (("Credits", False), ("999,999", False)),
}
#: The columns whose texts on the page shown are measured too: the others' come from a fixed set of forms that
#: USUAL_TEXTS covers (one page turn at 100 rows costs about 0.2 ms per column measured).
MEASURED_ON_PAGE = (COL_EXPIRES, COL_STATUS, COL_CREDITS)
#: The Description column never gets narrower than this many average characters (a description and its scope
#: chips stay readable); in a narrower window the table scrolls sideways instead.
DESCRIPTION_MIN_CHARS = 40
#: Texts measured kept: far more than the distinct expiry and last-use texts of many pages.
_MEASURED_LIMIT = 2048
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)


class ColumnFit:
    """Sizes `view`'s columns: measure() after a change of font or style, measure_page() after a new page, fit()
    after a resize. The Actions column is the view's (its row widgets' size)."""

    def __init__(self, view: QTableView, model: KeyTableModel) -> None:
        self._view = view
        self._model = model
        self._usual: dict[int, int] = {}  # for the usual texts, in the current font
        self._page: dict[int, int] = {}  # for the texts of the page shown
        self._measured: dict[tuple[int, str, bool], int] = {}
        self._fitting = False
        #: Between a page's "about to be replaced" and "replaced": its dataChanged is measured once, after.
        self.replacing = False

    def text_width(self, column: int, text: str, icon: bool = True) -> int:
        """The width the item delegate asks for to show `text` in `column` (icon and margins included)."""
        view = self._view
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        index = self._model.index(0, column) if self._model.rowCount() else QModelIndex()
        option.text = text
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        if column == COL_KEY:
            font = theme.monospace_font()
            option.font = font
            option.fontMetrics = QFontMetrics(font)
        if icon:  # the warning and info icons
            option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
            option.icon = theme.icon("warning")
            option.decorationSize = view.iconSize() if view.iconSize().isValid() else small_icon(view)
        option.index = index
        return view.style().sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, option, QSize(), view).width()

    def measure(self) -> None:
        """The usual texts' widths for the current font and style (not the page shown), then the page's."""
        header = self._view.horizontalHeader()
        self._measured.clear()
        for column, texts in USUAL_TEXTS.items():
            content = max(self.text_width(column, text, icon) for text, icon in texts)
            self._usual[column] = max(content, header.sectionSizeFromContents(column).width()) + 2
        self.measure_page()

    def measure_page(self) -> None:
        """The widths the page shown needs beyond the usual ones (a long text only it has), then fit."""
        widths: dict[int, int] = {}
        rows = range(self._model.rowCount())
        answers, measured = self._model.answers, self._measured
        for column in MEASURED_ON_PAGE:
            widest = 0
            for key in {(column, c.get(_DISPLAY) or "", _DECORATION in c) for r in rows if (c := answers(r, column))}:
                width = measured.get(key)
                if width is None:
                    if len(measured) >= _MEASURED_LIMIT:
                        measured.clear()
                    width = measured[key] = self.text_width(*key) + 2
                widest = max(widest, width)
            widths[column] = widest
        self._page = widths
        self.fit()

    def data_changed(self, first: int, last: int, roles: list[int] | None) -> None:
        """Cells from column `first` to `last` changed: a key on the page may have turned Retiring (its roll is
        looked up after the page is shown) and need room."""
        if self.replacing or (roles and _DISPLAY not in [int(r) for r in roles]):
            return
        if any(first <= column <= last for column in MEASURED_ON_PAGE):
            self.measure_page()

    def width(self, column: int) -> int:
        """A fixed column's width: its usual texts', or the page's longer ones."""
        return max(self._usual.get(column, 0), self._page.get(column, 0))

    def description_min_width(self) -> int:
        view = self._view
        header = view.horizontalHeader().sectionSizeFromContents(COL_DESCRIPTION).width()
        return max(header, view.fontMetrics().averageCharWidth() * DESCRIPTION_MIN_CHARS)

    def fit(self) -> None:
        """Fixed columns to their widths, Description to the rest of the viewport (at least its minimum)."""
        if self._fitting:
            return
        self._fitting = True
        try:
            header = self._view.horizontalHeader()
            for column in self._usual:
                width = self.width(column)
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
            others = sum(header.sectionSize(c) for c in range(header.count()) if c != COL_DESCRIPTION)
            width = max(self.description_min_width(), self._view.viewport().width() - others)
            if header.sectionSize(COL_DESCRIPTION) != width:
                header.resizeSection(COL_DESCRIPTION, width)
        finally:
            self._fitting = False
