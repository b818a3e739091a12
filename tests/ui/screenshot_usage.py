"""Render a key's details and View ▸ Usage with a month of sample use to PNGs.

`python tests/ui/screenshot_usage.py FOLDER [--dark] [--font-scale 1.6] [--suffix=-dark] [--only details]` writes
FOLDER/key-details{suffix}.png and (without --only) FOLDER/usage-view{suffix}.png; README shows docs/key-details.png.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.ui.screenshot import dark_palette, sample_keys

if TYPE_CHECKING:  # Qt is imported where it is used, once QT_QPA_PLATFORM is set
    from PySide6.QtWidgets import QApplication


def sample_usage(key_ids: list[int], now: datetime) -> list[tuple[int, datetime, str, int]]:
    """A month of hourly counts: a daily rhythm, busier keys first, some rejections, a burst of rate limiting."""
    rows = []
    hour_now = now.replace(minute=0, second=0, microsecond=0)
    for hours_ago in range(30 * 24):
        hour = hour_now - timedelta(hours=hours_ago)
        rhythm = 1.2 + math.sin((hour.hour - 8) / 24 * 2 * math.pi)
        for rank, key_id in enumerate(key_ids[:12]):
            valid = int(rhythm * 40 / (rank + 1) + (hours_ago * 7 + rank * 3) % 5)
            if valid:
                rows.append((key_id, hour, "valid", valid))
            if (hours_ago + rank) % 5 == 0:
                rows.append((key_id, hour, "forbidden", 1 + rank % 3))
            if rank <= 1 and 50 <= hours_ago < 56:
                rows.append((key_id, hour, "rate_limited", 25 + 10 * (hours_ago % 3)))
            if rank == 0 and hours_ago % 13 == 0:
                rows.append((key_id, hour, "expired", 12))
            if rank == 3 and hours_ago % 24 < 3 and hours_ago < 200:
                rows.append((key_id, hour, "usage_exceeded", 4))
    return rows


def _until(app: QApplication, done: Callable[[], bool]) -> None:
    deadline = datetime.now() + timedelta(seconds=10)
    while not done() and datetime.now() < deadline:
        app.processEvents()
    app.processEvents()


def render(
    folder: Path, *, dark: bool = False, font_scale: float = 1.0, suffix: str = "", only_details: bool = False
) -> list[Path]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.store import KeyStore
    from desktop.core.values import Rate, Refill
    from desktop.ui.launcher import configure_application
    from desktop.ui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    configure_application(app)
    if dark:
        app.setPalette(dark_palette())
    if font_scale != 1.0:
        font = app.font()
        font.setPointSizeF(font.pointSizeF() * font_scale)
        app.setFont(font)
    written: list[Path] = []
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        database = Path(temp) / "keys.db"
        now = datetime.now(UTC)
        with KeyStore.open(str(database), create=True) as seeding:
            seeding.insert_many(sample_keys(30, now))
            ids = [record.id for record in seeding.all()]
            main = seeding.create("Billing service — production (EU)", scopes=["billing:read", "billing:write"])
            seeding.verify(main.key)  # a last use
            ids.insert(0, main.record.id)
            seeding.set_limits(ids[0], rate=Rate(100, 60), credits=10_000, refill=Refill(10_000, "month"))
            seeding.database.add_usage(sample_usage(ids, now))
        settings = QSettings(str(Path(temp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(KeyStore.open(str(database)), settings=settings)
        window.resize(1100, 720)
        window.show()
        _until(app, lambda: window.total is not None)

        window.usage.open_details(ids[0])
        _until(app, lambda: window.usage.details_dialog is not None)
        dialog = window.usage.details_dialog
        assert dialog is not None
        _until(app, lambda: dialog.chart.series is not None and not window.runner.pending())
        path = folder / f"key-details{suffix}.png"
        dialog.grab().save(str(path))
        written.append(path)
        dialog.close()
        if only_details:
            window.close()
            window.deleteLater()
            app.processEvents()
            return written

        window.usage.usage_action.trigger()
        view = window.usage.usage_view
        assert view is not None
        list(view.period_group.buttons())[2].click()  # 30 days
        _until(app, lambda: view.chart.series is not None and bool(view.key_buttons) and not window.runner.pending())
        path = folder / f"usage-view{suffix}.png"
        view.grab().save(str(path))
        written.append(path)
        view.close()
        window.close()
        window.deleteLater()
        app.processEvents()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write the PNGs, e.g. docs")
    parser.add_argument("--dark", action="store_true", help="render with a dark palette")
    parser.add_argument("--font-scale", type=float, default=1.0, help="the application font times this (e.g. 1.6)")
    parser.add_argument("--suffix", default="", help="added to each file's name, e.g. -dark")
    parser.add_argument("--only", choices=("details",), help="only the key's details (what README shows)")
    args = parser.parse_args(argv)
    only_details = args.only == "details"
    for path in render(
        args.folder, dark=args.dark, font_scale=args.font_scale, suffix=args.suffix, only_details=only_details
    ):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
