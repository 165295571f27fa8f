"""Story clusters in the database: fingerprint an article, find its copies, keep the clusters.

Each function takes a Session and never commits: the caller owns the unit of work.

``assign`` in pseudocode::

    fp = fingerprint(title, text)                      # parsers.dedup
    already a member and the same fingerprint -> nothing to do
    store fp and its LSH keys, replacing the article's previous ones
    store its passages (paragraph hashes), replacing the previous ones
    candidates = articles sharing a key or passages    # one indexed probe per key or passage
    matches = candidates that verify                   # same language, and: the passage rule
                                                       # (containment of paragraphs), or
                                                       # length ratio and estimated Jaccard
                                                       # >= threshold, or the short-text
                                                       # title rule
    no cluster among them -> found a new one; one -> join it; several -> merge them
    recompute representative, size and outlet count

Clusters are a union-find kept in the tables: they grow and merge, never split. A merge
keeps the oldest cluster's id (alerts and links that name it stay valid) and re-points the
members of the others. The clusters an assignment touches are locked in id order
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway). Two runs that
fingerprint two copies at the same moment may each found a cluster: the next copy that
matches both merges them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Row, Select, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from db.base import core_table
from db.cluster_models import ArticlePassage, ArticleSignature, Cluster, ClusterMember, LshBand
from db.models import Alert, Article, ArticleVersion, Entry, Feed, topic_keys
from db.outbox import PENDING
from db.upsert import add_alert, dialect_insert, dialect_name, insert_ignore
from parsers.dedup import (
    MIN_SHARED_PASSAGES,
    BandKey,
    Fingerprint,
    Match,
    Passage,
    TextSketch,
    band_keys,
    fingerprint,
    match,
    outlet_name,
    outlet_of,
)
from parsers.urls import canonical_url

#: Distinct outlets at which a relevant story alerts ("cluster_growing").
DEFAULT_ALERT_OUTLETS = 3
#: Most candidates verified per article, those sharing the most keys first: a bucket that
#: many texts share (a newsletter template, say) cannot make one lookup expensive.
MAX_CANDIDATES = 50
ALERT_KIND = "cluster_growing"

Outcome = Literal["created", "joined", "merged", "unchanged"]


@dataclass(frozen=True)
class ClusterAssignment:
    """What ``assign`` did with one article."""

    #: The article assigned.
    article_id: int
    #: Its cluster afterwards.
    cluster_id: int
    #: created (no copy found), joined (one cluster), merged (it bridged several), or
    #: unchanged (it already was in the only cluster it matches).
    outcome: Outcome
    #: Clusters folded into ``cluster_id`` (merged only).
    merged_ids: tuple[int, ...]
    #: Distinct outlets before: the most among the clusters involved; 0 for a new cluster.
    outlets_before: int
    #: Distinct outlets of the cluster afterwards.
    outlets_after: int
    #: Members of the cluster afterwards.
    size: int
    #: Best similarity to an article it matched; None when it matched none.
    similarity: float | None


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


# --- assigning ---------------------------------------------------------------------------


def assign(
    session: Session,
    article_id: int,
    *,
    text: str,
    title: str,
    outlet: str,
    language: str | None,
    published_at: datetime | None,
    now: datetime,
    fresh: bool = False,
    sketched: TextSketch | None = None,
) -> ClusterAssignment:
    """File an article's fingerprint and put it in the cluster of its copies.

    Call it after storing the article, with the text just stored. ``outlet`` is what the
    article counts for (``parsers.dedup.outlet_of``); ``published_at`` dates the story for
    the short-text rule (first sighting when None). Calling it again with the same text
    changes nothing; with a new text, it refiles the article and may merge clusters.
    ``fresh`` says the article was created in this transaction, so it has no fingerprint
    and no cluster yet. ``sketched`` is the text's sketch, when a worker made it already.
    """
    # A fresh article (created in this transaction) has neither: two queries saved per article.
    stored = None if fresh else _stored_signature(session, article_id)
    first_seen = stored.first_seen_at if stored is not None else now
    fp = fingerprint(
        title,
        text,
        language=language,
        outlet=outlet,
        seen_at=published_at or first_seen,
        sketched=sketched,
    )
    current = None if fresh else _cluster_id_of(session, article_id)
    if current is not None and stored is not None and _same_fingerprint(stored, fp, outlet):
        return _unchanged(session, article_id, current)
    return _file(
        session,
        article_id,
        fp,
        band_keys(fp),
        title=title,
        outlet=outlet,
        published_at=published_at,
        first_seen=first_seen,
        current=current,
        now=now,
        fresh=fresh,
    )


def _file(
    session: Session,
    article_id: int,
    fp: Fingerprint,
    keys: Sequence[BandKey],
    *,
    title: str,
    outlet: str,
    published_at: datetime | None,
    first_seen: datetime,
    current: int | None,
    now: datetime,
    fresh: bool,
) -> ClusterAssignment:
    """Store a fingerprint and its keys, then found, join or merge the article's cluster."""
    _save_fingerprint(session, article_id, fp, keys, outlet, published_at, first_seen, fresh)
    matches = _matches(session, fp, keys, article_id)
    if not matches and current is None:
        return _found_singleton(session, article_id, title, outlet, now, fresh)
    placed = _place(session, matches, current, now)
    similarity = max((m.match.similarity for m in matches), default=None)
    _put_member(session, placed.cluster.id, article_id, outlet, now, similarity)
    _refresh(session, placed.cluster, now)
    return ClusterAssignment(
        article_id=article_id,
        cluster_id=placed.cluster.id,
        outcome=placed.outcome,
        merged_ids=placed.merged_ids,
        outlets_before=placed.outlets_before,
        outlets_after=placed.cluster.outlet_count,
        size=placed.cluster.size,
        similarity=similarity,
    )


@dataclass(frozen=True)
class ArticleText:
    """An article's title and text, as clustering reads them."""

    article_id: int
    title: str
    text: str
    #: What the article counts for (``parsers.dedup.outlet_of``).
    outlet: str
    language: str | None
    published_at: datetime | None
    #: ``text``'s sketch, when it was made already (``parsers.dedup.sketch``).
    sketch: TextSketch | None = None


def assign_fresh(
    session: Session,
    articles: Sequence[ArticleText],
    *,
    now: datetime,
) -> list[ClusterAssignment]:
    """``assign`` for a batch of articles created in this transaction, in the same order.

    Most new articles are stories that no other article tells. One that shares no LSH key
    or passage with another article of the batch and matches no stored one founds its own
    cluster, and all of those are written together: six statements for the batch instead of
    seven per article. The rest go through ``assign`` one by one, in order, so that copies
    within the batch find each other (an article sharing a key with another is never written early).
    """
    keyed: list[tuple[ArticleText, Fingerprint, Sequence[BandKey]]] = []
    for article in articles:
        fp = fingerprint(
            article.title,
            article.text,
            language=article.language,
            outlet=article.outlet,
            seen_at=article.published_at or now,
            sketched=article.sketch,
        )
        keyed.append((article, fp, band_keys(fp)))
    holders = Counter(key for _, fp, keys in keyed for key in _batch_keys(fp, keys))
    alone: list[tuple[ArticleText, Fingerprint, Sequence[BandKey]]] = []
    others: list[tuple[ArticleText, Fingerprint, Sequence[BandKey]]] = []
    for article, fp, keys in keyed:
        shared = any(holders[key] > 1 for key in _batch_keys(fp, keys))
        if shared or _matches(session, fp, keys, article.article_id):
            others.append((article, fp, keys))
        else:
            alone.append((article, fp, keys))
    done = {a.article_id: a for a in _found_singletons(session, alone, now)}
    for article, fp, keys in others:  # one by one, in order, with the fingerprint made above
        done[article.article_id] = _file(
            session,
            article.article_id,
            fp,
            keys,
            title=article.title,
            outlet=article.outlet,
            published_at=article.published_at,
            first_seen=now,
            current=None,
            now=now,
            fresh=True,
        )
    return [done[article.article_id] for article in articles]


def _batch_keys(fp: Fingerprint, keys: Sequence[BandKey]) -> set[BandKey | int]:
    """What two articles of a batch may share that makes them candidate copies (passages
    only count where there are enough of them to match by)."""
    if len(fp.passages) < MIN_SHARED_PASSAGES:
        return set(keys)
    return {*keys, *(p.hash for p in fp.passages)}


def assign_text(
    session: Session,
    article: ArticleText,
    *,
    now: datetime,
) -> ClusterAssignment:
    """``assign`` for an ``ArticleText``."""
    return assign(
        session,
        article.article_id,
        text=article.text,
        title=article.title,
        outlet=article.outlet,
        language=article.language,
        published_at=article.published_at,
        now=now,
        sketched=article.sketch,
    )


def _found_singletons(
    session: Session,
    alone: Sequence[tuple[ArticleText, Fingerprint, Sequence[BandKey]]],
    now: datetime,
) -> list[ClusterAssignment]:
    """Fresh stories that match nothing: fingerprints, keys and one cluster each, in bulk."""
    if not alone:
        return []
    session.execute(
        _plain_insert(ArticleSignature),
        [
            _signature_row(article.article_id, fp, article.outlet, article.published_at, now)
            for article, fp, _ in alone
        ],
    )
    bands = [
        {"article_id": article.article_id, "band": key.band, "hash": key.hash}
        for article, _, keys in alone
        for key in keys
    ]
    if bands:
        session.execute(_plain_insert(LshBand), bands)
    _insert_passages(session, [(article.article_id, fp) for article, fp, _ in alone])
    cluster_rows = [
        {
            "representative_article_id": article.article_id,
            "size": 1,
            "outlet_count": 1,
            "alerted_outlets": 0,
            "created_at": now,
            "updated_at": now,
            "title": article.title,
        }
        for article, _, _ in alone
    ]
    cluster_ids = list(session.scalars(_clusters_returning(), cluster_rows))
    members = [
        {"cluster_id": cid, "article_id": article.article_id, "outlet": article.outlet}
        for (article, _, _), cid in zip(alone, cluster_ids, strict=True)
    ]
    session.execute(_plain_insert(ClusterMember), [{**m, "joined_at": now} for m in members])
    session.execute(
        _article_cluster_statement(),
        [{"article": m["article_id"], "cluster": m["cluster_id"]} for m in members],
    )
    return [_created(m["article_id"], m["cluster_id"]) for m in members]


@cache
def _clusters_returning() -> Any:
    # Ids in the order of the rows given, so that each goes to its own article.
    clusters = core_table(Cluster)
    return insert(clusters).returning(clusters.c.id, sort_by_parameter_order=True)


def _signature_row(
    article_id: int,
    fp: Fingerprint,
    outlet: str,
    published_at: datetime | None,
    first_seen_at: datetime,
) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "minhash": fp.signature,
        "words": fp.words,
        "normalised_title": fp.normalised_title,
        "outlet": outlet,
        "language": fp.language,
        "published_at": published_at,
        "first_seen_at": first_seen_at,
    }


def _found_singleton(
    session: Session, article_id: int, title: str, outlet: str, now: datetime, fresh: bool
) -> ClusterAssignment:
    """A story no stored article matches: its own cluster, written without reading anything.

    Most articles are such stories, so this path is three statements and no ORM flush.
    """
    params = {"article": article_id, "title_": title, "now": now}
    cluster_id = session.execute(_singleton_statement(), params).scalar_one()
    if fresh:  # no other run can have filed an article this transaction created
        member = {"cluster_id": cluster_id, "article_id": article_id, "outlet": outlet}
        session.execute(_plain_insert(ClusterMember), {**member, "joined_at": now})
        session.execute(
            _article_cluster_statement(), {"article": article_id, "cluster": cluster_id}
        )
    else:
        _put_member(session, cluster_id, article_id, outlet, now, None)
    return _created(article_id, cluster_id)


def _created(article_id: int, cluster_id: int) -> ClusterAssignment:
    """A new cluster of one: its article, one outlet."""
    return ClusterAssignment(
        article_id=article_id,
        cluster_id=cluster_id,
        outcome="created",
        merged_ids=(),
        outlets_before=0,
        outlets_after=1,
        size=1,
        similarity=None,
    )


@cache
def _singleton_statement() -> Any:
    return (
        insert(core_table(Cluster))
        .values(
            representative_article_id=bindparam("article"),
            size=1,
            outlet_count=1,
            alerted_outlets=0,
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
            title=bindparam("title_"),
        )
        .returning(Cluster.id)
    )


@dataclass(frozen=True)
class _Placement:
    """The cluster an article goes to, and what getting there took."""

    #: The cluster, locked (a new one, or the oldest of those it matches).
    cluster: Cluster
    outcome: Outcome
    #: Clusters merged into ``cluster``.
    merged_ids: tuple[int, ...]
    #: Most outlets among the clusters involved, before.
    outlets_before: int


def _place(
    session: Session, matches: Sequence[StoredMatch], current: int | None, now: datetime
) -> _Placement:
    """Found, join or merge clusters, union-find style: the oldest cluster survives."""
    clusters = _lock_targets(session, matches, current)
    if not clusters:
        return _Placement(_new_cluster(session, now), "created", (), 0)
    keep = min(clusters, key=lambda c: (c.created_at, c.id))
    others = [c for c in clusters if c is not keep]
    outlets_before = max(c.outlet_count for c in clusters)
    merged_ids = tuple(c.id for c in others)
    _merge(session, keep, others)
    if merged_ids:
        outcome: Outcome = "merged"
    else:
        outcome = "unchanged" if current == keep.id else "joined"
    return _Placement(keep, outcome, merged_ids, outlets_before)


def _stored_signature(session: Session, article_id: int) -> Row[Any] | None:
    # Columns, not an entity: the upsert below goes around the identity map.
    query = select(
        ArticleSignature.minhash,
        ArticleSignature.words,
        ArticleSignature.normalised_title,
        ArticleSignature.language,
        ArticleSignature.outlet,
        ArticleSignature.first_seen_at,
    ).where(ArticleSignature.article_id == article_id)
    return session.execute(query).first()


def _same_fingerprint(stored: Row[Any], fp: Fingerprint, outlet: str) -> bool:
    return (stored.minhash, stored.words, stored.normalised_title, stored.language) == (
        fp.signature,
        fp.words,
        fp.normalised_title,
        fp.language,
    ) and stored.outlet == outlet


def _cluster_id_of(session: Session, article_id: int) -> int | None:
    query = select(ClusterMember.cluster_id).where(ClusterMember.article_id == article_id)
    return session.scalars(query).one_or_none()


def _unchanged(session: Session, article_id: int, cluster_id: int) -> ClusterAssignment:
    cluster = session.get_one(Cluster, cluster_id)
    return ClusterAssignment(
        article_id=article_id,
        cluster_id=cluster_id,
        outcome="unchanged",
        merged_ids=(),
        outlets_before=cluster.outlet_count,
        outlets_after=cluster.outlet_count,
        size=cluster.size,
        similarity=None,
    )


def _save_fingerprint(
    session: Session,
    article_id: int,
    fp: Fingerprint,
    keys: Sequence[BandKey],
    outlet: str,
    published_at: datetime | None,
    first_seen_at: datetime,
    fresh: bool,
) -> None:
    values = _signature_row(article_id, fp, outlet, published_at, first_seen_at)
    if fresh:
        # No other run can have fingerprinted an article this transaction created, and an
        # ON CONFLICT statement is compiled anew on every call, a plain INSERT only once.
        signature, bands = _plain_insert(ArticleSignature), _plain_insert(LshBand)
    else:
        dialect = dialect_name(session)
        signature, bands = (
            _upsert_statement(dialect, "signature"),
            _upsert_statement(dialect, "bands"),
        )
        # The old keys go: a text that shrank below the short-text limit keeps only its title.
        session.execute(delete(LshBand).where(LshBand.article_id == article_id))
        # The old passages go too; a concurrent run refiling it writes the same ones.
        session.execute(delete(ArticlePassage).where(ArticlePassage.article_id == article_id))
    session.execute(signature, values)
    rows = [{"article_id": article_id, "band": k.band, "hash": k.hash} for k in keys]
    if rows:
        session.execute(bands, rows)
    _insert_passages(session, [(article_id, fp)], ignore=not fresh)


def _insert_passages(
    session: Session, prints: Sequence[tuple[int, Fingerprint]], *, ignore: bool = False
) -> None:
    rows = [
        {"article_id": article_id, "hash": p.hash, "shape": p.shape}
        for article_id, fp in prints
        for p in fp.passages
    ]
    if not rows:
        return
    if ignore:  # a concurrent run refiling the same article may have written them already
        session.execute(_passages_ignoring(dialect_name(session)), rows)
        return
    session.execute(_plain_insert(ArticlePassage), rows)


@cache
def _passages_ignoring(dialect: str) -> Any:
    statement = dialect_insert(dialect, ArticlePassage)
    return statement.on_conflict_do_nothing(index_elements=["article_id", "hash"])


@cache
def _plain_insert(model: type[Any]) -> Any:
    return insert(core_table(model))


@cache
def _upsert_statement(dialect: str, table: Literal["signature", "bands"]) -> Any:
    """Insert, or update where the row exists (a concurrent run wrote it first).

    Built once per dialect and table: building it per call cost more than running it.
    """
    model: type[Any] = ArticleSignature if table == "signature" else LshBand
    key = ["article_id"] if table == "signature" else ["article_id", "band"]
    # first_seen_at is the first sighting: a refiled article keeps it.
    kept = {*key, "first_seen_at"}
    statement = dialect_insert(dialect, model)
    changing = {c.name: statement.excluded[c.name] for c in model.__table__.c if c.name not in kept}
    return statement.on_conflict_do_update(index_elements=key, set_=changing)


# --- finding copies ----------------------------------------------------------------------


def find_matches(
    session: Session,
    fp: Fingerprint,
    *,
    exclude: int | None = None,
) -> list[StoredMatch]:
    """Stored, clustered articles that are copies of ``fp`` (``exclude``: the article itself)."""
    return _matches(session, fp, band_keys(fp), exclude)


def _matches(
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
    query = (
        select(ArticlePassage.article_id)
        .where(ArticlePassage.hash.in_([p.hash for p in passages]))
        .group_by(ArticlePassage.article_id)
        .having(func.count() >= MIN_SHARED_PASSAGES)
        .order_by(func.count().desc(), ArticlePassage.article_id)
        .limit(MAX_CANDIDATES)
    )
    if exclude is not None:
        query = query.where(ArticlePassage.article_id != exclude)
    return list(session.scalars(query))


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


# --- cluster bookkeeping -------------------------------------------------------------------


def _lock_targets(
    session: Session, matches: Sequence[StoredMatch], current: int | None
) -> list[Cluster]:
    """The clusters to join or merge, locked; re-read once if a concurrent merge moved one."""
    wanted = {m.cluster_id for m in matches} | ({current} if current is not None else set())
    clusters = _lock(session, wanted)
    if len(clusters) == len(wanted):
        return clusters
    # A cluster vanished between the lookup and the lock: its members now point to the
    # cluster it was merged into, so ask the members again.
    article_ids = [m.article_id for m in matches]
    query = select(ClusterMember.cluster_id).where(ClusterMember.article_id.in_(article_ids))
    wanted = set(session.scalars(query)) | ({current} if current is not None else set())
    return _lock(session, wanted)


def _lock(session: Session, ids: Collection[int]) -> list[Cluster]:
    if not ids:
        return []
    query = select(Cluster).where(Cluster.id.in_(ids)).order_by(Cluster.id).with_for_update()
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _new_cluster(session: Session, now: datetime) -> Cluster:
    cluster = Cluster(
        representative_article_id=None,
        size=0,
        outlet_count=0,
        alerted_outlets=0,
        created_at=now,
        updated_at=now,
        title="",
    )
    session.add(cluster)
    session.flush()
    return cluster


def _merge(session: Session, keep: Cluster, others: Sequence[Cluster]) -> None:
    """Fold ``others`` into ``keep``: members re-pointed, alert progress kept, rows dropped."""
    if not others:
        return
    ids = [c.id for c in others]
    session.execute(
        update(ClusterMember).where(ClusterMember.cluster_id.in_(ids)).values(cluster_id=keep.id)
    )
    # Through the members' index, not a scan of articles.cluster_id, which has none.
    moved = select(ClusterMember.article_id).where(ClusterMember.cluster_id == keep.id)
    session.execute(update(Article).where(Article.id.in_(moved)).values(cluster_id=keep.id))
    # The merged story has alerted at every threshold any of its parts alerted at.
    keep.alerted_outlets = max(c.alerted_outlets for c in (keep, *others))
    for cluster in others:
        session.delete(cluster)
    session.flush()


def _put_member(
    session: Session,
    cluster_id: int,
    article_id: int,
    outlet: str,
    now: datetime,
    similarity: float | None,
) -> None:
    values = {
        "cluster_id": cluster_id,
        "article_id": article_id,
        "outlet": outlet,
        "joined_at": now,
        "similarity": similarity,
    }
    if insert_ignore(session, ClusterMember, values, ["article_id"]) is None:
        # Already a member (its cluster was merged into this one just now): the outlet may
        # have been corrected since.
        session.execute(
            update(ClusterMember)
            .where(ClusterMember.article_id == article_id)
            .values(cluster_id=cluster_id, outlet=outlet)
        )
    params = {"article": article_id, "cluster": cluster_id}
    session.execute(_article_cluster_statement(), params)


@cache
def _article_cluster_statement() -> Any:
    # Core, not ORM: an ORM UPDATE first searches the session's identity map for the row.
    articles = core_table(Article)
    return (
        update(articles)
        .where(articles.c.id == bindparam("article"))
        .values(cluster_id=bindparam("cluster"))
    )


def _refresh(session: Session, cluster: Cluster, now: datetime) -> None:
    """Recompute size, outlet count and representative (earliest; ties: longest text)."""
    query = (
        select(
            ClusterMember.article_id,
            ClusterMember.outlet,
            ArticleSignature.words,
            ArticleSignature.published_at,
            ArticleSignature.first_seen_at,
            Article.title,
        )
        .join(ArticleSignature, ArticleSignature.article_id == ClusterMember.article_id)
        .join(Article, Article.id == ClusterMember.article_id)
        .where(ClusterMember.cluster_id == cluster.id)
    )
    rows = session.execute(query).all()
    if not rows:
        return
    first = min(rows, key=lambda r: (r.published_at or r.first_seen_at, -r.words, r.article_id))
    cluster.size = len(rows)
    cluster.outlet_count = len(_outlets(_sightings(session, [cluster.id]).get(cluster.id, [])))
    cluster.representative_article_id = first.article_id
    cluster.title = first.title
    cluster.updated_at = now
    session.flush()


def recount_copies(session: Session, article_id: int, *, now: datetime) -> int | None:
    """Recount the outlets of an article's story after exact copies were filed under it.

    Another outlet running the very same text is an entry of the article, not an article of
    its own, yet it is one more outlet for the story. The cluster's id, or None when the
    article is in no cluster.
    """
    cluster_id = _cluster_id_of(session, article_id)
    if cluster_id is None:
        return None
    for cluster in _lock(session, [cluster_id]):
        _refresh(session, cluster, now)
    return cluster_id


#: One sighting of a story: (outlet as counted, outlet as named, when first seen).
Sighting = tuple[str, str, datetime]


def _sightings(session: Session, ids: Sequence[int]) -> dict[int, list[Sighting]]:
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


# --- growth alerts -------------------------------------------------------------------------


def growth_alert_due(*, outlets: int, alerted_outlets: int, relevant: bool, threshold: int) -> bool:
    """Whether a story has just become worth a "cluster_growing" alert at ``threshold``.

    Due when it is relevant and has reached ``threshold`` distinct outlets, unless it (or a
    cluster merged into it) has alerted at that threshold already.
    """
    return relevant and outlets >= threshold > alerted_outlets


def cluster_growth_alert(
    session: Session,
    cluster_id: int,
    *,
    now: datetime,
) -> int:
    """Write the "cluster_growing" alert for a cluster if it is due; 1 if written, else 0.

    The dedup key ``cluster_growing:cluster:<id>:outlets:<threshold>`` makes a re-run write
    nothing; ``clusters.alerted_outlets`` carries the crossing through merges, whose
    surviving id may not be the one that alerted.
    """
    cluster = session.get(Cluster, cluster_id, with_for_update=True, populate_existing=True)
    if cluster is None:
        return 0
    threshold = DEFAULT_ALERT_OUTLETS
    # The counts are checked first: the relevance query is only worth it at a crossing.
    crossing = growth_alert_due(
        outlets=cluster.outlet_count,
        alerted_outlets=cluster.alerted_outlets,
        relevant=True,
        threshold=threshold,
    )
    if not crossing or not _is_relevant(session, cluster_id):
        return 0
    row = _cluster_rows(session, [cluster])[0]
    payload = {
        "title": row.title,
        "outlets": [o.outlet for o in row.outlets],
        "size": row.size,
        "topics": list(row.topics),
    }
    cluster.alerted_outlets = threshold
    return add_alert(
        session,
        kind=ALERT_KIND,
        dedup_key=f"{ALERT_KIND}:cluster:{cluster_id}:outlets:{threshold}",
        payload=payload,
        now=now,
        article_id=cluster.representative_article_id,
    )


def _is_relevant(session: Session, cluster_id: int) -> bool:
    query = (
        select(ArticleVersion.id)
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .join(ClusterMember, ClusterMember.article_id == Article.id)
        .where(ClusterMember.cluster_id == cluster_id, ArticleVersion.relevant.is_(True))
        .limit(1)
    )
    return session.scalars(query).first() is not None


# --- one alert per story ------------------------------------------------------------------

#: The alert a story raises when its first article comes in.
STORY_ALERT_KIND = "new_relevant_article"


def story_began(session: Session, cluster_id: int, article_id: int) -> datetime | None:
    """When the story's first article other than ``article_id`` was seen; None if none."""
    query = select(func.min(Article.first_seen_at)).join(
        ClusterMember, ClusterMember.article_id == Article.id
    )
    query = query.where(ClusterMember.cluster_id == cluster_id, Article.id != article_id)
    return session.scalar(query)


def add_coverage(session: Session, cluster_id: int, coverage: dict[str, Any]) -> bool:
    """Name another outlet's article (``outlet``, ``url``, ``article_id``) in the story's
    alert while it waits to be sent; True when it did.

    A story whose alert went out already says so in its next message instead
    (``also_covered_by``), and the digest lists each story once with its outlets.
    """
    members = select(ClusterMember.article_id).where(ClusterMember.cluster_id == cluster_id)
    query = (
        select(Alert)
        .where(Alert.kind == STORY_ALERT_KIND, Alert.article_id.in_(members))
        .order_by(Alert.id)
        .limit(1)
        .with_for_update()
    )
    alert = session.scalars(query).first()
    if alert is None or alert.status != PENDING:
        return False
    listed = list(alert.payload.get("also_covered_by") or [])
    if any(entry.get("url") == coverage["url"] for entry in listed):
        return False
    alert.payload = {**alert.payload, "also_covered_by": [*listed, coverage]}
    session.flush()
    return True


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
    return _cluster_rows(session, list(session.scalars(query)))


def cluster_of(session: Session, article_id: int) -> ClusterRow | None:
    """The cluster an article belongs to, or None when it has not been assigned."""
    cluster_id = _cluster_id_of(session, article_id)
    if cluster_id is None:
        return None
    return _cluster_rows(session, [session.get_one(Cluster, cluster_id)])[0]


def _cluster_rows(session: Session, clusters: Sequence[Cluster]) -> list[ClusterRow]:
    ids = [c.id for c in clusters]
    members = _members_by_cluster(session, ids)
    sightings = _sightings(session, ids)
    topics = _topics_by_cluster(session, ids)
    return [
        ClusterRow(
            id=c.id,
            title=c.title,
            size=c.size,
            outlets=_outlets(sightings.get(c.id, [])),
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


def _outlets(sightings: Iterable[Sighting]) -> tuple[OutletRow, ...]:
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
