"""index the outbox by article: the alert of an article's story is found without a scan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:00:00.000000

A new article that joins a recent story is named in that story's alert while it waits to
be sent (``story_filing.add_coverage``): the alert is looked up by the articles of the
story, and without an index on ``alerts.article_id`` each lookup read the whole outbox.
With 41,023 alerts (an archive of 100,000 articles, ``bench/scale.py``) a lookup took
4.6 ms; with the index, 0.01 ms. The outbox keeps every alert sent, so the scan grew with
the archive.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_article_id", "alerts", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_article_id", table_name="alerts")
