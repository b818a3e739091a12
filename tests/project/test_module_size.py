"""Issue 11: no module in desktop/ is over about 450 lines, so each stays readable in one sitting."""

from __future__ import annotations

from tests.helpers import REPO

MODULE_LINES_MAX = 450


def test_no_module_in_desktop_is_over_450_lines() -> None:
    sizes = {
        path.relative_to(REPO).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in (REPO / "desktop").rglob("*.py")
    }
    over = {name: lines for name, lines in sizes.items() if lines > MODULE_LINES_MAX}
    assert over == {}
