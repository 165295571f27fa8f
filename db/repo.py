"""Repository functions. Each takes a Session and never commits: the caller owns the unit of work.

Writes that can race with another run (articles, entries, versions, mentions, alerts) are
``INSERT … ON CONFLICT DO NOTHING`` against a named unique constraint, then a read: two runs
over the same feed converge on one row instead of failing or duplicating.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session, aliased

from db.intents import ArticleIntent, FeedForUpdate, PollIntent, StoreCounts
from db.models import Article, ArticleVersion, Entry, Feed, Fetch, Mention, RawDocument, Tag
from db.upsert import add_alert, insert_ignore
from db.versions import VersionPolicy, add_mentions, apply_candidate, next_check_after
from parsers.tagging import TagResult
from parsers.text import content_hash

DEFAULT_POLICY = VersionPolicy()

# Below this many words a shared content hash is too weak to call two URLs one story
# (think of "Read more…" summaries).
MIN_WORDS_FOR_HASH_DEDUP = 25


@dataclass(frozen=True)
class TagSpec:
    """A taxonomy concept as a tags row."""

    key: str
    kind: str
    label_en: str
    label_fr: str


@dataclass(frozen=True)
class FeedSpec:
    """A feed to add: from the curated list, OPML or the CLI."""

    url: str
    name: str
    language: str | None = None
    interval_minutes: int | None = None


# --- feeds ---------------------------------------------------------------------------------


def add_feeds(session: Session, feeds: Iterable[FeedSpec], now: datetime) -> int:
    """Add feeds that are not there yet; how many were added."""
    added = 0
    for spec in feeds:
        values = {
            "url": spec.url,
            "name": spec.name,
            "language": spec.language,
            "interval_minutes": spec.interval_minutes,
            "enabled": True,
            "health": "healthy",
            "consecutive_failures": 0,
            "failure_weight": 0.0,
            "created_at": now,
        }
        added += insert_ignore(session, Feed, values, ["url"]) is not None
    return added


def remove_feed(session: Session, url_or_id: str) -> bool:
    """Delete a feed by URL or id (its entries go with it; articles stay)."""
    feed = _find_feed(session, url_or_id)
    if feed is None:
        return False
    session.delete(feed)
    return True


def _find_feed(session: Session, url_or_id: str) -> Feed | None:
    if url_or_id.isdigit():
        return session.get(Feed, int(url_or_id))
    return session.scalars(select(Feed).where(Feed.url == url_or_id)).one_or_none()


def list_feeds(session: Session) -> list[Feed]:
    """Every feed, by name."""
    return list(session.scalars(select(Feed).order_by(Feed.name, Feed.id)))


def feeds_to_poll(session: Session, now: datetime, *, due_only: bool = True) -> list[FeedForUpdate]:
    """Enabled feeds whose next check has come (or all enabled ones)."""
    query = select(Feed).where(Feed.enabled.is_(True)).order_by(Feed.id)
    if due_only:
        query = query.where((Feed.next_check_at.is_(None)) | (Feed.next_check_at <= now))
    return [_feed_for_update(feed) for feed in session.scalars(query)]


def _feed_for_update(feed: Feed) -> FeedForUpdate:
    return FeedForUpdate(
        id=feed.id,
        url=feed.url,
        name=feed.name,
        language=feed.language,
        etag=feed.etag,
        last_modified=feed.last_modified,
        body_hash=feed.body_hash,
        interval_minutes=feed.interval_minutes,
        health=feed.health,
        consecutive_failures=feed.consecutive_failures,
        failure_weight=feed.failure_weight,
    )


def record_poll(session: Session, poll: PollIntent) -> int:
    """Log the poll, update the feed's validators, schedule and health; alerts written (0/1)."""
    feed = session.get_one(Feed, poll.feed_id)
    outage_key = _outage_key(feed)
    session.add(
        Fetch(
            feed_id=poll.feed_id,
            url=poll.url,
            started_at=poll.started_at,
            status=poll.status,
            bytes=poll.bytes,
            elapsed_ms=poll.elapsed_ms,
            not_modified=poll.outcome == "not_modified",
            entries_found=poll.entries,
            error=poll.error,
        )
    )
    _apply_poll(feed, poll)
    if poll.event is None:
        return 0
    return _alert_feed_event(session, feed, poll, outage_key)


def _apply_poll(feed: Feed, poll: PollIntent) -> None:
    feed.last_fetched_at = poll.finished_at
    feed.last_status = poll.status
    feed.next_check_at = poll.next_check_at
    feed.health = poll.health
    feed.consecutive_failures = poll.consecutive_failures
    feed.failure_weight = poll.failure_weight
    if poll.error is not None:
        feed.last_error = poll.error
        return
    feed.last_error = None
    feed.last_success_at = poll.finished_at
    feed.etag = poll.etag or feed.etag
    feed.last_modified = poll.last_modified or feed.last_modified
    feed.body_hash = poll.body_hash or feed.body_hash


def _outage_key(feed: Feed) -> str:
    # An outage is named by the last success before it: concurrent runs that both see the
    # feed break (or recover) compute the same key, so the alert is written once.
    since = feed.last_success_at.isoformat() if feed.last_success_at else "never"
    return f"feed:{feed.id}:after:{since}"


def _alert_feed_event(session: Session, feed: Feed, poll: PollIntent, outage_key: str) -> int:
    payload = {
        "feed": feed.name,
        "url": feed.url,
        "health": poll.health,
        "consecutive_failures": poll.consecutive_failures,
        "last_error": poll.error,
        "next_check_at": poll.next_check_at.isoformat(),
    }
    return add_alert(
        session,
        kind=f"feed_{poll.event}",
        dedup_key=f"feed_{poll.event}:{outage_key}",
        payload=payload,
        now=poll.finished_at,
        severity="warning" if poll.event == "broken" else "info",
        feed_id=feed.id,
    )


# --- tags ----------------------------------------------------------------------------------


def sync_tags(session: Session, specs: Iterable[TagSpec]) -> dict[str, int]:
    """Make sure every concept has a tags row (labels refreshed); key -> id."""
    existing = {tag.key: tag for tag in session.scalars(select(Tag))}
    for spec in specs:
        tag = existing.get(spec.key)
        if tag is None:
            insert_ignore(session, Tag, vars(spec), ["key"])
        elif (tag.kind, tag.label_en, tag.label_fr) != (spec.kind, spec.label_en, spec.label_fr):
            tag.kind, tag.label_en, tag.label_fr = spec.kind, spec.label_en, spec.label_fr
    session.flush()
    return dict(session.execute(select(Tag.key, Tag.id)).tuples().all())


# --- articles ------------------------------------------------------------------------------


def store_articles(
    session: Session,
    intents: Sequence[ArticleIntent],
    tag_ids: Mapping[str, int],
    now: datetime,
    policy: VersionPolicy = DEFAULT_POLICY,
) -> StoreCounts:
    """Store a batch: new articles, new versions, entry links, evidence and outbox alerts."""
    counts = StoreCounts()
    for intent in intents:
        _store_one(session, intent, tag_ids, now, policy, counts)
    return counts


def _store_one(
    session: Session,
    intent: ArticleIntent,
    tag_ids: Mapping[str, int],
    now: datetime,
    policy: VersionPolicy,
    counts: StoreCounts,
) -> None:
    known = _known_article(session, intent)
    if known is None:
        _store_new(session, intent, tag_ids, now, policy, counts)
        return
    article_id, same_source = known
    if not same_source:
        # Another feed's copy of a story we have: linked, but its (often shorter) summary is
        # not a new version of the article.
        counts.duplicates += 1
        _link_entry(session, intent, article_id, now)
        return
    if _watched_page(session, article_id) and intent.origin == "feed":
        counts.unchanged += 1  # the page is the article's text; re-checks watch it, not the feed
        return
    result = apply_candidate(session, article_id, intent, tag_ids, now, policy)
    counts.new_versions += result.outcome == "changed"
    counts.unchanged += result.outcome == "unchanged"
    counts.suspect += result.outcome == "suspect"
    counts.alerts += result.alerts


def _watched_page(session: Session, article_id: int) -> bool:
    origin = session.scalar(
        select(ArticleVersion.origin)
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .where(Article.id == article_id)
    )
    return origin == "page"


def known_sources(session: Session, intents: Sequence[ArticleIntent]) -> set[object]:
    """Which of these intents' feed items ``(feed_id, guid)`` and canonical URLs are stored."""
    urls = {intent.canonical_url for intent in intents}
    guids = {intent.guid for intent in intents if intent.guid is not None}
    known: set[object] = set(
        session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(urls)))
    )
    entries = select(Entry.feed_id, Entry.guid).where(Entry.guid.in_(guids))
    known.update((feed_id, guid) for feed_id, guid in session.execute(entries))
    return known


def _known_article(session: Session, intent: ArticleIntent) -> tuple[int, bool] | None:
    """The stored article this intent is about, and whether it comes from the same source.

    Same source means the same feed item (feed, guid), or, for documents that have no feed
    (seeds, imports), the same canonical URL.
    """
    if intent.feed_id is not None and intent.guid is not None:
        entry_article = session.scalars(
            select(Entry.article_id).where(
                Entry.feed_id == intent.feed_id, Entry.guid == intent.guid
            )
        ).one_or_none()
        if entry_article is not None:
            return entry_article, True
    by_url = _article_by_url(session, intent.canonical_url)
    if by_url is not None:
        return by_url, intent.feed_id is None
    by_hash = _article_by_hash(session, intent)
    return (by_hash, False) if by_hash is not None else None


def _store_new(
    session: Session,
    intent: ArticleIntent,
    tag_ids: Mapping[str, int],
    now: datetime,
    policy: VersionPolicy,
    counts: StoreCounts,
) -> None:
    values = _article_values(intent, now)
    article_id = insert_ignore(session, Article, values, ["canonical_url"])
    if article_id is None:  # a concurrent run stored it first: theirs is the original
        raced = _article_by_url(session, intent.canonical_url)
        assert raced is not None
        counts.duplicates += 1
        _link_entry(session, intent, raced, now)
        return
    _link_entry(session, intent, article_id, now)
    result = apply_candidate(session, article_id, intent, tag_ids, now, policy)
    if result.outcome == "suspect":
        counts.suspect += 1  # kept as an article with no version until a re-check succeeds
    counts.new_articles += 1
    if intent.watch_page:
        article = session.get_one(Article, article_id)
        article.next_check_at = next_check_after(article, now, policy)
    if result.version_id is not None and intent.tags.relevant:
        counts.new_relevant.append((article_id, intent.canonical_url))
        counts.alerts += _alert_new_relevant(session, article_id, intent, now)


def _article_by_url(session: Session, canonical_url: str) -> int | None:
    query = select(Article.id).where(Article.canonical_url == canonical_url)
    return session.scalars(query).one_or_none()


def _article_by_hash(session: Session, intent: ArticleIntent) -> int | None:
    if len(intent.text.split()) < MIN_WORDS_FOR_HASH_DEDUP:
        return None
    query = (
        select(ArticleVersion.article_id)
        .where(ArticleVersion.content_hash == intent.content_hash)
        .order_by(ArticleVersion.article_id)
        .limit(1)
    )
    return session.scalars(query).first()


def _article_values(intent: ArticleIntent, now: datetime) -> dict[str, Any]:
    return {
        "canonical_url": intent.canonical_url,
        "title": intent.title,
        "source": intent.source,
        "site": intent.site,
        "language": intent.language,
        "published_at": intent.published_at,
        "first_seen_at": now,
        "page_etag": intent.page_etag,
        "page_last_modified": intent.page_last_modified,
    }


def _link_entry(session: Session, intent: ArticleIntent, article_id: int, now: datetime) -> None:
    if intent.feed_id is None or intent.guid is None:
        return
    values = {
        "feed_id": intent.feed_id,
        "guid": intent.guid,
        "article_id": article_id,
        "url": intent.url,
        "first_seen_at": now,
    }
    insert_ignore(session, Entry, values, ["feed_id", "guid"])


# --- alerts --------------------------------------------------------------------------------


def _alert_new_relevant(
    session: Session, article_id: int, intent: ArticleIntent, now: datetime
) -> int:
    evidence = next((m.sentence for m in intent.tags.mentions if m.kind == "topic"), "")
    payload = {
        "title": intent.title,
        "url": intent.canonical_url,
        "source": intent.source,
        "published_at": intent.published_at.isoformat() if intent.published_at else None,
        "topics": list(intent.tags.topics),
        "relevance": intent.tags.score,
        "evidence": evidence,
    }
    return add_alert(
        session,
        kind="new_relevant_article",
        dedup_key=f"new_relevant_article:article:{article_id}",
        payload=payload,
        now=now,
        article_id=article_id,
    )


# --- reading -------------------------------------------------------------------------------


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


def list_articles(
    session: Session, *, relevant_only: bool = False, limit: int | None = None
) -> list[ArticleRow]:
    """Articles, newest first, with their current topics and version count."""
    query = _article_rows_query()
    if relevant_only:
        query = query.where(ArticleVersion.relevant.is_(True))
    if limit:
        query = query.limit(limit)
    rows = session.execute(query).all()
    topics = _topics_by_version(session, [row.version_id for row in rows])
    return [
        ArticleRow(
            id=row.id,
            title=row.title,
            canonical_url=row.canonical_url,
            source=row.source,
            language=row.language,
            published_at=row.published_at,
            first_seen_at=row.first_seen_at,
            topics=topics.get(row.version_id, ()),
            relevant=row.relevant,
            relevance=row.relevance,
            versions=row.versions,
        )
        for row in rows
    ]


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
            ArticleVersion.id.label("version_id"),
            ArticleVersion.relevant,
            ArticleVersion.relevance,
            version_count.label("versions"),
        )
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .order_by(func.coalesce(Article.published_at, Article.first_seen_at).desc(), Article.id)
    )


def _topics_by_version(session: Session, version_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    if not version_ids:
        return {}
    query = (
        select(Mention.version_id, Tag.key)
        .join(Tag, Tag.id == Mention.tag_id)
        .where(Mention.version_id.in_(version_ids), Tag.kind == "topic")
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for version_id, key in session.execute(query):
        found.setdefault(version_id, set()).add(key)
    return {vid: tuple(sorted(keys)) for vid, keys in found.items()}


def get_article(session: Session, article_id: int) -> Article | None:
    """One article with its versions (mentions load on access)."""
    return session.get(Article, article_id)


# --- re-checks and reprocessing --------------------------------------------------------------


@dataclass(frozen=True)
class RecheckTarget:
    """An article whose page is due for a re-check."""

    id: int
    url: str
    source: str
    language: str | None
    published_at: datetime | None
    page_etag: str | None
    page_last_modified: str | None


def articles_to_recheck(
    session: Session, now: datetime, *, due_only: bool = True, limit: int = 500
) -> list[RecheckTarget]:
    """Watched articles whose next check has come (or all watched ones), oldest due first."""
    query = select(Article).where(Article.next_check_at.is_not(None))
    if due_only:
        query = query.where(Article.next_check_at <= now)
    query = query.order_by(Article.next_check_at, Article.id).limit(limit)
    return [
        RecheckTarget(
            id=a.id,
            url=a.canonical_url,
            source=a.source,
            language=a.language,
            published_at=a.published_at,
            page_etag=a.page_etag,
            page_last_modified=a.page_last_modified,
        )
        for a in session.scalars(query)
    ]


def record_recheck(
    session: Session,
    target: RecheckTarget,
    intent: ArticleIntent | None,
    tag_ids: Mapping[str, int],
    now: datetime,
    *,
    error: str | None = None,
    policy: VersionPolicy = DEFAULT_POLICY,
) -> str:
    """Apply a re-check's extraction (None: 304 or failed fetch) and schedule the next one.

    Returns the outcome: new/changed/unchanged/suspect, not_modified, or failed.
    """
    article = session.get_one(Article, target.id)
    outcome = "failed" if error else "not_modified"
    alerts = 0
    if intent is not None:
        result = apply_candidate(session, target.id, intent, tag_ids, now, policy)
        outcome, alerts = result.outcome, result.alerts
        article.page_etag = intent.page_etag or article.page_etag
        article.page_last_modified = intent.page_last_modified or article.page_last_modified
    article.last_checked_at = now
    article.next_check_at = next_check_after(article, now, policy)
    session.add(Fetch(article_id=target.id, url=target.url, started_at=now, error=error))
    return f"{outcome}+alert" if alerts else outcome


def current_version_ids(session: Session) -> list[int]:
    """Every article's current version id, oldest article first."""
    query = select(Article.current_version_id).where(Article.current_version_id.is_not(None))
    return [vid for vid in session.scalars(query.order_by(Article.id)) if vid is not None]


def raw_of(session: Session, version_id: int) -> RawDocument | None:
    """The archived bytes behind a version, if any."""
    return session.scalars(
        select(RawDocument).where(RawDocument.version_id == version_id)
    ).one_or_none()


def replace_evidence(
    session: Session,
    version: ArticleVersion,
    title: str,
    text: str,
    tags: TagResult,
    tag_ids: Mapping[str, int],
) -> None:
    """Re-tag a version in place (reprocessing): new text if re-extracted, new mentions."""
    session.execute(delete(Mention).where(Mention.version_id == version.id))
    if (title, text) != (version.title, version.text):
        version.title, version.text = title, text
        version.content_hash = content_hash(title, text)
    version.relevance, version.relevant = tags.score, tags.relevant
    version.taxonomy_version = tags.taxonomy_version
    add_mentions(session, version.id, tags.mentions, tags.taxonomy_version, tag_ids)
