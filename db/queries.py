"""What the reading commands read: feeds, articles and tracked figures (stories: story_queries).

Kept apart from ``db.repo`` and ``db.figures`` so that a listing imports no
write path (store, versions, upserts, the tagger), which cost each reading command
0.15-0.27 CPU-s of start-up (``docs/cli.md``). Those modules re-export what moved here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from db.models import Article, ArticleVersion, Feed, FigureStatement, TrackedFigure, topic_keys
from db.search import ArticleFilters, filtered


def list_feeds(session: Session) -> list[Feed]:
    """Every feed, by name."""
    return list(session.scalars(select(Feed).order_by(Feed.name, Feed.id)))


@dataclass(frozen=True)
class ArticleRow:
    """An article as listed by the CLI."""

    id: int
    title: str
    canonical_url: str
    source: str
    language: str | None
    published_at: datetime | None
    first_seen_at: datetime
    topics: tuple[str, ...]
    relevant: bool
    relevance: float
    versions: int
    byline: str | None = None
    #: The current version's text, for search snippets (only when asked for).
    text: str | None = None


def list_articles(
    session: Session,
    *,
    relevant_only: bool = False,
    limit: int | None = None,
    filters: ArticleFilters | None = None,
) -> list[ArticleRow]:
    """Articles, newest first, with their current topics and version count."""
    query = _article_rows_query()
    if relevant_only:
        query = query.where(ArticleVersion.relevant.is_(True))
    if filters is not None:
        query = filtered(query, filters)
    if limit:
        query = query.limit(limit)
    return [_article_row(row) for row in session.execute(query).all()]


def articles_by_id(session: Session, ids: Sequence[int]) -> list[ArticleRow]:
    """The articles ``ids`` names, in that order, with their current text."""
    query = _article_rows_query().add_columns(ArticleVersion.text).where(Article.id.in_(ids))
    found = {row.id: _article_row(row, with_text=True) for row in session.execute(query).all()}
    return [found[i] for i in ids if i in found]


def _article_row(row: Any, *, with_text: bool = False) -> ArticleRow:
    return ArticleRow(
        id=row.id,
        title=row.title,
        canonical_url=row.canonical_url,
        source=row.source,
        language=row.language,
        published_at=row.published_at,
        first_seen_at=row.first_seen_at,
        topics=topic_keys(row.topics),
        relevant=row.relevant,
        relevance=row.relevance,
        versions=row.versions,
        byline=row.byline,
        text=row.text if with_text else None,
    )


def _article_rows_query() -> Select[Any]:
    counted = aliased(ArticleVersion)
    version_count = (
        select(func.count(counted.id))
        .where(counted.article_id == Article.id)
        .correlate(Article)
        .scalar_subquery()
    )
    return (
        select(
            Article.id,
            Article.title,
            Article.canonical_url,
            Article.source,
            Article.language,
            Article.published_at,
            Article.first_seen_at,
            Article.byline,
            ArticleVersion.id.label("version_id"),
            ArticleVersion.relevant,
            ArticleVersion.relevance,
            ArticleVersion.topics,
            version_count.label("versions"),
        )
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .order_by(func.coalesce(Article.published_at, Article.first_seen_at).desc(), Article.id)
    )


def get_article(session: Session, article_id: int) -> Article | None:
    """One article with its versions (mentions load on access)."""
    return session.get(Article, article_id)


# --- tracked figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    """A statement of a tracked figure, with its source, as ``vigie figures`` lists it."""

    #: Statement id: what ``vigie figures wrong ID`` takes.
    id: int
    #: The tracked figure's ``topic|unit|scope|jurisdiction``.
    key: str
    value: float
    #: The figure as written.
    matched: str
    #: The sentence that states it.
    sentence: str
    stated_at: datetime
    #: When it was marked wrong, if it was.
    wrong_at: datetime | None
    #: Whether it is the figure's current value.
    current: bool
    article_id: int
    #: The source: outlet, headline and address of the article.
    source: str
    title: str
    url: str


def list_statements(session: Session, *, everything: bool = False) -> list[StatementRow]:
    """Statements of tracked figures, by figure, newest first; only the current value of
    each figure unless ``everything``."""
    current = {
        (t.key, t.version_id) for t in session.scalars(select(TrackedFigure)) if t.version_id
    }
    query = (
        select(FigureStatement)
        .join(Article, Article.id == FigureStatement.article_id)
        .order_by(FigureStatement.key, FigureStatement.stated_at.desc(), FigureStatement.id.desc())
    )
    rows = [_statement_row(s, (s.key, s.version_id) in current) for s in session.scalars(query)]
    return rows if everything else [row for row in rows if row.current]


def _statement_row(statement: FigureStatement, current: bool) -> StatementRow:
    article = statement.article
    return StatementRow(
        id=statement.id,
        key=statement.key,
        value=statement.value,
        matched=statement.matched,
        sentence=statement.sentence,
        stated_at=statement.stated_at,
        wrong_at=statement.wrong_at,
        current=current,
        article_id=article.id,
        source=article.source,
        title=article.title,
        url=article.canonical_url,
    )
