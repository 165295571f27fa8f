"""what a version is about, why its tagging was cut, and every statement of a tracked figure

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 10:00:00.000000

``article_versions.topics`` holds what the text is about, primary topic first; topic
mentions outside it are passing mentions. Versions stored before it get the topics their
mentions gave, sorted, as Vigie read them then (``vigie reprocess`` judges them again).
``article_versions.tag_note`` says why the tagger read only part of a text.

``figure_statements`` keeps each article version stating a tracked figure, so that a
tracked figure names its source and an analyst can mark a statement wrong; each tracked
figure's current value becomes its first statement.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

import db.base


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Versions updated per statement when filling ``topics``.
_CHUNK = 500

_versions = sa.table("article_versions", sa.column("id", _ID), sa.column("topics", sa.String))
_mentions = sa.table("mentions", sa.column("version_id", _ID), sa.column("tag_id", _ID))
_tags = sa.table("tags", sa.column("id", _ID), sa.column("key", sa.String), sa.column("kind", sa.String))
_tracked = sa.table(
    "tracked_figures",
    sa.column("key", sa.String),
    sa.column("value", sa.Float),
    sa.column("matched", sa.Text),
    sa.column("sentence", sa.Text),
    sa.column("article_id", _ID),
    sa.column("version_id", _ID),
    sa.column("updated_at", db.base.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topics", sa.String(length=255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("tag_note", sa.Text(), nullable=True))
    op.create_table(
        "figure_statements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("article_id", _ID, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("stated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("wrong_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_figure_statements_article_id_articles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["article_versions.id"],
            name=op.f("fk_figure_statements_version_id_article_versions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_statements")),
        sa.UniqueConstraint("version_id", "key", name=op.f("uq_figure_statements_version_id_key")),
    )
    op.create_index(
        "ix_figure_statements_key_stated_at", "figure_statements", ["key", "stated_at"], unique=False
    )
    connection = op.get_bind()
    _fill_topics(connection)
    _first_statements(connection)


def _fill_topics(connection: sa.Connection) -> None:
    query = (
        sa.select(_mentions.c.version_id, _tags.c.key)
        .join(_tags, _tags.c.id == _mentions.c.tag_id)
        .where(_tags.c.kind == "topic")
        .distinct()
    )
    topics: dict[int, set[str]] = defaultdict(set)
    for version_id, key in connection.execute(query):
        topics[version_id].add(key)
    rows = [{"vid": vid, "topics": " ".join(sorted(keys))} for vid, keys in topics.items()]
    update = (
        sa.update(_versions)
        .where(_versions.c.id == sa.bindparam("vid"))
        .values(topics=sa.bindparam("topics"))
    )
    for start in range(0, len(rows), _CHUNK):
        connection.execute(update, rows[start : start + _CHUNK])


def _first_statements(connection: sa.Connection) -> None:
    statements = sa.table(
        "figure_statements",
        *(sa.column(name) for name in ("key", "value", "matched", "sentence")),
        sa.column("article_id", _ID),
        sa.column("version_id", _ID),
        sa.column("stated_at", db.base.UTCDateTime(timezone=True)),
    )
    tracked = connection.execute(
        sa.select(_tracked).where(
            _tracked.c.article_id.is_not(None), _tracked.c.version_id.is_not(None)
        )
    ).mappings()
    rows = [
        {
            "key": row["key"],
            "value": row["value"],
            "matched": row["matched"],
            "sentence": row["sentence"],
            "article_id": row["article_id"],
            "version_id": row["version_id"],
            "stated_at": row["updated_at"],
        }
        for row in tracked
    ]
    if rows:
        connection.execute(sa.insert(statements), rows)


def downgrade() -> None:
    op.drop_index("ix_figure_statements_key_stated_at", table_name="figure_statements")
    op.drop_table("figure_statements")
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.drop_column("tag_note")
        batch_op.drop_column("topics")
