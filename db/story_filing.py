"""Story clusters in the database, written: fingerprint an article, file it with its copies.

Each function takes a Session and never commits: the caller owns the unit of work. Finding
copies and reading stories back is ``db.story_queries``.

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
    no cluster among them -> create a new one; one -> join it; several -> merge them
    recompute representative, size and outlet count

Clusters are a union-find kept in the tables: they grow and merge, never split. A merge
keeps the oldest cluster's id (alerts and links that name it stay valid) and re-points the
members of the others. The clusters an assignment touches are locked in id order
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway). Two runs that
fingerprint two copies at the same moment may each create a cluster: the next copy that
matches both merges them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.base import core_table
from db.cluster_models import ArticlePassage, ArticleSignature, Cluster, ClusterMember, LshBand
from db.models import Alert, Article, ArticleVersion
from db.outbox import PENDING
from db.story_queries import (
    Probe,
    StoredMatch,
    cluster_id_of,
    cluster_rows,
    copy_sightings,
    stored_matches,
    stored_matches_each,
)
from db.upsert import add_alert, dialect_insert, dialect_name, insert_ignore, insert_many
from parsers.dedup import (
    MIN_SHARED_PASSAGES,
    BandKey,
    Fingerprint,
    TextSketch,
    band_keys,
    fingerprint,
)

#: Distinct outlets at which a relevant story alerts ("cluster_growing").
DEFAULT_ALERT_OUTLETS = 3
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
    current = None if fresh else cluster_id_of(session, article_id)
    if current is not None and stored is not None and _same_fingerprint(stored, fp, outlet):
        return _unchanged(session, article_id, current)
    filing = _Filing(
        article_id, fp, band_keys(fp), title, outlet, published_at, first_seen, current, fresh
    )
    return _classify(session, filing, now)


@dataclass(frozen=True)
class _Filing:
    """One article on its way into a cluster: what ``_classify`` reads of it."""

    article_id: int
    fp: Fingerprint
    keys: Sequence[BandKey]
    title: str
    #: What the article counts for (``parsers.dedup.outlet_of``).
    outlet: str
    published_at: datetime | None
    #: Its first sighting (kept when it is refiled).
    first_seen: datetime
    #: Its cluster before, if it had one.
    current: int | None
    #: Created in this transaction: no fingerprint, no cluster yet.
    fresh: bool


def _classify(session: Session, filing: _Filing, now: datetime) -> ClusterAssignment:
    """Store a fingerprint and its keys, then create, join or merge the article's cluster."""
    article_id, fp, keys, outlet = filing.article_id, filing.fp, filing.keys, filing.outlet
    _save_fingerprint(
        session, article_id, fp, keys, outlet, filing.published_at, filing.first_seen, filing.fresh
    )
    matches = stored_matches(session, fp, keys, article_id)
    if not matches and filing.current is None:
        return _create_singleton(session, article_id, filing.title, outlet, now, filing.fresh)
    placed = _place(session, matches, filing.current, now)
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
    unshared = [k for k in keyed if not any(holders[key] > 1 for key in _batch_keys(k[1], k[2]))]
    # Whether those match a stored article: looked up together, the batch written nothing yet.
    probes = [Probe(article.article_id, fp, keys) for article, fp, keys in unshared]
    matching = {
        probe.article_id
        for probe, found in zip(probes, stored_matches_each(session, probes), strict=True)
        if found
    }
    unmatched = {article.article_id for article, _, _ in unshared} - matching
    alone = [k for k in keyed if k[0].article_id in unmatched]
    others = [k for k in keyed if k[0].article_id not in unmatched]
    done = {a.article_id: a for a in _create_singletons(session, alone, now)}
    for article, fp, keys in others:  # one by one, in order, with the fingerprint made above
        filing = _Filing(
            article.article_id,
            fp,
            keys,
            article.title,
            article.outlet,
            article.published_at,
            first_seen=now,
            current=None,
            fresh=True,
        )
        done[article.article_id] = _classify(session, filing, now)
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


def _create_singletons(
    session: Session,
    alone: Sequence[tuple[ArticleText, Fingerprint, Sequence[BandKey]]],
    now: datetime,
) -> list[ClusterAssignment]:
    """Fresh stories that match nothing: fingerprints, keys and one cluster each, in bulk."""
    if not alone:
        return []
    # Plain INSERTs of many rows, about 4.6 an article: one executemany each, without
    # SQLAlchemy building every row's parameters (``insert_many``).
    insert_many(
        session,
        ArticleSignature,
        [
            _signature_row(article.article_id, fp, article.outlet, article.published_at, now)
            for article, fp, _ in alone
        ],
    )
    insert_many(
        session,
        LshBand,
        [
            {"article_id": article.article_id, "band": key.band, "hash": key.hash}
            for article, _, keys in alone
            for key in keys
        ],
    )
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
    cluster_of = dict(session.execute(_clusters_returning(), cluster_rows).tuples().all())
    members = [
        {
            "cluster_id": cluster_of[article.article_id],
            "article_id": article.article_id,
            "outlet": article.outlet,
        }
        for article, _, _ in alone
    ]
    insert_many(session, ClusterMember, [{**m, "joined_at": now} for m in members])
    session.execute(
        _article_cluster_statement(),
        [{"article": m["article_id"], "cluster": m["cluster_id"]} for m in members],
    )
    return [_created(m["article_id"], m["cluster_id"]) for m in members]


@cache
def _clusters_returning() -> Any:
    # Each id returned with its representative, one article a new cluster, so that ids need
    # not come back in the rows' order: asked to (``sort_by_parameter_order``), SQLite's
    # dialect, which has no sentinel for that, ran one INSERT a cluster.
    clusters = core_table(Cluster)
    return insert(clusters).returning(clusters.c.representative_article_id, clusters.c.id)


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


def _create_singleton(
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
    rows = [{"article_id": article_id, "band": k.band, "hash": k.hash} for k in keys]
    if fresh:
        # No other run can have fingerprinted an article this transaction created, and an
        # ON CONFLICT DO UPDATE is compiled anew on every call: plain INSERTs, built once,
        # the keys in one executemany.
        session.execute(_plain_insert(ArticleSignature), values)
        insert_many(session, LshBand, rows)
    else:
        dialect = dialect_name(session)
        # The old keys go: a text that shrank below the short-text limit keeps only its title.
        session.execute(delete(LshBand).where(LshBand.article_id == article_id))
        # The old passages go too; a concurrent run refiling it writes the same ones.
        session.execute(delete(ArticlePassage).where(ArticlePassage.article_id == article_id))
        session.execute(_upsert_statement(dialect, "signature"), values)
        if rows:
            session.execute(_upsert_statement(dialect, "bands"), rows)
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
    insert_many(session, ArticlePassage, rows)


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
    """Recompute size, outlet count and representative (earliest; ties: longest text).

    Two statements built once and a plain UPDATE: the cluster is locked already, and the
    object is given the values written, so that no flush has to find them.
    """
    members = session.execute(_members_statement(), {"cluster": cluster.id}).all()
    fingerprinted = [m for m in members if m.words is not None]  # those a story counts
    if not fingerprinted:
        return
    first = min(
        fingerprinted, key=lambda r: (r.published_at or r.first_seen_at, -r.words, r.article_id)
    )
    # Outlets are counted by site: the members' own, and those of the exact copies filed
    # under them (``story_queries.distinct_outlets`` of the story's sightings).
    copies = copy_sightings(session, [cluster.id]).get(cluster.id, [])
    sites = {m.outlet for m in members} | {site for site, _, _ in copies}
    values = {
        "size": len(fingerprinted),
        "outlet_count": len(sites),
        "representative_article_id": first.article_id,
        "title": first.title,
        "updated_at": now,
    }
    session.execute(_cluster_update(), {"cluster": cluster.id, **values})
    for name, value in values.items():
        set_committed_value(cluster, name, value)


@cache
def _members_statement() -> Any:
    """A cluster's members with what ranks them; ``words`` is None for one not fingerprinted."""
    members, signatures, articles = (
        core_table(ClusterMember),
        core_table(ArticleSignature),
        core_table(Article),
    )
    return (
        select(
            members.c.article_id,
            members.c.outlet,
            signatures.c.words,
            signatures.c.published_at,
            signatures.c.first_seen_at,
            articles.c.title,
        )
        .select_from(members)
        .join(articles, articles.c.id == members.c.article_id)
        .outerjoin(signatures, signatures.c.article_id == members.c.article_id)
        .where(members.c.cluster_id == bindparam("cluster"))
    )


@cache
def _cluster_update() -> Any:
    clusters = core_table(Cluster)
    columns = ("size", "outlet_count", "representative_article_id", "title", "updated_at")
    return (
        update(clusters)
        .where(clusters.c.id == bindparam("cluster"))
        .values({name: bindparam(name) for name in columns})
    )


def recount_copies(session: Session, article_id: int, *, now: datetime) -> int | None:
    """Recount the outlets of an article's story after exact copies were filed under it.

    Another outlet running the very same text is an entry of the article, not an article of
    its own, yet it is one more outlet for the story. The cluster's id, or None when the
    article is in no cluster.
    """
    cluster_id = cluster_id_of(session, article_id)
    if cluster_id is None:
        return None
    for cluster in _lock(session, [cluster_id]):
        _refresh(session, cluster, now)
    return cluster_id


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
    row = cluster_rows(session, [cluster])[0]
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


def add_coverage(session: Session, cluster_id: int, coverage: dict[str, Any]) -> bool:
    """Name another outlet's article (``outlet``, ``url``, ``article_id``) in the story's
    alert while it waits to be sent; True when it did.

    A story whose alert went out already says so in its next message instead
    (``also_covered_by``), and the digest lists each story once with its outlets.
    """
    alert = session.execute(_story_alert_statement(), {"cluster": cluster_id}).first()
    if alert is None or alert.status != PENDING:
        return False
    listed = list(alert.payload.get("also_covered_by") or [])
    if any(entry.get("url") == coverage["url"] for entry in listed):
        return False
    payload = {**alert.payload, "also_covered_by": [*listed, coverage]}
    session.execute(_alert_payload_update(), {"alert": alert.id, "payload": payload})
    return True


# Core statements built once: the ORM's load of the whole alert and flush of its change
# cost more than the two statements (a joining article of each story, every pass).


@cache
def _story_alert_statement() -> Any:
    """The story's first-article alert (locked), by the articles of the story."""
    alerts = core_table(Alert)
    members = select(ClusterMember.article_id).where(
        ClusterMember.cluster_id == bindparam("cluster")
    )
    return (
        select(alerts.c.id, alerts.c.status, alerts.c.payload)
        .where(alerts.c.kind == STORY_ALERT_KIND, alerts.c.article_id.in_(members))
        .order_by(alerts.c.id)
        .limit(1)
        .with_for_update()
    )


@cache
def _alert_payload_update() -> Any:
    alerts = core_table(Alert)
    return (
        update(alerts)
        .where(alerts.c.id == bindparam("alert"))
        .values(payload=bindparam("payload", type_=alerts.c.payload.type))
    )
