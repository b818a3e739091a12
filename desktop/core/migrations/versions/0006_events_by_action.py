"""The Activity Log filtered by action: an index on (action, at, id), so a rare action's newest page is an
index walk instead of a walk through every event (about 0.7 s at a million events without it).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_key_events_action_at_id", "key_events", ["action", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_key_events_action_at_id", table_name="key_events")
