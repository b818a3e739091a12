#!/usr/bin/env bash
# Build the one-folder app (dist/apikeys/) and the Debian package (dist/apikeys_<version>_<arch>.deb).
# Usage: packaging/package.sh [PYTHON]   (default .venv/bin/python, with the `package` extra installed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}

die() { echo "package: $*" >&2; exit 1; }

[ -x "$PY" ] || die "$PY not found; run 'make package', which creates the venv"
"$PY" -c "import PyInstaller" 2>/dev/null || die "PyInstaller is missing; pip install -e '.[gui,package]'"
# PyInstaller strips binaries with `strip`; build_deb.py reads dependencies with `readelf`.
if ! command -v strip >/dev/null || ! command -v readelf >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null
    else
        die "binutils (strip, readelf) is not installed: apt-get install binutils"
    fi
fi
command -v dpkg-deb >/dev/null || die "dpkg-deb is not installed (apt-get install dpkg)"

mkdir -p build dist
SECONDS=0
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller build.spec \
    > build/pyinstaller.log 2>&1 || { tail -n 40 build/pyinstaller.log >&2; die "PyInstaller failed (log: build/pyinstaller.log)"; }
# The build machine's RUNPATH (e.g. a pyenv prefix under /root) must not reach installing machines.
"$PY" packaging/strip_rpath.py dist/apikeys || die "could not strip the build machine's RUNPATH from dist/apikeys"
bundled=$SECONDS
deb=$("$PY" packaging/build_deb.py --bundle dist/apikeys --out dist)
done_=$SECONDS

echo "package: bundle dist/apikeys: $(du -sh dist/apikeys | cut -f1) (du -sh), built in ${bundled} s"
echo "package: $deb: $(du -h "$deb" | cut -f1), built in $((done_ - bundled)) s"
echo "package: package step took ${done_} s in all"
