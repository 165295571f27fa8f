"""a version may repeat an older version's text: a publisher reverting an edit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:00:00.000000

``(article_id, content_hash)`` was unique, so a text equal to an older version's (485,000
-> 500,000 -> 485,000) could not become a new version and the article kept saying 500,000.
``(article_id, n)`` stays unique: a version's number is its predecessor's plus one, so two
runs storing the same edit at once still collide and only one version is written.
"""

from __future__ import annotations

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_article_versions_article_id_content_hash', type_='unique')


def downgrade() -> None:
    # Fails while an article holds a reverted edit (two versions with one text).
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_article_versions_article_id_content_hash', ['article_id', 'content_hash']
        )
