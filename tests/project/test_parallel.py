"""`make test` on every core (pytest-xdist, `--dist loadgroup`): a test's group reaches the scheduler."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("probe")
def test_a_grouped_test_names_its_group_in_its_id(request: pytest.FixtureRequest) -> None:
    """The scheduler learns a test's xdist_group only from its id's "@GROUP" suffix; with pytest 9.2 and xdist
    3.8 the suffix was silently lost (tests/conftest.py puts it back), and every group spread over the workers."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not on an xdist worker with --dist loadgroup (make test runs it there)")
    assert request.node.nodeid.endswith("::test_a_grouped_test_names_its_group_in_its_id@probe")
