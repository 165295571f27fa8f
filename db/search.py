"""Full-text search: the ``article_search`` index, kept in step with versions, and queries.

The index holds one row per article: the search terms of its current version
(``parsers.search_text.index_text``). SQLite keeps them in a contentless FTS5 table
(migration 0014) whose rowid is the article id; PostgreSQL in a ``tsvector`` column with a
GIN index. Whoever makes a version current calls ``index_articles`` in the same
transaction, so a search never sees an article whose index row is missing or stale.

A contentless FTS5 table keeps no copy of the terms it indexed (the text is the version's
already), so removing an article's row takes the terms it was indexed with: the caller
passes the title and text of the version it replaces (``IndexedText.replacing``), and the
terms are made from them again. A change to ``index_text`` therefore comes with a migration
that rebuilds the index, as it must anyway for queries to fold words as the index did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.sql.expression import TableClause

from db.schema import article_versions, articles, dialect_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.schema import Reader
    from parsers.search_query import Node

#: Articles whose index rows are written per statement.
_CHUNK = 500
#: A search with a limit ranks the newest this many matches (``search_ids``).
CANDIDATES = 500


def article_date() -> ColumnElement[datetime]:
    """An article's date in listings, filters and rankings: published, else first seen."""
    return func.coalesce(articles.c.published_at, articles.c.first_seen_at)


@dataclass(frozen=True)
class ArticleFilters:
    """What ``vigie articles`` and ``vigie search`` narrow a listing to (None: anything)."""

    topic: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: Part of the outlet's name or host, any case ("le devoir", "ledevoir.com").
    outlet: str | None = None
    language: str | None = None
    relevant: bool = False


@dataclass(frozen=True)
class IndexedText:
    """An article's current title and text, as the index is to hold them."""

    article_id: int
    title: str
    text: str
    #: The title and text the article was indexed with until now; None for a new article.
    replacing: tuple[str, str] | None = None


def index_articles(session: Session, rows: Iterable[IndexedText]) -> None:
    """Index each article's current text, replacing the row it had."""
    from parsers.search_text import index_text  # the write path's; listings only filter

    rows = list(rows)
    values = [{"id": r.article_id, "terms": index_text(r.title, r.text)} for r in rows]
    postgres = dialect_name(session) == "postgresql"
    if not postgres:
        forgotten = [
            {"id": r.article_id, "terms": index_text(*r.replacing)}
            for r in rows
            if r.replacing is not None
        ]
        for start in range(0, len(forgotten), _CHUNK):
            session.execute(_SQLITE_FORGET, forgotten[start : start + _CHUNK])
    for start in range(0, len(values), _CHUNK):
        session.execute(_PG_UPSERT if postgres else _SQLITE_INSERT, values[start : start + _CHUNK])


_PG_UPSERT = text(
    "INSERT INTO article_search (article_id, terms) VALUES (:id, to_tsvector('simple', :terms)) "
    "ON CONFLICT (article_id) DO UPDATE SET terms = excluded.terms"
)
#: FTS5's delete command: a contentless table removes the terms it is given for the row.
_SQLITE_FORGET = text(
    "INSERT INTO article_search (article_search, rowid, terms) VALUES ('delete', :id, :terms)"
)
_SQLITE_INSERT = text("INSERT INTO article_search (rowid, terms) VALUES (:id, :terms)")


#: The index as Core sees it: SQLite's FTS5 table (its rowid is the article id), or
#: PostgreSQL's table of tsvectors.
_FTS5 = table("article_search", column("rowid", Integer))


@cache
def _tsv() -> TableClause:
    # Built on first use: the PostgreSQL dialect costs a command on SQLite its import.
    from sqlalchemy.dialects.postgresql import TSVECTOR

    return table("article_search", column("article_id", Integer), column("terms", TSVECTOR))


@dataclass(frozen=True)
class _Match:
    """How one query matches on one database: the article id column, the condition, and a
    rank (lower is better) that only the matched rows pay for."""

    source: FromClause
    article_id: ColumnElement[int]
    condition: ColumnElement[bool]
    rank: ColumnElement[float]


def _match(session: Reader, query: Node, *, ranking: bool = False) -> _Match:
    """The query on this database. ``ranking`` (PostgreSQL) gives a second reference to the
    index, for ranking in one statement the rows that the first one found."""
    from parsers.search_query import to_fts5, to_tsquery  # a search's; a listing filters without

    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import TSQUERY

        index = _tsv()
        source = index.alias("ranked") if ranking else index
        # Cast, not to_tsquery(): the terms are matched as the index wrote them.
        tsquery = cast(bindparam("q", to_tsquery(query)), TSQUERY)
        condition = source.c.terms.op("@@")(tsquery)
        rank = -func.ts_rank_cd(source.c.terms, tsquery)
        return _Match(source, source.c.article_id, condition, rank)
    fts: ColumnElement[Any] = literal_column("article_search")
    condition = fts.op("MATCH")(bindparam("q", to_fts5(query)))
    return _Match(_FTS5, _FTS5.c.rowid, condition, func.bm25(fts))


def filtered(statement: Select[Any], filters: ArticleFilters) -> Select[Any]:
    """``statement`` (over articles joined to their current version) narrowed by ``filters``."""
    return statement.where(*_conditions(filters))


def _conditions(filters: ArticleFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.topic:
        padded = " " + article_versions.c.topics + " "
        conditions.append(padded.contains(f" {filters.topic} ", autoescape=True))
    if filters.since is not None:
        conditions.append(article_date() >= filters.since)
    if filters.until is not None:
        conditions.append(article_date() < filters.until)
    if filters.outlet:
        wanted = filters.outlet.lower()
        conditions.append(
            or_(
                func.lower(articles.c.source).contains(wanted, autoescape=True),
                func.lower(articles.c.site).contains(wanted, autoescape=True),
            )
        )
    if filters.language:
        # Stored in lower case; a bare column keeps the planner's statistics.
        conditions.append(articles.c.language == filters.language.lower())
    if filters.relevant:
        conditions.append(article_versions.c.relevant.is_(True))
    return [and_(*conditions)] if conditions else []


def search_ids(
    session: Reader, query: Node, filters: ArticleFilters, limit: int | None
) -> list[int]:
    """Ids of the articles matching ``query`` and ``filters``, best first (newest of equals).

    With a ``limit``, the best are chosen among the newest ``CANDIDATES`` matches (the
    articles stored last), so that a query matching most of the archive ranks 500 texts,
    not 77,000: on PostgreSQL ranking reads each match's whole tsvector (a median of 228 ms
    at 100,000 articles, ranking all; ``bench/bench_search.py``).
    """
    match = _match(session, query)
    postgres = dialect_name(session) == "postgresql"
    # FTS5 ranks a row only where it matched it; PostgreSQL ranks apart from matching, so
    # that only the candidates pay for reading their tsvector.
    columns = [match.article_id.label("id")] if postgres else [
        match.article_id.label("id"), match.rank.label("rank")
    ]  # fmt: skip
    pool = select(*columns).select_from(match.source).where(match.condition)
    if conditions := _conditions(filters):
        pool = pool.join(articles, articles.c.id == match.article_id)
        pool = pool.join(article_versions, article_versions.c.id == articles.c.current_version_id)
        pool = pool.where(*conditions)
    if limit:
        pool = pool.order_by(match.article_id.desc()).limit(CANDIDATES)
    found = pool.subquery("found")
    statement = select(found.c.id).join(articles, articles.c.id == found.c.id)
    if postgres:
        ranked = _match(session, query, ranking=True)
        statement = statement.join(ranked.source, ranked.article_id == found.c.id)
        rank = ranked.rank
    else:
        rank = found.c.rank
    statement = statement.order_by(rank, article_date().desc(), found.c.id.desc())
    if limit:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def matching_articles(session: Reader, query: Node, article_ids: Sequence[int]) -> set[int]:
    """Which of ``article_ids`` the query matches, as their current text stands (watches)."""
    if not article_ids:
        return set()
    match = _match(session, query)
    statement = select(match.article_id).select_from(match.source)
    statement = statement.where(match.condition, match.article_id.in_(list(article_ids)))
    return set(session.scalars(statement))
