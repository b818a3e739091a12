"""The `make bench` row for the event loop under a busy database (tests/ui/busy.py drives the window).

ours: the longest event-loop stall while the window pages and toggles and five other processes verify and
write; floor: the same meter with the same load and the window left idle (what the machine costs anyway).
The target is absolute: a stall over 100 ms is one a user feels.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

ROW = "event-loop stall (busy database)"


def stall_rows(workdir: Path, home: Path, repeats: int, seconds: float | None = None) -> list[dict[str, Any]]:
    """One row as a dict of bench.Row's fields (bench.py builds the Row, so this module need not import it); each
    session `seconds` long (by default DURATION_S, as `make bench` measures it)."""
    from PySide6.QtCore import (
        QCoreApplication,
        QEvent,
        QSettings,
        qInstallMessageHandler,
    )
    from PySide6.QtWidgets import QApplication

    from desktop.core.store import KeyStore
    from desktop.ui import theme
    from desktop.ui.window.main_window import MainWindow
    from tests.benchmarks.offscreen import offscreen_application
    from tests.core.test_concurrency import DURATION_S, prepare
    from tests.ui.busy import MAX_STALL_S, run_busy_session

    app = offscreen_application()
    ours: list[float] = []
    floor: list[float] = []
    problems: list[str] = []
    for run in range(repeats):
        for drive, samples in ((True, ours), (False, floor)):
            folder = workdir / "stall" / f"{run}-{'driven' if drive else 'idle'}"
            folder.mkdir(parents=True, exist_ok=True)
            database = folder / "busy.db"
            database.unlink(missing_ok=True)
            plan_file, toggled = prepare(database, folder)
            settings = QSettings(str(home / "bench-stall.ini"), QSettings.Format.IniFormat)
            window = MainWindow(KeyStore.open(str(database), create=True), settings=settings)
            window.show()
            QApplication.processEvents()
            window.runner.wait()
            duration_s = DURATION_S if seconds is None else seconds
            session = run_busy_session(window, database, plan_file, toggled, drive=drive, duration_s=duration_s)
            samples.append(session.longest_stall_s * 1000)
            if any(r["errors"] or r["wrong"] for r in session.verifiers) or session.writer["errors"]:
                problems.append("a verifier or the writer reported an error")
            window.shutdown()
            window.close()
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    theme.icon.cache_clear()  # cached icons must go before the QApplication does
    qInstallMessageHandler(None)
    del app
    ours_ms, floor_ms = statistics.median(ours), statistics.median(floor)
    return [
        {
            "row": ROW,
            "ours": ours_ms,
            "floor": floor_ms,
            "unit": "ms",
            "ratio": ours_ms / floor_ms if floor_ms else 0.0,
            "target": f"≤ {MAX_STALL_S * 1000:.0f} ms",
            "passed": ours_ms <= MAX_STALL_S * 1000 and not problems,
            "note": f"median of {repeats} runs of the longest event-loop gap while paging and toggling beside"
            " 4 verifiers and a writer;"
            " floor: the same load, window idle" + (f"; {problems[0]}" if problems else ""),
        }
    ]
