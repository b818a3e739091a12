"""Tell, before QApplication exists, whether a window can be shown; Qt itself would abort with a plugin error.

Two causes are caught: no reachable display, and an X11 display whose platform plugin (libqxcb.so)
cannot load because the system lacks libraries it links to (a bare Debian has no libxcb-icccm4,
libxcb-keysyms1 or libxcb-cursor0). packaging/ensure_qt_libs.py, run by `make run`, installs
those with the same helpers.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

HINT = "Start it from a desktop session, or use the command line (run 'apikeys --help')."

XCB_PLUGIN = "libqxcb.so"
#: Qt 6.5+ refuses the xcb plugin without it, also in builds that only dlopen it (not in DT_NEEDED).
XCB_CURSOR = "libxcb-cursor.so.0"

#: Debian packages of the libraries the xcb plugin needs, where the generic rule below does not
#: give the name (and the ones a bare Debian lacks, spelled out).
DEBIAN_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgcc_s.so.1": "libgcc-s1",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
}

_SONAME = re.compile(r"^(lib[^/]+?)\.so\.(\d+)")
_LDD_NOT_FOUND = re.compile(r"^\s*(\S+) => not found\s*$", re.M)
_DLERROR_FILE = re.compile(r"^([^:\s]+\.so[^:\s]*): cannot open shared object file")


def debian_package(soname: str) -> str:
    """The Debian package that ships `soname`: the table, else Debian's library naming policy.

    The policy: the name before `.so` in lower case, then the major version, with a hyphen
    when the name ends in a digit (libX11.so.6 -> libx11-6, libxcb-icccm.so.4 -> libxcb-icccm4).
    """
    if soname in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[soname]
    match = _SONAME.match(soname)
    if not match:
        return soname
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def debian_packages(sonames: list[str]) -> list[str]:
    return list(dict.fromkeys(debian_package(s) for s in sonames))


def missing_in_ldd_output(text: str) -> list[str]:
    """The `NAME => not found` libraries of `ldd` output, each once, in order."""
    return list(dict.fromkeys(_LDD_NOT_FOUND.findall(text)))


def _loadable(path: str) -> str | None:
    """None when the dynamic linker can load `path` (a file or a soname), else its error."""
    import ctypes

    try:
        # Lazy, as Qt loads plugins: a symbol nobody calls must not count as a failure.
        ctypes.CDLL(path, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as err:
        return str(err)
    return None


def missing_libraries(plugin: Path) -> list[str]:
    """Every library the plugin needs and the system lacks (ldd walks the whole tree), and libxcb-cursor."""
    import shutil
    import subprocess

    missing: list[str] = []
    ldd = shutil.which("ldd")
    if ldd:
        result = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False)
        missing = missing_in_ldd_output(result.stdout)
    if XCB_CURSOR not in missing and _loadable(XCB_CURSOR) is not None:
        missing.append(XCB_CURSOR)
    return missing


def xcb_plugin_candidates(env: Mapping[str, str]) -> list[Path]:
    """Where Qt looks for the xcb plugin, in its order: QT_QPA_PLATFORM_PLUGIN_PATH, then each plugin path."""
    from PySide6.QtCore import QLibraryInfo

    folders = []
    direct = env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "")
    if direct:
        folders.append(Path(direct))
    extra = [Path(part) / "platforms" for part in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if part]
    folders += extra
    folders.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms")
    return [folder / XCB_PLUGIN for folder in folders if (folder / XCB_PLUGIN).is_file()]


def install_command(sonames: list[str]) -> str:
    return "sudo apt install " + " ".join(debian_packages(sonames))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _missing_message(missing: list[str]) -> str:
    import shutil

    verb = "is" if len(missing) == 1 else "are"
    how = (
        f"install with: {install_command(missing)}"
        if shutil.which("apt-get")
        else "install the packages that provide them"
    )
    return (
        f"apikeys: cannot open a window: Qt's X11 platform plugin needs {_and(missing)}, which {verb} not installed; "
        f"{how} (or use the command line: 'apikeys --help')."
    )


def xcb_plugin_problem(env: Mapping[str, str]) -> str | None:
    """None when Qt's xcb plugin can load (or cannot be found: Qt's to report), else a one-line message.

    The plugin is loaded with dlopen, as Qt is about to do anyway, so a working system pays only
    for the load itself; ldd runs only to name every missing library once loading has failed.
    """
    candidates = xcb_plugin_candidates(env)
    if not candidates:
        return None
    first_error = ""
    for plugin in candidates:  # Qt, too, tries the next folder when a plugin does not load
        error = _loadable(str(plugin))
        if error is None:
            return None if _loadable(XCB_CURSOR) is None else _missing_message([XCB_CURSOR])
        first_error = first_error or error
    missing = missing_libraries(candidates[0])
    if not missing:
        match = _DLERROR_FILE.match(first_error)
        if not match:
            detail = first_error.splitlines()[0] if first_error else "unknown error"
            return f"apikeys: Qt's X11 platform plugin {candidates[0]} cannot be loaded ({detail}). {HINT}"
        missing = [match.group(1)]
    return _missing_message(missing)


_SO_ACCEPTCON = 0x10000  # the "listening" flag in /proc/net/unix


def _listening_in_proc(address: str) -> bool:
    """Linux: is a socket of this name listening, by /proc/net/unix (abstract names show as '@...')."""
    shown = "@" + address[1:] if address.startswith("\0") else address
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="replace") as table:
            next(table, None)
            for line in table:
                fields = line.split(None, 7)
                if len(fields) == 8 and fields[7].rstrip("\n") == shown and int(fields[3], 16) & _SO_ACCEPTCON:
                    return True
    except (OSError, ValueError):
        pass
    return False


def _unix_socket_accepts(address: str) -> bool:
    # Look before connecting: an X server whose only client disconnects resets itself (Xvfb, a bare
    # Xorg), and Qt's own connection a moment later would fail ("could not connect to display").
    # /proc/net/unix lists only this network namespace, so a socket shared into a container is
    # still tried with a real connection.
    if sys.platform.startswith("linux") and _listening_in_proc(address):
        return True
    import socket

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


def first_platform(spec: str) -> str:
    """`xcb:option=1` or a fallback list `wayland;xcb`: the platform Qt tries first."""
    return spec.split(";", 1)[0].split(":", 1)[0].strip()


def check_display(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    probe: Callable[[str], bool] = _unix_socket_accepts,
    xcb_problem: Callable[[Mapping[str, str]], str | None] = xcb_plugin_problem,
) -> str | None:
    """None when a window can probably be shown, else a one-line message for people.

    Only X11/Wayland systems are checked: Windows and macOS always have a
    display for a desktop app. An explicit QT_QPA_PLATFORM (offscreen, vnc,
    eglfs...) is the user's choice and is trusted as is, except that the xcb
    plugin's libraries are checked whenever X11 is what Qt will use (Linux only).
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    linux = platform.startswith("linux")
    explicit = env.get("QT_QPA_PLATFORM", "").strip()
    if explicit:
        return xcb_problem(env) if linux and first_platform(explicit) == "xcb" else None
    wayland = env.get("WAYLAND_DISPLAY", "").strip()
    x11 = env.get("DISPLAY", "").strip()
    if not wayland and not x11:
        return f"apikeys: no graphical display found (neither DISPLAY nor WAYLAND_DISPLAY is set). {HINT}"
    if wayland and _wayland_reachable(wayland, env, probe):
        return None  # Qt may still pick xcb on some desktops; Wayland working is enough to go on
    if x11 and _x11_reachable(x11, probe):
        return xcb_problem(env) if linux else None
    named = [f"{name}={value}" for name, value in (("WAYLAND_DISPLAY", wayland), ("DISPLAY", x11)) if value]
    shown = f"neither {named[0]} nor {named[1]} is reachable" if len(named) == 2 else f"{named[0]} is not reachable"
    return f"apikeys: cannot connect to the graphical display ({shown}). {HINT}"
