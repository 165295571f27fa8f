"""The monitor flow: one pass over the feeds that are due."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from sqlalchemy.orm import Session

from db import repo
from db.intents import FeedForUpdate, PollIntent
from flows import context
from flows.fetch import Fetcher, FetchPolicy, FetchResult
from flows.pipeline import intents_from_feed, new_relevant_articles, tag_specs
from flows.report import FeedReport, RunSummary, publish_artifacts, run_name
from flows.settings import get_settings
from parsers.exceptions import FetchError, ParseError
from parsers.feeds import parse_feed
from parsers.schedule import (
    FeedHealth,
    ScheduleDecision,
    after_failure,
    after_success,
    hints_from_headers,
)

# Jitter only spreads retries of many failing feeds apart; it needs no cryptographic quality.
_JITTER_RNG = random.Random()


def _transient_only(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a fetch only for errors that may pass (timeouts, 429, 5xx), never for a 404."""
    error = state.data if isinstance(state.data, BaseException) else None
    return isinstance(error, FetchError) and error.transient and not error.retry_after


@task(
    name="fetch-feed",
    task_run_name="fetch {feed.name}",
    retry_condition_fn=_transient_only,
    cache_policy=NO_CACHE,
)
async def fetch_feed(feed: FeedForUpdate, fetcher: Fetcher) -> FetchResult | FetchError:
    """Conditional GET of one feed through the guarded fetcher.

    A hard error (404, refused, not resolvable) is returned, not raised: it is the feed's
    problem, recorded on the feed, and must not mark the task run as crashed. A transient
    error is raised so that Prefect retries it.
    """
    try:
        return await fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, kind="feed"
        )
    except FetchError as exc:
        if exc.transient:
            raise
        return exc


@dataclass(frozen=True)
class Polled:
    """A feed and what fetching it gave: a response, or the error that stopped it."""

    feed: FeedForUpdate
    started_at: datetime
    result: FetchResult | None
    error: FetchError | None


async def _poll(fetch: Any, feed: FeedForUpdate, fetcher: Fetcher) -> Polled:
    started = datetime.now(UTC)
    try:
        outcome = await fetch(feed, fetcher)
    except FetchError as exc:  # transient, and still failing after the retries
        return Polled(feed, started, None, exc)
    if isinstance(outcome, FetchError):
        return Polled(feed, started, None, outcome)
    return Polled(feed, started, outcome, None)


@task(name="ingest-feeds", cache_policy=NO_CACHE)
def ingest_feeds(polled: list[Polled], summary: RunSummary) -> None:
    """Parse, tag and store a batch of fetched feeds: one transaction per feed."""
    tagger = context.tagger()
    with context.sessions().begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    for item in polled:
        with context.sessions().begin() as session:
            summary.feeds.append(ingest_one(session, item, tag_ids, summary))


def ingest_one(
    session: Session, item: Polled, tag_ids: dict[str, int], summary: RunSummary
) -> FeedReport:
    """Record one feed's poll and store what it brought, inside the caller's transaction."""
    now = datetime.now(UTC)
    feed = item.feed
    outcome, entries, error = "failed", 0, item.error
    if item.result is not None:
        outcome, entries, error = _store_result(session, feed, item.result, tag_ids, summary)
    decision = _schedule(feed, now, item.result, error)
    repo.record_poll(session, _poll_intent(item, now, outcome, entries, error, decision))
    return FeedReport(
        feed_id=feed.id,
        name=feed.name,
        url=feed.url,
        outcome=outcome,
        entries=entries,
        error=str(error) if error else None,
        health_before=feed.health,
        health_after=decision.health.health,
    )


def _store_result(
    session: Session,
    feed: FeedForUpdate,
    result: FetchResult,
    tag_ids: dict[str, int],
    summary: RunSummary,
) -> tuple[str, int, ParseError | None]:
    if result.not_modified:
        return "not_modified", 0, None
    if result.body_hash and result.body_hash == feed.body_hash:
        return "unchanged_body", 0, None  # the server ignores validators; skip the parse
    started = time.perf_counter()
    try:
        data = parse_feed(result.final_url, result.content, result.headers)
    except ParseError as exc:
        return "failed", 0, exc
    intents, dropped = intents_from_feed(feed, data, context.tagger())
    summary.add_stage_time("parse+tag", time.perf_counter() - started)
    started = time.perf_counter()
    counts = repo.store_articles(session, intents, tag_ids, datetime.now(UTC))
    summary.add_stage_time("store", time.perf_counter() - started)
    summary.counts.add(counts)
    summary.in_feed_duplicates += dropped
    summary.new_relevant += new_relevant_articles(counts, intents)
    return "fetched", len(data.entries), None


def _schedule(
    feed: FeedForUpdate,
    now: datetime,
    result: FetchResult | None,
    error: FetchError | ParseError | None,
) -> ScheduleDecision:
    state = FeedHealth(feed.health, feed.consecutive_failures, feed.failure_weight)
    interval = timedelta(minutes=feed.interval_minutes or get_settings().feed_interval_minutes)
    if error is None and result is not None:
        hints = hints_from_headers(result.headers, now)
        return after_success(state, now, interval=interval, hints=hints)
    fetch_error = error if isinstance(error, FetchError) else None
    return after_failure(
        state,
        now,
        interval=interval,
        transient=bool(fetch_error and fetch_error.transient),
        retry_after=fetch_error.retry_after if fetch_error else None,
        rng=_JITTER_RNG,
    )


def _poll_intent(
    item: Polled,
    now: datetime,
    outcome: str,
    entries: int,
    error: Exception | None,
    decision: ScheduleDecision,
) -> PollIntent:
    result = item.result
    fetch_error = item.error
    return PollIntent(
        feed_id=item.feed.id,
        url=item.feed.url,
        started_at=item.started_at,
        finished_at=now,
        status=result.status if result else (fetch_error.status if fetch_error else None),
        outcome=outcome,
        bytes=len(result.content) if result else 0,
        elapsed_ms=result.elapsed_ms if result else 0,
        entries=entries,
        error=str(error) if error else None,
        etag=result.etag if result else None,
        last_modified=result.last_modified if result else None,
        # A body that failed to parse must be parsed again next time, not skipped as seen.
        body_hash=result.body_hash if result and error is None else None,
        next_check_at=decision.next_check_at,
        health=decision.health.health,
        consecutive_failures=decision.health.consecutive_failures,
        failure_weight=decision.health.failure_weight,
        event=decision.event,
    )


@flow(name="monitor-feeds", flow_run_name=run_name("monitor"))
async def monitor_feeds(due_only: bool = True, batch_size: int = 50) -> dict[str, object]:
    """One pass over the feeds.

    Pipeline:
        feeds = due feeds (db)
        for each page of feeds:
            fetched = conditional GET of each, concurrently     -- fetch-feed tasks, polite
            for each feed: parse -> canonical URL + exact dedup -> tag -> store
                           + record health, in one transaction  -- ingest-feeds task
        publish the run summary (markdown + table artifacts)

    A feed that fails is recorded with its reason and the pass goes on; only unexpected
    errors fail the run.
    """
    context.ensure_schema()
    summary = RunSummary(kind="monitor", started_at=datetime.now(UTC))
    with context.sessions().begin() as session:
        feeds = repo.feeds_to_poll(session, summary.started_at, due_only=due_only)
    settings = get_settings()
    fetch = fetch_feed.with_options(
        retries=settings.fetch_retries, retry_delay_seconds=settings.fetch_retry_delays
    )
    async with Fetcher(FetchPolicy.from_settings(settings)) as fetcher:
        for start in range(0, len(feeds), batch_size):
            page = feeds[start : start + batch_size]
            began = time.perf_counter()
            polled = await asyncio.gather(*(_poll(fetch, feed, fetcher) for feed in page))
            summary.add_stage_time("fetch", time.perf_counter() - began)
            ingest_feeds(list(polled), summary)
    summary.finished_at = datetime.now(UTC)
    _log_summary(summary)
    await publish_artifacts(summary, "monitor")
    return summary.as_counts()


def _log_summary(summary: RunSummary) -> None:
    logger = get_run_logger()
    logger.info(
        "monitor: %d feeds (%d failed), %d new articles, %d new versions, %d alerts",
        len(summary.feeds),
        summary.feeds_with("failed"),
        summary.counts.new_articles,
        summary.counts.new_versions,
        summary.counts.alerts,
    )
    for feed in summary.feeds:
        if feed.outcome == "failed":
            logger.warning("feed %r failed: %s", feed.name, feed.error)
