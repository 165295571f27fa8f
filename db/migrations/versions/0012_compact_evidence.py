"""mentions point into their version's text instead of repeating it

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-07 11:45:00.000000

A mention kept its matched words, its sentence and the taxonomy version as text: a third of
the database, the same sentence once per mention in it. The words are ``text[start:end]``
of the version's title or text, the sentence is the span ``sentence_start:sentence_end`` of
it (whitespace collapsed, ``parsers.evidence``), and the taxonomy version is the version's.
Stored rows are converted: ``matched`` and ``sentence`` become NULL where the offsets give
them back exactly, and stay where they do not (nothing is lost). ``ix_mentions_version_id``
goes: the unique constraint's index starts with ``version_id``. On SQLite the file keeps its
size until ``VACUUM``; new rows fill the freed pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from parsers.evidence import sentence_at, sentence_span

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Mentions read and updated per statement.
_CHUNK = 1000

_versions = sa.table(
    "article_versions",
    sa.column("id", _ID),
    sa.column("title", sa.Text),
    sa.column("text", sa.Text),
    sa.column("taxonomy_version", sa.String),
)


def _mentions(*extra: str) -> sa.TableClause:
    columns = ["field", "start", "end", "matched", "sentence", *extra]
    return sa.table(
        "mentions", sa.column("id", _ID), sa.column("version_id", _ID), *map(sa.column, columns)
    )


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sentence_start", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sentence_end", sa.Integer(), nullable=True))
        batch_op.alter_column("matched", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("sentence", existing_type=sa.Text(), nullable=True)
        batch_op.drop_column("taxonomy_version")
        batch_op.drop_index("ix_mentions_version_id")
    mentions = _mentions("sentence_start", "sentence_end")
    update = (
        sa.update(mentions)
        .where(mentions.c.id == sa.bindparam("mid"))
        .values(
            matched=sa.bindparam("new_matched"),
            sentence=sa.bindparam("new_sentence"),
            sentence_start=sa.bindparam("lo"),
            sentence_end=sa.bindparam("hi"),
        )
    )
    _rewrite(mentions, update, _compacted)


def _source(row: Any) -> str:
    """The version's field a mention points into."""
    return str(row.version_title if row.field == "title" else row.version_text)


def _compacted(row: Any) -> dict[str, Any]:
    source = _source(row)
    span = sentence_span(source, row.start, row.end, row.sentence)
    same_words = source[row.start : row.end] == row.matched
    return {
        "mid": row.id,
        "new_matched": None if same_words else row.matched,
        "new_sentence": None if span else row.sentence,
        "lo": span[0] if span else None,
        "hi": span[1] if span else None,
    }


def _expanded(row: Any) -> dict[str, Any]:
    source = _source(row)
    sentence = row.sentence
    if sentence is None:
        sentence = sentence_at(source, row.sentence_start or 0, row.sentence_end or 0)
    matched = source[row.start : row.end] if row.matched is None else row.matched
    return {
        "mid": row.id,
        "new_matched": matched,
        "new_sentence": sentence,
        "taxonomy": row.version_taxonomy,
    }


def _rewrite(
    mentions: sa.TableClause, update: sa.Update, change: Callable[[Any], dict[str, Any]]
) -> None:
    """Apply ``update`` to every mention, ``_CHUNK`` at a time, with ``change(row)``'s values."""
    connection = op.get_bind()
    for rows in _chunks(connection, mentions):
        connection.execute(update, [change(row) for row in rows])


def _chunks(connection: sa.Connection, mentions: sa.TableClause) -> Iterator[Sequence[Any]]:
    """Mentions with their version's title and text, ``_CHUNK`` at a time, by id."""
    last = 0
    while True:
        query = (
            sa.select(
                mentions,
                _versions.c.title.label("version_title"),
                _versions.c.text.label("version_text"),
                _versions.c.taxonomy_version.label("version_taxonomy"),
            )
            .join(_versions, _versions.c.id == mentions.c.version_id)
            .where(mentions.c.id > last)
            .order_by(mentions.c.id)
            .limit(_CHUNK)
        )
        rows = connection.execute(query).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taxonomy_version", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_mentions_version_id", ["version_id"], unique=False)
    mentions = _mentions("sentence_start", "sentence_end", "taxonomy_version")
    update = (
        sa.update(mentions)
        .where(mentions.c.id == sa.bindparam("mid"))
        .values(
            matched=sa.bindparam("new_matched"),
            sentence=sa.bindparam("new_sentence"),
            taxonomy_version=sa.bindparam("taxonomy"),
        )
    )
    _rewrite(mentions, update, _expanded)
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.alter_column("matched", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("sentence", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("taxonomy_version", existing_type=sa.String(64), nullable=False)
        batch_op.drop_column("sentence_end")
        batch_op.drop_column("sentence_start")
