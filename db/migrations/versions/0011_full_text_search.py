"""full-text search over each article's current version

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 11:35:00.000000

``article_search`` holds, per article, the search terms of its current version's title and
text as ``parsers.search_text.index_text`` makes them (folded, lightly stemmed in English and
French), so both databases answer one query syntax alike: an FTS5 table on SQLite (rowid =
article id), a ``tsvector`` with a GIN index on PostgreSQL. ``db.search`` keeps it in step
with new versions, in their transaction; this revision indexes what is already stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parsers.search_text import index_text


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Articles indexed per statement.
_CHUNK = 500


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE article_search ("
            "article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE, "
            "terms TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_article_search_terms ON article_search USING GIN (terms)")
        insert = "INSERT INTO article_search (article_id, terms) VALUES (:id, to_tsvector('simple', :terms))"
    else:
        # The terms are folded already; unicode61 only splits them on spaces.
        op.execute(
            "CREATE VIRTUAL TABLE article_search USING fts5("
            "terms, tokenize = 'unicode61 remove_diacritics 0')"
        )
        insert = "INSERT INTO article_search (rowid, terms) VALUES (:id, :terms)"
    current = sa.text(
        "SELECT a.id, v.title, v.text FROM articles a "
        "JOIN article_versions v ON v.id = a.current_version_id "
        "WHERE a.id > :after ORDER BY a.id LIMIT :chunk"
    )
    after = 0
    while rows := connection.execute(current, {"after": after, "chunk": _CHUNK}).all():
        connection.execute(
            sa.text(insert), [{"id": r.id, "terms": index_text(r.title, r.text)} for r in rows]
        )
        after = rows[-1].id


def downgrade() -> None:
    op.execute("DROP TABLE article_search")
