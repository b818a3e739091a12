"""`usageChart`: a period's verifications as stacked bars by outcome (Qt Charts), with its figures as text.

Qt's own charts module (PySide6-Addons' QtCharts), chosen by measurement over pyqtgraph (docs/performance.md):
about 1 MB in the .deb against 9 MB, and no numpy. It is imported only with this module, which the window loads
when a chart is first shown: start-up never pays for it. The bars follow the palette (light and dark) and the
widget's font; hovering a bar shows its numbers; `accessibleDescription()` states the period's totals.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCharts import QBarSet, QCategoryAxis, QChart, QChartView, QStackedBarSeries, QValueAxis
from PySide6.QtCore import QEvent, QMargins, Qt
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QPainter, QPalette, QResizeEvent
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

from desktop.core.usage_report import Outcome, UsagePeriod, UsageSeries
from desktop.ui import theme

#: Each outcome's colour (light, dark): told apart by people with the common colour-vision deficiencies too
#: (blue, orange, red, purple from the Okabe–Ito and Tableau sets), each ≥ 3:1 against its background.
COLORS = {
    Outcome.VALID: ("#1f6fb2", "#6cb4ee"),
    Outcome.REJECTED: ("#c0392b", "#ff8a80"),
    Outcome.RATE_LIMITED: ("#b35c00", "#f5a54a"),
    Outcome.OUT_OF_CREDITS: ("#7b3fa0", "#c79be6"),
}
#: Room between two time labels under the bars, in widths of "0" (they never run into each other).
LABEL_GAP = 3
PERIOD_TEXT = {UsagePeriod.DAY: "24 hours", UsagePeriod.WEEK: "7 days", UsagePeriod.MONTH: "30 days"}


def summary_text(series: UsageSeries) -> str:
    """The period's figures for a screen reader: plain numbers (no separators), every outcome named."""
    parts = ", ".join(f"{o.label.lower()} {series.count(o)}" for o in Outcome)
    return f"Verifications in the last {PERIOD_TEXT[series.period]}: total {series.total}, {parts}."


def totals_text(series: UsageSeries) -> str:
    """The line under the chart, for the eye: `1,234 verifications: 1,200 valid, 34 rejected`."""
    total = series.total
    if total == 0:
        return f"No verifications in the last {PERIOD_TEXT[series.period]}."
    noun = "verification" if total == 1 else "verifications"
    parts = ", ".join(
        f"{series.count(o):,} {o.label.lower()}" for o in Outcome if series.count(o) or o is Outcome.VALID
    )
    return f"{total:,} {noun} in the last {PERIOD_TEXT[series.period]}: {parts}."


def bucket_label(start: datetime, period: UsagePeriod) -> str:
    """A bar's start on the axis, at local time: the hour (24 h), the day and hour (7 d), the date (30 d)."""
    local = start.astimezone()
    if period is UsagePeriod.DAY:
        return local.strftime("%H:00")
    if period is UsagePeriod.WEEK:
        return local.strftime("%a %H:00")
    return local.strftime("%b %d")


def bar_text(series: UsageSeries, index: int) -> str:
    """A bar's tooltip: when, how many, and each outcome's count."""
    bucket = series.buckets[index]
    start = bucket.start.astimezone()
    end = (bucket.start + series.period.step).astimezone()
    when = f"{start:%a %b %d, %H:%M}–{end:%H:%M}" if series.period is not UsagePeriod.MONTH else f"{start:%a %b %d}"
    lines = [f"{when}: {bucket.total:,} verification{'' if bucket.total == 1 else 's'}"]
    lines += [f"{o.label}: {bucket.count(o):,}" for o in Outcome if bucket.count(o)]
    return "\n".join(lines)


class UsageChart(QWidget):
    """The chart and its totals line; `set_series` shows a period (the owner reads it off the GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageChart")
        self.setAccessibleName("Verifications chart")
        self.series: UsageSeries | None = None
        self._chart = QChart()
        self._chart.setBackgroundVisible(False)
        self._chart.setMargins(QMargins(0, 0, 0, 0))
        self._chart.setBackgroundRoundness(0)
        self._chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self._chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self._bars = QStackedBarSeries()
        self._bars.setBarWidth(0.8)
        self._sets: dict[Outcome, QBarSet] = {}
        for outcome in Outcome:
            bar_set = QBarSet(outcome.label)
            bar_set.setBorderColor(QColor(Qt.GlobalColor.transparent))
            bar_set.hovered.connect(self._on_bar_set_hovered)
            self._sets[outcome] = bar_set
            self._bars.append(bar_set)
        self._chart.addSeries(self._bars)
        self._x = QCategoryAxis()
        self._x.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        self._y = QValueAxis()
        self._y.setLabelFormat("%d")
        self._y.setMinorTickCount(0)
        self._chart.addAxis(self._x, Qt.AlignmentFlag.AlignBottom)
        self._chart.addAxis(self._y, Qt.AlignmentFlag.AlignLeft)
        self._bars.attachAxis(self._x)
        self._bars.attachAxis(self._y)
        self.view = QChartView(self._chart, self)
        self.view.setObjectName("usageChartView")
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setFrameShape(QChartView.Shape.NoFrame)
        self.view.setMinimumHeight(14 * self.fontMetrics().height())  # ~220 px at 10 pt: the axis labels fit
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.totals_label = QLabel(self)
        self.totals_label.setObjectName("usageTotalsLabel")
        self.totals_label.setTextFormat(Qt.TextFormat.PlainText)
        self.totals_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.totals_label)
        self._apply_look()

    def set_series(self, series: UsageSeries) -> None:
        """Show a period's bars (oldest first) and its totals."""
        self.series = series
        self._label()
        for outcome, bar_set in self._sets.items():
            bar_set.remove(0, bar_set.count())
            bar_set.append([float(b.count(outcome)) for b in series.buckets])
        highest = max((b.total for b in series.buckets), default=0)
        self._y.setRange(0, max(highest, 4))
        self._y.applyNiceNumbers()
        self.totals_label.setText(totals_text(series))
        self.setAccessibleDescription(summary_text(series))
        self.view.setAccessibleDescription(summary_text(series))

    def _label(self) -> None:
        """Time labels under as many bars as their width allows (each under the bar it names), from the oldest
        on: the newest, at the right edge, would be cut in half."""
        for label in self._x.categoriesLabels():
            self._x.remove(label)
        series = self.series
        if series is None:
            return
        count = len(series.buckets)
        texts = [bucket_label(b.start, series.period) for b in series.buckets]
        metrics = QFontMetrics(self.font())
        width = max(metrics.horizontalAdvance(t) for t in texts) + LABEL_GAP * metrics.horizontalAdvance("0")
        room = max(1, (self.view.width() - 8 * metrics.horizontalAdvance("0")) // width)
        every = max(1, -(-count // room))
        self._x.setStartValue(-0.5)
        self._x.setRange(-0.5, count - 0.5)
        for i in range(0, count, every):
            self._x.append(texts[i], i)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._label()

    def set_loading(self, text: str) -> None:
        """A line in place of the totals while a period is read (or why it could not be)."""
        self.totals_label.setText(text)

    # -- look --

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._apply_look()
            self.view.setMinimumHeight(14 * self.fontMetrics().height())
            self._label()

    def _apply_look(self) -> None:
        palette = self.palette()
        dark = theme.is_dark(palette)
        text = palette.color(QPalette.ColorRole.WindowText)
        grid = palette.color(QPalette.ColorRole.Mid)
        font = self.font()
        for outcome, bar_set in self._sets.items():
            bar_set.setColor(QColor(COLORS[outcome][1 if dark else 0]))
        for axis in (self._x, self._y):
            axis.setLabelsFont(font)
            axis.setLabelsColor(text)
            axis.setLinePenColor(grid)
            axis.setGridLineColor(grid)
        self._x.setGridLineVisible(False)
        legend = self._chart.legend()
        legend.setFont(font)
        legend.setLabelColor(text)
        self.view.setBackgroundBrush(palette.color(QPalette.ColorRole.Window))

    # -- hover --

    def _on_bar_set_hovered(self, status: bool, index: int) -> None:
        if not status or self.series is None or not 0 <= index < len(self.series.buckets):
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), bar_text(self.series, index), self.view)
