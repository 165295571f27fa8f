"""passages: the paragraphs of each clustered article, by which edited wire copies are found

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00.000000

``article_passages`` holds one row per passage (``parsers.dedup.passages``) of each
fingerprinted article: the hash of its words, looked up by an index, and the hash of its
shape (names and figures left out). Articles fingerprinted before it get the passages of their current
text, so a copy arriving after the upgrade finds them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from parsers import dedup


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Articles read per round trip.
_CHUNK = 500

_signatures = sa.table("article_signatures", sa.column("article_id", _ID))
_articles = sa.table("articles", sa.column("id", _ID), sa.column("current_version_id", _ID))
_versions = sa.table("article_versions", sa.column("id", _ID), sa.column("text", sa.Text))


def upgrade() -> None:
    op.create_table(
        "article_passages",
        sa.Column("article_id", _ID, nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("shape", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_passages_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "hash", name=op.f("pk_article_passages")),
    )
    # The candidate lookup: one equality probe per passage, whatever the number of articles.
    with op.batch_alter_table("article_passages", schema=None) as batch_op:
        batch_op.create_index("ix_article_passages_hash", ["hash"], unique=False)
    passages = sa.table(
        "article_passages",
        sa.column("article_id", _ID),
        sa.column("hash", sa.BigInteger),
        sa.column("shape", sa.BigInteger),
    )
    connection = op.get_bind()
    after = 0
    while rows := connection.execute(_chunk_after(after)).all():
        found = _passage_rows(rows)
        if found:
            connection.execute(passages.insert(), found)
        after = rows[-1].article_id


def downgrade() -> None:
    with op.batch_alter_table("article_passages", schema=None) as batch_op:
        batch_op.drop_index("ix_article_passages_hash")
    op.drop_table("article_passages")


def _chunk_after(article_id: int) -> sa.Select[tuple[int, str]]:
    return (
        sa.select(_signatures.c.article_id, _versions.c.text)
        .join(_articles, _articles.c.id == _signatures.c.article_id)
        .join(_versions, _versions.c.id == _articles.c.current_version_id)
        .where(_signatures.c.article_id > article_id)
        .order_by(_signatures.c.article_id)
        .limit(_CHUNK)
    )


def _passage_rows(rows: Sequence[sa.Row[tuple[int, str]]]) -> list[dict[str, int]]:
    return [
        {"article_id": row.article_id, "hash": p.hash, "shape": p.shape}
        for row in rows
        for p in dedup.text_passages(row.text)
    ]
