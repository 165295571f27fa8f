"""articles remember the content hash of their page as last read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00.000000

A re-check compared the page's text with the article's current version only. When the
current version came from the feed (a feed that carries the full text, or one whose page was
not used because it held less), a page that had not changed since it was last read still
differed from it, and became a version: the text flipped between what the feed and what the
page say, with an edit alert each way. ``page_hash`` is what the page said when it was last
read, so a re-check versions a page only when the page itself changed.

Existing articles start from the text of their latest version read from a page, when there
is one; the others learn it at their next page read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_hash", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE articles SET page_hash = ("
        "SELECT v.content_hash FROM article_versions v "
        "WHERE v.article_id = articles.id AND v.origin = 'page' "
        "ORDER BY v.n DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("page_hash")
