"""index the fetches that found entries: choosing the feeds to poll stays fast as they pile up

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:40:00.000000

Choosing the feeds to poll (``repo.feeds_to_poll``) reads each feed's last fetch that found
entries. Through ``ix_fetches_feed_id_started_at`` that meant walking back over every
unchanged fetch since then, and fetches are never pruned: with 200 feeds of 3,000 fetches
each (a month of 15-minute polls), the query took over half a second. A partial index on
the fetches that found entries answers each feed in one step (``bench/poll_history.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_FOUND_ENTRIES = sa.text("entries_found > 0")


def upgrade() -> None:
    op.create_index(
        "ix_fetches_feed_id_started_at_found",
        "fetches",
        ["feed_id", "started_at"],
        sqlite_where=_FOUND_ENTRIES,
        postgresql_where=_FOUND_ENTRIES,
    )


def downgrade() -> None:
    op.drop_index("ix_fetches_feed_id_started_at_found", table_name="fetches")
