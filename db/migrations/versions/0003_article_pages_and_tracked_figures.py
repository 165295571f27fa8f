"""article pages and tracked figures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:48:51.765893
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tracked_figures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('matched', sa.Text(), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_tracked_figures_article_id_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['article_versions.id'], name=op.f('fk_tracked_figures_version_id_article_versions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_figures')),
    sa.UniqueConstraint('key', name=op.f('uq_tracked_figures_key'))
    )
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_checked_at', db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('page_etag', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('page_last_modified', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('suspect_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=32), nullable=True))

    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_fetches_article_id'), ['article_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_fetches_article_id_articles'), 'articles', ['article_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_fetches_article_id_articles'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_fetches_article_id'))
        batch_op.drop_column('article_id')

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_column('scope')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('suspect_reason')
        batch_op.drop_column('page_last_modified')
        batch_op.drop_column('page_etag')
        batch_op.drop_column('last_checked_at')

    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.drop_column('fallback_reason')

    op.drop_table('tracked_figures')
