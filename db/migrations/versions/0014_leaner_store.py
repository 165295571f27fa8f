"""a leaner store: no copy of the indexed terms, keys stored once, shorter entry and mention rows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:40:00.000000

Bytes per stored article (quick corpus, feed-only pass, SQLite after ``VACUUM``): 5,150
before, 4,134 after; docs/performance.md ("A leaner store") has the table. On SQLite:

* ``article_search`` becomes a contentless FTS5 table (``content=''``): it kept a copy of
  every article's search terms (the size of its text) beside the index, and nothing reads
  it (search ranks with ``bm25``, snippets are cut from the version's text). A row is
  removed with FTS5's ``delete`` command and the terms it was indexed with
  (``db.search.IndexedText``). PostgreSQL's ``tsvector`` holds no copy: unchanged there.
* ``lsh_bands`` and ``article_passages`` become ``WITHOUT ROWID`` tables: their rows are
  their primary key (plus one number), which a rowid table stored twice, in the table and
  in the key's own index.

On both databases:

* ``entries.url`` is NULL where it is the article's canonical URL (98% of feed items):
  ``Entry.url_of`` gives it back.
* ``mentions.field`` is 0 for "title", 1 for "text" (``db.base.FieldCode``), in the table
  and in its unique index.

Downgrade writes the URLs and field names back, restores the FTS5 table with its copy of
the terms (indexed again from each article's current version) and the rowid tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parsers.search_text import index_text

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: Articles indexed per statement.
_CHUNK = 500

_FTS5_OPTIONS = "terms, tokenize = 'unicode61 remove_diacritics 0'"

#: The WITHOUT ROWID tables: (name, columns and constraints, indexes).
_KEYED_TABLES = (
    (
        "lsh_bands",
        "article_id INTEGER NOT NULL, band SMALLINT NOT NULL, hash BIGINT NOT NULL, "
        "CONSTRAINT pk_lsh_bands PRIMARY KEY (article_id, band), "
        "CONSTRAINT fk_lsh_bands_article_id_articles FOREIGN KEY(article_id) "
        "REFERENCES articles (id) ON DELETE CASCADE",
        ("CREATE INDEX ix_lsh_bands_band_hash ON lsh_bands (band, hash)",),
    ),
    (
        "article_passages",
        "article_id INTEGER NOT NULL, hash BIGINT NOT NULL, shape BIGINT NOT NULL, "
        "CONSTRAINT pk_article_passages PRIMARY KEY (article_id, hash), "
        "CONSTRAINT fk_article_passages_article_id_articles FOREIGN KEY(article_id) "
        "REFERENCES articles (id) ON DELETE CASCADE",
        ("CREATE INDEX ix_article_passages_hash ON article_passages (hash)",),
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch_op:
        batch_op.alter_column("url", existing_type=sa.String(2048), nullable=True)
    op.execute(
        "UPDATE entries SET url = NULL WHERE url = "
        "(SELECT canonical_url FROM articles WHERE articles.id = entries.article_id)"
    )
    # Still text, then cast: '0' and '1' become the numbers.
    op.execute("UPDATE mentions SET field = CASE field WHEN 'title' THEN '0' ELSE '1' END")
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.alter_column(
            "field",
            existing_type=sa.String(8),
            type_=sa.SmallInteger(),
            existing_nullable=False,
            postgresql_using="field::smallint",
        )
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_search("content = ''")
        for name, body, indexes in _KEYED_TABLES:
            _recreate(name, body, indexes, without_rowid=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, body, indexes in _KEYED_TABLES:
            _recreate(name, body, indexes, without_rowid=False)
        _rebuild_search(None)
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.alter_column(
            "field",
            existing_type=sa.SmallInteger(),
            type_=sa.String(8),
            existing_nullable=False,
            postgresql_using="field::varchar(8)",
        )
    op.execute("UPDATE mentions SET field = CASE field WHEN '0' THEN 'title' ELSE 'text' END")
    op.execute(
        "UPDATE entries SET url = "
        "(SELECT canonical_url FROM articles WHERE articles.id = entries.article_id) "
        "WHERE url IS NULL"
    )
    with op.batch_alter_table("entries") as batch_op:
        batch_op.alter_column("url", existing_type=sa.String(2048), nullable=False)


def _rebuild_search(content: str | None) -> None:
    """Make ``article_search`` anew (contentless when ``content`` says so) and index every
    article's current version in it."""
    op.execute("DROP TABLE article_search")
    options = _FTS5_OPTIONS if content is None else f"{_FTS5_OPTIONS}, {content}"
    op.execute(f"CREATE VIRTUAL TABLE article_search USING fts5({options})")
    connection = op.get_bind()
    current = sa.text(
        "SELECT a.id, v.title, v.text FROM articles a "
        "JOIN article_versions v ON v.id = a.current_version_id "
        "WHERE a.id > :after ORDER BY a.id LIMIT :chunk"
    )
    insert = sa.text("INSERT INTO article_search (rowid, terms) VALUES (:id, :terms)")
    after = 0
    while rows := connection.execute(current, {"after": after, "chunk": _CHUNK}).all():
        connection.execute(insert, [{"id": r.id, "terms": index_text(r.title, r.text)} for r in rows])
        after = rows[-1].id


def _recreate(name: str, body: str, indexes: tuple[str, ...], *, without_rowid: bool) -> None:
    """Copy table ``name`` into a new one of the same columns, with or without rowid."""
    suffix = " WITHOUT ROWID" if without_rowid else ""
    op.execute(f"CREATE TABLE _new_{name} ({body}){suffix}")
    op.execute(f"INSERT INTO _new_{name} SELECT * FROM {name}")
    op.execute(f"DROP TABLE {name}")
    op.execute(f"ALTER TABLE _new_{name} RENAME TO {name}")
    for index in indexes:
        op.execute(index)
