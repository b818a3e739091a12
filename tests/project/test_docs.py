"""Issue 22.9: a README a newcomer can read, the rest in docs/, ARCHITECTURE.md and CONTRIBUTING.md, every link
between them landing somewhere, and every file they name existing."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.helpers import REPO

#: The README is for a new user; what it says in brief is said in full in these, each linked from it.
DOCS = (
    "docs/user-guide.md",
    "docs/service.md",
    "docs/team-mode.md",
    "docs/security.md",
    "docs/performance.md",
    "ARCHITECTURE.md",
    "CONTRIBUTING.md",
)
README_LINES_MAX = 250


def _markdown_files() -> list[Path]:
    return [REPO / "README.md", *(REPO / name for name in DOCS)]


def _outside_code(text: str) -> str:
    """The text without its fenced code blocks (a `# comment` in a shell block is not a heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for a file's headings: lower case, punctuation dropped, spaces to hyphens."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _outside_code(text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def test_the_readme_is_short_and_links_to_every_document() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = len(readme.splitlines())
    assert lines <= README_LINES_MAX
    for name in DOCS:
        assert f"]({name}" in readme, f"README does not link to {name}"
    assert "](docs/screenshot.png)" in readme


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda path: path.relative_to(REPO).as_posix())
def test_every_relative_link_lands_on_a_file_and_heading(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _outside_code(text)):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto:
        name, _, anchor = target.partition("#")
        linked = (path.parent / name).resolve() if name else path
        if not linked.exists() or (anchor and anchor not in _anchors(linked.read_text(encoding="utf-8"))):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("name", ["ARCHITECTURE.md", "CONTRIBUTING.md"])
def test_every_source_file_the_maintainer_docs_name_exists(name: str) -> None:
    """Paths such as `core/db/rows.py` or `tests/revisions.py`: from the repository, or from desktop/."""
    text = (REPO / name).read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w./-]+/[\w.-]+\.(?:py|toml|mako))", text))
    assert named, "no source file named"
    missing = sorted(path for path in named if not any((base / path).is_file() for base in (REPO, REPO / "desktop")))
    assert missing == []


def test_architecture_explains_every_import_contract() -> None:
    """One row per import-linter contract in the layers table: a new contract gets its reason written down."""
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8").split("## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in layers.splitlines() if line.startswith("| ") and not line.startswith("| contract")]
    assert len(rows) == len(contracts["contracts"])
