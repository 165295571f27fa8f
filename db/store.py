"""Storing a batch of parsed articles: the hot path of every monitor run.

New articles are written in bulk — one multi-row INSERT per table, with ``ON CONFLICT DO
NOTHING`` against the named unique constraints and ``RETURNING`` to learn the ids — so a batch
of 50 entries costs a handful of statements instead of hundreds. Articles already stored take
the per-article path of ``db.versions`` (new version, suspect or unchanged), which is rare on
a first pass and skipped entirely when a feed did not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from db import story_filing, story_queries
from db.base import Base, core_table
from db.figures import stated_figures, track_figures
from db.intents import ArticleIntent, StoreCounts
from db.models import Alert, Article, ArticleVersion, Entry
from db.search import IndexedText, index_articles
from db.upsert import add_alert, alert_row, dialect_insert, dialect_name, execute_many
from db.versions import (
    VersionPolicy,
    add_evidence,
    apply_candidate,
    next_check_after,
    version_row,
)
from db.watches import NewText, alert_watches
from parsers.dedup import outlet_name, outlet_of, sketch_for
from parsers.tagging import tags_pending

#: Default versioning policy (material kinds, churn cap, re-check schedule).
DEFAULT_POLICY = VersionPolicy()

# Below this many words a shared content hash is too weak to call two URLs one story
# (think of "Read more…" summaries).
MIN_WORDS_FOR_HASH_DEDUP = 25


#: How long after a story's first article another outlet's copy is the same story's news:
#: within it, the copy raises no "new article" alert of its own.
DEFAULT_STORY_WINDOW = timedelta(hours=48)
FLOOD_KIND = "feed_flood"


@dataclass(frozen=True)
class FeedAlerting:
    """How one feed's new articles alert in one pass (the monitor's). Without it, every new
    relevant article alerts, unless it joins a story."""

    feed_id: int
    #: The feed's name and URL, which a flood alert names and links.
    name: str
    url: str
    #: Items published before this (the feed's addition) are a backfill: stored, tagged and
    #: clustered, never alerted.
    backfill_before: datetime | None
    #: The feed's first pass: undated items are a backfill too.
    first_pass: bool
    #: More new-article alerts than this in one pass become one ``feed_flood`` alert.
    flood_items: int

    def backfill(self, intent: ArticleIntent) -> bool:
        """Whether an item is older than the feed's addition, so alerts nobody."""
        published = intent.published_at
        if published is None:
            return self.first_pass
        return self.backfill_before is not None and published < self.backfill_before


@dataclass
class _Batch:
    """What every write of one batch shares, and the counts it adds up."""

    session: Session
    tag_ids: Mapping[str, int]
    now: datetime
    policy: VersionPolicy
    counts: StoreCounts = field(default_factory=StoreCounts)
    #: How the feed's new articles alert (None: every new relevant article alerts).
    feed: FeedAlerting | None = None
    story_window: timedelta = DEFAULT_STORY_WINDOW


def store_articles(
    session: Session,
    intents: Sequence[ArticleIntent],
    tag_ids: Mapping[str, int],
    now: datetime,
    policy: VersionPolicy = DEFAULT_POLICY,
    *,
    feed: FeedAlerting | None = None,
    story_window: timedelta = DEFAULT_STORY_WINDOW,
) -> StoreCounts:
    """Store a batch: new articles, new versions, entry links, evidence and outbox alerts.

    A new relevant article alerts once, unless it joins a story first seen within
    ``story_window`` (the story's alert names it instead), is a backfill of ``feed``, or is
    one of more than ``feed.flood_items`` (one flood alert for them all).
    """
    if untagged := [intent.url for intent in intents if tags_pending(intent.tags)]:
        # Stored so, the article would count as read and judged not relevant, for good.
        raise ValueError(f"not tagged, so not stored: {', '.join(untagged[:3])}")
    batch = _Batch(session, tag_ids, now, policy, feed=feed, story_window=story_window)
    counts = batch.counts
    known = _KnownArticles.load(session, intents)
    # Held until the batch is stored: the session keeps only weak references to them.
    loaded = _load_current_versions(session, known.own_articles(intents))
    fresh: list[ArticleIntent] = []
    duplicates: list[tuple[ArticleIntent, ArticleIntent]] = []  # (copy, fresh original)
    for intent in intents:
        found = known.find(intent)
        if isinstance(found, ArticleIntent):
            duplicates.append((intent, found))
        elif found is None:
            fresh.append(intent)
            known.remember(intent)
        else:
            _store_known(batch, intent, *found)
    # The known articles' updates are written now, in id order, not at the commit: every
    # pass storing a feed then locks its articles before its feed's row (``record_poll``,
    # whose statement does not flush the session), so two passes on one feed cannot
    # deadlock, each holding what the other waits for.
    session.flush()
    ids = _insert_fresh(batch, fresh)
    counts.duplicates += len(duplicates)
    _link_entries(
        session, [(copy, ids[original.canonical_url]) for copy, original in duplicates], now
    )
    for article_id in {ids[original.canonical_url] for _, original in duplicates}:
        _recount_copies(batch, article_id)
    del loaded
    return counts


# --- what is already stored --------------------------------------------------------------


@dataclass
class _KnownArticles:
    """The stored articles a batch can refer to, read in three queries, plus the batch's own."""

    #: (feed id, guid) -> (article id, whether this entry is the article's own source).
    by_entry: dict[tuple[int, str], tuple[int, bool]]
    #: canonical URL -> article id.
    by_url: dict[str, int]
    #: content hash -> article id (long texts only).
    by_hash: dict[str, int]
    #: New articles of this batch, by URL and by hash, so later copies link to them.
    pending_url: dict[str, ArticleIntent] = field(default_factory=dict)
    pending_hash: dict[str, ArticleIntent] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, intents: Sequence[ArticleIntent]) -> _KnownArticles:
        guids = {i.guid for i in intents if i.guid is not None}
        feed_ids = {i.feed_id for i in intents if i.feed_id is not None}
        urls = {i.canonical_url for i in intents}
        hashes = {i.content_hash for i in intents if _hash_dedups(i)}
        lookups = _known_lookups()
        rows = session.execute(lookups.entries, {"feed_ids": [*feed_ids], "guids": [*guids]})
        entries = rows.tuples().all()
        first = _first_entries(session, {article_id for _, _, article_id, _ in entries})
        return cls(
            # An article's first entry is its own source; later ones are other feeds' copies.
            by_entry={(f, g): (a, first[a] == entry_id) for f, g, a, entry_id in entries},
            by_url=dict(session.execute(lookups.articles, {"urls": [*urls]}).tuples().all()),
            by_hash=dict(session.execute(lookups.versions, {"hashes": [*hashes]}).tuples().all()),
        )

    def find(self, intent: ArticleIntent) -> tuple[int, str] | ArticleIntent | None:
        """(article id, relation) when stored; the batch's original for a copy; or None.

        The relation is ``own`` for the article's own source (its first feed item, or, for
        documents with no feed such as seeds and imports, the same canonical URL), ``linked``
        for a copy already linked on an earlier run, and ``copy`` for a new copy.
        """
        if intent.feed_id is not None and intent.guid is not None:
            found = self.by_entry.get((intent.feed_id, intent.guid))
            if found is not None:
                return found[0], "own" if found[1] else "linked"
        if (article_id := self.by_url.get(intent.canonical_url)) is not None:
            return article_id, "own" if intent.feed_id is None else "copy"
        if _hash_dedups(intent) and (article_id := self.by_hash.get(intent.content_hash)):
            return article_id, "copy"
        return self.pending_url.get(intent.canonical_url) or (
            self.pending_hash.get(intent.content_hash) if _hash_dedups(intent) else None
        )

    def own_articles(self, intents: Iterable[ArticleIntent]) -> set[int]:
        """The stored articles these intents are the own source of (each compared with its
        current version)."""
        found = (self.find(intent) for intent in intents)
        return {f[0] for f in found if isinstance(f, tuple) and f[1] == "own"}

    def remember(self, intent: ArticleIntent) -> None:
        """Note a new article of this batch, so that its copies later in the batch link to it."""
        self.pending_url[intent.canonical_url] = intent
        if _hash_dedups(intent):
            self.pending_hash.setdefault(intent.content_hash, intent)


@dataclass(frozen=True)
class _KnownLookups:
    """The statements that read what a batch's items already are, on Core tables and
    built once: built per batch on the ORM's entities, they cost a feed about as much as
    running them (their construction, cache key and ORM compile state)."""

    entries: Any
    articles: Any
    versions: Any
    #: Each stored article's first entry (its own source).
    first_entries: Any


@cache
def _known_lookups() -> _KnownLookups:
    entries, articles, versions = (core_table(m) for m in (Entry, Article, ArticleVersion))
    return _KnownLookups(
        # Both columns, so that the (feed_id, guid) unique index serves the lookup.
        entries=select(entries.c.feed_id, entries.c.guid, entries.c.article_id, entries.c.id)
        .where(entries.c.feed_id.in_(bindparam("feed_ids", expanding=True)))
        .where(entries.c.guid.in_(bindparam("guids", expanding=True))),
        articles=select(articles.c.canonical_url, articles.c.id).where(
            articles.c.canonical_url.in_(bindparam("urls", expanding=True))
        ),
        versions=select(versions.c.content_hash, versions.c.article_id)
        .where(versions.c.content_hash.in_(bindparam("hashes", expanding=True)))
        .order_by(versions.c.article_id.desc()),  # dict() keeps the oldest article
        first_entries=select(entries.c.article_id, func.min(entries.c.id))
        .where(entries.c.article_id.in_(bindparam("ids", expanding=True)))
        .group_by(entries.c.article_id),
    )


def _load_current_versions(session: Session, article_ids: set[int]) -> list[Article]:
    """Load these articles and their current versions into the session, in one statement,
    for ``apply_candidate`` and ``_current_origin`` to find there: one by one, an unchanged
    item cost three statements (its article, its current version, that version's origin)."""
    loaded: list[Article] = []
    ordered = sorted(article_ids)
    for start in range(0, len(ordered), _LOADED_AT_ONCE):
        query = select(Article).where(Article.id.in_(ordered[start : start + _LOADED_AT_ONCE]))
        loaded += session.scalars(query.options(joinedload(Article.current_version))).all()
    return loaded


#: Articles loaded by one statement: far below the bound parameters a database takes.
_LOADED_AT_ONCE = 500


def _first_entries(session: Session, article_ids: set[int]) -> dict[int, int]:
    if not article_ids:  # a feed's first pass: none of its items is stored yet
        return {}
    query = _known_lookups().first_entries
    return dict(session.execute(query, {"ids": [*article_ids]}).tuples().all())


def _hash_dedups(intent: ArticleIntent) -> bool:
    # Splits off the first words only: asked several times an item, a whole split of each
    # text was a tenth of the store's own time.
    return len(intent.text.split(None, MIN_WORDS_FOR_HASH_DEDUP - 1)) >= MIN_WORDS_FOR_HASH_DEDUP


def known_sources(session: Session, intents: Sequence[ArticleIntent]) -> set[object]:
    """Which of these intents' feed items ``(feed_id, guid)`` and canonical URLs are stored."""
    known = _KnownArticles.load(session, intents)
    return {*known.by_entry, *known.by_url}


# --- articles already stored -------------------------------------------------------------


def _store_known(batch: _Batch, intent: ArticleIntent, article_id: int, relation: str) -> None:
    session, counts = batch.session, batch.counts
    if relation == "linked":
        counts.unchanged += 1  # a copy linked on an earlier run: its text is not the article's
        return
    if relation == "copy":
        # Another feed's copy of a story we have: linked, but its (often shorter) summary is
        # not a new version of the article.
        counts.duplicates += 1
        _link_entries(session, [(intent, article_id)], batch.now)
        _recount_copies(batch, article_id)
        return
    if intent.origin == "feed" and _current_origin(session, article_id) == "page":
        counts.unchanged += 1  # the page is the article's text; re-checks watch it, not the feed
        return
    result = apply_candidate(session, article_id, intent, batch.tag_ids, batch.now, batch.policy)
    if result.outcome == "changed" and intent.tags.relevant:
        _cluster(batch, article_id, intent)
    counts.new_versions += result.outcome == "changed"
    counts.unchanged += result.outcome == "unchanged"
    counts.suspect += result.outcome == "suspect"
    counts.alerts += result.alerts
    counts.watched += result.watched


def _current_origin(session: Session, article_id: int) -> str | None:
    # The article and its current version are in the session (``_load_current_versions``),
    # unless this batch gave the article a new version: then the stored one is read.
    article = session.get_one(Article, article_id)
    current = article.current_version
    if current is not None and current.id == article.current_version_id:
        return current.origin
    if current is None and article.current_version_id is None:
        return None
    return session.scalar(
        select(ArticleVersion.origin)
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .where(Article.id == article_id)
    )


# --- new articles, in bulk ----------------------------------------------------------------


def _insert_fresh(batch: _Batch, fresh: list[ArticleIntent]) -> dict[str, int]:
    """Insert new articles with their first version, evidence, entries and alerts; URL -> id."""
    if not fresh:
        return {}
    session, now, policy, counts = batch.session, batch.now, batch.policy, batch.counts
    first_check = next_check_after_new(now, policy)
    rows = [_article_row(intent, now, first_check) for intent in fresh]
    inserted = dict(_insert_returning(session, Article, rows, ["canonical_url"], "canonical_url"))
    ids = inserted | _ids_by_url(session, {i.canonical_url for i in fresh} - set(inserted))
    created = [i for i in fresh if i.canonical_url in inserted]
    raced = [i for i in fresh if i.canonical_url not in inserted]
    counts.duplicates += len(raced)  # a concurrent run stored these first: theirs are originals
    _link_entries(session, [(i, ids[i.canonical_url]) for i in fresh], now)
    suspect = [i for i in created if i.suspect_reason]
    counts.suspect += len(suspect)  # kept with no version until a re-check succeeds
    versions = _insert_versions(session, [i for i in created if not i.suspect_reason], ids, now)
    add_evidence(session, versions, batch.tag_ids, now)
    _point_articles(session, ids, versions)
    counts.new_articles += len(created)
    counts.alerts += sum(
        track_figures(session, session.get_one(Article, ids[i.canonical_url]), vid, i, now)
        for i, vid in versions
        if stated_figures(i)  # most figures are not tracked ones: no need to load the article
    )
    # A feed's backfill alerts nobody: watches included, as the new-article alerts below.
    alerting = [(i, v) for i, v in versions if batch.feed is None or not batch.feed.backfill(i)]
    watched = alert_watches(session, policy.watches, _new_texts(alerting, ids), now)
    counts.watched += watched
    counts.alerts += len(watched)
    relevant = [(ids[i.canonical_url], i) for i, _ in versions if i.tags.relevant]
    counts.new_relevant += [(article_id, i.canonical_url) for article_id, i in relevant]
    new_texts = [_article_text(article_id, intent) for article_id, intent in relevant]
    stories = story_filing.assign_fresh(session, new_texts, now=now)
    for assignment in stories:
        _count_assignment(batch, assignment)
    counts.alerts += _alert_new_relevant(batch, relevant, stories)
    return ids


def _new_texts(versions: list[tuple[ArticleIntent, int]], ids: Mapping[str, int]) -> list[NewText]:
    return [
        NewText(
            article_id=ids[intent.canonical_url],
            n=1,
            upgrade=False,
            title=intent.title,
            text=intent.text,
            url=intent.canonical_url,
            source=intent.source,
            published_at=intent.published_at,
            topics=intent.tags.topics,
        )
        for intent, _ in versions
    ]


def _cluster(batch: _Batch, article_id: int, intent: ArticleIntent) -> None:
    """File a relevant article's new text in its story cluster (``_count_assignment``).

    Only relevant articles are clustered: stories are what analysts follow, and the
    fingerprint plus lookup is not worth paying for sports scores.
    """
    assignment = story_filing.assign_text(
        batch.session, _article_text(article_id, intent), now=batch.now
    )
    _count_assignment(batch, assignment)


def refile(session: Session, article_id: int, intent: ArticleIntent, now: datetime) -> int:
    """File the new text of a relevant article that a re-check found edited, as a monitor
    pass files a changed feed item; how many growth alerts that wrote."""
    batch = _Batch(session, {}, now, DEFAULT_POLICY)
    _cluster(batch, article_id, intent)
    return batch.counts.alerts


def _article_text(article_id: int, intent: ArticleIntent) -> story_filing.ArticleText:
    return story_filing.ArticleText(
        article_id=article_id,
        title=intent.title,
        text=intent.text,
        outlet=outlet_of(intent.canonical_url, intent.source),
        language=intent.language,
        published_at=intent.published_at,
        sketch=sketch_for(intent.content_hash, intent.sketch),
    )


def _count_assignment(batch: _Batch, assignment: story_filing.ClusterAssignment) -> None:
    """Count an assignment; alert when the story has reached N outlets."""
    batch.counts.clustered.append(assignment)
    if assignment.outlets_after >= story_filing.DEFAULT_ALERT_OUTLETS:  # else nothing can be due
        batch.counts.alerts += story_filing.cluster_growth_alert(
            batch.session, assignment.cluster_id, now=batch.now
        )


def _recount_copies(batch: _Batch, article_id: int) -> None:
    """An exact copy from another outlet is one more outlet for the article's story."""
    cluster_id = story_filing.recount_copies(batch.session, article_id, now=batch.now)
    if cluster_id is not None:
        batch.counts.alerts += story_filing.cluster_growth_alert(
            batch.session, cluster_id, now=batch.now
        )


def _article_row(
    intent: ArticleIntent, now: datetime, first_check: datetime | None
) -> dict[str, Any]:
    """A new article's row; a watched page's first re-check is set as it is inserted."""
    return {
        "canonical_url": intent.canonical_url,
        "title": intent.title,
        "source": intent.source,
        "site": intent.site,
        "byline": intent.byline,
        "language": intent.language,
        "published_at": intent.published_at,
        "first_seen_at": now,
        "page_etag": intent.page_etag,
        "page_last_modified": intent.page_last_modified,
        "page_hash": intent.page_hash,
        "suspect_reason": intent.suspect_reason,
        "next_check_at": first_check if intent.watch_page else None,
    }


def _insert_returning(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    conflict: list[str],
    key: str,
) -> list[tuple[Any, int]]:
    """Multi-row INSERT … ON CONFLICT DO NOTHING RETURNING (key, id): only rows it inserted."""
    table = core_table(model)
    statement = dialect_insert(dialect_name(session), model)
    statement = statement.on_conflict_do_nothing(index_elements=conflict)
    statement = statement.returning(table.c[key], table.c.id)
    return [(k, i) for k, i in session.execute(statement, rows)]


def _ids_by_url(session: Session, urls: set[str]) -> dict[str, int]:
    if not urls:
        return {}
    return dict(session.execute(_known_lookups().articles, {"urls": [*urls]}).tuples().all())


def _link_entries(
    session: Session, pairs: Iterable[tuple[ArticleIntent, int]], now: datetime
) -> None:
    rows = [
        {
            "feed_id": intent.feed_id,
            "guid": intent.guid,
            "article_id": article_id,
            "linked_article": article_id,
            "link": intent.url,
            "first_seen_at": now,
        }
        for intent, article_id in pairs
        if intent.feed_id is not None and intent.guid is not None
    ]
    execute_many(session, _link_statement(dialect_name(session)), rows)


@cache
def _link_statement(dialect: str) -> Any:
    # Built once, so that ``execute_many`` compiles it once.
    statement = dialect_insert(dialect, Entry).values(url=_ENTRY_URL)
    return statement.on_conflict_do_nothing()


#: An entry's ``url``: NULL when the link is its article's canonical URL. Read from the
#: article, whose URL is a copy's original's, not the copy's own (exact dedup).
_ENTRY_URL = func.nullif(
    bindparam("link", type_=String()),
    select(Article.canonical_url)
    .where(Article.id == bindparam("linked_article", type_=Integer()))
    .scalar_subquery(),
)


def _insert_versions(
    session: Session, created: list[ArticleIntent], ids: Mapping[str, int], now: datetime
) -> list[tuple[ArticleIntent, int]]:
    """Version 1 of each new article; (intent, version id) pairs."""
    if not created:
        return []
    by_article = {ids[i.canonical_url]: i for i in created}
    rows = [
        version_row(article_id, 1, intent, intent.content_hash, "new", now)
        for article_id, intent in by_article.items()
    ]
    returned = _insert_returning(session, ArticleVersion, rows, ["article_id", "n"], "article_id")
    index_articles(
        session, [IndexedText(a, by_article[a].title, by_article[a].text) for a, _ in returned]
    )
    return [(by_article[article_id], version_id) for article_id, version_id in returned]


def _point_articles(
    session: Session, ids: Mapping[str, int], versions: list[tuple[ArticleIntent, int]]
) -> None:
    """Make each new article's first version its current one.

    A Core UPDATE by id: the ORM's bulk update by primary key sorted and checked each row
    first, for the same statement."""
    rows = [
        {"article_id": ids[intent.canonical_url], "version_id": version_id}
        for intent, version_id in versions
    ]
    execute_many(session, _POINT_ARTICLE, rows)


_ARTICLES = core_table(Article)
_POINT_ARTICLE = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(current_version_id=bindparam("version_id"))
)


def next_check_after_new(now: datetime, policy: VersionPolicy) -> datetime | None:
    """When a page first seen ``now`` is re-checked first."""
    probe = Article(first_seen_at=now)
    return next_check_after(probe, now, policy)


def _alert_new_relevant(
    batch: _Batch,
    relevant: list[tuple[int, ArticleIntent]],
    stories: Sequence[story_filing.ClusterAssignment],
) -> int:
    """The new-article alerts of a batch's new relevant articles (``stories``: their
    clusters, in the same order); how many alerts were written.

    A backfill item alerts nobody; an article joining a recent story is added to that
    story's alert; past ``flood_items`` the feed's alerts become one flood alert.
    """
    session, now, counts = batch.session, batch.now, batch.counts
    feed, alerted, joining = batch.feed, [], []
    for (article_id, intent), story in zip(relevant, stories, strict=True):
        if feed is not None and feed.backfill(intent):
            counts.backfilled += 1
        elif _joins_recent_story(session, story, now, batch.story_window):
            counts.joined_stories += 1
            joining.append((story.cluster_id, _coverage(article_id, intent)))
        else:
            alerted.append((article_id, intent))
    if feed is not None and len(alerted) > feed.flood_items:
        counts.flooded += len(alerted)
        return _alert_flood(session, feed, alerted, now)
    written = _insert_new_relevant(session, alerted, now)
    for cluster_id, coverage in joining:  # after the alerts: a story may begin in this batch
        story_filing.add_coverage(session, cluster_id, coverage)
    return written


def _joins_recent_story(
    session: Session, story: story_filing.ClusterAssignment, now: datetime, window: timedelta
) -> bool:
    if story.outcome not in ("joined", "merged"):
        return False
    began = story_queries.story_began(session, story.cluster_id, story.article_id)
    return began is not None and now - began <= window


def _coverage(article_id: int, intent: ArticleIntent) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "outlet": outlet_name(intent.canonical_url, intent.source),
        "url": intent.canonical_url,
    }


def _alert_flood(
    session: Session, feed: FeedAlerting, alerted: list[tuple[int, ArticleIntent]], now: datetime
) -> int:
    """One alert for a pass that brought more relevant items than a reader can take."""
    first = min(article_id for article_id, _ in alerted)
    payload = {
        "feed": feed.name,
        "url": feed.url,
        "count": len(alerted),
        "titles": [intent.title for _, intent in alerted[:5]],
        "list": f'vigie articles --relevant --outlet "{feed.name}"',
    }
    return add_alert(
        session,
        kind=FLOOD_KIND,
        dedup_key=f"{FLOOD_KIND}:feed:{feed.feed_id}:from:{first}",
        payload=payload,
        now=now,
        severity="warning",
        feed_id=feed.feed_id,
    )


def _insert_new_relevant(
    session: Session, relevant: list[tuple[int, ArticleIntent]], now: datetime
) -> int:
    """One ``new_relevant_article`` outbox row per article (its key makes re-runs harmless)."""
    rows = [
        alert_row(
            kind="new_relevant_article",
            dedup_key=f"new_relevant_article:article:{article_id}",
            payload=_new_relevant_payload(intent),
            now=now,
            article_id=article_id,
        )
        for article_id, intent in relevant
    ]
    if not rows:
        return 0
    return len(_insert_returning(session, Alert, rows, ["dedup_key"], "dedup_key"))


def _new_relevant_payload(intent: ArticleIntent) -> dict[str, Any]:
    evidence = intent.tags.evidence_sentence
    return {
        "title": intent.title,
        "url": intent.canonical_url,
        "source": outlet_name(intent.canonical_url, intent.source),
        "published_at": intent.published_at.isoformat() if intent.published_at else None,
        "topics": list(intent.tags.topics),
        "relevance": intent.tags.score,
        "evidence": evidence,
    }
