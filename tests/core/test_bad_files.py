"""The catalogue of bad database files (tests/helpers.py BAD_FILES) through the core and the command line.

The window's half is tests/ui/test_bad_files.py, on the same catalogue: every opener gives the same reason
and leaves the file as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.errors import DomainError
from desktop.core.store import KeyStore
from tests.helpers import BAD_FILES, ONE_LINE_ERROR, fingerprint, run_cli


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_the_core_refuses_a_bad_file_and_leaves_it_alone(tmp_path: Path, case: str) -> None:
    bad = BAD_FILES[case]
    path = bad.make(tmp_path)
    before = fingerprint(path)
    with pytest.raises(DomainError, match=bad.reason):
        KeyStore.open(str(path), create=True)
    assert fingerprint(path) == before


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_the_cli_refuses_a_bad_file_in_one_line(tmp_path: Path, case: str) -> None:
    bad = BAD_FILES[case]
    path = bad.make(tmp_path)
    before = fingerprint(path)
    result = run_cli("list", "--database", str(path))
    assert result.returncode != 0
    assert ONE_LINE_ERROR.match(result.stderr) and bad.reason in result.stderr, result.stderr
    assert fingerprint(path) == before
