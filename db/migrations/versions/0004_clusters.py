"""story clusters: article signatures, LSH band keys, clusters and their members

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('article_signatures',
    sa.Column('article_id', _ID, nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('normalised_title', sa.Text(), nullable=False),
    sa.Column('outlet', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('published_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_signatures_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_signatures'))
    )
    op.create_table('lsh_bands',
    sa.Column('article_id', _ID, nullable=False),
    sa.Column('band', sa.SmallInteger(), nullable=False),
    sa.Column('hash', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_lsh_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'band', name=op.f('pk_lsh_bands'))
    )
    # The candidate lookup: an equality probe per key, whatever the number of articles.
    with op.batch_alter_table('lsh_bands', schema=None) as batch_op:
        batch_op.create_index('ix_lsh_bands_band_hash', ['band', 'hash'], unique=False)

    op.create_table('clusters',
    sa.Column('id', _ID, nullable=False),
    sa.Column('representative_article_id', _ID, nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('outlet_count', sa.Integer(), nullable=False),
    sa.Column('alerted_outlets', sa.Integer(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['representative_article_id'], ['articles.id'], name=op.f('fk_clusters_representative_article_id_articles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters'))
    )
    op.create_table('cluster_members',
    sa.Column('id', _ID, nullable=False),
    sa.Column('cluster_id', _ID, nullable=False),
    sa.Column('article_id', _ID, nullable=False),
    sa.Column('outlet', sa.String(length=255), nullable=False),
    sa.Column('joined_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_cluster_members_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_cluster_members_cluster_id_clusters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cluster_members')),
    sa.UniqueConstraint('article_id', name=op.f('uq_cluster_members_article_id'))
    )
    with op.batch_alter_table('cluster_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cluster_members_cluster_id'), ['cluster_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cluster_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cluster_members_cluster_id'))

    op.drop_table('cluster_members')
    op.drop_table('clusters')
    with op.batch_alter_table('lsh_bands', schema=None) as batch_op:
        batch_op.drop_index('ix_lsh_bands_band_hash')

    op.drop_table('lsh_bands')
    op.drop_table('article_signatures')
