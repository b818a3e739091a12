"""`make run`'s last set-up step: install the system libraries Qt's X11 plugin needs, or say how in one line.

PySide6's wheel carries Qt but not the X libraries its xcb platform plugin links to, and a bare
Debian lacks some of them (libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0): Qt would abort at
start. This finds what the plugin in the venv lacks (ldd), maps each library to its Debian
package and installs them with apt-get, as root or through `sudo -n`. Where it cannot, it stops
with one line naming the exact `sudo apt install ...` command, before anything starts Qt.

Exit 0: nothing missing (or not X11 on Linux), or installed now. Exit 1: still missing.
Run with the venv's Python: `.venv/bin/python packaging/ensure_qt_libs.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from desktop.ui.platform.display import (
    debian_packages,
    first_platform,
    install_command,
    missing_libraries,
    xcb_plugin_candidates,
)

PREFIX = "make run:"


def say(message: str) -> None:
    sys.stderr.write(f"{PREFIX} {message}\n")


def _apt_lists_empty() -> bool:
    """A fresh image (a Docker one, say) has no package lists: apt-get install finds nothing before an update."""
    lists = Path("/var/lib/apt/lists")
    return not any(lists.glob("*_Packages*")) if lists.is_dir() else True


def _privilege() -> list[str] | None:
    """The prefix that runs apt-get as root: none needed, `sudo -n`, or None when neither is possible."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    # -n: never ask for a password (make run may not have a terminal); a sudo that would ask fails.
    check = subprocess.run([sudo, "-n", "true"], capture_output=True, check=False)
    return [sudo, "-n"] if check.returncode == 0 else None


def _apt_get(prefix: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # sudo drops the environment by default: pass the setting on the command line as well.
    command = [*prefix, *(["env", "DEBIAN_FRONTEND=noninteractive"] if prefix else []), "apt-get", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def install(missing: list[str], plugin: Path) -> int:
    packages = debian_packages(missing)
    command = install_command(missing)
    needs = ", ".join(missing)
    if shutil.which("apt-get") is None:
        say(f"Qt's X11 plugin needs {needs}, which this system lacks: install the packages that provide them.")
        return 1
    prefix = _privilege()
    if prefix is None:
        say(f"Qt's X11 plugin needs {needs}: run '{command}', then 'make run' again.")
        return 1
    say(f"installing {' '.join(packages)} for Qt's X11 plugin ({needs} missing)")
    if _apt_lists_empty():
        _apt_get(prefix, "update", "-qq")
    result = _apt_get(prefix, "install", "-y", "-qq", "--no-install-recommends", *packages)
    if result.returncode != 0 and not _apt_lists_empty():
        # Stale lists (a package moved to a new version): refresh them once and try again.
        _apt_get(prefix, "update", "-qq")
        result = _apt_get(prefix, "install", "-y", "-qq", "--no-install-recommends", *packages)
    if result.returncode != 0:
        say(f"could not install {' '.join(packages)} ({_last_line(result.stderr + result.stdout)}): run '{command}'.")
        return 1
    still = missing_libraries(plugin)
    if still:
        say(f"Qt's X11 plugin still lacks {', '.join(still)} after installing {' '.join(packages)}.")
        return 1
    return 0


def main() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    explicit = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if explicit and first_platform(explicit) != "xcb":
        return 0  # offscreen, wayland...: the xcb plugin is not used
    candidates = xcb_plugin_candidates(os.environ)
    if not candidates:
        return 0  # a Qt without the xcb plugin: nothing of ours to fix
    plugin = candidates[0]
    missing = missing_libraries(plugin)
    return install(missing, plugin) if missing else 0


if __name__ == "__main__":
    sys.exit(main())
