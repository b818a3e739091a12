"""The files that make the app installable: desktop entry, icons, and build.spec's data matching run-time lookups."""

from __future__ import annotations

import ast
import configparser
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET

import pytest

from desktop import resources
from desktop.core.db import migrate
from tests.helpers import REPO

APP = REPO / "resources" / "app"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_desktop_entry_has_what_menus_need() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(APP / "apikeys.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "API Key Manager"
    assert entry["Comment"]
    assert entry["Exec"].split()[0] == "apikeys"
    assert entry["Icon"] == "apikeys"
    assert entry["Terminal"] == "false"
    assert {"Utility", "Security"} <= set(entry["Categories"].rstrip(";").split(";"))


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_validates() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(APP / "apikeys.desktop")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_the_desktop_entry() -> None:
    root = ET.parse(APP / "apikeys.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("launchable") == "apikeys.desktop"
    assert root.findtext("name") == "API Key Manager"


@pytest.mark.parametrize("size", PNG_SIZES)
def test_png_icon_sizes(size: int) -> None:
    assert _png_size((APP / "icons" / f"apikeys-{size}.png").read_bytes()) == (size, size)


def test_ico_holds_the_windows_sizes_up_to_256() -> None:
    data = (APP / "apikeys.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for index in range(count):
        width, _h, _c, _r, _p, _b, length, offset = struct.unpack("<BBBBHHII", data[6 + 16 * index : 22 + 16 * index])
        assert _png_size(data[offset : offset + length]) == (width or 256, width or 256)
        sizes.add(width or 256)
    assert {16, 32, 48, 256} <= sizes


def test_icns_is_a_well_formed_container() -> None:
    data = (APP / "apikeys.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    kinds, offset = set(), 8
    while offset < len(data):
        kind, length = data[offset : offset + 4], struct.unpack(">I", data[offset + 4 : offset + 8])[0]
        kinds.add(kind)
        offset += length
    assert offset == len(data)
    assert {b"ic07", b"ic08", b"ic09", b"ic10"} <= kinds


def _spec_datas() -> dict[str, str]:
    """build.spec's Analysis(datas=[(src, dest), ...]) as {dest: source expression}."""
    tree = ast.parse((REPO / "build.spec").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Analysis":
            datas = next(k.value for k in node.keywords if k.arg == "datas")
            assert isinstance(datas, ast.List)
            pairs: dict[str, str] = {}
            for item in datas.elts:
                assert isinstance(item, ast.Tuple)
                src, dest = item.elts
                assert isinstance(dest, ast.Constant) and isinstance(dest.value, str)
                pairs[dest.value] = ast.unparse(src)
            return pairs
    raise AssertionError("no Analysis(...) in build.spec")


def test_spec_ships_the_migrations_where_db_py_looks_for_them() -> None:
    # Frozen, migrate.py's __file__ is <bundle>/desktop/core/db/migrate.pyc: the folder beside its package must
    # be the data's dest.
    where = migrate.MIGRATIONS_DIR.relative_to(REPO).as_posix()
    datas = _spec_datas()
    assert where in datas
    assert "migrations" in datas[where]
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert list((migrate.MIGRATIONS_DIR / "versions").glob("*.py"))


def test_spec_ships_resources_where_resources_py_looks_for_them() -> None:
    where = resources.resources_dir().relative_to(REPO).as_posix()
    assert where == "resources"
    assert "resources" in _spec_datas()[where]


def test_the_hooks_that_trim_qt_are_where_the_spec_points() -> None:
    spec = (REPO / "build.spec").read_text(encoding="utf-8")
    assert '"packaging" / "pyinstaller-hooks"' in spec
    for module in ("QtCore", "QtGui"):
        assert (REPO / "packaging" / "pyinstaller-hooks" / f"hook-PySide6.{module}.py").is_file()


def test_install_instructions_and_the_smoke_test_use_apt_on_the_built_file() -> None:
    """Issue 9.2: `dpkg -i` fails on a machine lacking a Depends; `apt install ./file.deb` pulls them in.

    `make smoke` proves the command works; this keeps the README and smoke.sh on that one command.
    """
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    guide = (REPO / "docs" / "user-guide.md").read_text(encoding="utf-8")  # the README's "more" on installing
    smoke = (REPO / "packaging" / "smoke.sh").read_text(encoding="utf-8")
    build_deb = (REPO / "packaging" / "build_deb.py").read_text(encoding="utf-8")
    assert "dpkg -i" not in readme.replace("`dpkg -i` would not", "")
    assert "dpkg -i" not in guide.replace("`dpkg -i` would not", "")
    assert "sudo apt install ./dist/apikeys_<version>_<arch>.deb" in readme
    assert 'f"{NAME}_{ver}_{arch}.deb"' in build_deb  # the file name the README spells out
    commands = [line.strip() for line in smoke.splitlines() if not line.lstrip().startswith("#")]
    assert not any(re.search(r"\bdpkg -i\b", line) for line in commands)
    assert any('apt install -y "$deb_arg"' in line for line in commands)
    assert "deb_arg=./$DEB" in smoke


def test_spec_bundles_psycopg_with_its_own_libpq() -> None:
    """Team mode in the installed app (issue 12.1): what psycopg and SQLAlchemy load by name at run time.

    `make smoke` proves it on a real server; this keeps the names in the spec, where nothing else would notice
    them missing until a packaged app failed with "No module named 'psycopg_binary'".
    """
    tree = ast.parse((REPO / "build.spec").read_text(encoding="utf-8"))
    analysis = next(
        node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Analysis"
    )
    hidden = next(k.value for k in analysis.keywords if k.arg == "hiddenimports")
    assert isinstance(hidden, ast.List)
    names = {item.value for item in hidden.elts if isinstance(item, ast.Constant)}
    calls = {ast.unparse(item) for item in hidden.elts if isinstance(item, ast.Starred)}
    assert {"psycopg_binary", "psycopg_binary.pq", "psycopg_binary._psycopg"} <= names
    assert "sqlalchemy.dialects.postgresql.psycopg" in names
    assert "*collect_submodules('psycopg')" in calls
