"""What the reading commands read: feeds, articles and tracked figures (stories: story_queries).

Kept apart from ``db.repo`` and ``db.figures`` so that a listing imports no write path
(store, versions, upserts, the tagger), and written in SQLAlchemy Core over ``db.schema``
so that it imports no ORM either: each cost the reading commands 0.1-0.27 CPU-s of start-up
(``docs/cli.md``). Every function takes a Core connection or an ORM session (``Reader``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, func, select

from db.schema import (
    article_versions,
    articles,
    feeds,
    figure_statements,
    mentions,
    tags,
    topic_keys,
    tracked_figures,
)
from db.search import ArticleFilters, article_date, filtered
from parsers.evidence import mention_sentence, mention_words

if TYPE_CHECKING:
    from db.schema import Reader


def list_feeds(reader: Reader) -> list[Row[Any]]:
    """Every feed, by name: rows with the columns of ``feeds``."""
    return list(reader.execute(select(feeds).order_by(feeds.c.name, feeds.c.id)))


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
    reader: Reader,
    *,
    relevant_only: bool = False,
    limit: int | None = None,
    filters: ArticleFilters | None = None,
) -> list[ArticleRow]:
    """Articles, newest first, with their current topics and version count."""
    query = _article_rows_query()
    if relevant_only:
        query = query.where(article_versions.c.relevant.is_(True))
    if filters is not None:
        query = filtered(query, filters)
    if limit:
        query = query.limit(limit)
    return [_article_row(row) for row in reader.execute(query).all()]


def articles_by_id(reader: Reader, ids: Sequence[int]) -> list[ArticleRow]:
    """The articles ``ids`` names, in that order, with their current text."""
    query = _article_rows_query().add_columns(article_versions.c.text).where(articles.c.id.in_(ids))
    found = {row.id: _article_row(row, with_text=True) for row in reader.execute(query).all()}
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
    counted = article_versions.alias("counted")
    version_count = (
        select(func.count(counted.c.id))
        .where(counted.c.article_id == articles.c.id)
        .correlate(articles)
        .scalar_subquery()
    )
    return (
        select(
            articles.c.id,
            articles.c.title,
            articles.c.canonical_url,
            articles.c.source,
            articles.c.language,
            articles.c.published_at,
            articles.c.first_seen_at,
            articles.c.byline,
            article_versions.c.id.label("version_id"),
            article_versions.c.relevant,
            article_versions.c.relevance,
            article_versions.c.topics,
            version_count.label("versions"),
        )
        .join(article_versions, article_versions.c.id == articles.c.current_version_id)
        .order_by(article_date().desc(), articles.c.id)
    )


# --- one article, as `vigie show` and `vigie diff` print it ----------------------------------


@dataclass(frozen=True)
class MentionView:
    """A mention as shown: its concept, where it is, and the words and sentence it has."""

    field: str
    start: int
    end: int
    #: The concept's kind (topic, actor, figure...) and key.
    kind: str
    key: str
    matched: str
    sentence: str


@dataclass(frozen=True)
class VersionView:
    """One version of an article as shown; ``mentions`` only for the current version."""

    id: int
    n: int
    title: str
    text: str
    origin: str
    fallback_reason: str | None
    fetched_at: datetime
    change_kinds: str
    relevance: float
    relevant: bool
    topic_keys: tuple[str, ...]
    tag_note: str | None
    taxonomy_version: str
    mentions: tuple[MentionView, ...] = ()


@dataclass(frozen=True)
class ArticleView:
    """An article with its versions (oldest first) and its current version's evidence."""

    id: int
    title: str
    canonical_url: str
    source: str
    byline: str | None
    published_at: datetime | None
    suspect_reason: str | None
    versions: tuple[VersionView, ...]
    current_version: VersionView | None


def article_view(reader: Reader, article_id: int) -> ArticleView | None:
    """One article with its versions and its current version's mentions; None if unknown."""
    article = reader.execute(select(articles).where(articles.c.id == article_id)).first()
    if article is None:
        return None
    query = (
        select(article_versions)
        .where(article_versions.c.article_id == article_id)
        .order_by(article_versions.c.n)
    )
    versions = [_version_view(row) for row in reader.execute(query)]
    current = next((v for v in versions if v.id == article.current_version_id), None)
    if current is not None:
        evidence = tuple(_mentions_of(reader, current))
        versions = [_with_mentions(v, evidence) if v is current else v for v in versions]
        current = _with_mentions(current, evidence)
    return ArticleView(
        id=article.id,
        title=article.title,
        canonical_url=article.canonical_url,
        source=article.source,
        byline=article.byline,
        published_at=article.published_at,
        suspect_reason=article.suspect_reason,
        versions=tuple(versions),
        current_version=current,
    )


def _version_view(row: Any) -> VersionView:
    return VersionView(
        id=row.id,
        n=row.n,
        title=row.title,
        text=row.text,
        origin=row.origin,
        fallback_reason=row.fallback_reason,
        fetched_at=row.fetched_at,
        change_kinds=row.change_kinds,
        relevance=row.relevance,
        relevant=row.relevant,
        topic_keys=topic_keys(row.topics),
        tag_note=row.tag_note,
        taxonomy_version=row.taxonomy_version,
    )


def _with_mentions(version: VersionView, found: tuple[MentionView, ...]) -> VersionView:
    return replace(version, mentions=found)


def _mentions_of(reader: Reader, version: VersionView) -> list[MentionView]:
    # The statement the ORM's ``ArticleVersion.mentions`` ran, so that mentions starting at
    # the same offset (one in the title, one in the text) come in the same order, and the
    # evidence table quotes the same first sentence; the tags come in a second statement.
    query = select(mentions).where(mentions.c.version_id == version.id).order_by(mentions.c.start)
    rows = reader.execute(query).all()
    wanted = select(tags.c.id, tags.c.kind, tags.c.key).where(
        tags.c.id.in_({row.tag_id for row in rows})
    )
    concept = {tag.id: tag for tag in reader.execute(wanted)}
    found = []
    for row in rows:
        text = version.title if row.field == "title" else version.text
        found.append(
            MentionView(
                field=row.field,
                start=row.start,
                end=row.end,
                kind=concept[row.tag_id].kind,
                key=concept[row.tag_id].key,
                matched=mention_words(text, row.start, row.end, row.matched),
                sentence=mention_sentence(text, row.sentence_start, row.sentence_end, row.sentence),
            )
        )
    return found


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


def list_statements(reader: Reader, *, everything: bool = False) -> list[StatementRow]:
    """Statements of tracked figures, by figure, newest first; only the current value of
    each figure unless ``everything``."""
    figures = select(tracked_figures.c.key, tracked_figures.c.version_id)
    current = {(key, version_id) for key, version_id in reader.execute(figures) if version_id}
    statements = figure_statements.c
    query = (
        select(
            figure_statements,
            articles.c.source,
            articles.c.title,
            articles.c.canonical_url,
        )
        .join(articles, articles.c.id == statements.article_id)
        .order_by(statements.key, statements.stated_at.desc(), statements.id.desc())
    )
    rows = [
        _statement_row(row, (row.key, row.version_id) in current) for row in reader.execute(query)
    ]
    return rows if everything else [row for row in rows if row.current]


def _statement_row(row: Any, current: bool) -> StatementRow:
    return StatementRow(
        id=row.id,
        key=row.key,
        value=row.value,
        matched=row.matched,
        sentence=row.sentence,
        stated_at=row.stated_at,
        wrong_at=row.wrong_at,
        current=current,
        article_id=row.article_id,
        source=row.source,
        title=row.title,
        url=row.canonical_url,
    )
