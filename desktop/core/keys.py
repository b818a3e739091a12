"""The key format (README, "Key format"): generate, checksum, validate, digest and mask."""

from __future__ import annotations

import hashlib
import re
import secrets
import struct
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PREFIX = "ak_"
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
BODY_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH
KEY_LENGTH = len(PREFIX) + BODY_LENGTH
KEY_PATTERN = re.compile(r"ak_[0-9A-Za-z]{38}")

# Bytes below 248 (= 4 * 62) map uniformly onto the alphabet; the rest are
# dropped, so every character is drawn uniformly from secrets' bytes.
_UNIFORM_LIMIT = 4 * len(ALPHABET)
_BYTE_TO_CHAR = bytes(ord(ALPHABET[b % len(ALPHABET)]) if b < _UNIFORM_LIMIT else 0 for b in range(256))
_REJECTED = bytes(range(_UNIFORM_LIMIT, 256))


# Two base62 digits at a time: the checksum is on the verify hot path.
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]


def _base62(value: int, width: int) -> str:
    """`value` in `width` base62 digits (`width` even), most significant first."""
    digits = []
    for _ in range(width // 2):
        value, rem = divmod(value, 3844)
        digits.append(_PAIRS[rem])
    if value:
        raise ValueError("value does not fit")
    return "".join(reversed(digits))


def checksum(random_part: str) -> str:
    """The 6-character base62 CRC32 of the random part's ASCII bytes."""
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def _random_chars(count: int) -> str:
    out = b""
    while len(out) < count:
        # ~3% of bytes are rejected; ask for a little more than needed.
        out += secrets.token_bytes(count - len(out) + 8).translate(_BYTE_TO_CHAR, _REJECTED)
    return out[:count].decode("ascii")


def generate() -> str:
    """A new full key: `ak_` + 32 random base62 characters + 6 checksum characters."""
    random_part = _random_chars(RANDOM_LENGTH)
    return PREFIX + random_part + checksum(random_part)


def generate_many(count: int) -> list[str]:
    """`count` new keys, their random parts cut from one draw of secrets' bytes (for seeding: same keys, less
    overhead per key than `generate()`)."""
    pool = _random_chars(count * RANDOM_LENGTH)
    parts = [pool[i : i + RANDOM_LENGTH] for i in range(0, len(pool), RANDOM_LENGTH)]
    return [PREFIX + part + checksum(part) for part in parts]


#: The value each pair of base62 digits spells, at the index of the two bytes' 16-bit big-endian number (0 for
#: any other pair: the pairs read have passed the alphabet check): a checksum is read back into its number (three
#: list indexings by small int, no text made or hashed; a dict's lookups cost 800 instructions a verify more),
#: cheaper than spelling the number (the checksum is on verify's hot path, and public: no constant-time compare
#: needed). 64 Ki references, half a megabyte.
_PAIR_VALUES = [0] * 65536
for _value, _pair in enumerate(_PAIRS):
    _PAIR_VALUES[(ord(_pair[0]) << 8) | ord(_pair[1])] = _value
#: The checksum's three pairs of a key's ASCII bytes, each as such a number, in one C call.
_CHECKSUM_PAIRS = struct.Struct(">HHH").unpack_from
_CHECKSUM_AT = len(PREFIX) + RANDOM_LENGTH
_PREFIX_BYTES = PREFIX.encode("ascii")
_crc32 = zlib.crc32
_sha256 = hashlib.sha256


def is_well_formed(key: str) -> bool:
    """True when the key matches the pattern and its checksum; never touches a database."""
    return presented_digest(key) is not None


def presented_digest(key: object) -> bytes | None:
    """verify's first step in one: the key's digest when it is well formed, else None (no database touched).

    KEY_PATTERN spelled in C-level calls on the key's bytes (`str.isascii` reads a flag; `bytes.isalnum` is
    ASCII letters and digits only: a fifth of a regex's cost), the checksum read back into its number, and the
    key encoded once for the checksum and the digest.
    """
    if not isinstance(key, str) or len(key) != KEY_LENGTH or not key.isascii():
        return None
    raw = key.encode()  # ASCII, as just checked: UTF-8's fast path
    # The prefix with startswith, not `key[0] != "a"`: no `==` on a key's characters (tests/project/test_hygiene).
    if not raw.startswith(_PREFIX_BYTES) or not raw[3:].isalnum():
        return None
    values = _PAIR_VALUES
    high, middle, low = _CHECKSUM_PAIRS(raw, _CHECKSUM_AT)
    if values[high] * 14776336 + values[middle] * 3844 + values[low] != _crc32(raw[3:_CHECKSUM_AT]):
        return None
    return _sha256(raw).digest()


def digest(key: str) -> bytes:
    """The SHA-256 digest stored in place of the key."""
    return hashlib.sha256(key.encode("ascii")).digest()


def hint(key: str) -> str:
    """What is kept for display: the first and last four characters of the body."""
    body = key[len(PREFIX) :]
    return body[:4] + body[-4:]


def mask_hint(stored_hint: str) -> str:
    """The masked form shown everywhere after creation, e.g. `ak_7Gq2…x9Lp`."""
    return f"{PREFIX}{stored_hint[:4]}…{stored_hint[4:]}"


def mask(key: str) -> str:
    return mask_hint(hint(key))
