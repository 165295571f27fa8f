"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 00:16:35.159770
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('articles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('site', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('published_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_check_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('current_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cluster_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('canonical_url', name=op.f('uq_articles_canonical_url'))
    )
    op.create_table('feeds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('interval_minutes', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('etag', sa.String(length=1024), nullable=True),
    sa.Column('last_modified', sa.String(length=255), nullable=True),
    sa.Column('body_hash', sa.String(length=64), nullable=True),
    sa.Column('next_check_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('health', sa.String(length=16), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('failure_weight', sa.Float(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_fetched_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds')),
    sa.UniqueConstraint('url', name=op.f('uq_feeds_url'))
    )
    op.create_table('runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('flow_run_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('started_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs'))
    )
    op.create_table('tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('label_en', sa.String(length=255), nullable=False),
    sa.Column('label_fr', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('key', name=op.f('uq_tags_key'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dedup_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('feed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_alerts_article_id_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_alerts_feed_id_feeds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_alerts_dedup_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('article_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('fetched_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('change_kinds', sa.String(length=255), nullable=False),
    sa.Column('diff', sa.JSON(), nullable=True),
    sa.Column('relevance', sa.Float(), nullable=False),
    sa.Column('relevant', sa.Boolean(), nullable=False),
    sa.Column('taxonomy_version', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_versions_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_versions')),
    sa.UniqueConstraint('article_id', 'content_hash', name=op.f('uq_article_versions_article_id_content_hash')),
    sa.UniqueConstraint('article_id', 'n', name=op.f('uq_article_versions_article_id_n'))
    )
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.create_index('ix_article_versions_content_hash', ['content_hash'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('guid', sa.String(length=1024), nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('first_seen_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_entries_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_entries_feed_id_feeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('feed_id', 'guid', name=op.f('uq_entries_feed_id_guid'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_article_id'), ['article_id'], unique=False)

    op.create_table('fetches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('started_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('elapsed_ms', sa.Integer(), nullable=False),
    sa.Column('not_modified', sa.Boolean(), nullable=False),
    sa.Column('entries_found', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_fetches_feed_id_feeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fetches'))
    )
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.create_index('ix_fetches_feed_id_started_at', ['feed_id', 'started_at'], unique=False)

    op.create_table('mentions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('field', sa.String(length=8), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Text(), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('taxonomy_version', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_mentions_tag_id_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['article_versions.id'], name=op.f('fk_mentions_version_id_article_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentions')),
    sa.UniqueConstraint('version_id', 'tag_id', 'field', 'start', name=op.f('uq_mentions_version_id_tag_id_field_start'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentions_version_id'), ['version_id'], unique=False)

    op.create_table('raw_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=True),
    sa.Column('compressed', sa.LargeBinary(), nullable=False),
    sa.Column('fetched_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['article_versions.id'], name=op.f('fk_raw_documents_version_id_article_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_documents')),
    sa.UniqueConstraint('version_id', name=op.f('uq_raw_documents_version_id'))
    )
    # articles and article_versions point at each other; the cycle is closed once both exist.
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f('fk_articles_current_version_id_article_versions'),
            'article_versions', ['current_version_id'], ['id'], ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_articles_current_version_id_article_versions'), type_='foreignkey'
        )
    op.drop_table('raw_documents')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentions_version_id'))

    op.drop_table('mentions')
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.drop_index('ix_fetches_feed_id_started_at')

    op.drop_table('fetches')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_article_id'))

    op.drop_table('entries')
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_article_versions_content_hash')

    op.drop_table('article_versions')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_status_next_attempt_at')

    op.drop_table('alerts')
    op.drop_table('tags')
    op.drop_table('runs')
    op.drop_table('feeds')
    op.drop_table('articles')
