"""The monitor flow: one pass over the feeds that are due."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from db import repo
from db.intents import ArticleIntent, FeedForUpdate, PollIntent, PollOutcome
from db.store import FeedAlerting
from fetching.fetcher import Fetcher, FetchPolicy, FetchResult
from flows import context
from flows.alerts import deliver_after_run, record_run_failure
from flows.cpu import Cap, CpuPool, unreadable
from flows.parameters import plain_parameters
from flows.pipeline import (
    needs_page,
    tag_specs,
    tagged,
    with_fallback,
)
from flows.quoting import quoted
from flows.report import (
    ALL_FEEDS_FAILED,
    RUNNING,
    FeedReport,
    ProgressReporter,
    RunCounts,
    RunSummary,
    monitor_findings,
    new_relevant_articles,
    publish_artifacts,
    rename_run,
    run_state,
    run_title,
)
from flows.settings import Settings, get_settings
from parsers.exceptions import DatabaseFailure, FetchError, ParseError, StorageError
from parsers.inert import clean
from parsers.schedule import (
    FeedHealth,
    ScheduleDecision,
    after_failure,
    after_success,
    hints_from_headers,
)
from parsers.tagging import Tagger, tags_pending
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
    outcome: PollOutcome = PollOutcome.FAILED
    entries: int = 0
    intents: list[ArticleIntent] = field(default_factory=list)
    dropped: int = 0
    #: New entries left for the next pass by the per-feed cap.
    left: int = 0


class PageLeft(FetchError):
    """An article page this pass did not fetch (page cap, or deadline); a re-check will."""


@dataclass(frozen=True)
class Limits:
    """What bounds one pass: its deadline and the per-feed caps."""

    #: ``loop.time()`` by which the pass must be done; what is unfinished then is left.
    deadline: float
    #: New items one feed may bring this pass.
    max_new_items: int
    #: Article pages fetched for one feed this pass.
    max_pages: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the settings give a pass starting now."""
        return cls(
            deadline=asyncio.get_running_loop().time() + settings.pass_deadline_seconds,
            max_new_items=settings.max_new_items_per_feed,
            max_pages=settings.max_pages_per_feed,
        )

    def passed(self) -> bool:
        """True once the deadline has come."""
        return asyncio.get_running_loop().time() >= self.deadline


def _deadline_reason() -> str:
    seconds = get_settings().pass_deadline_seconds
    return f"the pass reached its deadline ({seconds:g} s, VIGIE_PASS_DEADLINE_SECONDS)"


@task(name="fetch-feeds", cache_policy=NO_CACHE)
async def fetch_feeds(
    feeds: list[FeedForUpdate], fetcher: Fetcher, retry_delays: list[float], limits: Limits
) -> list[Polled]:
    """Conditional GET of a batch of feeds, concurrently (politeness is the fetcher's job).

    Callers pass big arguments through ``quoted()``: Prefect otherwise walks every object in
    them looking for futures, which cost a quarter of a pass in the profile.

    One task per batch, not per feed: a task run costs ~10 ms, more than a 304. A feed's
    transient error (timeout, 5xx) is retried after each of ``retry_delays``; a 429 or a
    Retry-After is never retried within the run, the schedule honours it instead. Hard
    errors (404, refused, not a feed) are the feed's problem, recorded on the feed. A feed
    still in flight at the deadline is postponed: not recorded, so the next pass polls it.
    """
    return list(await asyncio.gather(*(_poll(f, fetcher, retry_delays, limits) for f in feeds)))


async def _poll(
    feed: FeedForUpdate, fetcher: Fetcher, retry_delays: list[float], limits: Limits
) -> Polled:
    started = datetime.now(UTC)
    try:
        async with asyncio.timeout_at(limits.deadline):
            return await _poll_with_retries(feed, fetcher, retry_delays, started)
    except TimeoutError:
        return Polled(feed, started, None, None, outcome=PollOutcome.POSTPONED)


async def _poll_with_retries(
    feed: FeedForUpdate, fetcher: Fetcher, retry_delays: list[float], started: datetime
) -> Polled:
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
            item.outcome = PollOutcome.NOT_MODIFIED
        elif result.body_hash and result.body_hash == feed.body_hash:
            # The server ignores validators: the same body again, no parse.
            item.outcome = PollOutcome.UNCHANGED_BODY
        else:
            wanted.append(item)
    return wanted


async def parse_feeds(
    polled: list[Polled],
    cpu: CpuPool,
    parsed: Callable[[Polled], None],
    limits: Limits,
    page_min_words: int | None = None,
) -> None:
    """Parse each fetched feed into tagged intents, in the worker processes; each feed is
    handed to ``parsed`` as soon as it is done, so that the next stage need not wait for
    the slowest feed of the batch. A feed fetched is parsed even after the deadline: the
    deadline stops waiting on the network, and parsing is bounded work.

    Not a task: a task run is requests to the API and work for the server (about 10 ms
    each), and a feed that fails to parse is recorded with its reason on the feed, which is
    where the run summary shows it; the stage's time is in the summary too.

    With ``page_min_words`` (the pages are read next), the entries that need their page are
    left untagged (``flows.pipeline.intents_from_feed``): ``fetch_pages_task`` tags those
    that keep their feed text."""
    tagger = context.tagger()
    await asyncio.gather(
        *(_parse_one(item, cpu, tagger, parsed, limits, page_min_words) for item in polled)
    )


async def _parse_one(
    item: Polled,
    pool: CpuPool,
    tagger: Tagger,
    parsed: Callable[[Polled], None],
    limits: Limits,
    page_min_words: int | None,
) -> None:
    result = item.result
    assert result is not None, "only fetched feeds are parsed"
    try:
        cap = await _cap_for(item.feed, limits.max_new_items)
        document = await pool.parse(
            item.feed, result.final_url, result.content, result.headers, tagger, cap, page_min_words
        )
    except ParseError as exc:
        item.error = exc
    except Exception as exc:  # one feed a library chokes on fails alone, with the reason
        item.error = unreadable(exc)
    else:
        item.outcome, item.entries = PollOutcome.FETCHED, document.entries
        item.intents, item.dropped, item.left = document.intents, document.dropped, document.left
    # The body is read; until the feed is stored, only its size is still needed (up to 10 MB).
    item.result = replace(result, content=b"", size=result.size)
    parsed(item)


async def _cap_for(feed: FeedForUpdate, max_new_items: int) -> Cap:
    """The cap on the feed's new items, with the guids it brought before when its last
    document was longer than the cap (so the next new ones are told from those stored)."""
    if feed.entries_last_seen <= max_new_items:
        return max_new_items, frozenset()
    return max_new_items, await asyncio.to_thread(_known_guids, feed.id)


def _known_guids(feed_id: int) -> frozenset[str]:
    with context.sessions().begin() as session:
        return repo.known_guids(session, feed_id)


@task(name="fetch-pages", cache_policy=NO_CACHE)
async def fetch_pages_task(
    parsed: FeedStream,
    fetcher: Fetcher,
    cpu: CpuPool,
    min_words: int,
    ready: FeedStream,
    limits: Limits,
) -> PageCounts:
    """Fetch and extract the article pages of new summary-only entries, feed by feed as
    the feeds are parsed; each feed goes on to ``ready`` once its pages are in.

    At most ``limits.max_pages`` pages a feed, and none after the deadline: the other items
    keep their feed text with the reason, and a re-check fetches their pages later. A feed
    whose pages fail in any way keeps its feed text too; only that feed is concerned.
    Feed text kept in place of a page (any of the above, or an item another feed brought
    already) is tagged here: it came from the parse untagged.
    """
    # Two feeds carrying one new story share a fetch of its page.
    fetches: dict[str, asyncio.Task[FetchResult | FetchError]] = {}
    counts = PageCounts()

    async def complete(item: Polled) -> None:
        try:
            await _read_feed_pages(item, fetches, fetcher, cpu, min_words, limits, counts)
        except Exception as exc:
            _keep_feed_text(item, min_words, f"article pages not read: {unreadable(exc)}")
            logged = clean(f"{type(exc).__name__}: {exc}")
            get_run_logger().warning("feed %r: article pages not read: %s", item.feed.name, logged)
        try:
            await _tag_feed_texts(item, cpu)
        except Exception as exc:  # as in the parse: a text the tagger chokes on fails its feed
            item.error, item.intents, item.left = unreadable(exc), [], 0
        ready.put(item)

    async with _task_group() as group:
        async for item in parsed:
            group.create_task(complete(item))
    counts.fetched = len(fetches)
    return counts


@dataclass
class PageCounts:
    """Article pages a pass fetched, and those it left to a re-check."""

    fetched: int = 0
    left: int = 0


async def _read_feed_pages(
    item: Polled,
    fetches: dict[str, asyncio.Task[FetchResult | FetchError]],
    fetcher: Fetcher,
    cpu: CpuPool,
    min_words: int,
    limits: Limits,
    counts: PageCounts,
) -> None:
    """Replace the feed's summary-only intents by their pages, within the feed's page cap."""
    wanted = await _new_summary_only(item, min_words)
    over_cap = wanted[limits.max_pages :]
    wanted = wanted[: limits.max_pages]
    for index, intent in over_cap:
        reason = (
            f"article page not fetched this pass: more than {limits.max_pages} of this "
            "feed's new items need their page (VIGIE_MAX_PAGES_PER_FEED); a re-check fetches it"
        )
        item.intents[index] = with_fallback(intent, reason)
    for _, intent in wanted:
        if intent.url not in fetches:
            fetches[intent.url] = asyncio.create_task(_fetch_page(intent.url, fetcher, limits))
    fetched = await asyncio.gather(*(fetches[intent.url] for _, intent in wanted))
    counts.left += len(over_cap) + sum(isinstance(page, PageLeft) for page in fetched)
    pages = await _read_pages([intent for _, intent in wanted], fetched, cpu)
    for (index, intent), page in zip(wanted, pages, strict=True):
        item.intents[index] = replace(
            page, feed_id=intent.feed_id, guid=intent.guid, source=intent.source
        )


async def _tag_feed_texts(item: Polled, cpu: CpuPool) -> None:
    """Tag the feed's items whose tags are pending: those that kept their feed text."""
    if not any(tags_pending(intent.tags) for intent in item.intents):
        return
    tagger = context.tagger()

    def tag_all() -> list[ArticleIntent]:
        return [tagged(intent, tagger) for intent in item.intents]

    # In a thread, like the store's work, and taking turns with it and the documents read in
    # this process: a feed whose pages all failed has every item to tag.
    item.intents = await asyncio.to_thread(cpu.taking_turns, tag_all)


def _keep_feed_text(item: Polled, min_words: int, reason: str) -> None:
    """Every summary-only intent of the feed keeps its feed text, watched for its page."""
    item.intents = [
        with_fallback(intent, reason) if needs_page(intent, min_words) else intent
        for intent in item.intents
    ]


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


async def _fetch_page(url: str, fetcher: Fetcher, limits: Limits) -> FetchResult | FetchError:
    try:
        async with asyncio.timeout_at(limits.deadline):
            return await fetcher.fetch(url, kind="page")
    except FetchError as exc:
        return exc
    except TimeoutError:
        return PageLeft(f"not fetched: {_deadline_reason()}; a re-check fetches it")


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
        # In order, no list of the futures is kept while iterating: it held every stored
        # feed's articles to the end of the batch. (as_completed keeps the list it is given.)
        arrivals: Iterable[Awaitable[Polled]] = (
            (self._arrivals[feed_id] for feed_id in list(self._arrivals))
            if self._in_order
            else asyncio.as_completed(list(self._arrivals.values()))
        )
        for arrival in arrivals:
            item = await arrival
            del self._arrivals[item.feed.id]  # a stored feed's articles are not kept to the end
            yield item


async def _store_batch(ready: FeedStream, summary: RunSummary, cpu: CpuPool) -> None:
    """Store a batch's feeds as they become ready; a batch that brought nothing (all 304s)
    only records its polls, a few milliseconds of work for which a task run would cost
    more than the work (0.43 -> 0.40 s for a pass of 200 feeds)."""
    feeds = aiter(ready)
    idle: list[Polled] = []
    async for item in feeds:
        if item.intents:
            store = store_feeds(
                quoted(feeds), quoted(item), quoted(idle), quoted(summary), quoted(cpu)
            )
            await _timed(summary, "store", store)
            return
        idle.append(item)
    began = time.perf_counter()
    _record_polls(idle, summary)
    _lap(summary, "store", began)


@task(name="store-feeds", cache_policy=NO_CACHE)
async def store_feeds(
    feeds: AsyncIterator[Polled],
    first: Polled,
    idle: list[Polled],
    summary: RunSummary,
    cpu: CpuPool,
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
            # Taking turns with the feeds read in this process (``CpuPool.taking_turns``).
            store = cpu.taking_turns
            summary.feeds.append(
                await asyncio.to_thread(store, _store_isolated, item, tag_ids, summary)
            )
        else:
            idle.append(item)
        item = await anext(feeds, None)
    await asyncio.to_thread(_record_polls, idle, summary)


def _synced_tag_ids() -> dict[str, int]:
    with context.sessions().begin() as session:
        return repo.sync_tags(session, tag_specs(context.tagger().taxonomy))


def _record_polls(idle: list[Polled], summary: RunSummary) -> None:
    """Record the polls of feeds that brought nothing to store, in one transaction.

    Postponed feeds are only reported: left as they are, they stay due. When the database
    fails, the feeds are reported with the reason and left as they are too.
    """
    postponed = [item for item in idle if item.outcome == PollOutcome.POSTPONED]
    summary.feeds += [_postponed_report(item) for item in postponed]
    idle = [item for item in idle if item.outcome != PollOutcome.POSTPONED]
    if not idle:
        return
    now = datetime.now(UTC)
    polls = [_poll_intent(item, now) for item in idle]
    try:
        with context.sessions().begin() as session:
            summary.counts.alerts += repo.record_polls(session, polls)
    except Exception as exc:
        if not _ours(exc):
            raise  # nothing in a poll comes from a feed's data: a bug, not a feed's fault
        failure = _database_failure(exc)
        summary.feeds += [_unrecorded_report(item, failure) for item in idle]
        return
    summary.feeds += [_report(item, poll) for item, poll in zip(idle, polls, strict=True)]


def _store_isolated(item: Polled, tag_ids: dict[str, int], summary: RunSummary) -> FeedReport:
    """Store one feed; if its items cannot be stored, record the feed as failed instead.

    One hostile feed must not take the rest of the batch down with it. When the failure is
    the database's own (disk full, connection lost), the feed is not at fault: its health
    and validators do not move, and it is due again at once.
    """
    try:
        with context.sessions().begin() as session:
            return _store_one(session, item, tag_ids, summary)
    except Exception as exc:
        item.error = _database_failure(exc) if _ours(exc) else _refused(exc)
        item.intents, item.left = [], 0
    try:
        with context.sessions().begin() as session:
            return _store_one(session, item, tag_ids, summary)
    except Exception as exc:
        if not _ours(exc):
            raise
        return _unrecorded_report(item, _database_failure(exc))


def _ours(exc: Exception) -> bool:
    """True when an error storing a feed is the database's own, not the feed data's.

    The database refuses data with a DataError (a value too long, a NUL) or an
    IntegrityError; every other database error (OperationalError: disk full, connection
    lost; DatabaseError: a corrupt file; ...) and any OSError would have met any feed.
    """
    if isinstance(exc, DataError | IntegrityError):
        return False
    return isinstance(exc, SQLAlchemyError | OSError)


def _one_line(exc: BaseException) -> str:
    return clean(getattr(exc, "orig", None) or exc, 300) or type(exc).__name__


def _refused(exc: Exception) -> StorageError:
    if isinstance(exc, SQLAlchemyError):
        return StorageError(f"the database refused this feed's items: {_one_line(exc)}")
    return StorageError(
        f"this feed's items could not be stored ({type(exc).__name__}: {_one_line(exc)})"
    )


def _database_failure(exc: Exception) -> DatabaseFailure:
    return DatabaseFailure(
        f"not stored: Vigie's database failed ({_one_line(exc)}); the feed is not at fault "
        "and is polled again next pass"
    )


def _store_one(
    session: Session, item: Polled, tag_ids: dict[str, int], summary: RunSummary
) -> FeedReport:
    now = datetime.now(UTC)
    if item.intents:
        settings = get_settings()
        counts = repo.store_articles(
            session,
            item.intents,
            tag_ids,
            now,
            context.version_policy(),
            feed=_feed_alerting(item.feed, settings),
            story_window=timedelta(hours=settings.story_window_hours),
        )
        summary.counts.add(counts)
        summary.in_feed_duplicates += item.dropped
        summary.new_relevant += new_relevant_articles(counts, item.intents)
    poll = _poll_intent(item, now)
    summary.counts.alerts += repo.record_poll(session, poll)
    return _report(item, poll)


def _feed_alerting(feed: FeedForUpdate, settings: Settings) -> FeedAlerting:
    """How the feed's new articles alert this pass: its backfill and its flood limit."""
    quiet = not settings.alert_on_backfill
    return FeedAlerting(
        feed_id=feed.id,
        name=feed.name,
        url=feed.url,
        backfill_before=feed.created_at if quiet else None,
        first_pass=quiet and not feed.polled_before,
        flood_items=settings.alert_flood_items,
    )


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
        left=item.left,
    )


def _postponed_report(item: Polled) -> FeedReport:
    feed = item.feed
    reason = f"not polled: {_deadline_reason()}; it stays due for the next pass"
    return FeedReport(feed.id, feed.name, feed.url, PollOutcome.POSTPONED, error=reason,
                      health_before=feed.health, health_after=feed.health)  # fmt: skip


def _unrecorded_report(item: Polled, failure: DatabaseFailure) -> FeedReport:
    feed = item.feed
    return FeedReport(feed.id, feed.name, feed.url, PollOutcome.FAILED, item.entries, str(failure),
                      health_before=feed.health, health_after=feed.health)  # fmt: skip


def _schedule(
    feed: FeedForUpdate,
    now: datetime,
    result: FetchResult | None,
    error: FetchError | ParseError | StorageError | None,
) -> ScheduleDecision:
    state = FeedHealth(feed.health, feed.consecutive_failures, feed.failure_weight)
    interval = timedelta(minutes=feed.interval_minutes or get_settings().feed_interval_minutes)
    if isinstance(error, DatabaseFailure):
        return ScheduleDecision(next_check_at=now, health=state, event=None)  # not its fault
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
    if item.left and error is None:
        # The rest of the document comes next pass: due now (unless the server asks for
        # a wait), with nothing recorded that would let the next fetch skip it.
        decision = replace(decision, next_check_at=now + _server_wait(result, now))
    fetch_error = error if isinstance(error, FetchError) else None
    return PollIntent(
        feed_id=item.feed.id,
        url=item.feed.url,
        started_at=item.started_at,
        finished_at=now,
        status=result.status if result else (fetch_error.status if fetch_error else None),
        outcome=PollOutcome.FAILED if error else item.outcome,
        bytes=result.size if result else 0,
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
        forget_validators=bool(item.left) and error is None,
    )


def _server_wait(result: FetchResult | None, now: datetime) -> timedelta:
    return hints_from_headers(result.headers, now).not_before if result else timedelta(0)


#: A pass still running this long gets a progress bar in the UI; one done sooner needs none.
PROGRESS_AFTER_SECONDS = 2.0


# No ``flow_run_name``: Prefect resolves one before the flow starts, with a synchronous API
# client of its own and a read of the server's result storage, in the pass's way; the pass
# names itself instead, while its first batch is fetched.
# ``persist_result=False``: the counts are returned to the caller in memory, and the summary
# artifact shows them in the UI; left unset, Prefect asks the server each run whether to
# persist them.
@plain_parameters
@flow(
    name="monitor-feeds",
    persist_result=False,
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def monitor_feeds(
    due_only: bool = True, fetch_pages: bool | None = None, batch_size: int = 50
) -> State:
    """One pass over the feeds.

    Pipeline (a feed goes to the next step as soon as it is through one, and batch k+1 is
    fetched while batch k is still being stored):
        feeds = due feeds (db)
        for each batch of feeds:
            conditional GET of each, concurrently               -- fetch-feeds task, polite
            parse -> canonical URL -> in-feed dedup -> tag      -- in this process while
              (skipped for 304s and identical bodies)              the pass has under 2 MB
                                                                   to read, then in the
                                                                   worker processes
            page fetch + extraction for new summary-only items  -- fetch-pages task, same;
                                                                   one job a feed
            store articles/versions/evidence/clusters/alerts +
              record each feed's health, one transaction a feed -- store-feeds task (a
                                                                    batch of 304s only
                                                                    records its polls)
        deliver the alerts that are due (VIGIE_DELIVER_AFTER_RUN, when a channel is set)
        publish the run summary (one markdown artifact), rename the run by what it found

    A feed that fails, in whatever stage and however, is recorded with its reason and the
    pass goes on. A batch whose feeds, on two hosts or more, all fail transiently (the
    network may be down) is fetched once more after a pause, with a warning. A feed brings
    at most ``VIGIE_MAX_NEW_ITEMS_PER_FEED`` new items a pass (the rest next pass) and has at
    most ``VIGIE_MAX_PAGES_PER_FEED`` pages fetched; at ``VIGIE_PASS_DEADLINE_SECONDS`` the
    pass stops polling: feeds not polled stay due, pages not fetched are left to a re-check.
    ``fetch_pages`` defaults to the ``VIGIE_FETCH_PAGES`` setting.

    Returns the pass's counts (``RunSummary.as_counts``) in its final state: FAILED, named
    "All feeds failed", when every feed polled failed; COMPLETED otherwise, its message naming
    the feeds that failed. The run is renamed with what it found.
    """
    context.ensure_schema()
    context.version_policy()  # a rules file with a bad watch stops the pass before it polls
    context.freeze_startup_heap()
    summary = RunSummary(kind="monitor", started_at=datetime.now(UTC))
    with context.sessions().begin() as session:
        feeds = repo.feeds_to_poll(session, summary.started_at, due_only=due_only)
    settings = get_settings()
    # Requests to the API that the pass need not wait for: its name while it runs (sent as
    # the first batch is fetched; what a failure alert names it too), and a progress bar,
    # which a quick pass is spared.
    named = asyncio.ensure_future(rename_run(run_title("monitor", summary.started_at, RUNNING)))
    progress = ProgressReporter(
        "monitor-progress", unit="feeds", after_seconds=PROGRESS_AFTER_SECONDS
    )
    progress_started = asyncio.ensure_future(progress.start(len(feeds)))
    cpu = context.cpu_pool()
    pages_wanted = settings.fetch_pages if fetch_pages is None else fetch_pages
    limits = Limits.from_settings(settings)
    batches = [feeds[start : start + batch_size] for start in range(0, len(feeds), batch_size)]
    streams = [FeedStream(batch, in_order=True) for batch in batches]
    stored = [asyncio.Event() for _ in batches]

    async def prepare_all() -> None:
        for index, (batch, ready) in enumerate(zip(batches, streams, strict=True)):
            if index >= 2:  # at most two batches in memory: one storing, one being prepared
                await stored[index - 2].wait()
            if limits.passed():  # these feeds stay due: the next pass polls them first
                for feed in batch:
                    ready.put(
                        Polled(feed, datetime.now(UTC), None, None, outcome=PollOutcome.POSTPONED)
                    )
                continue
            await _prepare_batch(
                batch, fetcher, cpu, settings, summary, pages_wanted, ready, limits
            )

    async def store_all() -> None:
        done = 0
        for batch, ready, event in zip(batches, streams, stored, strict=True):
            await _store_batch(ready, summary, cpu)
            event.set()
            done += len(batch)
            await progress.advance(done)

    async with context.fetcher(FetchPolicy.from_settings(settings)) as fetcher, cpu:
        # Feeds flow through the stages one by one (the network, the worker processes, the
        # database in a thread of this process), each stage working on what the stage before
        # has finished: the stages overlap instead of taking turns. An error in one stage
        # cancels the others.
        # A small pass reads its feeds in this process: starting the workers would cost more
        # than its reading. A large one starts them once it has read enough to be worth it,
        # and a pass of 304s starts none (``CpuPool.start_when_worth_it``).
        # A pass that extracts pages, once its workers are worth starting, waits for them
        # (``pages``): read here meanwhile, its documents slowed the page fetches.
        cpu.start_when_worth_it(pages=pages_wanted)
        try:
            await _together(prepare_all(), store_all())
        except BaseException:
            progress_started.cancel()  # the pass failed, maybe before its first batch was stored
            raise
    await progress_started  # done at once unless the bar is being shown
    if delivery := await deliver_after_run():
        summary.alerts_sent = delivery.count("sent")
        summary.alerts_failed = delivery.count("failed") + delivery.count("retry")
    summary.finished_at = datetime.now(UTC)
    _log_summary(summary)
    await named  # the final name must come after the first
    # Two requests to the API that do not depend on each other: sent together.
    await _together(
        publish_artifacts(summary, "monitor"),
        rename_run(run_title("monitor", summary.started_at, monitor_findings(summary))),
    )
    # Returned as a state: a pass in which every feed failed ends FAILED, and a pass in which
    # some did says which in its state message; the counts are its result either way.
    return run_state(summary, summary.as_counts())


async def run_monitor(**parameters: Any) -> RunCounts:
    """Run a monitor pass (``monitor_feeds`` with these parameters) and return its counts,
    whether it completed or every feed failed; any other failure of the run raises.

    The run's Prefect clients use the process's TLS context (``context.prefect_clients``):
    a process that runs a pass per event loop loads the CA bundle once, not twice a pass."""
    async with context.prefect_clients():
        state = await monitor_feeds(**parameters, return_state=True)
    wanted = not (state.is_failed() and state.name == ALL_FEEDS_FAILED)
    # Prefect types a result as "whatever the flow returned"; this flow returns RunCounts.
    return cast(RunCounts, await state.aresult(raise_on_failure=wanted))


async def _prepare_batch(
    batch: list[FeedForUpdate],
    fetcher: Fetcher,
    cpu: CpuPool,
    settings: Settings,
    summary: RunSummary,
    pages_wanted: bool,
    ready: FeedStream,
    limits: Limits,
) -> None:
    """Fetch a batch, parse what changed and, if wanted, fetch new items' pages; each feed
    goes on to ``ready`` as soon as nothing more is to be done for it."""
    polled = await _timed(summary, "fetch feeds", _fetch_batch(batch, fetcher, settings, limits))
    changed = needing_parse(polled)  # a pass of 304s runs no parse task at all
    parsing = {id(item) for item in changed}
    for item in polled:
        if id(item) not in parsing:
            ready.put(item)
    if not changed:
        return
    if not pages_wanted:
        parse = parse_feeds(changed, cpu, ready.put, limits)
        await _timed(summary, "parse+tag", parse)
        return
    parsed = FeedStream([item.feed for item in changed], in_order=False)
    pages = fetch_pages_task(
        quoted(parsed), fetcher, cpu, settings.page_min_words, quoted(ready), limits
    )
    parse = parse_feeds(changed, cpu, parsed.put, limits, settings.page_min_words)
    _, counts = await _together(
        _timed(summary, "parse+tag", parse),
        _timed(summary, "fetch pages+extract", pages),
    )
    summary.pages_fetched += counts.fetched
    summary.pages_left += counts.left


async def _fetch_batch(
    feeds: list[FeedForUpdate], fetcher: Fetcher, settings: Settings, limits: Limits
) -> list[Polled]:
    polled = await fetch_feeds(quoted(feeds), fetcher, settings.fetch_retry_delays, limits)
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
    return await fetch_feeds(quoted(feeds), fetcher, settings.fetch_retry_delays, limits)


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
        summary.feeds_with(PollOutcome.FAILED),
        summary.counts.new_articles,
        summary.counts.new_versions,
        summary.counts.alerts,
    )
    for feed in summary.feeds:
        if feed.outcome == PollOutcome.FAILED:
            logger.warning("feed %r failed: %s", feed.name, clean(feed.error))
        elif feed.left:
            logger.warning(
                "feed %r: %d new items left for the next pass (more than %d in one pass, "
                "VIGIE_MAX_NEW_ITEMS_PER_FEED)",
                feed.name,
                feed.left,
                get_settings().max_new_items_per_feed,
            )
    if backfilled := summary.counts.backfilled:
        logger.info(
            "%d backfilled without alerts (published before their feed was added)", backfilled
        )
    if flooded := summary.counts.flooded:
        logger.warning(
            "%d new relevant articles in flood alerts (more than %d from one feed in one pass, "
            "VIGIE_ALERT_FLOOD_ITEMS)",
            flooded,
            get_settings().alert_flood_items,
        )
    if postponed := summary.feeds_with(PollOutcome.POSTPONED):
        logger.warning("%d feeds not polled: %s; they stay due", postponed, _deadline_reason())
    if summary.pages_left:
        logger.warning(
            "%d article pages left to a re-check (page cap per feed, or the pass deadline)",
            summary.pages_left,
        )
