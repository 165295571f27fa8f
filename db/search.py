"""Full-text search: the ``article_search`` index, kept in step with versions, and queries.

The index holds one row per article: the search terms of its current version
(``parsers.search_text.index_text``). SQLite keeps them in an FTS5 table whose rowid is the
article id; PostgreSQL in a ``tsvector`` column with a GIN index. Whoever makes a version
current calls ``index_articles`` in the same transaction, so a search never sees an article
whose index row is missing or stale.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text
from sqlalchemy.orm import Session

from db.models import Article, ArticleVersion
from parsers.search_query import Node, to_fts5, to_tsquery
from parsers.search_text import index_text

#: Articles whose index rows are written per statement.
_CHUNK = 500


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


def index_articles(session: Session, rows: Iterable[tuple[int, str, str]]) -> None:
    """Index (article id, title, text) as each article's current text, replacing its row."""
    values = [{"id": a, "terms": index_text(title, body)} for a, title, body in rows]
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        if _dialect(session) == "postgresql":
            session.execute(_PG_UPSERT, chunk)
        else:
            session.execute(_SQLITE_DELETE, chunk)
            session.execute(_SQLITE_INSERT, chunk)


_PG_UPSERT = text(
    "INSERT INTO article_search (article_id, terms) VALUES (:id, to_tsvector('simple', :terms)) "
    "ON CONFLICT (article_id) DO UPDATE SET terms = excluded.terms"
)
_SQLITE_DELETE = text("DELETE FROM article_search WHERE rowid = :id")
_SQLITE_INSERT = text("INSERT INTO article_search (rowid, terms) VALUES (:id, :terms)")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def matched_ids(
    session: Session, query: Node, within: Collection[int] | None = None
) -> Select[Any]:
    """A select of (article id, rank) for articles matching ``query``; lower rank is better.

    ``within`` limits it to those articles (checking new articles against a watch).
    """
    if _dialect(session) == "postgresql":
        # Cast, not to_tsquery(): the terms are matched as the index wrote them.
        statement = text(
            "SELECT article_id AS id, -ts_rank_cd(terms, CAST(:q AS tsquery)) AS rank "
            "FROM article_search WHERE terms @@ CAST(:q AS tsquery)"
        ).bindparams(q=to_tsquery(query))
    else:
        statement = text(
            "SELECT rowid AS id, bm25(article_search) AS rank "
            "FROM article_search WHERE article_search MATCH :q"
        ).bindparams(q=to_fts5(query))
    matched = statement.columns(id=Article.id.type, rank=ArticleVersion.relevance.type)
    found = matched.subquery("matched")
    result = select(found.c.id, found.c.rank)
    if within is not None:
        result = result.where(found.c.id.in_(list(within)))
    return result


def filtered(statement: Select[Any], filters: ArticleFilters) -> Select[Any]:
    """``statement`` (over articles joined to their current version) narrowed by ``filters``."""
    return statement.where(*_conditions(filters))


def _conditions(filters: ArticleFilters) -> list[ColumnElement[bool]]:
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    conditions: list[ColumnElement[bool]] = []
    if filters.topic:
        padded = " " + ArticleVersion.topics + " "
        conditions.append(padded.contains(f" {filters.topic} ", autoescape=True))
    if filters.since is not None:
        conditions.append(when >= filters.since)
    if filters.until is not None:
        conditions.append(when < filters.until)
    if filters.outlet:
        wanted = filters.outlet.lower()
        conditions.append(
            or_(
                func.lower(Article.source).contains(wanted, autoescape=True),
                func.lower(Article.site).contains(wanted, autoescape=True),
            )
        )
    if filters.language:
        conditions.append(func.lower(Article.language) == filters.language.lower())
    if filters.relevant:
        conditions.append(ArticleVersion.relevant.is_(True))
    return [and_(*conditions)] if conditions else []


def search_ids(
    session: Session, query: Node, filters: ArticleFilters, limit: int | None
) -> list[int]:
    """Ids of the articles matching ``query`` and ``filters``, best first (newest of equals)."""
    found = matched_ids(session, query).subquery("found")
    statement = (
        select(Article.id)
        .join(found, found.c.id == Article.id)
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .order_by(
            found.c.rank,
            func.coalesce(Article.published_at, Article.first_seen_at).desc(),
            Article.id,
        )
    )
    statement = filtered(statement, filters)
    if limit:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def matching_articles(session: Session, query: Node, article_ids: Sequence[int]) -> set[int]:
    """Which of ``article_ids`` the query matches, as their current text stands."""
    if not article_ids:
        return set()
    return {row.id for row in session.execute(matched_ids(session, query, article_ids))}
