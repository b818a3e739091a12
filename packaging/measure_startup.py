"""Launch-to-window time of the packaged app against `python -m desktop`, measured side by side in one run.

Method: one Xvfb server; `xev -root -event substructure` reports the X MapNotify event
when a top-level window is mapped (event-driven, no polling). Each sample is the time from
spawning the process to the first MapNotify of its window; the app is then closed with
SIGTERM. The two commands alternate, after one unmeasured warm-up each, so that disk cache
and machine load treat them alike. Needs xvfb and x11-utils (xev) and coreutils' stdbuf.

    .venv/bin/python packaging/measure_startup.py [--runs 7] [--bundle dist/apikeys/apikeys]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fail(message: str) -> None:
    sys.stderr.write(f"measure_startup: {message}\n")
    raise SystemExit(1)


class MapWatcher:
    """Follows xev's MapNotify events on the root window of `display`."""

    def __init__(self, display: str) -> None:
        env = {**os.environ, "DISPLAY": display}
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "xev", "-root", "-event", "substructure"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.mapped = threading.Event()
        self.when = 0.0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("MapNotify") and not self.mapped.is_set():
                self.when = time.perf_counter()
                self.mapped.set()

    def reset(self) -> None:
        self.mapped.clear()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def sample(command: list[str], env: dict[str, str], watcher: MapWatcher, timeout: float = 30.0) -> float:
    watcher.reset()
    start = time.perf_counter()
    app = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not watcher.mapped.wait(timeout):
            fail(f"no window within {timeout:g} s from {command[0]}")
        elapsed = watcher.when - start
        time.sleep(0.3)  # let it reach the event loop before it is asked to quit
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            _, err = app.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            _, err = app.communicate()
    if app.returncode != 0:
        fail(f"{command[0]} exited {app.returncode} after SIGTERM: {err.decode(errors='replace')[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured launches of each command (default 7)")
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "apikeys" / "apikeys")
    parser.add_argument("--python", type=Path, default=ROOT / ".venv" / "bin" / "python")
    args = parser.parse_args()
    for tool in ("Xvfb", "xev", "stdbuf"):
        if shutil.which(tool) is None:
            fail(f"'{tool}' is missing (apt-get install xvfb x11-utils coreutils)")
    if not args.bundle.is_file():
        fail(f"{args.bundle} does not exist; run 'make package' first")

    display = f":{random.randint(150, 250)}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    temp = Path(tempfile.mkdtemp(prefix="apikeys-startup-"))
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
                break
            time.sleep(0.1)
        runtime = temp / "runtime"
        runtime.mkdir(mode=0o700)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(temp),
            "LANG": "C.UTF-8",
            "DISPLAY": display,
            "XDG_RUNTIME_DIR": str(runtime),
        }
        database = temp / "keys.db"
        # Both open the same, already created database: the schema step is not what is measured.
        subprocess.run(
            [str(args.bundle), "create", "--description", "startup", "--database", str(database)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        commands = {
            "packaged": [str(args.bundle), "--database", str(database)],
            "python -m desktop": [str(args.python), "-m", "desktop", "--database", str(database)],
        }
        watcher = MapWatcher(display)
        time.sleep(0.5)
        times: dict[str, list[float]] = {name: [] for name in commands}
        try:
            for command in commands.values():  # warm-up, not measured
                sample(command, {**env, "PYTHONPATH": str(ROOT)}, watcher)
            for _ in range(args.runs):
                for name, command in commands.items():
                    times[name].append(sample(command, {**env, "PYTHONPATH": str(ROOT)}, watcher))
        finally:
            watcher.close()
    finally:
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(temp, ignore_errors=True)

    print(f"launch to first window map, Xvfb, {args.runs} runs each after one warm-up (seconds):")
    for name, values in times.items():
        print(f"  {name:18s} median {statistics.median(values):.3f}  min {min(values):.3f}  max {max(values):.3f}")
    ratio = statistics.median(times["packaged"]) / statistics.median(times["python -m desktop"])
    print(f"  packaged / python -m desktop: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
