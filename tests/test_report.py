"""Run summaries and artifacts: what they count, what they link, and that feed text is inert."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from db.intents import StoreCounts
from flows.report import (
    ALL_FEEDS_FAILED,
    FeedReport,
    NewArticle,
    ProgressReporter,
    RunSummary,
    monitor_findings,
    publish_artifacts,
    run_state,
    run_title,
    summary_markdown,
)
from parsers.inert import artifact_link
from tests.inert_markdown import (
    HOSTILE_FEED_NAME,
    HOSTILE_TITLE,
    assert_inert,
    render,
    visible_text,
)

STARTED = datetime(2026, 11, 21, 14, 15, tzinfo=UTC)


def _article(
    n: int,
    relevance: float = 0.0,
    title: str = "",
    url: str = "",
    topics: tuple[str, ...] = ("asylum_refugees",),
) -> NewArticle:
    return NewArticle(
        id=n,
        title=title or f"Story {n}",
        source="Outlet",
        topics=topics,
        url=url or f"https://news.example/{n}",
        relevance=relevance,
    )


def _summary(**changes: object) -> RunSummary:
    summary = RunSummary(
        kind="monitor", started_at=STARTED, finished_at=STARTED + timedelta(seconds=2)
    )
    summary.feeds = [
        FeedReport(1, "Good feed", "https://a.example/rss", "fetched", entries=3),
        FeedReport(2, "Same feed", "https://b.example/rss", "not_modified"),
        FeedReport(
            3,
            HOSTILE_FEED_NAME,
            "https://c.example/rss",
            "failed",
            error="HTTP 404 | <b>gone</b>",
            health_after="degraded",
        ),
    ]
    summary.counts = StoreCounts(new_articles=4, new_versions=1, duplicates=2, alerts=3)
    summary.new_relevant = [_article(1, 0.5, HOSTILE_TITLE), _article(2, 0.9)]
    summary.stage_seconds = {"fetch feeds": 0.3, "store": 0.1}
    for name, value in changes.items():
        setattr(summary, name, value)
    return summary


def _totals(markdown: str) -> dict[str, str]:
    rows = (line.strip("|").split("|") for line in markdown.splitlines() if line.count("|") == 3)
    return {label.strip(): value.strip() for label, value in rows}


def test_summary_counts_feeds_articles_alerts_and_time_per_stage() -> None:
    markdown = summary_markdown(_summary())
    totals = _totals(markdown)

    assert totals["feeds polled"] == "3"
    assert totals["feeds unchanged (304 or same body)"] == "1"
    assert totals["feeds failed"] == "1"
    assert totals["feed health changes"] == "1"
    assert totals["new articles"] == "4"
    assert totals["new relevant articles"] == "2"
    assert totals["new versions"] == "1"
    assert totals["duplicates dropped"] == "2"
    assert totals["alerts created"] == "3"
    assert totals["alerts sent"].startswith("—")  # a monitor run only queues alerts
    assert "took 2.0 s" in markdown
    assert "| fetch feeds | 0.30 | 75 % |" in markdown and "| sum of stages | 0.40 | |" in markdown


def test_delivery_counts_are_shown_when_the_run_delivered() -> None:
    totals = _totals(summary_markdown(_summary(alerts_sent=5, alerts_failed=1)))
    assert (totals["alerts sent"], totals["alerts failed"]) == ("5", "1")


@dataclass
class _CountsWithClusters(StoreCounts):
    clusters: int = 0


def test_a_clusters_count_gets_its_line_when_the_counts_have_one() -> None:
    assert "clusters" not in _totals(summary_markdown(_summary()))
    with_clusters = _summary(counts=_CountsWithClusters(new_articles=1, clusters=2))
    assert _totals(summary_markdown(with_clusters))["clusters"] == "2"


def test_seed_runs_show_no_feed_lines() -> None:
    totals = _totals(summary_markdown(_summary(kind="seed", feeds=[])))
    assert "feeds polled" not in totals and totals["new articles"] == "4"


def test_feed_text_is_inert_in_the_summary() -> None:
    markdown = summary_markdown(_summary())
    assert_inert(markdown, HOSTILE_TITLE, HOSTILE_FEED_NAME, "HTTP 404 | <b>gone</b>")


def test_titles_and_cells_are_inert_as_markdown_and_html() -> None:
    # Prefect's UI renders the summary as markdown: a title may not add a cell or a link.
    markdown = summary_markdown(_summary(new_relevant=[_article(1, title=HOSTILE_TITLE)]))
    assert "\\<script\\>alert(1)\\</script\\> \\[x\\]" in markdown
    assert_inert(markdown, HOSTILE_TITLE, HOSTILE_FEED_NAME, "HTTP 404 | <b>gone</b>")
    assert " · Asylum seekers and refugees · " in markdown  # the label, not the key
    assert "healthy → degraded" in markdown


def _section_order(markdown: str) -> list[str]:
    return [line[3:].split(" (")[0] for line in markdown.splitlines() if line.startswith("## ")]


def test_one_summary_leads_with_what_the_run_found_then_what_went_wrong() -> None:
    summary = _summary()
    summary.new_relevant += [_article(3, 0.7, url="javascript:alert(1)")]
    markdown = summary_markdown(summary)
    assert _section_order(markdown) == [
        "New relevant articles",
        "Feeds that failed",
        "Feed health changes",
        "Counts",
        "Time per stage",
    ]
    page = render(markdown)
    # Each story has its link on its line, most relevant first; what may not be linked has
    # none. The titles are bold text, whose escapes Prefect's UI reads (not a link's text).
    items = re.findall(r"<li><strong>(.*?)</strong>(.*?)</li>", page)
    assert [title for title, _ in items][:2] == ["Story 2", "Story 3"]
    links = [re.findall(r'<a href="([^"]*)">open</a>', rest) for _, rest in items]
    assert links == [["https://news.example/2"], [], ["https://news.example/1"]]
    assert "Story 3" in visible_text(page)
    # The failure is said first, with its reason.
    assert "**1 of 3 feeds failed:" in markdown


def test_a_pass_in_which_every_feed_failed_ends_failed_with_the_reasons() -> None:
    failed = [
        FeedReport(n, f"Outlet {n}", f"https://{n}.example/rss", "failed", error=f"no {n}")
        for n in range(1, 6)
    ]
    state = run_state(_summary(feeds=failed), {"feeds_failed": 5})
    assert state.is_failed() and state.name == ALL_FEEDS_FAILED
    assert state.message == (
        "All 5 feeds failed: Outlet 1: no 1; Outlet 2: no 2; Outlet 3: no 3; and 2 more "
        "(see the run summary or `vigie feeds list`)"
    )
    partial = run_state(_summary(), {})
    assert partial.is_completed() and partial.message is not None
    assert partial.message.startswith("1 of 3 feeds failed: Gone | feed: HTTP 404")
    fine = run_state(_summary(feeds=[FeedReport(1, "A", "https://a.example/", "fetched")]), {})
    assert fine.is_completed() and not fine.message
    # A pass the deadline cut before any poll has nothing failed: not a failed run.
    postponed = [FeedReport(1, "A", "https://a.example/", "postponed")]
    assert run_state(_summary(feeds=postponed), {}).is_completed()


def test_run_names_say_when_to_the_second_and_what_was_found() -> None:
    name = run_title("monitor", STARTED, monitor_findings(_summary()))
    # 14:15 UTC is 09:15 in Toronto (the default display time zone).
    assert name == "monitor 09:15:00 · 4 new · 2 relevant · 1 edit · 1 of 3 feeds failed"
    later = run_title("monitor", STARTED + timedelta(seconds=1), ["0 new", "0 relevant"])
    assert later == "monitor 09:15:01 · 0 new · 0 relevant"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/x?a=1&b=2#c", "https://news.example/x?a=1&b=2#c"),
        ("HTTP://news.example/x", "HTTP://news.example/x"),
        ("https://news.example/x)<img src=y>", "https://news.example/x%29%3Cimg%20src=y%3E"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,hi", None),
        ("/relative/path", None),
    ],
)
def test_safe_link(url: str, expected: str | None) -> None:
    result = artifact_link(url)
    if expected is None:
        assert result is None
    else:
        assert result is not None and result.lower() == expected.lower()


def test_progress_and_artifacts_do_nothing_outside_a_prefect_run() -> None:
    async def outside() -> None:
        progress = ProgressReporter("monitor-progress", unit="feeds")
        await progress.start(10)
        await progress.advance(5)
        await publish_artifacts(_summary(), "monitor")

    asyncio.run(outside())  # no run context: no API call, no error


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_artifacts_read_back_through_the_api_are_inert_and_complete() -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.context import get_run_context

    @flow(name="report-artifacts-test")
    async def publish() -> str:
        progress = ProgressReporter("test-progress", unit="feeds")
        await progress.start(4)
        await progress.advance(2)
        await progress.advance(4)
        await publish_artifacts(_summary(), "test")
        return str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    async def read_back(run_id: str) -> dict[str, object]:
        only_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(run_id)]))
        async with get_client() as client:
            artifacts = await client.read_artifacts(artifact_filter=only_run)
        return {a.key: a.data for a in artifacts if a.key}

    artifacts = asyncio.run(read_back(asyncio.run(publish())))

    # One summary (and the progress bar): no cards of one link each.
    assert set(artifacts) == {"test-summary", "test-progress"}
    assert_inert(str(artifacts["test-summary"]), HOSTILE_TITLE, HOSTILE_FEED_NAME)
    assert "- **Story 2** · Outlet · " in str(artifacts["test-summary"])
    assert "[open](https://news.example/2)" in str(artifacts["test-summary"])
    assert artifacts["test-progress"] == 100.0


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_progress_sends_at_most_one_update_per_interval_then_the_last() -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.context import get_run_context

    async def shown(key: str) -> object:
        run_id = get_run_context().flow_run.id  # type: ignore[union-attr]
        only_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        async with get_client() as client:
            artifacts = await client.read_artifacts(artifact_filter=only_run)
        return next(a.data for a in artifacts if a.key == key)

    @flow(name="progress-throttle-test")
    async def pass_of_four() -> list[object]:
        slow = ProgressReporter("slow-progress", every_seconds=3600)
        eager = ProgressReporter("eager-progress", every_seconds=0)
        seen = []
        for progress in (slow, eager):
            await progress.start(4)
            await progress.advance(2)
            seen.append(await shown(progress.key))
        await slow.advance(4)
        seen.append(await shown(slow.key))
        return seen

    # Within the interval the bar stays where it was; the last update always goes out.
    assert asyncio.run(pass_of_four()) == [0.0, 50.0, 100.0]


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_a_delayed_progress_bar_shows_only_for_a_pass_that_lasts() -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.context import get_run_context

    async def shown() -> dict[str | None, object]:
        run_id = get_run_context().flow_run.id  # type: ignore[union-attr]
        only_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        async with get_client() as client:
            return {a.key: a.data for a in await client.read_artifacts(artifact_filter=only_run)}

    @flow(name="progress-delay-test")
    async def two_passes() -> list[dict[str | None, object]]:
        quick = ProgressReporter("quick-progress", after_seconds=3600)
        started = asyncio.ensure_future(quick.start(4))
        await quick.advance(2)
        await quick.advance(4)
        await asyncio.wait_for(started, 5)  # the end of the pass ends the wait
        lasting = ProgressReporter("lasting-progress", every_seconds=0, after_seconds=0.2)
        started = asyncio.ensure_future(lasting.start(4))
        await lasting.advance(1)
        await asyncio.sleep(1)  # past the delay: the bar appears where the pass is
        during = await shown()
        await lasting.advance(4)
        await started
        return [during, await shown()]

    during, after = asyncio.run(two_passes())
    assert during == {"lasting-progress": 25.0}
    assert after == {"lasting-progress": 100.0}


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_a_renamed_run_is_named_so_in_its_failure_hooks_too() -> None:
    from prefect import flow

    from flows.report import rename_run

    seen: list[str] = []

    def hook(flow: Any, flow_run: Any, state: Any) -> None:
        seen.append(flow_run.name)

    @flow(name="rename-then-fail-test", on_failure=[hook])
    async def fails() -> None:
        await rename_run("monitor 09:15:00 · running")
        raise RuntimeError("boom")

    state: Any = asyncio.run(fails(return_state=True))  # type: ignore[arg-type]
    assert state.is_failed() and seen == ["monitor 09:15:00 · running"]


def test_topics_read_as_labels_with_the_primary_topic_first() -> None:
    primary_first = ("jurisdiction", "asylum_refugees", "visas")
    summary = _summary(new_relevant=[_article(1, topics=primary_first)])
    assert (
        " · Federal-provincial powers over immigration; also Asylum seekers and refugees, "
        "Visas and travel authorisations · "
    ) in summary_markdown(summary)
