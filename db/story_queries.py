"""Story clusters in the database, read: copies of a fingerprint, and the stories as shown.

Each function takes a Session and writes nothing. ``db.story_filing`` files articles into
clusters with these queries; the CLI, messages and alerts read stories through them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from db.cluster_models import ArticlePassage, ArticleSignature, Cluster, ClusterMember, LshBand
from db.models import Article, ArticleVersion, Entry, Feed, topic_keys
from parsers.dedup import (
    MIN_SHARED_PASSAGES,
    BandKey,
    Fingerprint,
    Match,
    Passage,
    band_keys,
    match,
    outlet_name,
    outlet_of,
)
from parsers.urls import canonical_url

#: Most candidates verified per article, those sharing the most keys first: a bucket that
#: many texts share (a newsletter template, say) cannot make one lookup expensive.
MAX_CANDIDATES = 50


@dataclass(frozen=True)
class StoredMatch:
    """A stored article that is a copy of the one being assigned."""

    #: The stored article.
    article_id: int
    #: Its cluster.
    cluster_id: int
    #: How close it is, and on what basis.
    match: Match


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


def cluster_id_of(session: Session, article_id: int) -> int | None:
    query = select(ClusterMember.cluster_id).where(ClusterMember.article_id == article_id)
    return session.scalars(query).one_or_none()


# --- finding copies ----------------------------------------------------------------------


def find_matches(
    session: Session,
    fp: Fingerprint,
    *,
    exclude: int | None = None,
) -> list[StoredMatch]:
    """Stored, clustered articles that are copies of ``fp`` (``exclude``: the article itself)."""
    return stored_matches(session, fp, band_keys(fp), exclude)


def stored_matches(
    session: Session,
    fp: Fingerprint,
    keys: Sequence[BandKey],
    exclude: int | None,
) -> list[StoredMatch]:
    sharing = passage_candidate_ids(session, fp.passages, exclude=exclude)
    candidates = list(dict.fromkeys([*candidate_ids(session, keys, exclude=exclude), *sharing]))
    if not candidates:
        return []
    rows = session.execute(_signatures_statement(), {"ids": candidates, "language": fp.language})
    # Only articles sharing enough passages can match by passages: only theirs are read.
    stored_passages = _passages_of(session, sharing) if sharing else {}
    found = []
    for row in rows:
        stored = _fingerprint_of(row, stored_passages.get(row.article_id, ()))
        verdict = match(fp, stored)
        if verdict is not None:
            found.append(StoredMatch(row.article_id, row.cluster_id, verdict))
    return found


def candidate_ids(
    session: Session, keys: Sequence[BandKey], *, exclude: int | None = None
) -> list[int]:
    """Articles sharing at least one key, those sharing the most first (``MAX_CANDIDATES``).

    Each key is one equality probe of the (band, hash) index: the cost follows the number of
    keys and of articles that share them, not the size of the corpus.
    """
    if not keys:
        return []
    statement = _probe_statement(len(keys), exclude is not None)
    return list(session.scalars(statement, _probe_params(keys, exclude)))


def passage_candidate_ids(
    session: Session, passages: Sequence[Passage], *, exclude: int | None = None
) -> list[int]:
    """Articles sharing at least ``MIN_SHARED_PASSAGES`` passages, the most first.

    One probe of the passages' hash index per passage, like ``candidate_ids``.
    """
    if len(passages) < MIN_SHARED_PASSAGES:
        return []
    params: dict[str, Any] = {"hashes": [p.hash for p in passages]}
    if exclude is not None:
        params["exclude"] = exclude
    return list(session.scalars(_passage_probe_statement(exclude is not None), params))


@cache
def _passage_probe_statement(excluding: bool) -> Select[tuple[int]]:
    # Built once, its hashes an expanding parameter: building the query for each new article
    # cost a fifth of the lookup (a first pass files hundreds of them).
    query = (
        select(ArticlePassage.article_id)
        .where(ArticlePassage.hash.in_(bindparam("hashes", expanding=True)))
        .group_by(ArticlePassage.article_id)
        .having(func.count() >= MIN_SHARED_PASSAGES)
        .order_by(func.count().desc(), ArticlePassage.article_id)
        .limit(MAX_CANDIDATES)
    )
    return query.where(ArticlePassage.article_id != bindparam("exclude")) if excluding else query


def _passages_of(session: Session, ids: Sequence[int]) -> dict[int, tuple[Passage, ...]]:
    query = select(ArticlePassage.article_id, ArticlePassage.hash, ArticlePassage.shape).where(
        ArticlePassage.article_id.in_(ids)
    )
    found: dict[int, list[Passage]] = {}
    for article_id, hash_, shape in session.execute(query):
        found.setdefault(article_id, []).append(Passage(hash_, shape))
    return {article_id: tuple(passages) for article_id, passages in found.items()}


def candidate_query(keys: Sequence[BandKey], *, exclude: int | None = None) -> Select[tuple[int]]:
    """The lookup behind ``candidate_ids`` with its values bound, to read its query plan."""
    return _probe_statement(len(keys), exclude is not None).params(_probe_params(keys, exclude))


@cache
def _probe_statement(key_count: int, excluding: bool) -> Select[tuple[int]]:
    # Built once per key count with bound parameters: building 66 comparisons per lookup
    # cost more than running the query. An OR of (band, hash) pairs, not a row-value IN,
    # because SQLite plans the IN as a scan of the whole table.
    probes = or_(
        *(
            and_(LshBand.band == bindparam(f"band_{n}"), LshBand.hash == bindparam(f"hash_{n}"))
            for n in range(key_count)
        )
    )
    query = (
        select(LshBand.article_id)
        .where(probes)
        .group_by(LshBand.article_id)
        .order_by(func.count().desc(), LshBand.article_id)
        .limit(MAX_CANDIDATES)
    )
    return query.where(LshBand.article_id != bindparam("exclude")) if excluding else query


def _probe_params(keys: Sequence[BandKey], exclude: int | None) -> dict[str, int]:
    params = {"exclude": exclude} if exclude is not None else {}
    for n, key in enumerate(keys):
        params[f"band_{n}"] = key.band
        params[f"hash_{n}"] = key.hash
    return params


@cache
def _signatures_statement() -> Select[Any]:
    """Stored fingerprints and clusters of the candidates (``ids``) in one ``language``."""
    return (
        select(
            ArticleSignature.article_id,
            ArticleSignature.minhash,
            ArticleSignature.words,
            ArticleSignature.normalised_title,
            ArticleSignature.language,
            ArticleSignature.published_at,
            ArticleSignature.first_seen_at,
            ClusterMember.cluster_id,
        )
        .join(ClusterMember, ClusterMember.article_id == ArticleSignature.article_id)
        .where(ArticleSignature.article_id.in_(bindparam("ids", expanding=True)))
        .where(ArticleSignature.language == bindparam("language"))
    )


def _fingerprint_of(row: Row[Any], passages: tuple[Passage, ...] = ()) -> Fingerprint:
    return Fingerprint(
        signature=row.minhash,
        words=row.words,
        normalised_title=row.normalised_title,
        language=row.language,
        seen_at=row.published_at or row.first_seen_at,
        passages=passages,
    )


#: One sighting of a story: (outlet as counted, outlet as named, when first seen).
Sighting = tuple[str, str, datetime]


def story_sightings(session: Session, ids: Sequence[int]) -> dict[int, list[Sighting]]:
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
        select(
            ClusterMember.cluster_id,
            Entry.url,
            Article.canonical_url,
            Feed.name,
            Entry.first_seen_at,
        )
        .join(Entry, Entry.article_id == ClusterMember.article_id)
        .join(Article, Article.id == Entry.article_id)
        .join(Feed, Feed.id == Entry.feed_id)
        .where(ClusterMember.cluster_id.in_(ids))
    )
    found: dict[int, list[Sighting]] = {}
    for cluster_id, outlet, url, source, seen in session.execute(members):
        found.setdefault(cluster_id, []).append((outlet, outlet_name(url, source), seen))
    for cluster_id, url, article_url, source, seen in session.execute(copies):
        canonical = canonical_url(Entry.url_of(url, article_url))
        sighting = (outlet_of(canonical, source), outlet_name(canonical, source), seen)
        found.setdefault(cluster_id, []).append(sighting)
    return found


def story_began(session: Session, cluster_id: int, article_id: int) -> datetime | None:
    """When the story's first article other than ``article_id`` was seen; None if none."""
    query = select(func.min(Article.first_seen_at)).join(
        ClusterMember, ClusterMember.article_id == Article.id
    )
    query = query.where(ClusterMember.cluster_id == cluster_id, Article.id != article_id)
    return session.scalar(query)


def also_covered_by(session: Session, article_id: int, *, limit: int = 6) -> list[dict[str, Any]]:
    """The other outlets' articles of an article's story (``outlet``, ``url``,
    ``article_id``), earliest first: what a message about the story names besides it."""
    cluster = select(ClusterMember.cluster_id).where(ClusterMember.article_id == article_id)
    query = (
        select(Article.id, Article.canonical_url, Article.source, ClusterMember.outlet)
        .join(ClusterMember, ClusterMember.article_id == Article.id)
        .where(ClusterMember.cluster_id.in_(cluster.scalar_subquery()), Article.id != article_id)
        .order_by(Article.first_seen_at, Article.id)
    )
    own = session.scalar(select(ClusterMember.outlet).where(ClusterMember.article_id == article_id))
    found, seen = [], {own}
    for row in session.execute(query):
        if row.outlet in seen:
            continue
        seen.add(row.outlet)
        name = outlet_name(row.canonical_url, row.source)
        found.append({"article_id": row.id, "outlet": name, "url": row.canonical_url})
        if len(found) == limit:
            break
    return found


def coverage(session: Session, article_id: int) -> dict[str, Any]:
    """``also_covered_by`` for an alert's payload, when the article's story has other outlets."""
    found = also_covered_by(session, article_id)
    return {"also_covered_by": found} if found else {}


# --- reading -------------------------------------------------------------------------------


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
    ids = [c.id for c in clusters]
    members = _members_by_cluster(session, ids)
    sightings = story_sightings(session, ids)
    topics = _topics_by_cluster(session, ids)
    return [
        ClusterRow(
            id=c.id,
            title=c.title,
            size=c.size,
            outlets=distinct_outlets(sightings.get(c.id, [])),
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


def distinct_outlets(sightings: Iterable[Sighting]) -> tuple[OutletRow, ...]:
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
        for position, key in enumerate(topic_keys(topics)):
            ranks.setdefault(cluster_id, Counter())[(key, position == 0)] += 1
    result = {}
    for cluster_id, counts in ranks.items():
        keys = {key for key, _ in counts}
        lead = {key: counts[(key, True)] for key in keys}
        seen = {key: lead[key] + counts[(key, False)] for key in keys}
        result[cluster_id] = tuple(sorted(keys, key=lambda k: (-lead[k], -seen[k], k)))
    return result
