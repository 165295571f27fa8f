"""The monitor flow: one pass over the feeds that are due."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db import repo
from db.intents import ArticleIntent, FeedForUpdate, PollIntent
from flows import context
from flows.alerts import record_run_failure
from flows.cpu import CpuPool
from flows.fetch import Fetcher, FetchPolicy, FetchResult
from flows.pipeline import (
    needs_page,
    new_relevant_articles,
    tag_specs,
    with_fallback,
)
from flows.report import FeedReport, RunSummary, publish_artifacts, run_name
from flows.settings import Settings, get_settings
from parsers.exceptions import FetchError, ParseError, StorageError
from parsers.schedule import (
    FeedHealth,
    ScheduleDecision,
    after_failure,
    after_success,
    hints_from_headers,
)
from parsers.tagging import Tagger
from parsers.urls import host_of

T = TypeVar("T")

# Jitter only spreads retries of many failing feeds apart; it needs no cryptographic quality.
_JITTER_RNG = random.Random()


@dataclass
class Polled:
    """A feed, what fetching it gave, and what parsing it made of it."""

    feed: FeedForUpdate
    started_at: datetime
    result: FetchResult | None
    #: Why the feed yielded nothing this time: fetch, parse or storage error.
    error: FetchError | ParseError | StorageError | None
    #: fetched, not_modified, unchanged_body or failed.
    outcome: str = "failed"
    entries: int = 0
    intents: list[ArticleIntent] = field(default_factory=list)
    dropped: int = 0


@task(name="fetch-feeds", cache_policy=NO_CACHE)
async def fetch_feeds(
    feeds: list[FeedForUpdate], fetcher: Fetcher, retry_delays: list[float]
) -> list[Polled]:
    """Conditional GET of a batch of feeds, concurrently (politeness is the fetcher's job).

    Callers pass big arguments through ``quote()``: Prefect otherwise walks every object in
    them looking for futures, which cost a quarter of a pass in the profile.

    One task per batch, not per feed: a task run costs ~10 ms, more than a 304. A feed's
    transient error (timeout, 5xx) is retried after each of ``retry_delays``; a 429 or a
    Retry-After is never retried within the run, the schedule honours it instead. Hard
    errors (404, refused, not a feed) are the feed's problem, recorded on the feed.
    """
    return list(await asyncio.gather(*(_poll(f, fetcher, retry_delays) for f in feeds)))


async def _poll(feed: FeedForUpdate, fetcher: Fetcher, retry_delays: list[float]) -> Polled:
    started = datetime.now(UTC)
    for delay in [*retry_delays, None]:
        try:
            result = await fetcher.fetch(
                feed.url, etag=feed.etag, last_modified=feed.last_modified, kind="feed"
            )
            return Polled(feed, started, result, None)
        except FetchError as exc:
            if delay is None or not _worth_retrying_now(exc):
                return Polled(feed, started, None, exc)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last delay is None")


def _worth_retrying_now(error: FetchError) -> bool:
    # A server that says "slow down" (429, Retry-After) is asked again at its time, not ours.
    return error.transient and error.status != 429 and not error.retry_after


def needing_parse(polled: list[Polled]) -> list[Polled]:
    """The feeds with a new body; the others are marked not_modified or unchanged_body."""
    wanted = []
    for item in polled:
        result, feed = item.result, item.feed
        if result is None:
            continue
        if result.not_modified:
            item.outcome = "not_modified"
        elif result.body_hash and result.body_hash == feed.body_hash:
            item.outcome = "unchanged_body"  # the server ignores validators; skip the parse
        else:
            wanted.append(item)
    return wanted


@task(name="parse-feeds", cache_policy=NO_CACHE)
async def parse_feeds(polled: list[Polled], cpu: CpuPool, parsed: Callable[[Polled], None]) -> None:
    """Parse each fetched feed into tagged intents, in the worker processes; each feed is
    handed to ``parsed`` as soon as it is done, so that the next stage need not wait for
    the slowest feed of the batch."""
    tagger = context.tagger()
    await asyncio.gather(*(_parse_one(item, cpu, tagger, parsed) for item in polled))


async def _parse_one(
    item: Polled, pool: CpuPool, tagger: Tagger, parsed: Callable[[Polled], None]
) -> None:
    result = item.result
    assert result is not None, "only fetched feeds are parsed"
    try:
        document = await pool.parse(
            item.feed, result.final_url, result.content, result.headers, tagger
        )
    except ParseError as exc:
        item.error = exc
    else:
        item.outcome, item.entries = "fetched", document.entries
        item.intents, item.dropped = document.intents, document.dropped
    parsed(item)


@task(name="fetch-pages", cache_policy=NO_CACHE)
async def fetch_pages_task(
    parsed: FeedStream, fetcher: Fetcher, cpu: CpuPool, min_words: int, ready: FeedStream
) -> int:
    """Fetch and extract the article pages of new summary-only entries, feed by feed as
    the feeds are parsed; each feed goes on to ``ready`` once its pages are in. Returns how
    many pages were fetched."""
    # Two feeds carrying one new story share a fetch of its page.
    fetches: dict[str, asyncio.Task[FetchResult | FetchError]] = {}

    async def complete(item: Polled) -> None:
        wanted = await _new_summary_only(item, min_words)
        for _, intent in wanted:
            if intent.url not in fetches:
                fetches[intent.url] = asyncio.create_task(_fetch_page(intent.url, fetcher))
        fetched = await asyncio.gather(*(fetches[intent.url] for _, intent in wanted))
        pages = await _read_pages([intent for _, intent in wanted], fetched, cpu)
        for (index, intent), page in zip(wanted, pages, strict=True):
            item.intents[index] = replace(
                page, feed_id=intent.feed_id, guid=intent.guid, source=intent.source
            )
        ready.put(item)

    async with _task_group() as group:
        async for item in parsed:
            group.create_task(complete(item))
    return len(fetches)


async def _new_summary_only(item: Polled, min_words: int) -> list[tuple[int, ArticleIntent]]:
    """The feed's new entries that gave only a summary, with their places in its intents."""
    candidates = [
        (index, intent)
        for index, intent in enumerate(item.intents)
        if needs_page(intent, min_words)
    ]
    if not candidates:
        return []
    # Another feed may have brought the story already, in this batch or the one before. Asked
    # in a thread, like the store's work: a slow database must not stall the fetches in flight.
    known = await asyncio.to_thread(_known_sources, [intent for _, intent in candidates])
    return [
        (index, intent)
        for index, intent in candidates
        if (intent.feed_id, intent.guid) not in known and intent.canonical_url not in known
    ]


def _known_sources(intents: list[ArticleIntent]) -> set[object]:
    with context.sessions().begin() as session:
        return repo.known_sources(session, intents)


async def _fetch_page(url: str, fetcher: Fetcher) -> FetchResult | FetchError:
    try:
        return await fetcher.fetch(url, kind="page")
    except FetchError as exc:
        return exc


async def _read_pages(
    intents: list[ArticleIntent], fetched: list[FetchResult | FetchError], cpu: CpuPool
) -> list[ArticleIntent]:
    """Each intent with its page extracted, or with the feed's text and why not."""
    pages = [
        (intent, result.final_url, result.content, result.headers)
        for intent, result in zip(intents, fetched, strict=True)
        if isinstance(result, FetchResult)
    ]
    extracted = iter(await cpu.pages(pages, context.tagger()))
    read = []
    for intent, result in zip(intents, fetched, strict=True):
        page = next(extracted) if isinstance(result, FetchResult) else result
        if isinstance(page, ArticleIntent):
            read.append(page)
        else:
            read.append(with_fallback(intent, f"article page: {page}"))
    return read


class FeedStream:
    """The feeds of a batch, handed from one stage to the next as each is ready.

    Iterating yields each of ``feeds`` once: as they come, or, ``in_order``, in the order of
    ``feeds``. The store takes them in order, so that which of two copies of a story is
    stored first, and so becomes the article, never depends on timing.
    """

    def __init__(self, feeds: list[FeedForUpdate], *, in_order: bool) -> None:
        loop = asyncio.get_running_loop()
        self._arrivals = {feed.id: loop.create_future() for feed in feeds}
        self._in_order = in_order

    def put(self, item: Polled) -> None:
        self._arrivals[item.feed.id].set_result(item)

    async def __aiter__(self) -> AsyncIterator[Polled]:
        arrivals = list(self._arrivals.values())
        for arrival in arrivals if self._in_order else asyncio.as_completed(arrivals):
            item = await arrival
            del self._arrivals[item.feed.id]  # a stored feed's articles are not kept to the end
            yield item


async def _store_batch(ready: FeedStream, summary: RunSummary) -> None:
    """Store a batch's feeds as they become ready; a batch that brought nothing (all 304s)
    only records its polls, a few milliseconds of work for which a task run would cost
    more than the work (0.43 -> 0.40 s for a pass of 200 feeds)."""
    feeds = aiter(ready)
    idle: list[Polled] = []
    async for item in feeds:
        if item.intents:
            store = store_feeds(quote(feeds), quote(item), quote(idle), quote(summary))
            await _timed(summary, "store", store)
            return
        idle.append(item)
    began = time.perf_counter()
    _record_polls(idle, summary)
    _lap(summary, "store", began)


@task(name="store-feeds", cache_policy=NO_CACHE)
async def store_feeds(
    feeds: AsyncIterator[Polled], first: Polled, idle: list[Polled], summary: RunSummary
) -> None:
    """Store ``first`` and the rest of ``feeds``: each feed's articles and poll in one
    transaction, and the polls of all the feeds that brought nothing in one more.

    Feeds are stored in a thread, so that the event loop goes on fetching and parsing
    meanwhile. The task is async because Prefect gives a sync task in an async flow a new
    API client each time, TLS context included (~25 ms a batch).
    """
    tag_ids = await asyncio.to_thread(_synced_tag_ids)
    item: Polled | None = first
    while item is not None:
        if item.intents:
            summary.feeds.append(await asyncio.to_thread(_store_isolated, item, tag_ids, summary))
        else:
            idle.append(item)
        item = await anext(feeds, None)
    await asyncio.to_thread(_record_polls, idle, summary)


def _synced_tag_ids() -> dict[str, int]:
    with context.sessions().begin() as session:
        return repo.sync_tags(session, tag_specs(context.tagger().taxonomy))


def _record_polls(idle: list[Polled], summary: RunSummary) -> None:
    """Record the polls of feeds that brought nothing to store, in one transaction."""
    if not idle:
        return
    with context.sessions().begin() as session:
        now = datetime.now(UTC)
        polls = [_poll_intent(item, now) for item in idle]
        summary.counts.alerts += repo.record_polls(session, polls)
        summary.feeds += [_report(item, poll) for item, poll in zip(idle, polls, strict=True)]


def _store_isolated(item: Polled, tag_ids: dict[str, int], summary: RunSummary) -> FeedReport:
    """Store one feed; if the database refuses its items, record the feed as failed instead.

    One hostile feed must not take the rest of the batch down with it.
    """
    try:
        with context.sessions().begin() as session:
            return _store_one(session, item, tag_ids, summary)
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        item.error = StorageError(f"the database refused this feed's items: {reason}")
        item.intents = []
        with context.sessions().begin() as session:
            return _store_one(session, item, tag_ids, summary)


def _store_one(
    session: Session, item: Polled, tag_ids: dict[str, int], summary: RunSummary
) -> FeedReport:
    now = datetime.now(UTC)
    if item.intents:
        counts = repo.store_articles(session, item.intents, tag_ids, now, context.version_policy())
        summary.counts.add(counts)
        summary.in_feed_duplicates += item.dropped
        summary.new_relevant += new_relevant_articles(counts, item.intents)
    poll = _poll_intent(item, now)
    summary.counts.alerts += repo.record_poll(session, poll)
    return _report(item, poll)


def _report(item: Polled, poll: PollIntent) -> FeedReport:
    return FeedReport(
        feed_id=item.feed.id,
        name=item.feed.name,
        url=item.feed.url,
        outcome=poll.outcome,
        entries=item.entries,
        error=poll.error,
        health_before=item.feed.health,
        health_after=poll.health,
    )


def _schedule(
    feed: FeedForUpdate,
    now: datetime,
    result: FetchResult | None,
    error: FetchError | ParseError | StorageError | None,
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


def _poll_intent(item: Polled, now: datetime) -> PollIntent:
    result, error = item.result, item.error
    decision = _schedule(item.feed, now, result, error)
    fetch_error = error if isinstance(error, FetchError) else None
    return PollIntent(
        feed_id=item.feed.id,
        url=item.feed.url,
        started_at=item.started_at,
        finished_at=now,
        status=result.status if result else (fetch_error.status if fetch_error else None),
        outcome="failed" if error else item.outcome,
        bytes=len(result.content) if result else 0,
        elapsed_ms=result.elapsed_ms if result else 0,
        entries=item.entries,
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


@flow(
    name="monitor-feeds",
    flow_run_name=run_name("monitor"),
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def monitor_feeds(
    due_only: bool = True, fetch_pages: bool | None = None, batch_size: int = 50
) -> dict[str, object]:
    """One pass over the feeds.

    Pipeline (a feed goes to the next step as soon as it is through one, and batch k+1 is
    fetched while batch k is still being stored):
        feeds = due feeds (db)
        for each batch of feeds:
            conditional GET of each, concurrently               -- fetch-feeds task, polite
            parse -> canonical URL -> in-feed dedup -> tag      -- parse-feeds task, in the
              (skipped for 304s and identical bodies)              worker processes
            page fetch + extraction for new summary-only items  -- fetch-pages task, same;
                                                                   one job a feed
            store articles/versions/evidence/clusters/alerts +
              record each feed's health, one transaction a feed -- store-feeds task (a
                                                                    batch of 304s only
                                                                    records its polls)
        publish the run summary (markdown + table artifacts)

    A feed that fails is recorded with its reason and the pass goes on; only unexpected
    errors fail the run. A batch whose feeds, on two hosts or more, all fail transiently
    (the network may be down) is fetched once more after a pause, with a warning.
    ``fetch_pages`` defaults to the ``VIGIE_FETCH_PAGES`` setting.
    """
    context.ensure_schema()
    context.freeze_startup_heap()
    summary = RunSummary(kind="monitor", started_at=datetime.now(UTC))
    with context.sessions().begin() as session:
        feeds = repo.feeds_to_poll(session, summary.started_at, due_only=due_only)
    settings = get_settings()
    from flows.report import ProgressReporter  # the progress artifact of a long pass

    progress = ProgressReporter("monitor-progress", unit="feeds")
    await progress.start(len(feeds))
    cpu = CpuPool(settings.resolved_cpu_workers, settings.resolved_taxonomy_path)
    pages_wanted = settings.fetch_pages if fetch_pages is None else fetch_pages
    batches = [feeds[start : start + batch_size] for start in range(0, len(feeds), batch_size)]
    streams = [FeedStream(batch, in_order=True) for batch in batches]
    stored = [asyncio.Event() for _ in batches]

    async def prepare_all() -> None:
        for index, (batch, ready) in enumerate(zip(batches, streams, strict=True)):
            if index >= 2:  # at most two batches in memory: one storing, one being prepared
                await stored[index - 2].wait()
            await _prepare_batch(batch, fetcher, cpu, settings, summary, pages_wanted, ready)

    async def store_all() -> None:
        done = 0
        for batch, ready, event in zip(batches, streams, stored, strict=True):
            await _store_batch(ready, summary)
            event.set()
            done += len(batch)
            await progress.advance(done)

    async with Fetcher(FetchPolicy.from_settings(settings)) as fetcher, cpu:
        # Feeds flow through the stages one by one (the network, the worker processes, the
        # database in a thread of this process), each stage working on what the stage before
        # has finished: the stages overlap instead of taking turns. An error in one stage
        # cancels the others.
        await _together(prepare_all(), store_all())
    summary.finished_at = datetime.now(UTC)
    _log_summary(summary)
    await publish_artifacts(summary, "monitor")
    return summary.as_counts()


async def _prepare_batch(
    batch: list[FeedForUpdate],
    fetcher: Fetcher,
    cpu: CpuPool,
    settings: Settings,
    summary: RunSummary,
    pages_wanted: bool,
    ready: FeedStream,
) -> None:
    """Fetch a batch, parse what changed and, if wanted, fetch new items' pages; each feed
    goes on to ``ready`` as soon as nothing more is to be done for it."""
    polled = await _timed(summary, "fetch feeds", _fetch_batch(batch, fetcher, settings))
    changed = needing_parse(polled)  # a pass of 304s runs no parse task at all
    parsing = {id(item) for item in changed}
    for item in polled:
        if id(item) not in parsing:
            ready.put(item)
    if not changed:
        return
    if not pages_wanted:
        await _timed(summary, "parse+tag", parse_feeds(quote(changed), cpu, ready.put))
        return
    parsed = FeedStream([item.feed for item in changed], in_order=False)
    pages = fetch_pages_task(quote(parsed), fetcher, cpu, settings.page_min_words, quote(ready))
    _, fetched = await _together(
        _timed(summary, "parse+tag", parse_feeds(quote(changed), cpu, parsed.put)),
        _timed(summary, "fetch pages+extract", pages),
    )
    summary.pages_fetched += fetched


async def _fetch_batch(
    feeds: list[FeedForUpdate], fetcher: Fetcher, settings: Settings
) -> list[Polled]:
    polled = await fetch_feeds(quote(feeds), fetcher, settings.fetch_retry_delays)
    hosts = _hosts_if_all_failed_transiently(polled)
    # Feeds on two hosts or more all failing at once point at our network, not at them: the
    # batch is fetched once more after a pause long enough for a blip to pass (15 per-feed
    # retry delays, 30 s by default). One dead host is only its feeds' failure; they had their
    # in-run retries already. No batch retry either when in-run retries are off.
    if len(hosts) < 2 or settings.fetch_retries == 0:
        return polled
    pause = 15 * settings.fetch_retry_delay
    # Done here rather than with Prefect task retries: the flow's logger says why the run
    # waits, and no task run ends Failed (with an ERROR traceback) for an outage handled here.
    get_run_logger().warning(
        "all %d feeds on %d hosts failed transiently (the network may be down); "
        "trying the batch once more in %g s",
        len(polled),
        len(hosts),
        pause,
    )
    await asyncio.sleep(pause)
    return await fetch_feeds(quote(feeds), fetcher, settings.fetch_retry_delays)


def _hosts_if_all_failed_transiently(polled: list[Polled]) -> set[str]:
    """The hosts of the batch's feeds if every one failed with an error worth retrying now;
    else (a feed answered, or one failed for good or asked us to wait) no host at all."""
    errors = [item.error for item in polled]
    if not all(isinstance(e, FetchError) and _worth_retrying_now(e) for e in errors):
        return set()
    return {host_of(item.feed.url) for item in polled}  # without ports, as politeness counts


async def _together(*work: Coroutine[Any, Any, Any]) -> list[Any]:
    """The results of ``work``, run concurrently; the first error cancels the rest."""
    async with _task_group() as group:
        tasks = [group.create_task(each) for each in work]
    return [task.result() for task in tasks]


@asynccontextmanager
async def _task_group() -> AsyncIterator[asyncio.TaskGroup]:
    """A task group whose first error is raised as it is: the flow's and the task runs'
    states in the Prefect UI then name the error, not "unhandled errors in a TaskGroup"."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as errors:
        first: BaseException = errors
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


async def _timed(summary: RunSummary, stage: str, work: Awaitable[T]) -> T:
    began = time.perf_counter()
    value = await work
    _lap(summary, stage, began)
    return value


def _lap(summary: RunSummary, stage: str, began: float) -> None:
    summary.add_stage_time(stage, time.perf_counter() - began)


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
