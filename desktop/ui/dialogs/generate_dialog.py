"""The Generate New API Key popup: a description, an optional expiry date, scopes and limits, checked as typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import QDate, QEvent, QRect, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFocusEvent, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCalendarWidget,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clock import SYSTEM_CLOCK, Clock
from desktop.core.errors import InvalidInput
from desktop.core.validation import MAX_EXPIRY, parse_expiry, validate_description, validate_expiry
from desktop.core.values import Rate, Refill
from desktop.ui import theme
from desktop.ui.dialogs.description_field import description_counter, description_edit, update_counter
from desktop.ui.widgets.limit_fields import LimitFields, limits_summary

#: (label, days) for the preset buttons; a year is a calendar year, not 365 days.
PRESETS = (("7 days", 7), ("30 days", 30), ("90 days", 90), ("1 year", 0))
DEFAULT_EXPIRY_DAYS = 30


def _qdate(day: date) -> QDate:
    """A Python date as Qt's (PySide6 converts one itself, but its stubs only know year, month, day)."""
    return QDate(day.year, day.month, day.day)


def preset_date(today: date, days: int) -> date:
    if days:
        return today + timedelta(days=days)
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


class ExpiryCalendar(QCalendarWidget):
    """The date picker: days before `first` (the past) look disabled, not merely shaded, and cannot be picked.

    Its date edit accepts any date typed, so that a past one can be named and refused inline; the calendar keeps
    its own first day (the edit would hand it its range each time it pops up).
    """

    def __init__(self, first: QDate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first = first

    def showEvent(self, event: QShowEvent) -> None:
        with QSignalBlocker(self):  # a changed selection would become the edit's date
            self.setMinimumDate(self.first)
        super().showEvent(event)

    def paintCell(self, painter: QPainter, rect: QRect, date: QDate | object) -> None:
        assert isinstance(date, QDate)
        if self.first <= date <= self.maximumDate():
            super().paintCell(painter, rect, date)
            return
        palette = self.palette()
        painter.save()
        painter.fillRect(rect, palette.brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window))
        painter.setPen(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(date.day()))
        painter.restore()


class ExpiryEdit(QDateEdit):
    """A date edit that keeps what was typed: a past date is taken (the dialog says why it cannot be used), and
    an incomplete one stays as typed when the focus leaves, instead of silently turning back into the last date.
    """

    #: The text changed (typed, or set): the dialog checks it again.
    textChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lineEdit().textChanged.connect(self.textChanged)

    def problem(self) -> str | None:
        """Why the text typed is not a whole date (None when it is one)."""
        text = self.text()
        try:
            parse_expiry(text)
        except InvalidInput:
            return f"“{text}” is not a whole date: type it as YYYY-MM-DD." if text.strip() else "Type a date."
        return None

    def focusInEvent(self, event: QFocusEvent) -> None:
        self._pass_focus(event, super().focusInEvent, QWidget.focusInEvent)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._pass_focus(event, super().focusOutEvent, QWidget.focusOutEvent)

    def _pass_focus(
        self,
        event: QFocusEvent,
        as_a_date_edit: Callable[[QFocusEvent], None],
        as_a_widget: Callable[[QWidget, QFocusEvent], None],
    ) -> None:
        if self.problem() is None:
            as_a_date_edit(event)
            return
        # QDateTimeEdit would put its last whole date back, silently: only tell the text field.
        QApplication.sendEvent(self.lineEdit(), event)
        as_a_widget(self, event)


#: Lines of text the reason under the form always has room for, so the dialog keeps its size as it changes.
REASON_LINES = 2


class GenerateKeyDialog(QDialog):
    """Asks; does not store. The owner reads `description()` and `expires_on()` on `generateRequested`."""

    generateRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(parent)
        self.setObjectName("generateDialog")
        self.setWindowTitle("Generate New API Key")
        self.setModal(True)
        self._today = clock.today()
        self._busy = False
        self._touched = False

        intro = QLabel("Describe what the key is for, so you can recognise it later.", self)
        intro.setWordWrap(True)

        self.description_edit = description_edit(self)
        self.counter = description_counter(self)

        self.expiry_enabled = QCheckBox("Expires after", self)
        self.expiry_enabled.setObjectName("expiryEnabled")
        self.expiry_enabled.setAccessibleName("Set an expiry date")
        self.expiry_enabled.setToolTip("Unchecked: the key never expires")
        self.expiry_edit = ExpiryEdit(self)
        self.expiry_edit.setObjectName("expiryEdit")
        self.expiry_edit.setAccessibleName("Expiry date")
        self.expiry_edit.setCalendarPopup(True)
        self.expiry_edit.setCalendarWidget(ExpiryCalendar(_qdate(self._today), self.expiry_edit))
        self.expiry_edit.setDisplayFormat("yyyy-MM-dd")
        # Any date can be typed (a past one is named and refused inline, not swallowed keystroke by keystroke).
        self.expiry_edit.setDateRange(QDate(1, 1, 1), _qdate(MAX_EXPIRY))
        self.expiry_edit.setDate(_qdate(preset_date(self._today, DEFAULT_EXPIRY_DAYS)))
        self.expiry_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Rows as widgets: PySide does not take ownership of a layout given to QFormLayout.addRow,
        # so a bare layout would be freed by Python while Qt still holds it.
        expiry_row_widget = QWidget(self)
        expiry_row = QHBoxLayout(expiry_row_widget)
        expiry_row.setContentsMargins(0, 0, 0, 0)
        expiry_row.addWidget(self.expiry_enabled)
        expiry_row.addWidget(self.expiry_edit, 1)
        self.preset_buttons: list[QPushButton] = []
        presets_widget = QWidget(self)
        presets = QHBoxLayout(presets_widget)
        presets.setContentsMargins(0, 0, 0, 0)
        presets.addWidget(QLabel("Quick:", self))
        for label, days in PRESETS:
            button = QPushButton(label, self)
            button.setObjectName(f"preset{days or 365}Button")
            button.setAccessibleName(f"Expire in {label}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, days=days: self._apply_preset(days))
            presets.addWidget(button)
            self.preset_buttons.append(button)
        presets.addStretch(1)
        self.scopes_edit = QLineEdit(self)
        self.scopes_edit.setObjectName("scopesEdit")
        self.scopes_edit.setAccessibleName("Scopes")
        self.scopes_edit.setPlaceholderText("optional, e.g. billing:read orders:write")
        self.scopes_edit.setToolTip("What the key may do, separated by spaces; a service can require them on verify")
        self.limit_fields = LimitFields(self)
        self.expiry_hint = QLabel(self)
        self.expiry_hint.setObjectName("expiryHint")
        self.expiry_hint.setWordWrap(True)

        # Why Generate is disabled, shown from the start; its room is kept whether or not there is a
        # reason, so the dialog does not change size as it comes and goes.
        self.reason_box = QWidget(self)
        self.reason_box.setObjectName("reasonBox")
        self.error_label = QLabel(self.reason_box)
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        reason_layout = QVBoxLayout(self.reason_box)
        reason_layout.setContentsMargins(0, 0, 0, 0)
        reason_layout.addWidget(self.error_label)
        self.error_label.hide()
        self._reserve_reason_room()

        self.buttons = QDialogButtonBox(self)
        self.confirm_button = self.buttons.addButton("Generate API Key", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("generateConfirmButton")
        self.confirm_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("generateCancelButton")
        # The button box's accepted() would close the dialog; the owner closes it once the key exists.
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)
        self.buttons.rejected.connect(self.reject)

        form_widget = QWidget(self)  # a widget, not a bare layout: PySide may not pass a layout's ownership on
        form = QFormLayout(form_widget)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Description:", self.description_edit)
        form.addRow("", self.counter)
        form.addRow("Expiry:", expiry_row_widget)
        form.addRow("", presets_widget)
        form.addRow("", self.expiry_hint)
        form.addRow("&Scopes:", self.scopes_edit)
        for label, widget in self.limit_fields.rows():
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(form_widget)
        layout.addWidget(self.reason_box)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

        self.description_edit.textEdited.connect(self._on_description_edit_text_edited)
        self.description_edit.textChanged.connect(self._on_description_edit_text_changed)
        self.expiry_enabled.toggled.connect(self._on_expiry_enabled_toggled)
        self.expiry_edit.dateChanged.connect(self._on_expiry_edit_date_changed)
        self.expiry_edit.textChanged.connect(self._on_expiry_edit_text_changed)
        self.scopes_edit.textChanged.connect(self._on_description_edit_text_changed)
        self.limit_fields.changed.connect(self._refresh)
        self._on_expiry_enabled_toggled(False)
        self._refresh()

    # -- the result --

    def description(self) -> str:
        """The description as it will be stored (trimmed); raises InvalidDescription when not valid."""
        return validate_description(self.description_edit.text())

    def scopes(self) -> tuple[str, ...]:
        """The scopes typed (none by default); raises InvalidScope naming the first bad one."""
        from desktop.ui.dialogs.scopes_dialog import parse_scopes

        return parse_scopes(self.scopes_edit.text())

    def limits(self) -> tuple[Rate | None, int | None, Refill | None]:
        """The rate, credits and refill typed (none by default); raises InvalidInput with the CLI's message."""
        return self.limit_fields.values()

    def expires_on(self) -> date | None:
        if not self.expiry_enabled.isChecked():
            return None
        chosen = self.expiry_edit.date()  # toPython() is typed `object`: the parts say what it is
        return date(chosen.year(), chosen.month(), chosen.day())

    # -- what the owner tells it --

    def set_busy(self, busy: bool) -> None:
        """While the key is being created: inputs frozen, so what is stored is what was shown."""
        self._busy = busy
        for widget in (
            self.description_edit,
            self.expiry_enabled,
            self.scopes_edit,
            *self.preset_buttons,
            *self.limit_fields.widgets(),
        ):
            widget.setEnabled(not busy)
        self.expiry_edit.setEnabled(not busy and self.expiry_enabled.isChecked())
        self.confirm_button.setText("Generating…" if busy else "Generate API Key")
        self._refresh()

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self._show_error(message)

    # -- inside --

    def _problem(self) -> str | None:
        """Why the description or the scopes cannot be used (the expiry's reason shows under its own field)."""
        try:
            self.description()
            self.scopes()
        except InvalidInput as err:
            return err.message
        return None

    def _expiry_problem(self) -> str | None:
        """Why the expiry typed cannot be used: not a whole date, or a past (or too distant) one."""
        if not self.expiry_enabled.isChecked():
            return None
        problem = self.expiry_edit.problem()
        if problem is not None:
            return problem
        try:
            validate_expiry(self.expires_on(), self._today)
        except InvalidInput as err:
            return err.message
        return None

    def _limits_problem(self) -> str | None:
        """Why the limits typed cannot be used (shown under the limit fields)."""
        try:
            self.limits()
        except InvalidInput as err:
            return err.message
        return None

    def _reserve_reason_room(self) -> None:
        self.reason_box.setMinimumHeight(self.error_label.fontMetrics().lineSpacing() * REASON_LINES)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._reserve_reason_room()

    def _refresh(self) -> None:
        too_long = update_counter(self.counter, self.description_edit.text(), self.palette())
        problem = self._problem()
        expiry_problem = self._expiry_problem()
        limits_problem = self._limits_problem()
        self.confirm_button.setEnabled(
            problem is None and expiry_problem is None and limits_problem is None and not self._busy
        )
        if limits_problem is not None:
            self.limit_fields.show_hint(limits_problem, error=True)
        else:
            self.limit_fields.show_hint(limits_summary(*self.limits()))
        if problem is None:
            self.error_label.hide()
        elif self._touched or too_long:
            self._show_error(problem)
        else:
            self._show_reason(problem)  # why Generate is off, before anything was typed: not an error yet
        when = self.expires_on()
        if expiry_problem is not None:
            self.expiry_hint.setText(expiry_problem)
            self.expiry_hint.setStyleSheet(f"color: {theme.error_text(self.palette()).name()};")
        else:
            self.expiry_hint.setText(
                "The key never expires."
                if when is None
                else f"Valid through the end of {when.isoformat()} (local time), then rejected."
            )
            self.expiry_hint.setStyleSheet("")
        self.expiry_hint.setProperty("level", "error" if expiry_problem else "hint")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setStyleSheet(f"color: {theme.error_text(self.palette()).name()};")
        self.error_label.setProperty("level", "error")
        self.error_label.show()

    def _show_reason(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setStyleSheet("")
        self.error_label.setProperty("level", "hint")
        self.error_label.show()

    def _apply_preset(self, days: int) -> None:
        self.expiry_enabled.setChecked(True)
        self.expiry_edit.setDate(_qdate(preset_date(self._today, days)))

    def _on_description_edit_text_edited(self, _text: str) -> None:
        self._touched = True

    def _on_description_edit_text_changed(self, _text: str) -> None:
        self._refresh()

    def _on_expiry_enabled_toggled(self, checked: bool) -> None:
        self.expiry_edit.setEnabled(checked and not self._busy)
        self._refresh()

    def _on_expiry_edit_date_changed(self, _value: QDate) -> None:
        self._refresh()

    def _on_expiry_edit_text_changed(self, _text: str) -> None:
        self._refresh()

    def _on_confirm_button_clicked(self) -> None:
        self._touched = True
        problem = self._problem() or self._expiry_problem() or self._limits_problem()
        if problem is not None:
            self._refresh()
            return
        self.set_busy(True)
        self.generateRequested.emit()
