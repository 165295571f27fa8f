"""Run summaries: counted during a run, shown as Prefect artifacts and in the CLI.

What a run publishes:

* ``<kind>-summary`` (markdown), its one summary, in the order a reader needs it: what went
  wrong in a line, the new relevant stories (each title a link, topics as labels), feeds
  that failed, health changes, what was left for the next pass, counts, time per stage;
* ``<kind>-progress`` (progress): how far a long pass has got, while it runs.

The run also says what happened where the runs list shows it: its final name
(``monitor 06:32:10 · 3 new · 1 relevant``) and its state (FAILED as "All feeds failed" when
every feed failed; a message naming the failed feeds when some did).

Feed-supplied text is untrusted: everything that reaches markdown goes through ``md_line``,
every table cell through ``md_cell``, and a link only leaves as ``artifact_link`` (the
artifact forms in ``parsers.inert``, where all of Vigie's escaping lives).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import NotRequired, TypedDict
from uuid import UUID

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    aupdate_progress_artifact,
)
from prefect.client.schemas.objects import State
from prefect.context import get_run_context
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed

from db.intents import ArticleIntent, PollOutcome, StoreCounts
from db.watches import WatchHit
from parsers.inert import artifact_link, clean, md_cell, md_line
from parsers.schedule import Health
from parsers.text import counted

#: How many of a run's new relevant stories its log names.
TOP_STORIES = 3
# Run kinds that poll feeds; the others (seeds) have no feed lines to show.
_FEED_KINDS = frozenset({"monitor"})


def display_zone() -> tzinfo:
    """The time zone of every time a run shows (its name, its summary)."""
    from flows.settings import get_settings

    return get_settings().zone


def topics_text(topics: Sequence[str]) -> str:
    """An article's topics as labels, its primary topic leading: "Asylum …; also Visas …"."""
    labels = _topic_labels()
    names = [labels.get(key) or key.replace("_", " ") for key in topics]
    if len(names) <= 1:
        return "".join(names)
    return f"{names[0]}; also {', '.join(names[1:])}"


def _topic_labels() -> dict[str, str]:
    from flows import context
    from flows.settings import get_settings
    from parsers.exceptions import VigieError

    try:
        taxonomy = context.taxonomy_at(get_settings().resolved_taxonomy_path)
    except VigieError:
        return {}  # the run reports the taxonomy's error itself; keys still read
    return {concept.key: concept.label_en for concept in taxonomy.of_kind("topic")}


@dataclass(frozen=True)
class FeedReport:
    """What happened to one feed in a run."""

    feed_id: int
    name: str
    url: str
    outcome: PollOutcome
    entries: int = 0
    error: str | None = None
    health_before: Health = "healthy"
    health_after: Health = "healthy"
    #: New items left for the next pass by the per-feed cap.
    left: int = 0

    @property
    def health_changed(self) -> bool:
        """True when this run moved the feed to another health state."""
        return self.health_before != self.health_after


@dataclass(frozen=True)
class NewArticle:
    """A new relevant article, as listed in the run summary."""

    id: int
    title: str
    source: str
    topics: tuple[str, ...]
    url: str
    #: The tagger's relevance score; orders the top stories (0 when the caller did not say).
    relevance: float = 0.0


def new_relevant_articles(
    counts: StoreCounts, intents: Iterable[ArticleIntent]
) -> list[NewArticle]:
    """The relevant articles a store created, described for the run summary."""
    by_url = {intent.canonical_url: intent for intent in intents}
    return [
        NewArticle(
            article_id,
            by_url[url].title,
            by_url[url].source,
            by_url[url].tags.topics,
            url,
            by_url[url].tags.score,
        )
        for article_id, url in counts.new_relevant
    ]


class RunCounts(TypedDict):
    """What a monitor or seed run counted: the flow's return value, read by the CLI."""

    feeds_polled: int
    feeds_fetched: int
    feeds_not_modified: int
    feeds_unchanged_body: int
    feeds_failed: int
    feeds_postponed: int
    items_left: int
    in_feed_duplicates: int
    pages_fetched: int
    pages_left: int
    new_articles: int
    new_versions: int
    unchanged: int
    duplicates: int
    suspect: int
    alerts: int
    near_duplicates: int
    backfilled: int
    joined_stories: int
    flooded: int
    watched: int
    stage_seconds: dict[str, float]
    #: Alerts the run delivered as it ended (absent when it delivered none: no channel).
    alerts_sent: NotRequired[int]
    #: Which feeds failed and why, in one line (absent when none did).
    failures: NotRequired[str]


@dataclass
class RunSummary:
    """Counts and timings of one monitor or seed run."""

    kind: str
    started_at: datetime
    feeds: list[FeedReport] = field(default_factory=list)
    counts: StoreCounts = field(default_factory=StoreCounts)
    in_feed_duplicates: int = 0
    #: Article pages fetched for summary-only entries.
    pages_fetched: int = 0
    #: Article pages left to a re-check (per-feed page cap, or the pass deadline).
    pages_left: int = 0
    new_relevant: list[NewArticle] = field(default_factory=list)
    #: Seconds spent per stage (fetch, parse+tag, store).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    finished_at: datetime | None = None
    #: Alerts this run delivered and gave up on; None for runs that only write alerts to the
    #: outbox (monitor, seeds), which ``deliver-alerts`` then sends.
    alerts_sent: int | None = None
    alerts_failed: int | None = None

    def feeds_with(self, outcome: PollOutcome) -> int:
        """How many feeds ended with ``outcome``."""
        return sum(1 for feed in self.feeds if feed.outcome == outcome)

    def add_stage_time(self, stage: str, seconds: float) -> None:
        """Add time spent in a stage."""
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def health_changes(self) -> list[FeedReport]:
        """The feeds whose health this run changed."""
        return [feed for feed in self.feeds if feed.health_changed]

    def top_stories(self, n: int = TOP_STORIES) -> list[NewArticle]:
        """The ``n`` most relevant new articles (ties keep the order they were found in)."""
        return sorted(self.new_relevant, key=lambda a: -a.relevance)[:n]

    def as_counts(self) -> RunCounts:
        """Flat counts: what the flow returns, and JSON output."""
        counts = self.counts
        result: RunCounts = {
            "feeds_polled": len(self.feeds) - self.feeds_with(PollOutcome.POSTPONED),
            "feeds_fetched": self.feeds_with(PollOutcome.FETCHED),
            "feeds_not_modified": self.feeds_with(PollOutcome.NOT_MODIFIED),
            "feeds_unchanged_body": self.feeds_with(PollOutcome.UNCHANGED_BODY),
            "feeds_failed": self.feeds_with(PollOutcome.FAILED),
            "feeds_postponed": self.feeds_with(PollOutcome.POSTPONED),
            "items_left": sum(feed.left for feed in self.feeds),
            "in_feed_duplicates": self.in_feed_duplicates,
            "pages_fetched": self.pages_fetched,
            "pages_left": self.pages_left,
            "new_articles": counts.new_articles,
            "new_versions": counts.new_versions,
            "unchanged": counts.unchanged,
            "duplicates": counts.duplicates,
            "suspect": counts.suspect,
            "alerts": counts.alerts,
            "near_duplicates": counts.near_duplicates,
            "backfilled": counts.backfilled,
            "joined_stories": counts.joined_stories,
            "flooded": counts.flooded,
            "watched": len(counts.watched),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }
        if self.alerts_sent is not None:
            result["alerts_sent"] = self.alerts_sent
        if line := outcome_line(self):
            result["failures"] = line
        return result


# --- the markdown summary --------------------------------------------------------------------


def summary_markdown(summary: RunSummary) -> str:
    """The run's one summary, in the order a reader needs it: what the run found, what went
    wrong, what was left, then the counts and the time per stage."""
    lines = [f"# Vigie {summary.kind} run", "", _when(summary), ""]
    if outcome := outcome_line(summary):
        lines += [f"**{md_line(outcome, 600)}**", ""]
    for section in (
        _new_relevant_section,
        _failures_section,
        _health_section,
        _left_section,
        _watches_section,
        _totals_section,
        _timing_section,
    ):
        lines += section(summary)
    return "\n".join(lines)


def _when(summary: RunSummary) -> str:
    started = f"Started {summary.started_at.astimezone(display_zone()):%Y-%m-%d %H:%M:%S %Z}"
    if summary.finished_at is None:
        return started + "."
    took = (summary.finished_at - summary.started_at).total_seconds()
    return f"{started}, took {took:.1f} s."


def _totals_section(summary: RunSummary) -> list[str]:
    lines = ["## Counts", "", "| | count |", "|---|---:|"]
    lines += [f"| {label} | {value} |" for label, value in _totals(summary)]
    return [*lines, ""]


def _totals(summary: RunSummary) -> list[tuple[str, object]]:
    c = summary.counts
    rows: list[tuple[str, object]] = []
    if summary.kind in _FEED_KINDS:
        rows += _feed_totals(summary)
    rows += [
        ("new articles", c.new_articles),
        ("new relevant articles", len(summary.new_relevant)),
        ("new versions", c.new_versions),
        ("duplicates dropped", c.duplicates + summary.in_feed_duplicates),
        *_cluster_totals(c),
        ("new articles that joined a story (named in its alert)", c.joined_stories),
        ("backfilled without alerts (published before the feed was added)", c.backfilled),
        ("new articles in one flood alert (more than VIGIE_ALERT_FLOOD_ITEMS)", c.flooded),
        ("extractions not trusted (consent wall, shrank, churn)", c.suspect),
        ("alerts created", c.alerts),
        ("alerts sent", _delivery_count(summary.alerts_sent)),
        ("alerts failed", _delivery_count(summary.alerts_failed)),
    ]
    return rows


def _feed_totals(summary: RunSummary) -> list[tuple[str, object]]:
    postponed = summary.feeds_with(PollOutcome.POSTPONED)
    unchanged = summary.feeds_with(PollOutcome.NOT_MODIFIED)
    unchanged += summary.feeds_with(PollOutcome.UNCHANGED_BODY)
    return [
        ("feeds polled", len(summary.feeds) - postponed),
        ("feeds with new content", summary.feeds_with(PollOutcome.FETCHED)),
        ("feeds unchanged (304 or same body)", unchanged),
        ("feeds failed", summary.feeds_with(PollOutcome.FAILED)),
        ("feeds not polled (pass deadline; due next pass)", postponed),
        ("new items left for the next pass (per-feed cap)", sum(f.left for f in summary.feeds)),
        ("feed health changes", len(summary.health_changes())),
        ("article pages fetched", summary.pages_fetched),
        ("article pages left to a re-check (page cap, deadline)", summary.pages_left),
    ]


def _cluster_totals(counts: StoreCounts) -> list[tuple[str, object]]:
    # Story clustering may add counts such as ``clusters`` or ``clusters_joined`` to
    # StoreCounts; each one found gets its line, so the summary follows without an edit here.
    return [
        (name.replace("_", " "), value)
        for name, value in asdict(counts).items()
        if name.startswith("cluster") and isinstance(value, int)
    ]


def _delivery_count(value: int | None) -> str:
    # Runs that did not deliver only queue alerts; saying "0 sent" would read as a failure.
    return str(value) if value is not None else "— (by deliver-alerts)"


def _failures_section(summary: RunSummary) -> list[str]:
    failed = [feed for feed in summary.feeds if feed.outcome == PollOutcome.FAILED]
    if not failed:
        return []
    lines = ["## Feeds that failed", "", "| feed | reason | health |", "|---|---|---|"]
    lines += [
        f"| {md_cell(f.name, 80)} | {md_cell(f.error or '', 200)} | {md_cell(f.health_after, 40)} |"
        for f in failed
    ]
    return [*lines, ""]


def _health_section(summary: RunSummary) -> list[str]:
    changes = summary.health_changes()
    if not changes:
        return []
    lines = ["## Feed health changes", "", "| feed | change | reason |", "|---|---|---|"]
    lines += [
        f"| {md_cell(f.name, 80)} | {md_cell(f.health_before, 40)} → "
        f"{md_cell(f.health_after, 40)} | "
        f"{md_cell(f.error or 'polled successfully', 200)} |"
        for f in changes
    ]
    return [*lines, ""]


def _left_section(summary: RunSummary) -> list[str]:
    postponed = PollOutcome.POSTPONED
    left = [feed for feed in summary.feeds if feed.outcome == postponed or feed.left]
    if not left:
        return []
    lines = ["## Left for the next pass", "", "| feed | what is left |", "|---|---|"]
    lines += [
        f"| {md_cell(f.name, 80)} | "
        f"{md_cell(f.error or '', 200) if f.outcome == 'postponed' else _items_left(f.left)} |"
        for f in left
    ]
    return [*lines, ""]


def _items_left(count: int) -> str:
    setting = md_line("VIGIE_MAX_NEW_ITEMS_PER_FEED")
    return f"{count} new items, over the per-feed cap of one pass ({setting})"


def _new_relevant_section(summary: RunSummary) -> list[str]:
    if not summary.new_relevant:
        return ["No new relevant article.", ""]
    # A list, not a table: the lines wrap, so no link column can be cut off by a narrow
    # window (Prefect's UI scrolls a wide table sideways). The link's text is a fixed word:
    # Prefect's UI shows a link text's escapes as written, but renders them in bold text.
    lines = [f"## New relevant articles ({len(summary.new_relevant)})", ""]
    lines += [
        f"- **{md_line(a.title or '(untitled)', 160)}** · {md_line(a.source, 60)} · "
        f"{md_line(topics_text(a.topics), 200) or 'no topic'} · {open_link(a.url)}"
        f"`vigie show {a.id}`"
        for a in sorted(summary.new_relevant, key=lambda a: -a.relevance)
    ]
    return [*lines, ""]


def open_link(url: str | None) -> str:
    """``[open](url) · `` for a URL that may be linked, else nothing."""
    link = artifact_link(url) if url else None
    return f"[open]({link}) · " if link else ""


def _watches_section(summary: RunSummary) -> list[str]:
    """Each watch that matched in this run, with its articles linked."""
    if not summary.counts.watched:
        return []
    by_watch: dict[str, list[WatchHit]] = {}
    for hit in summary.counts.watched:
        by_watch.setdefault(hit.watch, []).append(hit)
    lines = ["## Watches that matched", ""]
    for watch, hits in by_watch.items():
        lines.append(f"- **{md_line(watch, 80)}** ({len(hits)})")
        lines += [
            f"  - {_linked(hit.title, hit.url)} `vigie show {hit.article_id}`" for hit in hits
        ]
    return [*lines, ""]


def _linked(title: str, url: str) -> str:
    link = artifact_link(url)
    text = md_line(title, 160) or "(untitled)"
    return f"[{text}]({link})" if link else text


def _timing_section(summary: RunSummary) -> list[str]:
    if not summary.stage_seconds:
        return []
    total = sum(summary.stage_seconds.values())
    lines = [
        "## Time per stage",
        "",
        # Without this, a reader would take the sum for the run's length and wonder.
        "Stages overlap: each feed moves on as soon as it is through one, so some feeds are "
        "stored while others are still fetched and parsed, and the stages add up to more "
        "than the run took.",
        "",
        "| stage | seconds | share |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {md_line(stage, 60)} | {seconds:.2f} | {_share(seconds, total)} |"
        for stage, seconds in summary.stage_seconds.items()
    ]
    return [*lines, f"| sum of stages | {total:.2f} | |", ""]


def _share(part: float, total: float) -> str:
    return f"{100 * part / total:.0f} %" if total > 0 else "–"


# --- what the run says about itself: state, name ---------------------------------------------

#: The state of a pass in which every feed polled failed: a FAILED state of its own name, so
#: that the runs list and the dashboard count it as not OK and say why at a glance.
ALL_FEEDS_FAILED = "All feeds failed"
#: Failed feeds named in a state message; the summary artifact lists every one.
_NAMED_FAILURES = 3


def outcome_line(summary: RunSummary) -> str:
    """What went wrong with the feeds, in one line ("" when nothing did): the state message."""
    polled = [feed for feed in summary.feeds if feed.outcome != PollOutcome.POSTPONED]
    failed = [feed for feed in polled if feed.outcome == PollOutcome.FAILED]
    if not failed:
        return ""
    if len(failed) < len(polled):
        head = f"{len(failed)} of {len(polled)} feeds failed"
    else:
        head = (
            f"all {len(polled)} feeds failed" if len(polled) > 1 else "the one feed polled failed"
        )
    named = "; ".join(
        f"{clean(f.name, 60)}: {clean(f.error, 120)}" for f in failed[:_NAMED_FAILURES]
    )
    more = len(failed) - _NAMED_FAILURES
    rest = f"; and {more} more (see the run summary or `vigie feeds list`)" if more > 0 else ""
    return f"{head[0].upper()}{head[1:]}: {named}{rest}"


def run_state(summary: RunSummary, result: RunCounts) -> State:
    """The pass's final state, carrying ``result``: FAILED (named ``ALL_FEEDS_FAILED``) when
    every feed polled failed; otherwise COMPLETED, saying in its message which feeds failed."""
    message = outcome_line(summary) or None
    polled = len(summary.feeds) - summary.feeds_with(PollOutcome.POSTPONED)
    if polled and summary.feeds_with(PollOutcome.FAILED) == polled:
        return Failed(name=ALL_FEEDS_FAILED, message=message, data=result)
    return Completed(message=message, data=result)


def run_title(kind: str, started_at: datetime, found: Sequence[str] = ()) -> str:
    """A run's name: kind, start time to the second, then what it found
    (``monitor 06:32:10 · 3 new · 1 relevant``)."""
    local = started_at.astimezone(display_zone())
    return " · ".join([f"{kind} {local:%H:%M:%S}", *found])


def monitor_findings(summary: RunSummary) -> list[str]:
    """What a monitor pass found, for its name."""
    found = [f"{summary.counts.new_articles} new", f"{len(summary.new_relevant)} relevant"]
    if summary.counts.new_versions:
        found.append(counted(summary.counts.new_versions, "edit"))
    polled = len(summary.feeds) - summary.feeds_with(PollOutcome.POSTPONED)
    if failed := summary.feeds_with(PollOutcome.FAILED):
        found.append(f"{failed} of {polled} feeds failed")
    return found


#: What a run's name says of its findings while it runs.
RUNNING = ("running",)


def run_name(prefix: str) -> Callable[[], str]:
    """A flow-run namer: ``monitor 14:15:02 · running`` until the run renames itself with
    what it found (``rename_run``)."""

    def name() -> str:
        return run_title(prefix, datetime.now(UTC), RUNNING)

    return name


async def rename_run(name: str) -> None:
    """Give the current flow run this name; outside a run, or if the API refuses, nothing
    changes (a name is not worth failing a run for).

    The run's own copy is renamed too: it is what the flow's failure hooks see (the
    ``run_failed`` alert names the run), as when Prefect names a run by ``flow_run_name``.
    """
    if not in_prefect_run():
        return
    from prefect.client.orchestration import get_client

    context = get_run_context()
    flow_run = getattr(context, "flow_run", None)
    if flow_run is None:
        return
    try:
        async with get_client() as client:
            await client.update_flow_run(flow_run.id, name=name)
        flow_run.name = name
    except Exception as exc:  # the API is down or refuses: the run keeps its first name
        get_run_logger().warning("could not rename the run to %r: %s", name, clean(exc))


async def publish_artifacts(summary: RunSummary, key_prefix: str) -> None:
    """Attach the summary to the current Prefect run, and name its top stories in the log."""
    if not in_prefect_run():
        return
    await acreate_markdown_artifact(
        summary_markdown(summary), key=f"{key_prefix}-summary", description="Run summary"
    )
    _log_top_stories(summary)


def _log_top_stories(summary: RunSummary) -> None:
    # The run page opens on its logs: name the top stories there too, one line each.
    logger = get_run_logger()
    for rank, article in enumerate(summary.top_stories(), start=1):
        logger.info(
            "top story %d: %s (%s) %s",
            rank,
            clean(article.title, 160),
            clean(article.source, 60),
            clean(article.url, 300),
        )


class ProgressReporter:
    """A progress artifact that shows how far a long pass has got, while it runs.

    ``await start(total)`` creates it at 0 %; ``await advance(done)`` moves it after each
    batch. Outside a Prefect run both do nothing, so flows can call them unconditionally.
    Each update is a request to the API (~25 ms): between the first and the last, at most one
    every ``every_seconds`` is sent, so a quick pass of many small batches does not pay for
    a progress bar nobody had time to watch.

    With ``after_seconds``, ``start`` creates the artifact only once the pass has run that
    long, at how far it has got by then: a pass done sooner (a re-run of 304s, a small pass)
    shows no bar, which nobody could have watched and which the run's final state and
    summary make redundant; it spares the pass two requests to the API. ``advance`` need not
    wait for ``start``.
    """

    def __init__(
        self,
        key: str,
        unit: str = "items",
        every_seconds: float = 2.0,
        after_seconds: float = 0.0,
    ) -> None:
        self.key = key
        self.unit = unit
        self.every_seconds = every_seconds
        self.after_seconds = after_seconds
        self.total = 0
        self.done = 0
        self._artifact_id: UUID | None = None
        self._sent_at = 0.0
        self._finished = asyncio.Event()
        # Updates go one at a time, each with the latest count: the last one sent is the
        # furthest, even when ``start`` catches up while a batch ends.
        self._sending = asyncio.Lock()

    async def start(self, total: int) -> None:
        """Create the artifact for a pass over ``total`` items (see ``after_seconds``)."""
        self.total = total
        if not in_prefect_run():
            return
        if self.after_seconds > 0 and await self._finishes_within(self.after_seconds):
            return
        shown = self.done
        self._artifact_id = await acreate_progress_artifact(
            self._percent(shown), key=self.key, description=self._description(shown)
        )
        self._sent_at = time.monotonic()
        if self.done != shown:  # the pass moved on while the artifact was being created
            await self._send()

    async def _finishes_within(self, seconds: float) -> bool:
        if self.done < self.total:
            with suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._finished.wait()
        return self.done >= self.total

    async def advance(self, done: int) -> None:
        """Record that ``done`` of the ``total`` items are finished."""
        self.done = done
        finished = done >= self.total
        if finished:
            self._finished.set()
        if self._artifact_id is None:
            return
        if not finished and time.monotonic() - self._sent_at < self.every_seconds:
            return
        await self._send()

    async def _send(self) -> None:
        assert self._artifact_id is not None, "created by start"
        async with self._sending:
            done = self.done
            await aupdate_progress_artifact(
                self._artifact_id, self._percent(done), description=self._description(done)
            )
            self._sent_at = time.monotonic()

    def _percent(self, done: int) -> float:
        # An empty pass is complete from the start, not stuck at 0 %.
        return 100.0 if self.total <= 0 else min(100.0, 100.0 * done / self.total)

    def _description(self, done: int) -> str:
        return f"{min(done, self.total)} of {self.total} {self.unit} done"


def in_prefect_run() -> bool:
    """True inside a flow or task run (artifacts need one; plain function calls have none)."""
    try:
        get_run_context()
    except RuntimeError:
        return False
    return True
