"""The table model: one page of keys, as plain records from the store."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPalette

from desktop.core.key_fields import TABLE_FIELDS
from desktop.core.presentation import expiry_cell, expiry_phrase, expiry_when, rate_phrase, status_text
from desktop.core.values import Limits, LimitState, Status
from desktop.ui import theme

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord

#: The key's columns as `core/key_fields.py` orders and heads them, then its remaining credits (from its limits,
#: not the key's row) and the row's actions.
HEADERS = (*(f.header for f in TABLE_FIELDS), "Credits", "Actions")
_NAMES = tuple(f.name for f in TABLE_FIELDS)
COL_KEY = _NAMES.index("masked")
COL_DESCRIPTION = _NAMES.index("description")
COL_CREATED = _NAMES.index("created_at")
COL_EXPIRES = _NAMES.index("expires_at")
COL_LAST_USED = _NAMES.index("last_used_at")
COL_STATUS = _NAMES.index("status")
COL_CREDITS = len(TABLE_FIELDS)
COL_ACTIONS = COL_CREDITS + 1

#: The sortable headers say so (query_actions.py sorts on their clicks).
_HEADER_TIPS = {
    COL_DESCRIPTION: "Sort by description, A→Z (click again to reverse)",
    COL_CREATED: "Sort by creation, newest first (click again to reverse)",
    COL_EXPIRES: "Sort by expiry, soonest first, never-expiring last (click again to reverse)",
    COL_LAST_USED: "Sort by last use, most recent first, never used last (click again to reverse)",
}

#: The record's key ID, for views and tests that need to know which key a row is.
KEY_ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: The record's scopes (a tuple of str), which the Description cell draws as chips.
SCOPES_ROLE = Qt.ItemDataRole.UserRole + 2

NEVER = "Never"
RETIRING = "Retiring"
#: A Status cell's words after `Active` while the key's limits reject its verifies, and a key's Credits cell
#: when it has no credits limit.
RATE_LIMITED, OUT_OF_CREDITS, NO_CREDITS = "rate limited", "out of credits", "—"

_Index = QModelIndex | QPersistentModelIndex

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_CENTERED = frozenset((COL_CREATED, COL_EXPIRES, COL_LAST_USED, COL_STATUS, COL_CREDITS))
_LAZY = object()
_LEFT_CENTERED = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
_NO_LIMITS = LimitState(Limits())


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _duration(seconds: int) -> str:
    """`12 s`, `4 min 10 s`, `2 h 5 min`: how long until a rate limit lets a verify through."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds % 60 else f"{seconds // 60} min"
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"{hours:,} h {minutes} min" if minutes else f"{hours:,} h"


def format_day(moment: datetime) -> str:
    # isoformat, not strftime("%Y-%m-%d"): the same text at a third of the cost (a page formats 25 of them).
    return moment.astimezone().date().isoformat()


def format_moment(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def format_moment_seconds(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def ago_text(moment: datetime | None, now: datetime) -> str:
    """`Never`, or how long ago in the largest whole unit: `just now`, `3 minutes ago`, `2 days ago`."""
    if moment is None:
        return NEVER
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"  # and a clock a little behind the database's
    for unit, length in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    minutes = int(seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''} ago"


def expiry_text(record: KeyRecord, now: datetime) -> str:
    """The Expires cell, by the CLI's rule: the last valid day of a date, `Until 14:30 today` for an instant."""
    return expiry_cell(record.expires_at, now)


def description_tooltip(record: KeyRecord, now: datetime) -> str:
    """Rich text, escaped: a description is the person's text, never markup."""
    if record.expires_at is None:
        expiry = "never"
    elif record.is_expired(now):
        expiry = f"{expiry_phrase(record.expires_at, now)} (expired)"
    else:
        expiry = expiry_phrase(record.expires_at, now)
    rows = (
        ("Key", record.masked),
        ("Created", format_moment(record.created_at)),
        ("Last used", format_moment(record.last_used_at)),
        ("Expires", expiry),
        ("Status", status_text(record, now)),
        ("Scopes", " ".join(record.scopes) or "none"),
        ("Key ID", str(record.id)),
    )
    table = "".join(f"<tr><td><b>{name}:</b>&nbsp;</td><td>{html.escape(value)}</td></tr>" for name, value in rows)
    return f"<p style='white-space: pre-wrap'>{html.escape(record.description)}</p><table>{table}</table>"


class KeyTableModel(QAbstractTableModel):
    """One page of keys; the window decides which page, the model only shows it."""

    #: A page replaces the one before in place, between these two: the rows only one of them has inserted or
    #: removed at the end, then dataChanged over the rows both have. A reset would make the view drop its row
    #: widgets, re-create its header's sections and lay everything out again; a page turn needs none of that,
    #: only a repaint. Only a change to or from no rows at all resets.
    pageAboutToBeReplaced = Signal()
    pageReplaced = Signal()

    def __init__(self, parent: QObject | None = None, *, clock: Callable[[], datetime] = _utcnow) -> None:
        super().__init__(parent)
        self._records: tuple[KeyRecord, ...] = ()
        self._clock = clock
        self._now = clock()
        self._palette: QPalette | None = None
        #: Keys that were rolled: while their expiry is ahead, it is the end of their grace ("Retiring …").
        self._rolled: frozenset[int] = frozenset()
        #: The limits of the page's limited keys (KeyStore.limit_states); a key absent has none.
        self._limits: dict[int, LimitState] = {}
        #: Per row (None until first asked), per column, role → value: see data().
        self._cells: list[tuple[dict[int, Any], ...] | None] = []
        #: What every row's answers share (fonts, icons, the expired colour), worked out once per page: see _shared.
        self._shared_answers: tuple[QFont, QIcon, QIcon, QColor] | None = None

    # -- contents --

    def reload(self, records: Sequence[KeyRecord]) -> None:
        records = tuple(records)
        before, after = len(self._records), len(records)
        if not before or not after:
            self.beginResetModel()
            self._take(records)
            self.endResetModel()
            return
        self.pageAboutToBeReplaced.emit()
        # The rows both pages have keep the old page's keys until dataChanged: an insertion or removal
        # changes no other row (Qt's model tester holds a model to that).
        if after < before:
            self.beginRemoveRows(QModelIndex(), after, before - 1)
            self._take(self._records[:after])
            self.endRemoveRows()
        elif after > before:
            self.beginInsertRows(QModelIndex(), before, after - 1)
            self._take(self._records + records[before:])
            self.endInsertRows()
        self._take(records)
        self.dataChanged.emit(self.index(0, 0), self.index(min(before, after) - 1, len(HEADERS) - 1))
        self.pageReplaced.emit()

    def _take(self, records: tuple[KeyRecord, ...]) -> None:
        self._records = records
        self._now = self._clock()
        self._forget_answers()

    def _forget_answers(self) -> None:
        """After any change to what the cells show: data() works each row's answers out again when asked."""
        self._cells = [None] * len(self._records)
        self._shared_answers = None

    def _shared(self) -> tuple[QFont, QIcon, QIcon, QColor]:
        """The key column's font, the info and warning icons and the expired text's colour: the same for every
        row, so looked up once per page, not once per row (a font and a colour made anew each time)."""
        shared = self._shared_answers
        if shared is None:
            expired = theme.expired_text(self._palette or QGuiApplication.palette())
            shared = self._shared_answers = (theme.monospace_font(), theme.icon("info"), theme.icon("warning"), expired)
        return shared

    def records(self) -> tuple[KeyRecord, ...]:
        return self._records

    def expiry_passed(self) -> bool:
        """Whether a key shown as valid has expired since the page was loaded (cheap: one page)."""
        now = self._clock()
        return any(r.expires_at is not None and self._now < r.expires_at <= now for r in self._records)

    def record(self, row: int) -> KeyRecord:
        return self._records[row]

    def row_of(self, key_id: int) -> int | None:
        for row, record in enumerate(self._records):
            if record.id == key_id:
                return row
        return None

    def rolled(self) -> frozenset[int]:
        return self._rolled

    def set_rolled(self, key_ids: frozenset[int]) -> None:
        """Which keys were rolled (KeyStore.rolled_among); their Expires cells say until when they still work."""
        if key_ids == self._rolled:
            return
        self._rolled = key_ids
        self._forget_answers()
        if self._records:
            self.dataChanged.emit(self.index(0, COL_EXPIRES), self.index(len(self._records) - 1, COL_EXPIRES))

    def retiring(self, record: KeyRecord) -> bool:
        """Rolled, and its grace not over yet: it still works (status Active) until its expiry."""
        return record.id in self._rolled and record.expires_at is not None and not record.is_expired(self._now)

    def limit_states(self) -> dict[int, LimitState]:
        return self._limits

    def set_limit_states(self, states: dict[int, LimitState]) -> None:
        """The limits of the keys shown (read after the page): their Credits cells, and whether their Status says
        rate limited or out of credits. Called again (with the same states) when a rate's block ends."""
        self._limits = dict(states)
        self._now = self._clock()
        self._forget_answers()
        if self._records:
            self.dataChanged.emit(self.index(0, COL_STATUS), self.index(len(self._records) - 1, COL_CREDITS))

    def limit_state(self, record: KeyRecord) -> LimitState:
        return self._limits.get(record.id, _NO_LIMITS)

    def _limited(self, record: KeyRecord, now: datetime) -> str | None:
        """Why an active key's verifies are rejected by its limits now (None: they are not)."""
        state = self._limits.get(record.id)
        if state is None or record.status(now) is not Status.ACTIVE:
            return None  # an inactive or expired key is rejected before its limits are asked
        if state.rate_limited(now):
            return RATE_LIMITED
        return OUT_OF_CREDITS if state.out_of_credits else None

    def set_palette(self, palette: QPalette) -> None:
        """Colours follow the view's palette (light or dark)."""
        self._palette = QPalette(palette)
        self._forget_answers()
        if self._records:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(len(self._records) - 1, len(HEADERS) - 1),
                [Qt.ItemDataRole.ForegroundRole],
            )

    # -- QAbstractTableModel --

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS)
        if horizontal and role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return HEADERS[section]
        if horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(section)
        return None

    # No flags(): QAbstractTableModel's own answers what a cell is (enabled, selectable, no children) in C++. The
    # view asks it for every cell on every paint; a Python override cost each a call from C++ into Python.

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Asked about 850 times per paint (every visible cell, seven roles each), each a call from C++ into
        # Python: a row's answers are worked out once per page, on the first ask, and looked up after that.
        # Tool tips, asked only on hover, are worked out when asked.
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        cell = self.answers(row, column)
        if cell is None:
            return None
        value = cell.get(role, _LAZY)
        if value is _LAZY:
            return self._tooltip(self._records[row], column) if role == _TOOLTIP else None
        return value

    def answers(self, row: int, column: int) -> dict[int, Any] | None:
        """The cell's answers but its tool tip, role → value (the table's delegate draws from these)."""
        if row < 0 or column < 0:
            return None
        try:
            cells = self._cells[row]
            if cells is None:
                cells = self._cells[row] = self._row_cells(self._records[row])
            return cells[column]
        except IndexError:
            return None

    def _row_cells(self, record: KeyRecord) -> tuple[dict[int, Any], ...]:
        """Every cell's answers but its tool tip, per column: role → value (a role it lacks answers None)."""
        now = self._now
        key_id, scopes = record.id, record.scopes
        font, info, warning, expired = self._shared()
        cells = []
        for column in range(len(HEADERS)):
            text = self._display(record, column, _DISPLAY)
            cell: dict[int, Any] = {_DISPLAY: text, _ACCESSIBLE_TEXT: text, KEY_ID_ROLE: key_id, SCOPES_ROLE: scopes}
            if column in _CENTERED:
                cell[_ALIGNMENT] = _LEFT_CENTERED
            cells.append(cell)
        cells[COL_KEY][_FONT] = font
        cells[COL_DESCRIPTION][_DECORATION] = info
        cells[COL_ACTIONS][_ACCESSIBLE_TEXT] = self._display(record, COL_ACTIONS, _ACCESSIBLE_TEXT)
        cells[COL_CREDITS][_ACCESSIBLE_TEXT] = self._display(record, COL_CREDITS, _ACCESSIBLE_TEXT)
        if record.is_expired(now):
            cells[COL_EXPIRES][_DECORATION] = warning
            cells[COL_EXPIRES][_FOREGROUND] = expired
        if record.status(now) is Status.EXPIRED or self._limited(record, now):
            cells[COL_STATUS][_FOREGROUND] = expired  # still active, yet rejected
        return tuple(cells)

    def _display(self, record: KeyRecord, column: int, role: int) -> str | None:
        if column == COL_KEY:
            return record.masked
        if column == COL_DESCRIPTION:
            return record.description
        if column == COL_CREATED:
            return format_day(record.created_at)
        if column == COL_EXPIRES:
            if self.retiring(record):
                assert record.expires_at is not None
                return f"{RETIRING} {expiry_when(record.expires_at, self._now)}"
            return expiry_text(record, self._now)
        if column == COL_LAST_USED:
            return ago_text(record.last_used_at, self._now)
        if column == COL_STATUS:
            limited = self._limited(record, self._now)
            return status_text(record, self._now) + ("" if limited is None else f" · {limited}")
        if column == COL_CREDITS:
            credits = self.limit_state(record).limits.credits
            if credits is None:
                return "no credits limit" if role == Qt.ItemDataRole.AccessibleTextRole else NO_CREDITS
            return f"{credits:,}"
        if column == COL_ACTIONS:
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{'Deactivate' if record.active else 'Activate'} or delete {record.masked}"
            return ""
        return None

    def _tooltip(self, record: KeyRecord, column: int) -> str | None:
        if column == COL_DESCRIPTION:
            return description_tooltip(record, self._now)
        if column == COL_KEY:
            return f"{record.masked}: the full key was shown only once, when it was generated."
        if column == COL_CREATED:
            return format_moment(record.created_at)
        if column == COL_EXPIRES:
            if record.expires_at is None:
                return "This key never expires."
            phrase = expiry_phrase(record.expires_at, self._now)
            if self.retiring(record):
                return (
                    f"Rolled: this key still works {phrase}, then clients using it are rejected. "
                    "Move them to the new key."
                )
            if record.is_expired(self._now):
                return f"Expired: {phrase.replace('until', 'worked until')}; clients using it are rejected."
            if phrase.startswith("until"):
                return f"Works {phrase}, then clients using it are rejected."
            return f"Valid through the end of {phrase.removeprefix('valid through ')} (local time)."
        if column == COL_LAST_USED:
            if record.last_used_at is None:
                return "Never used to verify a request."
            return f"Last used {format_moment_seconds(record.last_used_at)} (local time)."
        if column == COL_STATUS:
            return self._status_tooltip(record)
        if column == COL_CREDITS:
            return self._credits_tooltip(record)
        return None

    def _status_tooltip(self, record: KeyRecord) -> str:
        now = self._clock()  # "next allowed in 12 s" counts from the moment the tip shows
        accepted = record.status(now) is Status.ACTIVE
        text = f"Clients using this key are {'accepted' if accepted else 'rejected'}."
        limits = self.limit_state(record).limits
        if not accepted or not limits.any:
            return text
        state, lines = self.limit_state(record), []
        if limits.rate is not None:
            line = f"Rate limit {rate_phrase(limits.rate)}"
            if state.rate_limited(now) and state.blocked_until is not None:
                seconds = max(1, int((state.blocked_until - now).total_seconds() + 0.999))
                line += f"; reached: the next verify is allowed in {_duration(seconds)}"
            lines.append(line + ".")
        if state.out_of_credits:
            refill = limits.refill
            lines.append(
                "Out of credits: verifies are rejected "
                + ("until credits are set again." if refill is None else f"until the {refill.period}'s refill (UTC).")
            )
        if self._limited(record, now) is not None:
            text = "Clients using this key are rejected for now: its limits are reached."
        return " ".join([text, *lines])

    def _credits_tooltip(self, record: KeyRecord) -> str:
        limits = self.limit_state(record).limits
        if limits.credits is None:
            return "No credits limit: verifies are not counted against a balance."
        text = f"{limits.credits:,} credit{'' if limits.credits == 1 else 's'} left; each valid verify costs 1."
        if limits.refill is not None:
            text += f" Refilled to {limits.refill.amount:,} at the start of each {limits.refill.period} (UTC)."
        return text
