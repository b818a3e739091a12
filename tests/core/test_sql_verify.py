"""`SELECT apikeys_verify(key)` on a real PostgreSQL server: the same answers as `apikeys verify`, never waiting.

The reference is KeyStore.verify of the stripped key: what `apikeys verify` answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors as pg

from desktop.core import keys
from desktop.core.store import KeyStore
from tests.helpers import STRESS, Secret
from tests.pg import PgCluster
from tests.team import Team, make_team

#: Every character `apikeys verify` trims (Python's str.strip()); a NUL cannot be sent in a text parameter.
WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())


@dataclass
class Corpus:
    team: Team
    store: KeyStore  # the owner's
    conn: psycopg.Connection[tuple[object, ...]]  # the verifier's
    valid: list[Secret]
    inactive: Secret
    expired: Secret
    expiring: Secret  # expires in the future: valid

    @property
    def stored(self) -> list[Secret]:
        return [*self.valid, self.inactive, self.expired, self.expiring]

    def sql(self, presented: str) -> str:
        row = self.conn.execute("SELECT apikeys_verify(%s)", (presented,)).fetchone()
        assert row is not None
        return str(row[0])

    def expected(self, presented: str) -> str:
        return str(self.store.verify(presented.strip()))


@pytest.fixture
def corpus(pg_cluster: PgCluster) -> Iterator[Corpus]:
    team = make_team(pg_cluster, migrated=True)
    with KeyStore.open(team.url(team.owner)) as store:
        valid = [Secret(store.create(f"valid {i}").key) for i in range(3)]
        inactive = store.create("inactive")
        store.set_active(inactive.record.id, False)
        expired = store.create("expired")
        expiring = store.create("expiring", datetime.now(UTC).date() + timedelta(days=30))
        team.as_owner("UPDATE api_keys SET expires_at = '2001-01-01' WHERE id = %s", (expired.record.id,))
        assert team.cli(team.owner, "grant", team.verifier, "--verifier").returncode == 0
        with team.connect(team.verifier) as conn:
            yield Corpus(team, store, conn, valid, Secret(inactive.key), Secret(expired.key), Secret(expiring.key))


def corrupt(key: str, position: int, replacement: str) -> str:
    return key[:position] + replacement + key[position + 1 :]


def test_stored_keys_get_their_state(corpus: Corpus) -> None:
    answers = [corpus.sql(key) for key in corpus.stored] + [corpus.sql(keys.generate())]
    assert answers == ["valid"] * 3 + ["inactive", "expired", "valid", "unknown"]


def test_whitespace_around_a_key_is_trimmed_like_the_cli(corpus: Corpus) -> None:
    key = corpus.valid[0]
    for space in WHITESPACE:
        for presented in (space + key, key + space, space * 3 + key + space):
            assert corpus.sql(presented) == corpus.expected(presented) == "valid", hex(ord(space))
    inner = key[:10] + " " + key[10:]
    assert corpus.sql(inner) == corpus.expected(inner) == "malformed"


def test_checksum_only_corruption_is_malformed(corpus: Corpus) -> None:
    """Each checksum character changed: the format holds, the checksum does not (decided without the table)."""
    for key in [*corpus.stored, keys.generate()]:
        for position in range(35, 41):
            for replacement in {"0", "z", keys.ALPHABET[(keys.ALPHABET.index(key[position]) + 1) % 62]}:
                presented = corrupt(key, position, replacement)
                if presented == key:
                    continue
                assert corpus.sql(presented) == corpus.expected(presented) == "malformed"


def test_the_rules_of_the_format(corpus: Corpus) -> None:
    key = corpus.valid[0]
    cases = [
        "",
        "ak_",
        key[:-1],
        key + "a",
        "AK_" + key[3:],
        "ak-" + key[3:],
        corrupt(key, 3, "é"),
        corrupt(key, 3, "٣"),  # a digit to Unicode, not to the format
        corrupt(key, 3, "_"),
        key[:20] + "\n" + key[21:],
        key + "\n" + key,
    ]
    for presented in cases:
        assert corpus.sql(presented) == corpus.expected(presented) == "malformed", repr(presented[:8])


ALPHABET = st.sampled_from(keys.ALPHABET)
#: What a client can send as text: no NUL (PostgreSQL's text cannot hold it), no lone surrogate (not UTF-8).
TEXT_CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])


@st.composite
def presented_keys(draw: st.DrawFn, stored: list[str]) -> str:
    """A stored or a fresh key, perhaps changed in one place, perhaps padded with whitespace; or any text."""
    kind = draw(st.sampled_from(["stored", "fresh", "changed", "text"]))
    if kind == "text":
        return draw(st.text(TEXT_CHARS, max_size=60))
    key = draw(st.sampled_from(stored)) if kind != "fresh" else keys.generate()
    if kind == "changed":
        position = draw(st.integers(0, len(key) - 1))
        key = corrupt(key, position, draw(st.one_of(ALPHABET, TEXT_CHARS)))
    space = st.text(st.sampled_from(WHITESPACE), max_size=3)
    return draw(space) + key + draw(space)


@settings(
    max_examples=300 if STRESS else 60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_sql_and_python_agree(corpus: Corpus, data: st.DataObject) -> None:
    presented = data.draw(presented_keys([*corpus.stored]), label="presented")
    assert corpus.sql(presented) == corpus.expected(presented)


def last_used(corpus: Corpus, key_id: int) -> datetime | None:
    [(value,)] = corpus.team.as_owner("SELECT last_used_at FROM api_keys WHERE id = %s", (key_id,))
    assert value is None or isinstance(value, datetime)
    return value


def test_records_last_use_at_most_once_a_minute(corpus: Corpus) -> None:
    key = corpus.valid[1]
    [(key_id,)] = corpus.team.as_owner("SELECT id FROM api_keys WHERE description = 'valid 1'")
    before = datetime.now(UTC).replace(tzinfo=None)
    assert corpus.sql(key) == "valid"
    first = last_used(corpus, key_id)
    assert first is not None and before - timedelta(seconds=1) <= first <= datetime.now(UTC).replace(tzinfo=None)
    assert corpus.sql(key) == "valid"
    assert last_used(corpus, key_id) == first  # not again within the minute
    corpus.team.as_owner(
        "UPDATE api_keys SET last_used_at = last_used_at - interval '61 seconds' WHERE id = %s", (key_id,)
    )
    assert corpus.sql(key) == "valid"
    again = last_used(corpus, key_id)
    assert again is not None and again >= first
    # Only a valid key is recorded.
    for state in ("inactive", "expired"):
        [(other,)] = corpus.team.as_owner("SELECT id FROM api_keys WHERE description = %s", (state,))
        corpus.sql(getattr(corpus, state))
        assert last_used(corpus, other) is None


@pytest.mark.parametrize(
    "hold",
    [
        "SELECT id FROM api_keys WHERE id = %s FOR UPDATE",
        "UPDATE api_keys SET description = 'being renamed' WHERE id = %s",
    ],
)
def test_a_locked_row_does_not_block_it(corpus: Corpus, hold: str) -> None:
    """Another transaction holds the key's row: verify answers at once, leaving the use unrecorded."""
    key = corpus.valid[2]
    [(key_id,)] = corpus.team.as_owner("SELECT id FROM api_keys WHERE description = 'valid 2'")
    with psycopg.connect(
        host=str(corpus.team.cluster.socket), user=corpus.team.owner, dbname=corpus.team.database
    ) as holder:
        holder.execute(hold, (key_id,))
        # A regression would wait for the holder: the timeout turns that into a failure, not a hang.
        corpus.conn.execute("SET statement_timeout = '20s'")
        try:
            assert corpus.sql(key) == "valid"
        except pg.QueryCanceled:
            pytest.fail("apikeys_verify waited for a locked row")
        holder.rollback()
    assert last_used(corpus, key_id) is None


def test_it_runs_as_the_owner_with_a_fixed_search_path_and_only_for_those_granted(
    corpus: Corpus, pg_cluster: PgCluster
) -> None:
    team = corpus.team
    overloads = team.as_owner(
        "SELECT prosecdef, proconfig, proowner::regrole::text FROM pg_proc WHERE proname = 'apikeys_verify'"
    )
    assert overloads  # (key), and from the lifecycle's migration on (key, scopes): each the same way
    for definer, config, owner in overloads:
        assert definer is True and config == ["search_path=pg_catalog, pg_temp"] and owner == team.owner
    # PUBLIC may not run it: a role nobody granted anything.
    stranger = pg_cluster.create_role(f"s{team.database}")
    with (
        psycopg.connect(host=str(pg_cluster.socket), user=stranger, dbname=team.database) as conn,
        pytest.raises(pg.InsufficientPrivilege),
    ):
        conn.execute("SELECT apikeys_verify(%s)", (corpus.valid[0],))
    with (
        psycopg.connect(host=str(pg_cluster.socket), user=stranger, dbname=team.database) as conn,
        pytest.raises(pg.InsufficientPrivilege),
    ):
        conn.execute("SELECT apikeys_verify(%s, %s)", (corpus.valid[0], ["a"]))


def test_it_lives_beside_the_keys_in_their_schema(pg_cluster: PgCluster) -> None:
    """A database whose owner keeps the keys in a schema of its own: the function is there, its names qualified."""
    team = make_team(pg_cluster)
    team.as_owner(f'CREATE SCHEMA vault AUTHORIZATION "{team.owner}"')
    pg_cluster.execute(f'ALTER ROLE "{team.owner}" IN DATABASE "{team.database}" SET search_path = vault')
    key = Secret(team.cli(team.owner, "create", "--description", "in the vault").stdout.strip())
    assert team.as_owner("SELECT to_regclass('vault.api_keys') IS NOT NULL, to_regproc('vault.apikeys_verify')")
    assert team.cli(team.owner, "grant", team.verifier, "--verifier").returncode == 0
    with team.connect(team.verifier) as conn:
        # The caller's search_path does not matter: public holds no keys table.
        assert conn.execute("SELECT vault.apikeys_verify(%s)", (key,)).fetchone() == ("valid",)


def test_it_uses_one_transaction_id_per_call_not_a_subtransaction(corpus: Corpus) -> None:
    """Recording the use and the count in a block with an exception handler made PostgreSQL start a
    subtransaction on every call (a second transaction id for each: half again the call's cost, `make bench`'s
    `pg apikeys_verify()`); migration 0011 asks whether the transaction may write instead."""
    corpus.conn.autocommit = True
    key = corpus.valid[2]
    assert corpus.sql(key) == "valid"  # the last use recorded: the calls below only count

    def ids_taken() -> int:
        [(before,)] = corpus.team.as_owner("SELECT txid_current()")
        for _ in range(10):
            assert corpus.sql(key) == "valid"
        [(after,)] = corpus.team.as_owner("SELECT txid_current()")
        return int(after - before - 1)

    # The counter is the cluster's: another session (a store of an earlier test still flushing its counts) may
    # take ids meanwhile, never give them back, so the fewest of three tries is the calls' own.
    assert min(ids_taken() for _ in range(3)) == 10  # one each (the key_usage row); 20 with a subtransaction each


def test_in_a_read_only_transaction_it_answers_and_records_nothing(corpus: Corpus) -> None:
    """A standby, or the caller's own read-only transaction: the verdict stands, unrecorded (no error)."""
    corpus.conn.autocommit = False
    [(rows_before,)] = corpus.team.as_owner("SELECT count(*) FROM key_usage")
    corpus.conn.execute("SET TRANSACTION READ ONLY")
    assert corpus.sql(corpus.valid[0]) == "valid"
    assert corpus.sql(corpus.inactive) == "inactive"
    corpus.conn.commit()
    assert corpus.team.as_owner("SELECT count(*) FROM key_usage") == [(rows_before,)]
    assert (
        last_used(corpus, corpus.team.as_owner("SELECT id FROM api_keys WHERE description = 'valid 0'")[0][0]) is None
    )
