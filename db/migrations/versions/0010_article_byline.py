"""articles keep their byline

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07 11:30:00.000000

The feed's author or the page's byline was read and dropped; analysts export it with the
article. Articles stored before this revision have none until their next version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("byline", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("byline")
