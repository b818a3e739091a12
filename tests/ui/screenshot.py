"""Render the real window with sample keys to a PNG: `python tests/ui/screenshot.py docs/screenshot.png [--dark]`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported where it is used, once QT_QPA_PLATFORM is set
    from PySide6.QtGui import QPalette

    from desktop.core.values import NewKey

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DESCRIPTIONS = (
    "Billing service — production",
    "Billing service — staging",
    "Mobile app (iOS) release builds",
    "Mobile app (Android) release builds",
    "Nightly data export to the warehouse",
    "Partner integration: Acme Logistics shipment webhooks and tracking callbacks for all regions",
    "CI pipeline: end-to-end tests",
    "Grafana dashboard read-only access",
    "Support tooling (customer lookup)",
    "Legacy reporting cron job",
    "Search indexer",
    "Marketing site contact form",
    "Inventory sync with the point-of-sale terminals in every store",
    "Load test harness",
    "Internal admin panel",
    "Backup verification job",
    "Feature flag service",
    "Email delivery worker",
    "Analytics event collector",
    "Payment reconciliation",
)


def sample_keys(count: int, now: datetime) -> list[NewKey]:
    from desktop.core.values import NewKey

    rows = []
    for index in range(count):
        created = now - timedelta(days=count - index, hours=index * 5 % 11, minutes=index * 7 % 60)
        description = DESCRIPTIONS[index % len(DESCRIPTIONS)]
        if index % 3 == 1:
            expires_at = created + timedelta(days=30 + index * 11)
        elif index % 7 == 4:
            expires_at = now - timedelta(days=index % 5 + 1)  # already expired
        else:
            expires_at = None
        rows.append(NewKey(description, created, expires_at, active=index % 5 != 2))
    return rows


def seed_sample(database: Path, count: int, now: datetime) -> None:
    """The sample keys, made one by one at their own (past) times, so some were used and one expires this week.

    Every key goes through `create` and `verify` under a fixed clock: last use, expiry and the expiry banner
    come out as a person would see them, without writing the database behind the store's back.
    """
    from desktop.core.clock import FixedClock
    from desktop.core.store import KeyStore

    for index in range(count):
        created = now - timedelta(days=count - index, hours=index * 5 % 11, minutes=index * 7 % 60)
        if index < 3:
            created -= timedelta(days=200)  # old keys, used once long ago: "not used for 90 days"
        description = DESCRIPTIONS[index % len(DESCRIPTIONS)]
        with KeyStore.open(str(database), FixedClock(created), create=True) as then:
            if index == count - 3:
                expires_on = (now + timedelta(days=3)).astimezone().date()  # the expiry banner's key
            elif index % 3 == 1:
                expires_on = (created + timedelta(days=30 + index * 11)).astimezone().date()
            elif index % 7 == 4 and count - index > 6:
                expires_on = (now - timedelta(days=index % 5 + 1)).astimezone().date()  # already expired
            else:
                expires_on = None
            made = then.create(description, expires_on)
        if index % 4 != 3:  # a quarter never used
            used = min(now, created + timedelta(days=index % 9 + 1, minutes=index * 13 % 50))
            if index % 10 == 0:
                used = now - timedelta(minutes=index % 50 + 3)
            with KeyStore.open(str(database), FixedClock(used)) as later:
                later.verify(made.key)
        if index % 5 == 2 and index != count - 3:
            with KeyStore.open(str(database), FixedClock(created)) as later:
                later.set_active(made.record.id, False)


def dark_palette() -> QPalette:
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#202124"),
        (roles.WindowText, "#e8eaed"),
        (roles.Base, "#1b1b1d"),
        (roles.AlternateBase, "#26272b"),
        (roles.Text, "#e8eaed"),
        (roles.Button, "#303134"),
        (roles.ButtonText, "#e8eaed"),
        (roles.Highlight, "#3b5c94"),
        (roles.HighlightedText, "#ffffff"),
        (roles.ToolTipBase, "#303134"),
        (roles.ToolTipText, "#e8eaed"),
        (roles.PlaceholderText, "#9aa0a6"),
        (roles.Link, "#8ab4f8"),
    ):
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor("#80868b"))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor("#80868b"))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor("#80868b"))
    return palette


def render(
    output: Path,
    *,
    dark: bool = False,
    count: int = 40,
    size: tuple[int, int] = (1100, 720),
    search: str = "",
    status: str = "",
) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.store import KeyStore
    from desktop.ui.launcher import configure_application
    from desktop.ui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    configure_application(app)
    if dark:
        app.setPalette(dark_palette())
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "keys.db"
        now = datetime.now(UTC)
        seed_sample(database, count, now)
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("query/search", search)
        settings.setValue("query/status", status)
        window = MainWindow(KeyStore.open(str(database), create=True), settings=settings)
        window.resize(*size)
        window.show()
        if window.model.rowCount() > 1:
            window.table.selectRow(1)
            # The masked form only: the screenshot never shows a full key.
            record = window.model.record(1)
            window.notifier.info(
                f"Deactivated {record.masked} (“{record.description}”): clients using it will be rejected."
            )
        deadline = datetime.now() + timedelta(seconds=5)
        while (
            window.total is None or window.runner.pending() or window.controller.triage.pending()
        ) and datetime.now() < deadline:
            app.processEvents()
        app.processEvents()
        output.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(output)):
            raise SystemExit(f"could not write {output}")
        window.close()
        window.deleteLater()
        app.processEvents()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path, help="the PNG to write, e.g. docs/screenshot.png")
    parser.add_argument("--dark", action="store_true", help="render with a dark palette")
    parser.add_argument("--count", type=int, default=40, help="how many sample keys (default 40)")
    parser.add_argument("--size", default="1100x720", help="the window's size, WIDTHxHEIGHT (default 1100x720)")
    parser.add_argument("--search", default="", help="search text to show")
    parser.add_argument("--status", default="", help="status filter to show: active, inactive, expired, ...")
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.split("x"))
    render(args.output, dark=args.dark, count=args.count, size=(width, height), search=args.search, status=args.status)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
