"""A rate-limited key's verify on SQLite writes one page, not two (issue 24 item 5).

- `key_limits.rate_pending` (text, '' by default): the times of a key's latest let-through verifies not yet in
  its rate log, 26 characters each ('YYYY-MM-DD HH:MM:SS.ffffff'), oldest first. On SQLite the verify's one
  statement (desktop.core.db.sqlite_take) appends to it instead of writing the ring's slot, for a rate above
  limits.PENDING_CAP; the full way (limits.take) moves them into the ring first (limits.flush). PostgreSQL never
  fills it: its functions are unchanged.
- Downgrade: the pending verifies are moved into the ring first (an older version counts them there), then the
  column goes.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("key_limits", sa.Column("rate_pending", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    from desktop.core.db import limits

    bind = op.get_bind()

    def run(statement: str, parameters: Sequence[Any]) -> list[Any]:
        bind.exec_driver_sql(statement, tuple(parameters))
        return []

    pending = bind.exec_driver_sql(
        "SELECT key_id, rate_limit, rate_next, rate_first, rate_pending FROM key_limits WHERE rate_pending <> ''"
    ).fetchall()
    for key_id, rate, slot, first, times in pending:
        limits.flush(run, key_id, rate, slot, first, times)
    op.drop_column("key_limits", "rate_pending")
