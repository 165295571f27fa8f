"""Stories as the digest tells them: each article's current title and topics, and every
outlet that carries its story (its cluster), read when the digest is written.

Alerts keep what an article said when they were written; a digest sent hours later shows
what it says now, and lists a story once however many outlets carry it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.cluster_models import ClusterMember
from db.models import Article, ArticleVersion
from parsers.digest import Coverage, StoryNow


def stories_now(session: Session, article_ids: Sequence[int]) -> dict[int, StoryNow]:
    """Article id -> how it reads now and who carries its story; unknown ids are left out."""
    if not article_ids:
        return {}
    query = (
        select(
            Article.id,
            Article.canonical_url,
            Article.source,
            ArticleVersion.title,
            ArticleVersion.topics,
            ClusterMember.cluster_id,
        )
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .outerjoin(ClusterMember, ClusterMember.article_id == Article.id)
        .where(Article.id.in_(sorted(set(article_ids))))
    )
    rows = session.execute(query).all()
    coverage = _coverage(session, {row.cluster_id for row in rows if row.cluster_id is not None})
    return {
        row.id: StoryNow(
            article_id=row.id,
            title=row.title,
            url=row.canonical_url,
            source=row.source,
            topics=tuple(row.topics.split()),
            story_id=row.cluster_id,
            coverage=coverage.get(row.cluster_id, (Coverage(row.source, row.canonical_url),))
            if row.cluster_id is not None
            else (Coverage(row.source, row.canonical_url),),
        )
        for row in rows
    }


def _coverage(session: Session, cluster_ids: set[int]) -> dict[int, tuple[Coverage, ...]]:
    """Each story's outlets, each once, at its first article."""
    if not cluster_ids:
        return {}
    query = (
        select(ClusterMember.cluster_id, Article.source, Article.canonical_url)
        .join(Article, Article.id == ClusterMember.article_id)
        .where(ClusterMember.cluster_id.in_(sorted(cluster_ids)))
        .order_by(Article.first_seen_at, Article.id)
    )
    found: dict[int, dict[str, Coverage]] = {}
    for cluster_id, source, url in session.execute(query).tuples():
        found.setdefault(cluster_id, {}).setdefault(source, Coverage(source, url))
    return {cluster_id: tuple(outlets.values()) for cluster_id, outlets in found.items()}
