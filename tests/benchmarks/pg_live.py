"""Team mode's live refresh: from another session's COMMIT until the window's controller shows the change.

`python -m tests.benchmarks.pg_live [URL] [--samples N]` prints the median, 95th percentile and worst, in ms;
without a URL it runs on a throwaway cluster (tests/pg.py). `measure_live_refresh` is what `make bench` reuses.
Each sample: a psycopg session updates a key's description, the clock starts just before its COMMIT, and stops
when the controller emits `pageChanged` holding the new text (notification, drain, page read off the GUI
thread, back on it), the samples spaced by the watch's coalescing interval. The controller runs without
widgets, under a QCoreApplication when none exists.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

#: No sample may wait longer than this (the contract's bound is 1 s).
SAMPLE_TIMEOUT_S = 5.0


def _wait(app: object, predicate: Callable[[], bool], timeout_s: float = SAMPLE_TIMEOUT_S) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the controller did not get there in time")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def _rest(app: object, seconds: float) -> None:
    """Let the event loop run for `seconds`."""
    until = time.monotonic() + seconds
    _wait(app, lambda: time.monotonic() >= until)


def measure_live_refresh(url: str, samples: int = 50) -> list[float]:
    """Seconds from COMMIT to the controller's pageChanged, one per sample, on the database at `url`."""
    import psycopg
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from desktop.core.store import KeyStore
    from desktop.core.values import KeyRecord
    from desktop.ui.control.change_watch import COALESCE_MS
    from desktop.ui.control.controller import Controller

    app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
    store = KeyStore.open(url, create=True)
    if store.count() == 0:
        store.create("live refresh probe")
    controller = Controller(page_size=25, poll_interval_ms=3_600_000)
    results: list[float] = []
    try:
        controller.set_store(store)
        _wait(app, lambda: controller.watch.listening and controller.runner.pending() == 0)
        pager = controller.pager
        assert pager is not None
        key_id = pager.items[0].id
        loop = QEventLoop()
        timeout = QTimer()
        timeout.setSingleShot(True)
        timeout.timeout.connect(loop.quit)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as writer:
            for n in range(samples):
                text = f"live refresh probe {n} {time.time_ns()}"
                seen: list[float] = []

                def on_page(
                    records: tuple[KeyRecord, ...], _select: object, text: str = text, seen: list[float] = seen
                ) -> None:
                    if not seen and any(r.id == key_id and r.description == text for r in records):
                        seen.append(time.perf_counter())
                        loop.quit()

                controller.pageChanged.connect(on_page)
                writer.execute("UPDATE api_keys SET description = %s WHERE id = %s", (text, key_id))
                timeout.start(int(SAMPLE_TIMEOUT_S * 1000))
                started = time.perf_counter()
                writer.commit()
                if not seen:
                    loop.exec()
                timeout.stop()
                controller.pageChanged.disconnect(on_page)
                if not seen:
                    raise TimeoutError(f"sample {n}: the change did not appear within {SAMPLE_TIMEOUT_S:.0f} s")
                results.append(seen[0] - started)
                # The recount that follows runs before the next sample, so that samples do not overlap; and the
                # next change comes after the coalescing interval (ChangeWatch: at most one reload per
                # COALESCE_MS, so a flood of notifications cannot keep every window reloading). Each sample is a
                # change to a quiet database, shown at once; one within COALESCE_MS of the last shows when that
                # interval ends.
                _wait(app, lambda: controller.runner.pending() == 0)
                _rest(app, (COALESCE_MS + 20) / 1000)
    finally:
        controller.shutdown()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", nargs="?", help="a PostgreSQL URL (default: a throwaway cluster)")
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args(argv)
    cluster = None
    url = args.url
    if url is None:
        from tests.pg import start_cluster

        cluster = start_cluster()
        url = cluster.new_database()
    try:
        times = sorted(measure_live_refresh(url, args.samples))
    finally:
        if cluster is not None:
            cluster.remove()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"live refresh, COMMIT → page shown ({len(times)} samples): median {statistics.median(times) * 1000:.2f} ms, "
        f"p95 {p95 * 1000:.2f} ms, worst {times[-1] * 1000:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
