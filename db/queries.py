"""What the reading commands read: feeds, articles, tracked figures and stories.

Kept apart from ``db.repo``, ``db.figures`` and ``db.clusters`` so that a listing imports no
write path (store, versions, upserts, clustering, the tagger), which cost each reading command
0.06-0.18 CPU-s of start-up (``docs/cli.md``). Those modules re-export what moved here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from db.cluster_models import Cluster, ClusterMember
from db.models import Article, ArticleVersion, Entry, Feed, FigureStatement, TrackedFigure
from db.search import ArticleFilters, filtered
from parsers.dedup import outlet_name, outlet_of
from parsers.urls import canonical_url


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
        topics=tuple(row.topics.split()),
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


# --- stories (clusters) --------------------------------------------------------------------


@dataclass(frozen=True)
class OutletRow:
    """One outlet that ran a story."""

    #: The feed's or source's name, the site where there is none (``dedup.outlet_name``).
    outlet: str
    #: When Vigie first stored the story from this outlet.
    first_seen_at: datetime
    #: What the outlet is counted by: its site, else its source (``dedup.outlet_of``).
    site: str = ""


@dataclass(frozen=True)
class ClusterRow:
    """A story as listed by the CLI and shown with an article."""

    id: int
    #: The representative article's title.
    title: str
    size: int
    #: Outlets in the order they were first seen.
    outlets: tuple[OutletRow, ...]
    #: Members, earliest seen first.
    article_ids: tuple[int, ...]
    #: Union of the members' current topics, the story's primary topic first.
    topics: tuple[str, ...]
    representative_article_id: int | None
    created_at: datetime
    updated_at: datetime


def list_clusters(
    session: Session, *, limit: int | None = None, min_size: int = 2
) -> list[ClusterRow]:
    """Clusters of at least ``min_size`` articles, most recently grown first."""
    query = (
        select(Cluster)
        .where(Cluster.size >= min_size)
        .order_by(Cluster.updated_at.desc(), Cluster.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return cluster_rows(session, list(session.scalars(query)))


def cluster_of(session: Session, article_id: int) -> ClusterRow | None:
    """The cluster an article belongs to, or None when it has not been assigned."""
    cluster_id = cluster_id_of(session, article_id)
    if cluster_id is None:
        return None
    return cluster_rows(session, [session.get_one(Cluster, cluster_id)])[0]


def cluster_rows(session: Session, clusters: Sequence[Cluster]) -> list[ClusterRow]:
    """``clusters`` as listed, with their members, outlets and topics."""
    ids = [c.id for c in clusters]
    members = _members_by_cluster(session, ids)
    seen = sightings(session, ids)
    topics = _topics_by_cluster(session, ids)
    return [
        ClusterRow(
            id=c.id,
            title=c.title,
            size=c.size,
            outlets=outlets(seen.get(c.id, [])),
            article_ids=tuple(members.get(c.id, [])),
            topics=topics.get(c.id, ()),
            representative_article_id=c.representative_article_id,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in clusters
    ]


def _members_by_cluster(session: Session, ids: Sequence[int]) -> dict[int, list[int]]:
    """Each cluster's article ids, earliest seen first."""
    query = (
        select(ClusterMember.cluster_id, ClusterMember.article_id)
        .join(Article, Article.id == ClusterMember.article_id)
        .where(ClusterMember.cluster_id.in_(ids))
        .order_by(Article.first_seen_at, ClusterMember.article_id)
    )
    found: dict[int, list[int]] = {}
    for cluster_id, article_id in session.execute(query):
        found.setdefault(cluster_id, []).append(article_id)
    return found


def outlets(sightings: Iterable[Sighting]) -> tuple[OutletRow, ...]:
    """Distinct outlets, each at its first sighting and by the name it was first seen
    under, in the order they were first seen."""
    first: dict[str, tuple[str, datetime]] = {}
    for site, name, seen in sorted(sightings, key=lambda sighting: sighting[2]):
        first.setdefault(site, (name, seen))
    return tuple(OutletRow(name, seen, site) for site, (name, seen) in first.items())


def _topics_by_cluster(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The members' topics, the story's primary topic first: the one most members lead
    with, then by how many members have each."""
    query = (
        select(ClusterMember.cluster_id, ArticleVersion.topics)
        .join(Article, Article.id == ClusterMember.article_id)
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .where(ClusterMember.cluster_id.in_(ids))
    )
    ranks: dict[int, Counter[tuple[str, bool]]] = {}
    for cluster_id, topics in session.execute(query):
        for position, key in enumerate(topics.split()):
            ranks.setdefault(cluster_id, Counter())[(key, position == 0)] += 1
    result = {}
    for cluster_id, counts in ranks.items():
        keys = {key for key, _ in counts}
        lead = {key: counts[(key, True)] for key in keys}
        seen = {key: lead[key] + counts[(key, False)] for key in keys}
        result[cluster_id] = tuple(sorted(keys, key=lambda k: (-lead[k], -seen[k], k)))
    return result


def cluster_id_of(session: Session, article_id: int) -> int | None:
    """The cluster an article belongs to, or None."""
    query = select(ClusterMember.cluster_id).where(ClusterMember.article_id == article_id)
    return session.scalars(query).one_or_none()


#: One sighting of a story: (outlet as counted, outlet as named, when first seen).
Sighting = tuple[str, str, datetime]


def sightings(session: Session, ids: Sequence[int]) -> dict[int, list[Sighting]]:
    """Each cluster's sightings: its members, and the exact copies (entries of other feeds)
    filed under them."""
    members = (
        select(
            ClusterMember.cluster_id,
            ClusterMember.outlet,
            Article.canonical_url,
            Article.source,
            Article.first_seen_at,
        )
        .join(Article, Article.id == ClusterMember.article_id)
        .where(ClusterMember.cluster_id.in_(ids))
    )
    copies = (
        select(ClusterMember.cluster_id, Entry.url, Feed.name, Entry.first_seen_at)
        .join(Entry, Entry.article_id == ClusterMember.article_id)
        .join(Feed, Feed.id == Entry.feed_id)
        .where(ClusterMember.cluster_id.in_(ids))
    )
    found: dict[int, list[Sighting]] = {}
    for cluster_id, outlet, url, source, seen in session.execute(members):
        found.setdefault(cluster_id, []).append((outlet, outlet_name(url, source), seen))
    for cluster_id, url, source, seen in session.execute(copies):
        canonical = canonical_url(url)
        sighting = (outlet_of(canonical, source), outlet_name(canonical, source), seen)
        found.setdefault(cluster_id, []).append(sighting)
    return found
