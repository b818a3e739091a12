"""Tell, before QApplication exists, whether a window can be shown; Qt itself would abort with a plugin error."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

HINT = "Start it from a desktop session, or use the command line (run 'apikeys --help')."


def _unix_socket_accepts(address: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def _x11_reachable(display: str, probe: Callable[[str], bool]) -> bool:
    """A local display (`:0`, `unix:0.0`) must have a listening socket; a remote one is Qt's to try."""
    host, _, rest = display.rpartition(":")
    if host not in ("", "unix") or not rest:
        return True
    number = rest.split(".", 1)[0]
    if not number.isdigit():
        return True
    path = f"/tmp/.X11-unix/X{number}"
    # Xorg and Xwayland listen on the abstract name too, which survives a cleaned /tmp.
    return probe(path) or (sys.platform.startswith("linux") and probe("\0" + path))


def _wayland_reachable(name: str, env: Mapping[str, str], probe: Callable[[str], bool]) -> bool:
    path = Path(name)
    if not path.is_absolute():
        runtime = env.get("XDG_RUNTIME_DIR", "")
        if not runtime:
            return False
        path = Path(runtime) / name
    return probe(str(path))


def check_display(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    probe: Callable[[str], bool] = _unix_socket_accepts,
) -> str | None:
    """None when a window can probably be shown, else a one-line message for people.

    Only X11/Wayland systems are checked: Windows and macOS always have a
    display for a desktop app. An explicit QT_QPA_PLATFORM (offscreen, vnc,
    eglfs...) is the user's choice and is trusted as is.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    if env.get("QT_QPA_PLATFORM", "").strip():
        return None
    wayland = env.get("WAYLAND_DISPLAY", "").strip()
    x11 = env.get("DISPLAY", "").strip()
    if not wayland and not x11:
        return f"apikeys: no graphical display found (neither DISPLAY nor WAYLAND_DISPLAY is set). {HINT}"
    if (wayland and _wayland_reachable(wayland, env, probe)) or (x11 and _x11_reachable(x11, probe)):
        return None
    named = [f"{name}={value}" for name, value in (("WAYLAND_DISPLAY", wayland), ("DISPLAY", x11)) if value]
    shown = f"neither {named[0]} nor {named[1]} is reachable" if len(named) == 2 else f"{named[0]} is not reachable"
    return f"apikeys: cannot connect to the graphical display ({shown}). {HINT}"
