"""check_display(): a one-line message instead of Qt's plugin abort when no display can be reached."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from desktop.ui.platform import display


def _probe(reachable: set[str]) -> Callable[[str], bool]:
    return lambda address: address in reachable


def _no_xcb_problem(env: Mapping[str, str]) -> str | None:
    return None


def check_display(
    env: Mapping[str, str],
    platform: str,
    probe: Callable[[str], bool],
    xcb_problem: Callable[[Mapping[str, str]], str | None] = _no_xcb_problem,
) -> str | None:  # the plugin check has tests of its own (test_qt_libs.py)
    return display.check_display(env, platform, probe, xcb_problem)


def test_no_display_variables_gives_one_clear_line() -> None:
    message = check_display({}, "linux", _probe(set()))
    assert message is not None
    assert "\n" not in message
    assert "DISPLAY" in message and "apikeys --help" in message


def test_an_explicit_qt_platform_is_trusted() -> None:
    assert check_display({"QT_QPA_PLATFORM": "offscreen"}, "linux", _probe(set())) is None


def test_a_local_x_display_needs_its_socket() -> None:
    assert check_display({"DISPLAY": ":3"}, "linux", _probe({"/tmp/.X11-unix/X3"})) is None
    assert check_display({"DISPLAY": ":3.0"}, "linux", _probe({"\0/tmp/.X11-unix/X3"})) is None
    message = check_display({"DISPLAY": ":3"}, "linux", _probe(set()))
    assert message is not None and "DISPLAY=:3 is not reachable" in message


def test_a_remote_x_display_is_left_to_qt() -> None:
    assert check_display({"DISPLAY": "localhost:10.0"}, "linux", _probe(set())) is None


def test_wayland_socket_in_the_runtime_dir() -> None:
    env = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert check_display(env, "linux", _probe({"/run/user/1000/wayland-0"})) is None
    message = check_display({**env, "DISPLAY": ":1"}, "linux", _probe(set()))
    assert message is not None and "neither WAYLAND_DISPLAY=wayland-0 nor DISPLAY=:1" in message


def test_windows_and_macos_are_not_checked() -> None:
    assert check_display({}, "win32", _probe(set())) is None
    assert check_display({}, "darwin", _probe(set())) is None


def _xcb_fails(env: Mapping[str, str]) -> str:
    return "apikeys: xcb plugin cannot load"


def test_the_xcb_plugin_is_checked_when_x11_is_what_qt_will_use() -> None:
    reachable = _probe({"/tmp/.X11-unix/X3", "/run/user/1000/wayland-0"})
    assert check_display({"DISPLAY": ":3"}, "linux", reachable, _xcb_fails) == "apikeys: xcb plugin cannot load"
    assert check_display({"QT_QPA_PLATFORM": "xcb"}, "linux", reachable, _xcb_fails) is not None
    assert check_display({"QT_QPA_PLATFORM": "xcb:nomitshm"}, "linux", reachable, _xcb_fails) is not None
    # Not X11, or not Linux: the plugin's libraries do not matter.
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": "/run/user/1000", "DISPLAY": ":3"}
    assert check_display(wayland, "linux", reachable, _xcb_fails) is None
    assert check_display({"QT_QPA_PLATFORM": "offscreen"}, "linux", reachable, _xcb_fails) is None
    assert check_display({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", reachable, _xcb_fails) is None
    assert check_display({"DISPLAY": ":3"}, "freebsd14", reachable, _xcb_fails) is None
    # No display at all: that is the message, not the libraries.
    assert "DISPLAY=:4 is not reachable" in (check_display({"DISPLAY": ":4"}, "linux", reachable, _xcb_fails) or "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/net/unix is Linux's")
@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_the_probe_does_not_connect_to_a_listening_x_server(tmp_path: Path, abstract: bool) -> None:
    """An X server whose only client leaves resets itself: Qt connecting right after the probe would fail."""
    address = f"\0/tmp/.X11-unix/apikeys-test-{os.getpid()}" if abstract else str(tmp_path / "X0")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(address)
        server.listen(4)
        server.setblocking(False)
        assert display._unix_socket_accepts(address)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    assert not display._unix_socket_accepts(address)  # closed: no longer reachable
