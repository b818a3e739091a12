"""The key format of the README's "Key format": shape, checksum, digest, mask."""

from __future__ import annotations

import hashlib
import re
import string
import zlib

from hypothesis import given
from hypothesis import strategies as st

from desktop.core import keys

CONTRACT_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
CONTRACT_REGEX = re.compile(r"^ak_[0-9A-Za-z]{38}$")


def reference_checksum(random_part: str) -> str:
    """The README's checksum rule, written independently of the implementation."""
    value = zlib.crc32(random_part.encode("ascii"))
    out = ""
    while value:
        out = CONTRACT_ALPHABET[value % 62] + out
        value //= 62
    return out.rjust(6, "0")


def test_alphabet_is_the_contracts_order() -> None:
    assert keys.ALPHABET == CONTRACT_ALPHABET


def test_generated_keys_match_the_contract() -> None:
    seen = set()
    for _ in range(2000):
        key = keys.generate()
        assert CONTRACT_REGEX.match(key)
        assert key[35:] == reference_checksum(key[3:35])
        assert keys.is_well_formed(key)
        seen.add(key)
    assert len(seen) == 2000


def test_random_part_uses_the_whole_alphabet() -> None:
    chars = "".join(keys.generate()[3:35] for _ in range(500))
    assert set(chars) == set(CONTRACT_ALPHABET)


def test_checksum_known_value() -> None:
    # crc32(b"0" * 32) computed by zlib, spelled in base62 by hand-checked reference.
    assert keys.checksum("0" * 32) == reference_checksum("0" * 32)
    assert len(keys.checksum("z" * 32)) == 6


@given(st.data())
def test_every_single_character_change_is_malformed(data: st.DataObject) -> None:
    key = keys.generate()
    position = data.draw(st.integers(0, len(key) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != key[position]))
    changed = key[:position] + replacement + key[position + 1 :]
    assert not keys.is_well_formed(changed)


def test_every_single_character_substitution_within_the_alphabet_is_malformed() -> None:
    key = keys.generate()
    for position in range(3, len(key)):
        for char in CONTRACT_ALPHABET:
            if char != key[position]:
                changed = key[:position] + char + key[position + 1 :]
                assert not keys.is_well_formed(changed), (position, char)


@given(st.text(max_size=80))
def test_arbitrary_text_is_never_well_formed_by_accident(text: str) -> None:
    assert keys.is_well_formed(text) == (
        bool(CONTRACT_REGEX.match(text)) and text[35:] == reference_checksum(text[3:35])
    )


def test_wrong_prefix_and_lengths_are_malformed() -> None:
    key = keys.generate()
    assert not keys.is_well_formed("AK_" + key[3:])
    assert not keys.is_well_formed(key + "0")
    assert not keys.is_well_formed(key[:-1])
    assert not keys.is_well_formed("")
    assert not keys.is_well_formed(key + "\n")
    assert not keys.is_well_formed("x" * 1_000_000)


def test_digest_is_sha256_of_the_full_key() -> None:
    key = keys.generate()
    assert keys.digest(key) == hashlib.sha256(key.encode()).digest()


def test_mask_shows_first_and_last_four_of_the_body() -> None:
    key = "ak_7Gq2" + "A" * 30 + "x9Lp"
    assert keys.mask(key) == "ak_7Gq2…x9Lp"
    assert keys.hint(key) == "7Gq2x9Lp"
    assert keys.mask_hint(keys.hint(key)) == keys.mask(key)


def test_keys_generated_in_bulk_are_well_formed_distinct_and_uniform() -> None:
    from collections import Counter

    many = keys.generate_many(2000)
    assert len(many) == 2000 and len(set(many)) == 2000
    assert all(keys.is_well_formed(key) for key in many)
    counts = Counter("".join(key[3 : 3 + keys.RANDOM_LENGTH] for key in many))
    assert set(counts) == set(keys.ALPHABET)
    expected = 2000 * keys.RANDOM_LENGTH / len(keys.ALPHABET)  # ~1032 per character
    assert all(abs(n - expected) < 0.25 * expected for n in counts.values())  # > 7 sigma: never flaky
    assert keys.generate_many(0) == []
