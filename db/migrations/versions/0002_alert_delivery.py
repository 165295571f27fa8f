"""alert delivery: claims, per-channel progress, debounce merges, digests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add foreign keys with ALTER TABLE, so Alembic rebuilds the
    # table there; PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('delivered_channels', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('digest_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_alerts_merged_into_id_alerts'), 'alerts', ['merged_into_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_alerts_digest_id_alerts'), 'alerts', ['digest_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_alerts_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_created_at')
        batch_op.drop_constraint(batch_op.f('fk_alerts_digest_id_alerts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_alerts_merged_into_id_alerts'), type_='foreignkey')
        batch_op.drop_column('digest_id')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('note')
        batch_op.drop_column('delivered_channels')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('claimed_at')
