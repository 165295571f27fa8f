"""End to end through a real Prefect server: loopback feeds -> monitor_feeds -> database."""

from __future__ import annotations

import asyncio
import gc
import re
import ssl
import weakref
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db import repo
from db.models import Alert, Article, ArticleVersion, Entry, Feed, Fetch
from flows import context
from flows.monitor import FeedStream, Polled, monitor_feeds, run_monitor
from tests.alerting import Receiver
from tests.loopback import LoopbackServer, Response
from tests.test_cpu_pool import FEED

FEEDS = Path(__file__).parent / "feeds"
pytestmark = pytest.mark.usefixtures("prefect_server")


def _serve_news(server: LoopbackServer) -> None:
    server.routes["/news.rss"] = Response(
        (FEEDS / "news.rss").read_bytes(), headers={"Content-Type": "application/rss+xml"}
    )
    server.routes["/nouvelles.atom"] = Response(
        (FEEDS / "nouvelles.atom").read_bytes(), headers={"Content-Type": "application/atom+xml"}
    )


def _add_feeds(server: LoopbackServer, *paths: str) -> None:
    context.ensure_schema()
    specs = [repo.FeedSpec(server.url(p), p.strip("/"), None) for p in paths]
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, _now())


def _now() -> datetime:
    return datetime.now(UTC)


def _count(model: type) -> int:
    with context.sessions().begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _monitor() -> dict[str, object]:
    return asyncio.run(run_monitor(due_only=False))


def _articles_by_title() -> dict[str, repo.ArticleRow]:
    with context.sessions().begin() as session:
        return {row.title: row for row in repo.list_articles(session)}


def _monitor_news_twice(server: LoopbackServer) -> tuple[dict[str, object], dict[str, object]]:
    _serve_news(server)
    _add_feeds(server, "/news.rss", "/nouvelles.atom")
    return _monitor(), _monitor()


def test_a_pass_on_a_new_event_loop_loads_no_ca_bundle_again(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    """Every pass run with ``asyncio.run`` (``vigie monitor``, the benchmark's re-run) has
    new Prefect clients, asynchronous and synchronous; they take the process's TLS context
    (``context.prefect_clients``) instead of building one each, which loads the CA bundle:
    13-40 ms of CPU, twice a pass, a third of the CPU of a pass that finds nothing new."""
    _serve_news(http_server)
    _add_feeds(http_server, "/news.rss")
    assert _monitor()["feeds_fetched"] == 1
    built: list[object] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(kwargs.get("cafile"))
        return real(*args, **kwargs)

    vigie_env.setattr(ssl, "create_default_context", counted)
    second = _monitor()
    assert (second["feeds_polled"], second["feeds_failed"]) == (1, 0)
    assert built == []


def test_feeds_become_articles_once_with_alerts_for_relevant_ones(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, database_url: str
) -> None:
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)  # a SQLite file, then PostgreSQL
    context.reset()
    first, second = _monitor_news_twice(http_server)

    articles = _articles_by_title()
    assert sorted(articles) == [
        "Canadiens win in overtime",
        "Hausse du nombre de demandeurs d'asile au Québec",
        "Quebec asks Ottawa to share the load of asylum seekers",
    ]
    asylum = articles["Quebec asks Ottawa to share the load of asylum seekers"]
    assert asylum.canonical_url == "http://news.example/2026/11/asylum-seekers-quebec"
    assert asylum.relevant and "asylum_refugees" in asylum.topics
    french = articles["Hausse du nombre de demandeurs d'asile au Québec"]
    assert french.relevant and "asylum_refugees" in french.topics
    assert french.language == "fr"
    assert not articles["Canadiens win in overtime"].relevant

    assert first["new_articles"] == 3
    assert first["duplicates"] == 1  # the utm_ copy in the Atom feed
    assert first["alerts"] == 2
    assert _count(Alert) == 2
    assert _count(Entry) == 4  # every feed item is linked, the duplicate to the original

    assert second["new_articles"] == 0
    assert second["new_versions"] == 0
    assert second["alerts"] == 0
    assert _count(Article) == 3
    assert _count(ArticleVersion) == 3
    assert _count(Alert) == 2


def test_second_pass_sends_validators_and_skips_unchanged_bodies(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    first, second = _monitor_news_twice(http_server)
    assert first["feeds_fetched"] == 2
    # What the process loaded before its first pass is left out of garbage collection.
    assert gc.get_freeze_count() > 10_000
    # The loopback server sends no validators, so the identical body is what saves the parse.
    assert second["feeds_unchanged_body"] == 2
    assert second["feeds_fetched"] == 0


def test_broken_feeds_are_recorded_and_the_pass_goes_on(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    _serve_news(http_server)
    http_server.routes["/error.rss"] = Response(b"oops", status=500)
    http_server.routes["/page.html"] = Response(
        b"<html><body><h1>Not a feed</h1><p>Hello</p></body></html>",
        headers={"Content-Type": "text/html"},
    )
    _add_feeds(http_server, "/news.rss", "/error.rss", "/page.html")

    counts = _monitor()

    assert counts["feeds_failed"] == 2
    assert counts["new_articles"] == 2  # the RSS feed's two items
    with context.sessions().begin() as session:
        feeds = {f.name: f for f in session.scalars(select(Feed))}
        error_feed, html_feed = feeds["error.rss"], feeds["page.html"]
        assert error_feed.last_error is not None and "500" in error_feed.last_error
        assert error_feed.last_status == 500
        assert html_feed.last_error is not None and "not a feed" in html_feed.last_error
        assert feeds["news.rss"].last_error is None
        assert error_feed.consecutive_failures == 1 and error_feed.next_check_at is not None
        failed_fetches = session.scalar(
            select(func.count()).select_from(Fetch).where(Fetch.error.is_not(None))
        )
    assert failed_fetches == 2
    # 500 is transient: the fetch task retried it before giving up.
    assert len(http_server.requests_to("/error.rss")) == 3
    assert len(http_server.requests_to("/page.html")) == 1


def test_batches_overlap_and_store_what_one_batch_would(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, database_url: str
) -> None:
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)
    context.reset()
    _serve_news(http_server)
    # The same document under a second address: its items are the first feed's stories.
    http_server.routes["/copy.rss"] = http_server.routes["/news.rss"]
    _add_feeds(http_server, "/news.rss", "/copy.rss", "/nouvelles.atom")

    state = asyncio.run(
        monitor_feeds(due_only=False, fetch_pages=False, batch_size=1, return_state=True)
    )

    counts = state.result()
    assert (counts["new_articles"], counts["duplicates"], counts["feeds_fetched"]) == (3, 3, 3)
    assert sorted(_articles_by_title()) == [
        "Canadiens win in overtime",
        "Hausse du nombre de demandeurs d'asile au Québec",
        "Quebec asks Ottawa to share the load of asylum seekers",
    ]
    assert _count(Entry) == 6  # every feed item, copies included, links to its article
    runs = asyncio.run(_finished_task_runs(state.state_details.flow_run_id, expected=6))
    fetches, stores = runs["fetch-feeds"], runs["store-feeds"]
    assert len(fetches) == len(stores) == 3
    # Batch 2 was fetched while batch 1 was being stored, and batch 3 while batch 2 was.
    assert fetches[1].start_time < stores[0].end_time
    assert fetches[2].start_time < stores[1].end_time


async def _finished_task_runs(flow_run_id: object, expected: int) -> dict[str, list[Any]]:
    """The flow run's finished fetch and store task runs by name, in order of start.

    Task run states reach the server as events, a moment after the flow returns.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    async with get_client() as client:
        for _ in range(100):
            runs = await client.read_task_runs(flow_run_filter=flow_runs)
            by_name: dict[str, list[Any]] = {"fetch-feeds": [], "store-feeds": []}
            for run in sorted(runs, key=lambda r: r.start_time or r.created):
                name = run.name.rsplit("-", 1)[0]  # task runs are named <task>-<suffix>
                if run.end_time and name in by_name:
                    by_name[name].append(run)
            if sum(map(len, by_name.values())) >= expected:
                return by_name
            await asyncio.sleep(0.1)
    seen = [(run.name, run.end_time) for run in runs]
    raise AssertionError(f"the server recorded fewer than {expected} finished runs: {seen}")


def _polled(feed_id: int) -> Polled:
    return Polled(replace(FEED, id=feed_id), datetime.now(UTC), None, None)


@pytest.mark.parametrize("in_order", [True, False])
def test_a_stream_yields_each_feed_once_in_batch_order_or_as_ready(in_order: bool) -> None:
    batch = [_polled(feed_id) for feed_id in (3, 1, 2)]

    async def scenario() -> list[int]:
        stream = FeedStream([item.feed for item in batch], in_order=in_order)
        taken: list[int] = []

        async def take() -> None:
            async for item in stream:
                taken.append(item.feed.id)

        taking = asyncio.create_task(take())
        for item in reversed(batch):  # ready last to first, with the store waiting meanwhile
            await asyncio.sleep(0.01)
            stream.put(item)
        await asyncio.wait_for(taking, timeout=5)
        return taken

    # The store takes a batch in its order, so that which copy of a story becomes the
    # article never depends on which feed was ready first; the page stage takes what comes.
    assert asyncio.run(scenario()) == ([3, 1, 2] if in_order else [2, 1, 3])


def test_a_stream_in_order_lets_go_of_a_feed_once_the_next_is_taken() -> None:
    # The store's stream: a stored feed's articles must not stay in memory to the end of its
    # batch.
    async def scenario() -> bool:
        batch = [_polled(feed_id) for feed_id in (1, 2)]
        stream = FeedStream([item.feed for item in batch], in_order=True)
        for item in batch:
            stream.put(item)
        del batch, item
        feeds = aiter(stream)
        taken = weakref.ref(await anext(feeds))
        await anext(feeds)
        gc.collect()
        held = taken() is not None
        await feeds.aclose()
        return held

    assert not asyncio.run(scenario())


def test_the_alerts_a_pass_finds_are_delivered_at_its_end(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    receiver = Receiver(http_server)
    vigie_env.setenv("VIGIE_ALERT_URLS", receiver.apprise_url())
    context.reset()
    _serve_news(http_server)
    _add_feeds(http_server, "/news.rss", "/nouvelles.atom")

    counts = _monitor()

    with context.sessions().begin() as session:
        alerts = session.scalars(select(Alert).where(Alert.kind == "new_relevant_article")).all()
        statuses = {alert.dedup_key: alert.status for alert in alerts}
    assert len(statuses) == 2 and set(statuses.values()) == {"sent"}
    assert set(receiver.keys()) == set(statuses)  # no deliver-alerts run was needed
    assert counts["alerts_sent"] == 2


def test_a_pass_in_which_every_feed_failed_ends_failed_and_says_why(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    context.reset()
    http_server.routes["/gone.rss"] = Response(b"gone", status=404)
    http_server.routes["/gone-too.rss"] = Response(b"gone", status=410)
    _add_feeds(http_server, "/gone.rss", "/gone-too.rss")

    state = asyncio.run(monitor_feeds(due_only=False, return_state=True))

    assert state.is_failed() and state.name == "All feeds failed"
    assert state.message is not None and state.message.startswith("All 2 feeds failed: ")
    assert "HTTP 404" in state.message and "HTTP 410" in state.message
    counts = state.result(raise_on_failure=False)
    assert counts["feeds_failed"] == 2  # the counts are still the run's result
    name = asyncio.run(_flow_run_name(state.state_details.flow_run_id))
    assert re.fullmatch(r"monitor \d\d:\d\d:\d\d · 0 new · 0 relevant · 2 of 2 feeds failed", name)
    with context.sessions().begin() as session:  # the feeds alert, not one alert per pass
        assert session.scalar(select(func.count()).where(Alert.kind == "run_failed")) == 0

    # One feed back: the pass completes, and its message names the one still failing.
    http_server.routes["/gone-too.rss"] = Response(
        (FEEDS / "news.rss").read_bytes(), headers={"Content-Type": "application/rss+xml"}
    )
    state = asyncio.run(monitor_feeds(due_only=False, return_state=True))
    assert state.is_completed() and state.message is not None
    assert state.message.startswith("1 of 2 feeds failed: ") and "HTTP 404" in state.message


@pytest.mark.parametrize(("shown_after", "bar"), [(60.0, None), (0.0, 100.0)])
def test_a_progress_bar_only_for_a_pass_that_lasts_and_the_final_name_last(
    vigie_env: pytest.MonkeyPatch,
    http_server: LoopbackServer,
    shown_after: float,
    bar: float | None,
) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows import monitor

    vigie_env.setattr(monitor, "PROGRESS_AFTER_SECONDS", shown_after)
    context.reset()
    _serve_news(http_server)
    _add_feeds(http_server, "/news.rss")

    state = asyncio.run(monitor_feeds(due_only=False, fetch_pages=False, return_state=True))

    run_id = state.state_details.flow_run_id
    assert state.is_completed() and state.result()["new_articles"] == 2

    async def artifacts() -> dict[str | None, object]:
        only_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        async with get_client() as client:
            return {a.key: a.data for a in await client.read_artifacts(artifact_filter=only_run)}

    shown = asyncio.run(artifacts())
    # Its summary always; a bar only past the delay (a quick pass: none nobody could watch).
    assert set(shown) - {"monitor-progress"} == {"monitor-summary"}
    assert shown.get("monitor-progress") == bar
    # Renamed "· running" as it started, then with what it found: the last name stays.
    name = asyncio.run(_flow_run_name(run_id))
    assert re.fullmatch(r"monitor \d\d:\d\d:\d\d · 2 new · \d+ relevant", name), name


async def _flow_run_name(flow_run_id: object) -> str:
    from prefect import get_client

    async with get_client() as client:
        return (await client.read_flow_run(flow_run_id)).name


def test_vigie_monitor_exits_0_and_says_why_when_every_feed_failed(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    from typer.testing import CliRunner

    from cli.app import app

    context.reset()
    http_server.routes["/gone.rss"] = Response(b"gone", status=404)
    _add_feeds(http_server, "/gone.rss")

    result = CliRunner().invoke(app, ["monitor", "--all"])

    assert result.exit_code == 0, result.output
    assert "1 feed polled, 1 failed" in result.output
    assert "The one feed polled failed: gone.rss: HTTP 404" in result.output
