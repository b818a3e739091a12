"""PostgreSQL: `apikeys_verify(key text) RETURNS text`, so a service in any language verifies with one SQL call.

The same answers as `apikeys verify` (whitespace trimmed, format and CRC32 checksum checked in SQL, SHA-256
digest, active, expiry) and the same last-use record (at most once a minute). SECURITY DEFINER, owned by the
owner of the keys table, with a fixed search_path and schema-qualified names: a role allowed only to EXECUTE
it (`apikeys grant ROLE --verifier`) learns a key's verdict and nothing else of the table. Recording the use
skips a row another transaction holds (FOR UPDATE SKIP LOCKED), so a locked row never makes a verify wait.
Nothing on SQLite.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import zlib

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _crc_table() -> list[int]:
    """zlib's CRC-32 table (reflected polynomial 0xEDB88320): the function's constant, 256 entries."""
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    # The table is only right if it reproduces zlib; checked when the migration runs, not trusted.
    crc = 0xFFFFFFFF
    for byte in ALPHABET.encode("ascii"):
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    assert crc ^ 0xFFFFFFFF == zlib.crc32(ALPHABET.encode("ascii"))
    return table


def _whitespace_literal(unicode: bool) -> str:
    """Every character Python's str.strip() removes (what `apikeys verify` trims), as an E'' literal.

    E'' rather than U&'': it does not depend on the caller's standard_conforming_strings. Characters beyond
    ASCII exist only in a UTF8 database.
    """
    limit = 0x110000 if unicode else 0x80
    spaces = [c for c in map(chr, range(limit)) if c.isspace()]
    return "E'" + "".join(f"\\u{ord(c):04X}" if ord(c) > 0x7F else f"\\x{ord(c):02X}" for c in spaces) + "'"


def _keys_table() -> tuple[str, str]:
    """(schema, owner) of api_keys as SQL identifiers: the function lives beside the table, owned by its owner."""
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT quote_ident(n.nspname), c.relowner::regrole::text FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'api_keys'::regclass"
        )
        .one()
    )
    return str(row[0]), str(row[1])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema, owner = _keys_table()
    utf8 = bind.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
    table = "{" + ",".join(map(str, _crc_table())) + "}"
    # `hit`, not `found`: FOUND is plpgsql's own variable.
    op.execute(
        f"""
        CREATE FUNCTION {schema}.apikeys_verify(key text) RETURNS text
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $apikeys$
        DECLARE
            crc_table bigint[];
            alphabet CONSTANT text := '{ALPHABET}';
            k text;
            crc bigint := 4294967295;
            rest bigint;
            checksum text := '';
            hit record;
            now_utc timestamp;
        BEGIN
            k := btrim(key, {_whitespace_literal(utf8)});
            IF k IS NULL OR k !~ '^ak_[0-9A-Za-z]{{38}}$' THEN
                RETURN 'malformed';
            END IF;
            SELECT id, active, expires_at, last_used_at INTO hit
                FROM {schema}.api_keys WHERE digest = sha256(convert_to(k, 'UTF8'));
            IF NOT FOUND THEN
                -- Only now the checksum: every stored digest is of a well-formed key, so a key found by its
                -- digest passes it, and the common case (a valid key) skips the loop.
                crc_table := '{table}';
                FOR i IN 4..35 LOOP
                    crc := (crc >> 8) # crc_table[((crc # ascii(substr(k, i, 1))) & 255) + 1];
                END LOOP;
                rest := crc # 4294967295;
                FOR i IN 1..6 LOOP
                    checksum := substr(alphabet, (rest % 62)::int + 1, 1) || checksum;
                    rest := rest / 62;
                END LOOP;
                IF checksum <> substr(k, 36, 6) THEN
                    RETURN 'malformed';
                END IF;
                RETURN 'unknown';
            END IF;
            IF NOT hit.active THEN
                RETURN 'inactive';
            END IF;
            -- Times are stored as naive UTC.
            now_utc := clock_timestamp() AT TIME ZONE 'UTC';
            IF hit.expires_at IS NOT NULL AND now_utc >= hit.expires_at THEN
                RETURN 'expired';
            END IF;
            IF hit.last_used_at IS NULL OR hit.last_used_at <= now_utc - interval '1 minute' THEN
                BEGIN
                    -- Bookkeeping: a row another transaction holds is skipped, never waited for.
                    UPDATE {schema}.api_keys SET last_used_at = now_utc
                    WHERE id = (
                        SELECT id FROM {schema}.api_keys
                        WHERE id = hit.id AND (last_used_at IS NULL OR last_used_at <= now_utc - interval '1 minute')
                        FOR UPDATE SKIP LOCKED
                    );
                EXCEPTION WHEN read_only_sql_transaction THEN
                    -- A standby, or the caller's read-only transaction: the verdict stands unrecorded.
                    NULL;
                END;
            END IF;
            RETURN 'valid';
        END
        $apikeys$
        """
    )
    if owner != bind.exec_driver_sql("SELECT current_user::regrole::text").scalar():
        op.execute(f"ALTER FUNCTION {schema}.apikeys_verify(text) OWNER TO {owner}")
    # Functions are executable by PUBLIC by default; only roles given it by `apikeys grant` may call this one.
    op.execute(f"REVOKE ALL ON FUNCTION {schema}.apikeys_verify(text) FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema, _ = _keys_table()
    op.execute(f"DROP FUNCTION {schema}.apikeys_verify(text)")
