"""Build the Debian package from the PyInstaller bundle: dist/apikeys/ -> dist/apikeys_<version>_<arch>.deb.

Layout: the bundle under /opt/apikeys, /usr/bin/apikeys a symlink to it (the bootloader
follows /proc/self/exe, so it finds its _internal/ folder), the desktop entry, AppStream
metadata and hicolor icons under /usr/share. The desktop and icon caches are refreshed by
the dpkg triggers of desktop-file-utils and the icon theme, so no maintainer script is
needed for them.

Depends: every shared library that a bundled file links to and the bundle does not carry
(PyInstaller leaves out libc, GL/EGL, libxcb and Wayland's client libraries on purpose) is
mapped to its Debian package below; an unknown one stops the build, so a new Qt that links
to something new cannot ship a package that fails to start.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from strip_rpath import elf_files  # a sibling script: packaging/ is on sys.path when run

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "resources" / "app"
NAME = "apikeys"
PREFIX = Path("opt") / NAME
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
#: The expiry reminder's systemd user units (resources/app/systemd), and the one enabled for every user.
REMINDER_UNITS = ("apikeys-remind.service", "apikeys-remind.timer")
REMINDER_TIMER = "apikeys-remind.timer"

#: Libraries the bundle links to but does not carry, and the Debian package of each.
SYSTEM_LIBRARIES = {
    "ld-linux-x86-64.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
    "libc.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libm.so.6": "libc6",
    "libpthread.so.0": "libc6",
    "libresolv.so.2": "libc6",  # psycopg_binary's Kerberos (GSSAPI) libraries, for team mode
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libxcb.so.1": "libxcb1",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
#: Loaded with dlopen by the xcb platform plugin (Qt 6.5+), so not in any DT_NEEDED; the
#: bundle usually carries it, this covers a build machine that did not have it.
ALWAYS = ("libxcb-cursor0",)

_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_SEARCH_PATH = re.compile(r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]*)\]")


def fail(message: str) -> None:
    sys.stderr.write(f"build_deb: {message}\n")
    raise SystemExit(1)


def version() -> str:
    text = (ROOT / "desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        fail("no __version__ in desktop/__init__.py")
    return match.group(1)


def architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True, text=True).stdout.strip()


def system_dependencies(bundle: Path) -> list[str]:
    """Debian packages for the libraries that the bundle's ELF files need and do not carry."""
    files = elf_files(bundle)
    carried = {p.name for p in bundle.rglob("*")}
    needed: set[str] = set()
    for path in files:
        out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=False).stdout
        needed.update(_NEEDED.findall(out))
        # package.sh strips these (strip_rpath.py); a bundle that skipped it must not be packaged.
        for search in _SEARCH_PATH.findall(out):
            unsafe = [e for e in search.split(":") if e and not e.startswith(("$ORIGIN", "${ORIGIN}"))]
            if unsafe:
                fail(f"{path} searches {':'.join(unsafe)} for libraries; run packaging/strip_rpath.py on the bundle")
    missing = sorted(needed - carried)
    unknown = [lib for lib in missing if lib not in SYSTEM_LIBRARIES]
    if unknown:
        fail(
            "the bundle links to libraries it does not carry and that SYSTEM_LIBRARIES does not map to "
            f"a Debian package: {', '.join(unknown)}. Add them to packaging/build_deb.py."
        )
    return sorted({SYSTEM_LIBRARIES[lib] for lib in missing} | set(ALWAYS))


def installed_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir() and "DEBIAN" not in p.parts)
    return (total + 1023) // 1024


CONTROL = """\
Package: {name}
Version: {version}
Architecture: {arch}
Maintainer: API Key Manager developers <apikeys@localhost>
Installed-Size: {size}
Depends: {depends}
Recommends: desktop-file-utils, hicolor-icon-theme
Section: utils
Priority: optional
Description: generate, view and verify API keys in a local database
 API Key Manager keeps API keys in a local SQLite database, or for a team on a
 PostgreSQL server: it generates keys that are shown once, lists them masked,
 activates, deactivates and deletes them, and verifies a key from its window
 or from the command line (apikeys). Only a SHA-256 digest of each key is
 stored.
 .
 The application is a self-contained PyInstaller bundle under /opt/apikeys.
"""

# Removal never touches the users' databases: they live in each user's data folder (or
# wherever --database / APIKEYS_DATABASE pointed), which dpkg does not own. On purge, only
# what a run as root may have left inside the install folder is cleared.
POSTRM = """\
#!/bin/sh
set -e
if [ "$1" = "purge" ] && [ -d /opt/apikeys ]; then
    rm -rf /opt/apikeys
fi
exit 0
"""


def install_reminder_units(root: Path) -> None:
    """The daily expiry reminder: user units under /usr/lib/systemd/user, the timer enabled for every user.

    The `timers.target.wants` link is what `systemctl --global enable` makes, shipped by the package (no
    maintainer script); a person turns reminders off with `apikeys remind --off` or View > Expiry Reminders.
    """
    units = root / "usr" / "lib" / "systemd" / "user"
    (units / "timers.target.wants").mkdir(parents=True)
    for unit in REMINDER_UNITS:
        shutil.copy2(APP / "systemd" / unit, units / unit)
    (units / "timers.target.wants" / REMINDER_TIMER).symlink_to(Path("..") / REMINDER_TIMER)


def stage(bundle: Path, root: Path, arch: str, ver: str) -> None:
    target = root / PREFIX
    target.parent.mkdir(parents=True)
    shutil.copytree(bundle, target, symlinks=True)
    executable = target / NAME
    if not executable.is_file():
        fail(f"{bundle} has no '{NAME}' executable; build the bundle first (make package)")

    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / NAME).symlink_to(Path("/") / PREFIX / NAME)

    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(APP / f"{NAME}.desktop", share / "applications" / f"{NAME}.desktop")
    (share / "metainfo").mkdir(parents=True)
    shutil.copy2(APP / f"{NAME}.metainfo.xml", share / "metainfo" / f"{NAME}.metainfo.xml")
    for size in HICOLOR_SIZES:
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(APP / "icons" / f"{NAME}-{size}.png", folder / f"{NAME}.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(APP / f"{NAME}.svg", scalable / f"{NAME}.svg")

    install_reminder_units(root)

    debian = root / "DEBIAN"
    debian.mkdir()
    control = CONTROL.format(
        name=NAME,
        version=ver,
        arch=arch,
        size=installed_size_kib(root),
        depends=", ".join(system_dependencies(bundle)),
    )
    (debian / "control").write_text(control, encoding="utf-8")
    (debian / "postrm").write_text(POSTRM, encoding="utf-8")

    # A umask of the build machine must not leak into the installed files.
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            executable_bit = os.access(path, os.X_OK) or path.name in ("postrm",)
            path.chmod(0o755 if executable_bit else 0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / NAME, help="the PyInstaller one-folder app")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the .deb")
    parser.add_argument(
        "--compression", default="xz", choices=("xz", "gzip", "zstd", "none"), help="dpkg-deb -Z (default xz)"
    )
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        fail(f"{args.bundle} does not exist; build the bundle first (make package)")
    for tool in ("dpkg-deb", "readelf"):
        if shutil.which(tool) is None:
            fail(f"'{tool}' is not installed (apt-get install dpkg-dev binutils)")
    ver, arch = version(), architecture()
    args.out.mkdir(parents=True, exist_ok=True)
    deb = args.out / f"{NAME}_{ver}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="apikeys-deb-") as temp:
        root = Path(temp) / "root"
        root.mkdir()
        stage(args.bundle.resolve(), root, arch, ver)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", f"-Z{args.compression}", "--build", str(root), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
