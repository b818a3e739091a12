"""Issue 22 item 8: `make typecheck` runs mypy --strict on the whole package, the service library and all the tests
(tests/ui/ too), and no module of ours is excused wholesale (a narrow `# type: ignore[code]` with its reason is)."""

from __future__ import annotations

import re
import tomllib

from tests.helpers import REPO


def _mypy() -> dict[str, object]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert isinstance(config, dict)
    return config


def test_make_typecheck_checks_the_whole_package_strictly() -> None:
    config = _mypy()
    assert config["strict"] is True
    packages, codes = config["packages"], config["enable_error_code"]
    assert isinstance(packages, list) and sorted(packages) == ["apikeys", "desktop", "tests"]
    assert config.get("exclude", []) == []  # no file left out, the window's tests included
    assert isinstance(codes, list) and "ignore-without-code" in codes  # every ignore names the error it allows
    recipe = re.search(r"^typecheck:.*\n\t(.+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert recipe is not None and recipe.group(1).strip() == "$(VENV)/bin/mypy"  # the configured packages, all


def test_no_module_of_ours_is_excused() -> None:
    # Untyped calls are allowed into pytest-qt only (QtBot's QTest forwards take *args, **kwargs), never ours.
    untyped_calls_into = _mypy().get("untyped_calls_exclude", [])
    assert isinstance(untyped_calls_into, list) and untyped_calls_into == ["pytestqt"]
    overrides = _mypy().get("overrides", [])
    assert isinstance(overrides, list)
    for override in overrides:
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        ours = [m for m in modules if m.split(".")[0] in ("desktop", "apikeys", "tests")]
        assert ours == [], f"mypy settings relaxed for {ours}"
