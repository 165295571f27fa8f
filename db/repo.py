"""Repository functions. Each takes a Session and never commits: the caller owns the unit of work.

Writes that can race with another run (articles, entries, versions, mentions, alerts) are
``INSERT … ON CONFLICT DO NOTHING`` against a named unique constraint, then a read: two runs
over the same feed converge on one row instead of failing or duplicating.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Update, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from db.base import core_table
from db.intents import (
    ArticleIntent,
    FeedForUpdate,
    PollIntent,
    PollOutcome,
    RecheckTarget,
    TagSpec,
)
from db.models import (
    Article,
    ArticleVersion,
    Entry,
    Feed,
    Fetch,
    Mention,
    RawDocument,
    Tag,
)

# What the reading commands use lives in db.queries, which imports no write path.
from db.queries import ArticleRow as ArticleRow
from db.queries import articles_by_id as articles_by_id
from db.queries import list_articles as list_articles
from db.search import IndexedText, index_articles

# The store path lives in db.store; callers keep using repo.store_articles / known_sources.
from db.store import DEFAULT_POLICY, refile
from db.store import known_sources as known_sources
from db.store import store_articles as store_articles
from db.upsert import add_alert, insert_ignore
from db.versions import (
    VersionPolicy,
    add_mentions,
    apply_candidate,
    next_check_after,
    tag_values,
)
from parsers.diffs import Outcome
from parsers.tagging import TagResult
from parsers.text import content_hash


@dataclass(frozen=True)
class FeedSpec:
    """A feed to add: from the curated list, OPML or the CLI."""

    url: str
    name: str
    language: str | None = None
    interval_minutes: int | None = None


# --- feeds ---------------------------------------------------------------------------------


def list_feeds(session: Session) -> list[Feed]:
    """Every feed, by name, as ORM objects a run may change (the CLI lists rows:
    ``db.queries.list_feeds``)."""
    return list(session.scalars(select(Feed).order_by(Feed.name, Feed.id)))


def get_article(session: Session, article_id: int) -> Article | None:
    """One article with its versions (mentions load on access); ``vigie show`` reads
    ``db.queries.article_view`` instead."""
    return session.get(Article, article_id)


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


def feeds_to_poll(session: Session, now: datetime, *, due_only: bool = True) -> list[FeedForUpdate]:
    """Enabled feeds whose next check has come, longest overdue first (or all enabled ones,
    by id).

    Longest overdue first: a pass that reaches its deadline leaves its last feeds due, and
    the next pass must take them before those it has just polled.
    """
    # The 0 is written into the statement, not bound: the planner can then match the partial
    # index on the fetches that found entries whatever it does with parameters (a generic
    # plan on PostgreSQL, for a statement prepared on a long-lived connection, cannot).
    seen = (
        select(Fetch.entries_found)
        .where(Fetch.feed_id == Feed.id, Fetch.entries_found > literal_column("0"))
        .order_by(Fetch.started_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(Feed, seen).where(Feed.enabled.is_(True))
    if due_only:
        query = query.where((Feed.next_check_at.is_(None)) | (Feed.next_check_at <= now))
        query = query.order_by(Feed.next_check_at.is_not(None), Feed.next_check_at, Feed.id)
    else:
        query = query.order_by(Feed.id)
    return [_feed_for_update(feed, entries or 0) for feed, entries in session.execute(query)]


def known_guids(session: Session, feed_id: int) -> frozenset[str]:
    """The guids of every item this feed has brought."""
    query = select(Entry.guid).where(Entry.feed_id == feed_id)
    return frozenset(session.scalars(query))


def _feed_for_update(feed: Feed, entries_last_seen: int = 0) -> FeedForUpdate:
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
        entries_last_seen=entries_last_seen,
        created_at=feed.created_at,
        polled_before=feed.last_success_at is not None,
    )


def record_poll(session: Session, poll: PollIntent) -> int:
    """Log the poll, update the feed's validators, schedule and health; alerts written (0/1)."""
    return record_polls(session, [poll])


def record_polls(session: Session, polls: Sequence[PollIntent]) -> int:
    """``record_poll`` for many feeds; alerts written.

    A poll that changes nothing of the feed's standing (most of them) is written without
    loading the feed: the fetch log in one INSERT, the feeds in one UPDATE per outcome. A
    pass of 304s is mostly this.
    """
    quiet = [poll for poll in polls if poll.event is None and not poll.forget_validators]
    if quiet:
        session.execute(insert(core_table(Fetch)), [_fetch_row(poll) for poll in quiet])
    for failed in (False, True):
        rows = [_feed_row(poll) for poll in quiet if (poll.error is not None) == failed]
        if rows:
            session.execute(_poll_update_statement(failed=failed), rows)
    loaded = [poll for poll in polls if poll.event is not None or poll.forget_validators]
    return sum(_record_event(session, poll) for poll in loaded)


def _record_event(session: Session, poll: PollIntent) -> int:
    feed = session.get_one(Feed, poll.feed_id)
    outage_key = _outage_key(feed)  # before the poll moves last_success_at
    session.add(Fetch(**_fetch_row(poll)))
    _apply_poll(feed, poll)
    if poll.event is None:
        return 0
    return _alert_feed_event(session, feed, poll, outage_key)


def _fetch_row(poll: PollIntent) -> dict[str, Any]:
    return {
        "feed_id": poll.feed_id,
        "url": poll.url,
        "started_at": poll.started_at,
        "status": poll.status,
        "bytes": poll.bytes,
        "elapsed_ms": poll.elapsed_ms,
        "not_modified": poll.outcome == PollOutcome.NOT_MODIFIED,
        "entries_found": poll.entries,
        "error": poll.error,
    }


def _feed_row(poll: PollIntent) -> dict[str, Any]:
    # Bound as b_*: a bound parameter may not share a name with a column of an UPDATE.
    return {
        "b_id": poll.feed_id,
        "b_finished_at": poll.finished_at,
        "b_status": poll.status,
        "b_next_check_at": poll.next_check_at,
        "b_health": poll.health,
        "b_consecutive_failures": poll.consecutive_failures,
        "b_failure_weight": poll.failure_weight,
        "b_error": poll.error,
        # "" keeps the stored value too, as in _apply_poll.
        "b_etag": poll.etag or None,
        "b_last_modified": poll.last_modified or None,
        "b_body_hash": poll.body_hash or None,
    }


@cache
def _poll_update_statement(*, failed: bool) -> Update:
    """What ``_apply_poll`` does, as one UPDATE for many feeds (executemany)."""
    feeds = core_table(Feed)
    values: dict[str, Any] = {
        "last_fetched_at": bindparam("b_finished_at"),
        "last_status": bindparam("b_status"),
        "next_check_at": bindparam("b_next_check_at"),
        "health": bindparam("b_health"),
        "consecutive_failures": bindparam("b_consecutive_failures"),
        "failure_weight": bindparam("b_failure_weight"),
        "last_error": bindparam("b_error"),
    }
    if not failed:
        values |= {
            "last_success_at": bindparam("b_finished_at"),
            # None keeps the stored validators, as in _apply_poll.
            "etag": func.coalesce(bindparam("b_etag", type_=feeds.c.etag.type), feeds.c.etag),
            "last_modified": func.coalesce(
                bindparam("b_last_modified", type_=feeds.c.last_modified.type),
                feeds.c.last_modified,
            ),
            "body_hash": func.coalesce(
                bindparam("b_body_hash", type_=feeds.c.body_hash.type), feeds.c.body_hash
            ),
        }
    return update(feeds).where(feeds.c.id == bindparam("b_id")).values(values)


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
    if poll.forget_validators:
        feed.etag = feed.last_modified = feed.body_hash = None
        return
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


# --- re-checks and reprocessing --------------------------------------------------------------


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


#: What a re-check came to: a version decision, a 304 (``not_modified``) or ``failed``.
RecheckOutcome = Outcome | Literal["not_modified", "failed"]


@dataclass(frozen=True)
class RecheckResult:
    """What ``record_recheck`` did."""

    outcome: RecheckOutcome
    #: True when the re-check wrote an alert (an edit, or the article joining a story).
    alerted: bool


def record_recheck(
    session: Session,
    target: RecheckTarget,
    intent: ArticleIntent | None,
    tag_ids: Mapping[str, int],
    now: datetime,
    *,
    error: str | None = None,
    policy: VersionPolicy = DEFAULT_POLICY,
) -> RecheckResult:
    """Apply a re-check's extraction (None: 304 or failed fetch) and schedule the next one."""
    article = session.get_one(Article, target.id)
    outcome: RecheckOutcome = "failed" if error else "not_modified"
    alerts = 0
    if intent is not None:
        result = apply_candidate(session, target.id, intent, tag_ids, now, policy)
        outcome, alerts = result.outcome, result.alerts
        if outcome == "changed" and intent.tags.relevant:
            alerts += refile(session, target.id, intent, now)
        article.page_etag = intent.page_etag or article.page_etag
        article.page_last_modified = intent.page_last_modified or article.page_last_modified
    article.last_checked_at = now
    article.next_check_at = next_check_after(article, now, policy)
    session.add(Fetch(article_id=target.id, url=target.url, started_at=now, error=error))
    return RecheckResult(outcome, alerted=alerts > 0)


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
        if version.article.current_version_id == version.id:
            replacing = (version.title, version.text)
            index_articles(session, [IndexedText(version.article_id, title, text, replacing)])
        version.title, version.text = title, text
        version.content_hash = content_hash(title, text)
    for name, value in tag_values(tags).items():
        setattr(version, name, value)
    add_mentions(session, version, tags.mentions, tag_ids)
