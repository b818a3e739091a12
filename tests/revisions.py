"""Databases at an earlier schema revision, made the way an earlier program made them: Alembic's own upgrade
(or downgrade) to that revision, on a SQLite file or a PostgreSQL URL, outside the store under test."""

from __future__ import annotations

from desktop.core.db import migrate


def _run(database: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    url = database if "://" in database else f"sqlite:///{database}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()
    if "://" not in database:
        import os

        os.chmod(database, 0o600)  # as the program creates its files: it refuses others' readable ones


def upgrade_to(database: str, revision: str) -> None:
    """Create (or bring) the schema at `database` up to `revision` exactly, as that revision's program did."""
    _run(database, "upgrade", revision)


def downgrade_to(database: str, revision: str) -> None:
    """Take the schema at `database` back to `revision`, as if an earlier program had left it there."""
    _run(database, "downgrade", revision)


def earlier_revisions() -> tuple[str, ...]:
    """Every revision before the head, oldest first."""
    return migrate.KNOWN_REVISIONS[:-1]
