"""`make test` on every core (pytest-xdist, `--dist loadgroup`): a test's group reaches the scheduler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.mark.xdist_group("probe")
def test_a_grouped_test_names_its_group_in_its_id(request: pytest.FixtureRequest) -> None:
    """The scheduler learns a test's xdist_group only from its id's "@GROUP" suffix; with pytest 9.2 and xdist
    3.8 the suffix was silently lost (tests/conftest.py puts it back), and every group spread over the workers."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not on an xdist worker with --dist loadgroup (make test runs it there)")
    assert request.node.nodeid.endswith("::test_a_grouped_test_names_its_group_in_its_id@probe")


#: A small suite of its own: a group bigger than the longest ones, the longest ones, and tests of no group.
_ORDER_SUITE = """
import os
import pytest


def _ran(name):
    with open(os.environ["ORDER_LOG"], "a") as log:
        log.write(name + "\\n")


@pytest.mark.parametrize("n", range(5))
@pytest.mark.xdist_group("big")
def test_big(n):
    _ran("big")


def test_alone():
    _ran("alone")


@pytest.mark.xdist_group("long")
def test_long():
    _ran("long")


@pytest.mark.xdist_group("heavy")
def test_heavy():
    _ran("heavy")
"""


def test_the_longest_groups_are_sent_first_whatever_their_size(tmp_path: Path) -> None:
    """xdist sends the groups with the most tests first: a module's group of many short tests started the run,
    and the heavy and long groups (tests/xdist_order.py) could be its tail. They are sent first, heavy then long."""
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # the suite's own hooks\n")
    (tmp_path / "test_order.py").write_text(_ORDER_SUITE)
    log = tmp_path / "order.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ORDER_LOG": str(log)}
    # One worker: it runs the units in the order they are sent.
    command = [sys.executable, "-m", "pytest", "-n", "1", "--dist", "loadgroup", "-p", "no:cacheprovider", "-q"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    order = log.read_text().split()
    assert order == ["heavy", "long", *["big"] * 5, "alone"], order
