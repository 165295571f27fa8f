"""Story clusters in the database, read: copies of a fingerprint, and the stories as shown.

Each function takes a Core connection or an ORM session (``Reader``) and writes nothing.
``db.story_filing`` files articles into clusters with these queries; the CLI, messages and
alerts read stories through them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select

from db.schema import (
    article_passages,
    article_signatures,
    article_versions,
    articles,
    cluster_members,
    clusters,
    entries,
    entry_url,
    feeds,
    lsh_bands,
    topic_keys,
)
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

if TYPE_CHECKING:
    from db.cluster_models import Cluster
    from db.schema import Reader

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


def cluster_id_of(session: Reader, article_id: int) -> int | None:
    query = select(cluster_members.c.cluster_id).where(cluster_members.c.article_id == article_id)
    return session.scalars(query).one_or_none()


# --- finding copies ----------------------------------------------------------------------


def find_matches(
    session: Reader,
    fp: Fingerprint,
    *,
    exclude: int | None = None,
) -> list[StoredMatch]:
    """Stored, clustered articles that are copies of ``fp`` (``exclude``: the article itself)."""
    return stored_matches(session, fp, band_keys(fp), exclude)


def stored_matches(
    session: Reader,
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


@dataclass(frozen=True)
class Probe:
    """An article whose stored copies are looked for (``stored_matches_each``)."""

    #: The article itself, never its own copy.
    article_id: int
    fp: Fingerprint
    #: Its LSH keys (``parsers.dedup.band_keys``).
    keys: Sequence[BandKey]


#: Most keys and passage hashes looked up by one statement of ``stored_matches_each``: far
#: below the bound parameters SQLite and PostgreSQL take, whatever the size of a feed.
MAX_PROBED_VALUES = 5_000


def stored_matches_each(session: Reader, probes: Sequence[Probe]) -> list[list[StoredMatch]]:
    """``stored_matches`` of each article, in the same order, looked up together.

    The same candidates and verdicts as one lookup per article, in four statements for up to
    ``MAX_PROBED_VALUES`` keys and passages: the rows sharing any of them are read once,
    and each article's shared keys and passages are counted here instead of by the
    database (a feed's new articles cost two statements each otherwise). Within an article,
    matches come in the order of its candidates.
    """
    found: list[list[StoredMatch]] = []
    for chunk in _chunks_of_values(probes):
        found.extend(_stored_matches_chunk(session, chunk))
    return found


def _chunks_of_values(probes: Sequence[Probe]) -> list[list[Probe]]:
    chunks: list[list[Probe]] = [[]]
    values = 0
    for probe in probes:
        size = len(probe.keys) + len(probe.fp.passages)
        if chunks[-1] and values + size > MAX_PROBED_VALUES:
            chunks.append([])
            values = 0
        chunks[-1].append(probe)
        values += size
    return chunks if chunks[-1] else []


def _stored_matches_chunk(session: Reader, probes: Sequence[Probe]) -> list[list[StoredMatch]]:
    key_holders = _key_holders(session, {key for probe in probes for key in probe.keys})
    by_passages = [p for p in probes if len(p.fp.passages) >= MIN_SHARED_PASSAGES]
    passage_holders = _passage_holders(
        session, {passage.hash for p in by_passages for passage in p.fp.passages}
    )
    sharing = [
        _most_shared(passage_holders, [passage.hash for passage in probe.fp.passages], probe)
        if len(probe.fp.passages) >= MIN_SHARED_PASSAGES
        else []
        for probe in probes
    ]
    candidates = [
        list(dict.fromkeys([*_most_shared(key_holders, probe.keys, probe, least=1), *shared]))
        for probe, shared in zip(probes, sharing, strict=True)
    ]
    wanted = sorted({article_id for found in candidates for article_id in found})
    signatures: dict[int, Row[Any]] = {}
    passage_sharers = sorted({article_id for shared in sharing for article_id in shared})
    stored_passages: dict[int, tuple[Passage, ...]] = {}
    # A batch's candidates are many stored articles at most; in slices all the same.
    for start in range(0, max(len(wanted), len(passage_sharers)), MAX_PROBED_VALUES):
        if ids := wanted[start : start + MAX_PROBED_VALUES]:
            signatures.update(_signatures_of(session, ids))
        if ids := passage_sharers[start : start + MAX_PROBED_VALUES]:
            stored_passages.update(_passages_of(session, ids))
    return [
        _verified(probe.fp, found, signatures, {a: stored_passages.get(a, ()) for a in shared})
        for probe, found, shared in zip(probes, candidates, sharing, strict=True)
    ]


def _most_shared(
    holders: dict[Any, list[int]],
    values: Iterable[Any],
    probe: Probe,
    *,
    least: int = MIN_SHARED_PASSAGES,
) -> list[int]:
    """The articles holding at least ``least`` of ``values``, the most first, then by id,
    at most ``MAX_CANDIDATES``: what the one-article probes' GROUP BY returns."""
    shared: Counter[int] = Counter()
    for value in set(values):
        shared.update(holders.get(value, ()))
    shared.pop(probe.article_id, None)
    ranked = sorted((-count, article_id) for article_id, count in shared.items() if count >= least)
    return [article_id for _, article_id in ranked[:MAX_CANDIDATES]]


def _key_holders(session: Reader, keys: Collection[BandKey]) -> dict[BandKey, list[int]]:
    """The stored articles filed under each of ``keys``."""
    if not keys:
        return {}
    hashes: dict[int, list[int]] = {}
    for key in keys:
        hashes.setdefault(key.band, []).append(key.hash)
    bands = tuple(sorted(hashes))
    params = {f"hashes_{n}": hashes[band] for n, band in enumerate(bands)}
    holders: dict[BandKey, list[int]] = {}
    for article_id, band, hash_ in session.execute(_bands_probe_statement(bands), params):
        holders.setdefault(BandKey(band, hash_), []).append(article_id)
    return holders


@cache
def _bands_probe_statement(bands: tuple[int, ...]) -> Select[tuple[int, int, int]]:
    # One term per band, its hashes an expanding parameter: each term is probes of the
    # (band, hash) index, on SQLite too (a row-value IN would scan the table). Built once
    # per set of bands: all of them, or the title's alone.
    probes = or_(
        *(
            and_(
                lsh_bands.c.band == band,
                lsh_bands.c.hash.in_(bindparam(f"hashes_{n}", expanding=True)),
            )
            for n, band in enumerate(bands)
        )
    )
    return select(lsh_bands.c.article_id, lsh_bands.c.band, lsh_bands.c.hash).where(probes)


def _passage_holders(session: Reader, hashes: Collection[int]) -> dict[int, list[int]]:
    """The stored articles that have each of the passages ``hashes``."""
    if not hashes:
        return {}
    holders: dict[int, list[int]] = {}
    for article_id, hash_ in session.execute(_passages_probe_statement(), {"hashes": [*hashes]}):
        holders.setdefault(hash_, []).append(article_id)
    return holders


@cache
def _passages_probe_statement() -> Select[tuple[int, int]]:
    return select(article_passages.c.article_id, article_passages.c.hash).where(
        article_passages.c.hash.in_(bindparam("hashes", expanding=True))
    )


def _signatures_of(session: Reader, ids: Collection[int]) -> dict[int, Row[Any]]:
    """Stored fingerprints and clusters of the articles ``ids``, in any language."""
    rows = session.execute(_signatures_any_language(), {"ids": [*ids]})
    return {row.article_id: row for row in rows}


@cache
def _signatures_any_language() -> Select[Any]:
    # The language is checked per article: one statement serves articles of every language.
    return _signature_columns().where(
        article_signatures.c.article_id.in_(bindparam("ids", expanding=True))
    )


def _verified(
    fp: Fingerprint,
    candidates: Sequence[int],
    signatures: dict[int, Row[Any]],
    stored_passages: dict[int, tuple[Passage, ...]],
) -> list[StoredMatch]:
    """The candidates that are copies of ``fp``: same language, and ``match`` says so.

    ``stored_passages``: those of the candidates found by passages; the others are compared
    without theirs, as ``stored_matches`` does.
    """
    found = []
    for article_id in candidates:
        row = signatures.get(article_id)
        if row is None or row.language != fp.language:
            continue
        stored = _fingerprint_of(row, stored_passages.get(article_id, ()))
        verdict = match(fp, stored)
        if verdict is not None:
            found.append(StoredMatch(article_id, row.cluster_id, verdict))
    return found


def candidate_ids(
    session: Reader, keys: Sequence[BandKey], *, exclude: int | None = None
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
    session: Reader, passages: Sequence[Passage], *, exclude: int | None = None
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
        select(article_passages.c.article_id)
        .where(article_passages.c.hash.in_(bindparam("hashes", expanding=True)))
        .group_by(article_passages.c.article_id)
        .having(func.count() >= MIN_SHARED_PASSAGES)
        .order_by(func.count().desc(), article_passages.c.article_id)
        .limit(MAX_CANDIDATES)
    )
    if excluding:
        return query.where(article_passages.c.article_id != bindparam("exclude"))
    return query


def _passages_of(session: Reader, ids: Sequence[int]) -> dict[int, tuple[Passage, ...]]:
    query = select(
        article_passages.c.article_id, article_passages.c.hash, article_passages.c.shape
    ).where(article_passages.c.article_id.in_(ids))
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
            and_(
                lsh_bands.c.band == bindparam(f"band_{n}"),
                lsh_bands.c.hash == bindparam(f"hash_{n}"),
            )
            for n in range(key_count)
        )
    )
    query = (
        select(lsh_bands.c.article_id)
        .where(probes)
        .group_by(lsh_bands.c.article_id)
        .order_by(func.count().desc(), lsh_bands.c.article_id)
        .limit(MAX_CANDIDATES)
    )
    return query.where(lsh_bands.c.article_id != bindparam("exclude")) if excluding else query


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
        _signature_columns()
        .where(article_signatures.c.article_id.in_(bindparam("ids", expanding=True)))
        .where(article_signatures.c.language == bindparam("language"))
    )


def _signature_columns() -> Select[Any]:
    """A stored fingerprint with its cluster, as ``_fingerprint_of`` reads it."""
    return select(
        article_signatures.c.article_id,
        article_signatures.c.minhash,
        article_signatures.c.words,
        article_signatures.c.normalised_title,
        article_signatures.c.language,
        article_signatures.c.published_at,
        article_signatures.c.first_seen_at,
        cluster_members.c.cluster_id,
    ).join(cluster_members, cluster_members.c.article_id == article_signatures.c.article_id)


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


def story_sightings(session: Reader, ids: Sequence[int]) -> dict[int, list[Sighting]]:
    """Each cluster's sightings: its members, and the exact copies (entries of other feeds)
    filed under them."""
    members = (
        select(
            cluster_members.c.cluster_id,
            cluster_members.c.outlet,
            articles.c.canonical_url,
            articles.c.source,
            articles.c.first_seen_at,
        )
        .join(articles, articles.c.id == cluster_members.c.article_id)
        .where(cluster_members.c.cluster_id.in_(ids))
    )
    found: dict[int, list[Sighting]] = {}
    for cluster_id, outlet, url, source, seen in session.execute(members):
        found.setdefault(cluster_id, []).append((outlet, outlet_name(url, source), seen))
    for cluster_id, sightings in copy_sightings(session, ids).items():
        found.setdefault(cluster_id, []).extend(sightings)
    return found


def copy_sightings(session: Reader, ids: Sequence[int]) -> dict[int, list[Sighting]]:
    """Each cluster's exact copies: the entries of other feeds filed under its members."""
    found: dict[int, list[Sighting]] = {}
    for cluster_id, url, article_url, source, seen in session.execute(
        _copies_statement(), {"ids": list(ids)}
    ):
        canonical = canonical_url(entry_url(url, article_url))
        sighting = (outlet_of(canonical, source), outlet_name(canonical, source), seen)
        found.setdefault(cluster_id, []).append(sighting)
    return found


@cache
def _copies_statement() -> Select[Any]:
    # Built once: story filing recounts a story's outlets each time it grows.
    return (
        select(
            cluster_members.c.cluster_id,
            entries.c.url,
            articles.c.canonical_url,
            feeds.c.name,
            entries.c.first_seen_at,
        )
        .join(entries, entries.c.article_id == cluster_members.c.article_id)
        .join(articles, articles.c.id == entries.c.article_id)
        .join(feeds, feeds.c.id == entries.c.feed_id)
        .where(cluster_members.c.cluster_id.in_(bindparam("ids", expanding=True)))
    )


def story_began(session: Reader, cluster_id: int, article_id: int) -> datetime | None:
    """When the story's first article other than ``article_id`` was seen; None if none."""
    query = select(func.min(articles.c.first_seen_at)).join(
        cluster_members, cluster_members.c.article_id == articles.c.id
    )
    query = query.where(cluster_members.c.cluster_id == cluster_id, articles.c.id != article_id)
    began: datetime | None = session.scalar(query)
    return began


def also_covered_by(session: Reader, article_id: int, *, limit: int = 6) -> list[dict[str, Any]]:
    """The other outlets' articles of an article's story (``outlet``, ``url``,
    ``article_id``), earliest first: what a message about the story names besides it."""
    cluster = select(cluster_members.c.cluster_id).where(cluster_members.c.article_id == article_id)
    query = (
        select(articles.c.id, articles.c.canonical_url, articles.c.source, cluster_members.c.outlet)
        .join(cluster_members, cluster_members.c.article_id == articles.c.id)
        .where(
            cluster_members.c.cluster_id.in_(cluster.scalar_subquery()), articles.c.id != article_id
        )
        .order_by(articles.c.first_seen_at, articles.c.id)
    )
    own = session.scalar(
        select(cluster_members.c.outlet).where(cluster_members.c.article_id == article_id)
    )
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


def coverage(session: Reader, article_id: int) -> dict[str, Any]:
    """``also_covered_by`` for an alert's payload, when the article's story has other outlets."""
    found = also_covered_by(session, article_id)
    return {"also_covered_by": found} if found else {}


# --- reading -------------------------------------------------------------------------------


def list_clusters(
    session: Reader, *, limit: int | None = None, min_size: int = 2
) -> list[ClusterRow]:
    """Clusters of at least ``min_size`` articles, most recently grown first."""
    query = (
        select(clusters)
        .where(clusters.c.size >= min_size)
        .order_by(clusters.c.updated_at.desc(), clusters.c.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return cluster_rows(session, list(session.execute(query)))


def cluster_of(session: Reader, article_id: int) -> ClusterRow | None:
    """The cluster an article belongs to, or None when it has not been assigned."""
    cluster_id = cluster_id_of(session, article_id)
    if cluster_id is None:
        return None
    found = session.execute(select(clusters).where(clusters.c.id == cluster_id)).one()
    return cluster_rows(session, [found])[0]


def cluster_rows(session: Reader, found: Sequence[Cluster | Row[Any]]) -> list[ClusterRow]:
    """Clusters (ORM objects or rows of ``clusters``) as listed, with members and outlets."""
    ids = [c.id for c in found]
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
        for c in found
    ]


def _members_by_cluster(session: Reader, ids: Sequence[int]) -> dict[int, list[int]]:
    """Each cluster's article ids, earliest seen first."""
    query = (
        select(cluster_members.c.cluster_id, cluster_members.c.article_id)
        .join(articles, articles.c.id == cluster_members.c.article_id)
        .where(cluster_members.c.cluster_id.in_(ids))
        .order_by(articles.c.first_seen_at, cluster_members.c.article_id)
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


def _topics_by_cluster(session: Reader, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The members' topics, the story's primary topic first: the one most members lead
    with, then by how many members have each."""
    query = (
        select(cluster_members.c.cluster_id, article_versions.c.topics)
        .join(articles, articles.c.id == cluster_members.c.article_id)
        .join(article_versions, article_versions.c.id == articles.c.current_version_id)
        .where(cluster_members.c.cluster_id.in_(ids))
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
