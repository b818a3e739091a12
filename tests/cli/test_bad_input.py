"""Bad input everywhere: no crash, a clear error, and the database unchanged after a rejection (both backends)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.cli import exit_status
from desktop.core import keys
from desktop.core.errors import InvalidDescription, InvalidExpiry, InvalidKeyId, KeyNotFound
from desktop.core.store import KeyStore
from desktop.core.validation import parse_key_id
from desktop.core.values import Verdict
from tests.helpers import STRESS, run_cli

TODAY = date(2030, 6, 15)
NASTY_TEXT = st.one_of(
    st.text(),
    st.just(""),
    st.just("   \t\n "),
    st.just("x" * 10_000),
    st.just("a\x00b"),
    st.just("invoice\u202etxt.exe"),
    st.just("🚀 deploy 👩‍💻"),
    st.just("'; DROP TABLE api_keys; --"),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=250, max_size=260),
)
#: `make stress` draws 150 examples a property; `make test` a few dozen.
SETTINGS = settings(
    max_examples=150 if STRESS else 30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _snapshot(store: KeyStore) -> list[object]:
    return list(store.all())


def test_descriptions(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        store.create("existing")

        @SETTINGS
        @given(NASTY_TEXT)
        def check(text: str) -> None:
            before = _snapshot(store)
            try:
                created = store.create(text)
            except InvalidDescription as err:
                assert err.message and exit_status(err) == 2
                assert _snapshot(store) == before
            else:
                assert created.record.description == text.strip()
                assert store.get(created.record.id).description == text.strip()
                store.delete(created.record.id)

        check()


def test_expiry_dates(database: str) -> None:
    with KeyStore.open(database, create=True) as store:

        @SETTINGS
        @given(st.dates())
        def check(day: date) -> None:
            before = store.count()
            try:
                record = store.create("dated", day, today=TODAY).record
            except InvalidExpiry as err:
                assert day < TODAY or day > date(9999, 12, 30)
                assert err.message and store.count() == before
            else:
                assert TODAY <= day <= date(9999, 12, 30)
                assert record.expires_on == day
                store.delete(record.id)

        check()


def test_keys_to_verify(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        real = store.create("real").key

        @SETTINGS
        @given(
            st.one_of(
                st.text(),
                st.just(""),
                st.just("a" * 1_000_000),
                st.just("ak_" + "é" * 38),
                st.just("AK" + real[2:]),
                st.integers(3, 40).map(lambda i: real[:i] + chr(ord(real[i]) + 1) + real[i + 1 :]),
            )
        )
        def check(presented: str) -> None:
            verdict = store.verify(presented)
            if presented == real:
                assert verdict is Verdict.VALID
            else:
                assert verdict in (Verdict.MALFORMED, Verdict.UNKNOWN)
                assert verdict is Verdict.MALFORMED or keys.is_well_formed(presented)

        check()
        assert store.count() == 1


def test_ids(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        kept = store.create("kept").record.id

        @SETTINGS
        @given(st.one_of(st.integers(), st.text(), st.integers().map(str)))
        def check(raw: int | str) -> None:
            try:
                key_id = parse_key_id(raw)
            except InvalidKeyId as err:
                assert "not a key ID" in err.message
                return
            assert key_id >= 1
            if key_id != kept:
                with pytest.raises(KeyNotFound):
                    store.delete(key_id)
                with pytest.raises(KeyNotFound):
                    store.set_active(key_id, False)
            assert store.get(kept).active

        check()


@pytest.mark.parametrize(
    "args",
    [
        ["create", "--description", "x" * 10_000],
        ["create", "--description", "bad\u202eorder"],
        ["create", "--description", "tab\there"],
        ["create", "--description", "ok", "--expires", "9999-12-31"],
        ["create", "--description", "ok", "--expires", "0000-00-00"],
        ["create", "--description", "ok", "--expires", "2030-13-01"],
        ["create", "--description", "ok", "--expires", "yesterday"],
        ["delete", "--", "-1"],
        ["delete", "0"],
        ["activate", "18446744073709551616"],
        ["deactivate", "ten"],
        ["seed", "--count", "1e3"],
    ],
)
def test_cli_rejections_change_nothing(database: str, args: list[str]) -> None:
    # Set up and compare in-process (a subprocess each costs a second): the command under test is the CLI's.
    with KeyStore.open(database, create=True) as store:
        store.create("existing")
        before = _snapshot(store)
    result = run_cli(*args, "--database", database)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("apikeys: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    with KeyStore.open(database) as store:
        assert _snapshot(store) == before


@pytest.mark.parametrize("description", ["🚀 deploy 👩‍💻", "'; DROP TABLE api_keys; --", "Ünïcödé ключ 鍵"])
def test_cli_accepts_unusual_but_valid_descriptions(database: str, description: str) -> None:
    assert run_cli("create", "--description", description, "--database", database).returncode == 0
    [entry] = json.loads(run_cli("list", "--json", "--database", database).stdout)
    assert entry["description"] == description


@pytest.mark.parametrize("presented", ["", "ключ", "ak_" + "0" * 38, "ak_" + "Z" * 100])
def test_cli_verify_odd_keys(db_path: Path, presented: str) -> None:
    result = run_cli("verify", "--database", str(db_path), "--", presented)
    assert (result.stdout, result.returncode) == ("malformed\n", 1)
