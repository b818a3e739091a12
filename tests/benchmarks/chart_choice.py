"""How the usage charts' library was chosen (docs/performance.md, "Usage charts"): import time and the time to build
and paint a 30-bar chart stacked four deep, offscreen, for Qt Charts and for pyqtgraph.

    .venv/bin/pip install pyqtgraph        # not a dependency: only to compare
    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/chart_choice.py qtcharts
    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/chart_choice.py pyqtgraph

One library per process (its import is measured cold). Prints the import time, the first build and paint, and the
median of five more.
"""

from __future__ import annotations

import importlib
import random
import statistics
import sys
import time
from typing import Any

BARS, STACKS = 30, 4


def _qtcharts(data: list[list[int]]) -> Any:
    from PySide6.QtCharts import QBarCategoryAxis, QBarSet, QChart, QChartView, QStackedBarSeries, QValueAxis
    from PySide6.QtCore import Qt

    chart = QChart()
    series = QStackedBarSeries()
    for i, row in enumerate(data):
        bar_set = QBarSet(str(i))
        bar_set.append([float(v) for v in row])
        series.append(bar_set)
    chart.addSeries(series)
    x, y = QBarCategoryAxis(), QValueAxis()
    x.append([str(i) for i in range(BARS)])
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(x)
    series.attachAxis(y)
    view = QChartView(chart)
    view.resize(600, 300)
    return view


def _pyqtgraph(data: list[list[int]]) -> Any:
    pg = importlib.import_module("pyqtgraph")
    np = importlib.import_module("numpy")
    widget = pg.PlotWidget()
    widget.resize(600, 300)
    x, base = np.arange(BARS), np.zeros(BARS)
    for i, row in enumerate(data):
        height = np.array(row, dtype=float)
        widget.addItem(pg.BarGraphItem(x=x, height=height, y0=base.copy(), width=0.8, brush=pg.intColor(i)))
        base += height
    return widget


def main(argv: list[str]) -> int:
    library = argv[1] if len(argv) > 1 else "qtcharts"
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication([])
    QLabel("fonts 0123").grab()  # the first text paint loads fonts: not the chart's cost
    started = time.perf_counter()
    if library == "qtcharts":
        importlib.import_module("PySide6.QtCharts")
    else:
        importlib.import_module("pyqtgraph")
    imported = time.perf_counter() - started
    random.seed(1)
    data = [[random.randint(0, 500) for _ in range(BARS)] for _ in range(STACKS)]
    build = _qtcharts if library == "qtcharts" else _pyqtgraph
    times = []
    for _ in range(6):
        started = time.perf_counter()
        widget = build(data)
        widget.grab()
        times.append(time.perf_counter() - started)
        widget.deleteLater()
        app.processEvents()
    print(
        f"{library}: import {imported * 1000:.0f} ms, first build+paint {times[0] * 1000:.0f} ms,"
        f" then median {statistics.median(times[1:]) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
