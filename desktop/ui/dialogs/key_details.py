"""`keyDetailsDialog`: one key at a glance: what it is, its limits, and its use over 24 hours, 7 or 30 days.

The dialog only shows: its owner (window/usage_flows.py) reads the key, its limits and the chosen period's bars
off the GUI thread and hands them to `show_details`, again whenever the keys change and every few seconds while it
is open. `periodChanged` asks for another period; `historyRequested` for the key's audit log.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.usage_report import UsagePeriod, UsageSeries
from desktop.core.values import KeyRecord, Limits, Status
from desktop.ui import theme
from desktop.ui.control.key_table_model import ago_text, format_moment
from desktop.ui.widgets.usage_chart import PERIOD_TEXT, UsageChart

SEGMENT_STYLE = (
    "QPushButton { padding: 3px 12px; border: 1px solid palette(mid); background: palette(button);"
    " color: palette(button-text); }"
    " QPushButton:checked { background: palette(highlight); color: palette(highlighted-text);"
    " border-color: palette(highlight); }"
)
STATUS_TEXT = {Status.ACTIVE: "Active", Status.INACTIVE: "Inactive", Status.EXPIRED: "Expired"}


def limits_text(limits: Limits) -> tuple[str, str]:
    """(rate limit, credits) as a person reads them: `100 per minute`, `9,950 left (refilled to 10,000 each month)`."""
    rate = "None"
    if limits.rate is not None:
        rate = f"{limits.rate.count:,} valid verifications per {_period(limits.rate.period_s)}"
    credits = "Unlimited"
    if limits.credits is not None:
        credits = f"{limits.credits:,} left"
        if limits.refill is not None:
            credits += f" (refilled to {limits.refill.amount:,} each {limits.refill.period})"
    return rate, credits


def _period(seconds: int) -> str:
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % length == 0:
            count = seconds // length
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def period_buttons(parent: QWidget) -> tuple[QWidget, QButtonGroup]:
    """24 hours / 7 days / 30 days as one row of checkable buttons (`period24hButton`, …), 7 days checked."""
    row = QWidget(parent)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    group = QButtonGroup(row)
    group.setExclusive(True)
    for number, period in enumerate(UsagePeriod):
        button = QPushButton(PERIOD_TEXT[period], row)
        button.setObjectName(f"period{period.word}Button")
        button.setCheckable(True)
        button.setAutoDefault(False)
        button.setAccessibleName(f"Show the last {PERIOD_TEXT[period]}")
        button.setChecked(period is UsagePeriod.WEEK)
        # A segmented control: the period shown in the palette's selection colour (plain "pressed" was too faint).
        button.setStyleSheet(SEGMENT_STYLE)
        group.addButton(button, number)
        layout.addWidget(button)
    layout.addStretch(1)
    return row, group


def chart_heading(parent: QWidget, title: str) -> tuple[QWidget, QButtonGroup, UsageChart]:
    """A chart's bold title and its period switch in one row, and the chart (loading until its figures come):
    the top of the key's details and of View ▸ Usage."""
    heading = QLabel(title, parent)
    font = heading.font()
    font.setBold(True)
    heading.setFont(font)
    periods, group = period_buttons(parent)
    top = QWidget(parent)
    top_layout = QHBoxLayout(top)
    top_layout.setContentsMargins(0, 0, 0, 0)
    top_layout.addWidget(heading, 1)
    top_layout.addWidget(periods)
    chart = UsageChart(parent)
    chart.set_loading("Reading the verifications…")
    return top, group, chart


def period_of(group: QButtonGroup) -> UsagePeriod:
    return list(UsagePeriod)[max(0, group.checkedId())]


class KeyDetailsDialog(QDialog):
    """See the module's docstring. Non-modal: the table stays usable beside it."""

    periodChanged = Signal(object)  # UsagePeriod
    historyRequested = Signal()

    def __init__(self, record: KeyRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyDetailsDialog")
        self.setWindowTitle("API Key Details")
        self.setModal(False)
        self.record = record
        self.gone = False

        self.key_label = self._value("detailsKeyLabel")
        mono = theme.monospace_font()
        mono.setPointSizeF(self.font().pointSizeF())  # the system's fixed font ignores the application's size
        self.key_label.setFont(mono)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description_label = self._value("detailsDescriptionLabel")
        self.status_label = self._value("detailsStatusLabel")
        self.scopes_label = self._value("detailsScopesLabel")
        self.created_label = self._value("detailsCreatedLabel")
        self.expires_label = self._value("detailsExpiresLabel")
        self.last_used_label = self._value("detailsLastUsedLabel")
        self.rate_label = self._value("detailsRateLabel")
        self.credits_label = self._value("detailsCreditsLabel")
        form_widget = QWidget(self)
        form = QFormLayout(form_widget)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, label in (
            ("Key:", self.key_label),
            ("Description:", self.description_label),
            ("Status:", self.status_label),
            ("Scopes:", self.scopes_label),
            ("Created:", self.created_label),
            ("Expires:", self.expires_label),
            ("Last used:", self.last_used_label),
            ("Rate limit:", self.rate_label),
            ("Credits:", self.credits_label),
        ):
            form.addRow(text, label)
            field_label = form.labelForField(label)
            if isinstance(field_label, QLabel):
                field_label.setBuddy(label)
                label.setAccessibleName(text.rstrip(":"))

        top, self.period_group, self.chart = chart_heading(self, "Verifications")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.history_button = buttons.addButton("History…", QDialogButtonBox.ButtonRole.ActionRole)
        self.history_button.setObjectName("detailsHistoryButton")
        self.history_button.setToolTip("Every change to this key, with who made it")
        self.history_button.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.setFocus()
        self.history_button.clicked.connect(self.historyRequested)

        layout = QVBoxLayout(self)
        layout.addWidget(form_widget)
        layout.addSpacing(8)
        layout.addWidget(top)
        layout.addWidget(self.chart, 1)
        layout.addWidget(buttons)
        self.period_group.idToggled.connect(self._on_period_group_id_toggled)
        self.show_record(record)
        hint = self.sizeHint()
        self.resize(max(620, hint.width()), max(560, hint.height()))

    def _value(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        return label

    @property
    def period(self) -> UsagePeriod:
        return period_of(self.period_group)

    # -- showing --

    def show_record(self, record: KeyRecord, now: datetime | None = None) -> None:
        from desktop.core.clock import SYSTEM_CLOCK

        now = now or SYSTEM_CLOCK.now()
        self.record = record
        self.key_label.setText(record.masked)
        self.description_label.setText(record.description)
        self.status_label.setText(STATUS_TEXT.get(record.status(now), str(record.status(now))))
        self.scopes_label.setText(" ".join(record.scopes) or "None (any scope)")
        self.created_label.setText(format_moment(record.created_at))
        self.expires_label.setText("Never" if record.expires_at is None else format_moment(record.expires_at))
        used = record.last_used_at
        self.last_used_label.setText("Never" if used is None else f"{format_moment(used)} ({ago_text(used, now)})")
        self.setWindowTitle(f"API Key Details: {record.masked}")

    def show_details(self, record: KeyRecord, limits: Limits, series: UsageSeries) -> None:
        """The owner's answer: the key as it is now, its limits, and the period's bars (dropped if another period
        was asked for meanwhile)."""
        self.show_record(record)
        rate, credits = limits_text(limits)
        self.rate_label.setText(rate)
        self.credits_label.setText(credits)
        if series.period is self.period:
            self.chart.set_series(series)

    def show_gone(self) -> None:
        """The key was deleted (here or elsewhere): say so, keep what was shown."""
        self.gone = True
        self.status_label.setText("Deleted")
        self.setWindowTitle(f"API Key Details: {self.record.masked} (deleted)")
        self.chart.set_loading("This key was deleted; its use is no longer counted.")
        self.history_button.setEnabled(True)

    def show_error(self, message: str) -> None:
        self.chart.set_loading(message)

    def _on_period_group_id_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self.chart.set_loading(f"Reading the last {PERIOD_TEXT[self.period]}…")
            self.periodChanged.emit(self.period)
