"""Fetching like a good citizen, through the real monitor_feeds flow and loopback servers.

Conditional GET (ETag, Last-Modified), identical bodies, Retry-After on 429/503, a 500 streak
that breaks a feed and its recovery (one alert each), a feed that goes quiet, and a batch whose
every feed fails (the network may be down, or only one host is). Routes are functions of the
request where the test needs to see what the fetcher sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.app import app
from db import repo
from db.models import Alert, Article, Fetch
from flows import context
from flows.monitor import monitor_feeds, run_monitor
from tests.loopback import LoopbackServer, Response

if TYPE_CHECKING:
    from prefect.client.schemas.objects import TaskRun

pytestmark = pytest.mark.usefixtures("prefect_server")
runner = CliRunner()

LAST_MODIFIED = "Fri, 20 Nov 2026 14:00:00 GMT"


def _rss(server: LoopbackServer, name: str, topic: str = "Quebec asylum seekers") -> bytes:
    entries = "".join(
        f"<item><title>{name}: {topic}, part {n}</title>"
        f"<link>{server.url(f'/{name}/article-{n}')}</link><guid>{name}-{n}</guid>"
        f"<description>{topic}: the latest, part {n}.</description></item>"
        for n in (1, 2)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
        f"<link>{server.base_url}</link>{entries}</channel></rss>"
    ).encode()


def _add_feed(server: LoopbackServer, path: str) -> None:
    context.ensure_schema()
    with context.sessions().begin() as session:
        repo.add_feeds(session, [repo.FeedSpec(server.url(path), path.strip("/"))], _now())


def _now() -> datetime:
    return datetime.now(UTC)


def _monitor() -> dict[str, Any]:
    # Page fetching is another feature's business; these tests watch the feeds' requests only.
    return asyncio.run(run_monitor(due_only=False, fetch_pages=False))


def _feeds() -> dict[str, dict[str, Any]]:
    """``vigie feeds list --format json``, by feed name: what an operator sees."""
    result = runner.invoke(app, ["feeds", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    return {feed["name"]: feed for feed in json.loads(result.stdout)}


def _count(model: type, *where: Any) -> int:
    with context.sessions().begin() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- conditional GET ------------------------------------------------------------------------


def etag(handler: BaseHTTPRequestHandler, body: bytes) -> Response:
    if handler.headers.get("If-None-Match") == '"v1"':
        return Response(status=304, headers={"ETag": '"v1"'})
    return Response(body, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})


def last_modified(handler: BaseHTTPRequestHandler, body: bytes) -> Response:
    if handler.headers.get("If-Modified-Since") == LAST_MODIFIED:
        return Response(status=304)
    return Response(body, headers={"Last-Modified": LAST_MODIFIED})


@pytest.mark.parametrize(
    ("validator", "sent_header", "sent_value"),
    [(etag, "If-None-Match", '"v1"'), (last_modified, "If-Modified-Since", LAST_MODIFIED)],
    ids=["etag", "last_modified"],
)
def test_second_pass_sends_the_validator_and_a_304_skips_the_parse(
    vigie_env: pytest.MonkeyPatch,
    http_server: LoopbackServer,
    validator: Callable[[BaseHTTPRequestHandler, bytes], Response],
    sent_header: str,
    sent_value: str,
) -> None:
    body = _rss(http_server, "cond")
    http_server.routes["/cond.rss"] = lambda handler: validator(handler, body)
    _add_feed(http_server, "/cond.rss")

    first, second = _monitor(), _monitor()

    first_request, second_request = http_server.requests_to("/cond.rss")
    assert sent_header not in first_request.headers
    assert second_request.headers[sent_header] == sent_value
    assert (first["feeds_fetched"], first["new_articles"]) == (1, 2)
    assert (second["feeds_not_modified"], second["feeds_fetched"]) == (1, 0)
    assert _count(Fetch, Fetch.not_modified.is_(True)) == 1
    feed = _feeds()["cond.rss"]
    assert (feed["health"], feed["last_error"]) == ("healthy", None)


def test_identical_body_without_validators_is_not_parsed_again(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    http_server.routes["/same.rss"] = Response(_rss(http_server, "same"))
    _add_feed(http_server, "/same.rss")

    first, second = _monitor(), _monitor()

    second_request = http_server.requests_to("/same.rss")[1]
    assert "If-None-Match" not in second_request.headers
    assert "If-Modified-Since" not in second_request.headers
    assert first["feeds_fetched"] == 1
    assert (second["feeds_unchanged_body"], second["feeds_fetched"]) == (1, 0)
    assert second["new_articles"] == second["unchanged"] == 0  # nothing reached storage


# --- servers that ask us to wait -------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_without_an_immediate_retry(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, status: int
) -> None:
    http_server.routes["/busy.rss"] = Response(b"slow down", status, {"Retry-After": "120"})
    _add_feed(http_server, "/busy.rss")
    before = _now()

    counts = _monitor()

    assert counts["feeds_failed"] == 1
    # In-run retries are for transient errors, but not when the server named its own delay.
    assert len(http_server.requests_to("/busy.rss")) == 1
    feed = _feeds()["busy.rss"]
    assert datetime.fromisoformat(feed["next_check_at"]) >= before + timedelta(seconds=120)
    assert f"HTTP {status}" in feed["last_error"] and "retry after 120 s" in feed["last_error"]


# --- a feed breaks, then recovers ------------------------------------------------------------


def test_a_500_streak_breaks_the_feed_and_recovery_alerts_once_each(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    vigie_env.setenv("VIGIE_FETCH_RETRIES", "0")  # one request per pass keeps the count plain
    context.reset()
    http_server.routes["/flaky.rss"] = Response(b"oops", 500)
    _add_feed(http_server, "/flaky.rss")

    seen = []
    for _ in range(10):
        _monitor()
        feed = _feeds()["flaky.rss"]
        seen.append((feed["health"], feed["failures"]))
        assert "HTTP 500" in feed["last_error"] and feed["next_check_at"] is not None
        if feed["health"] == "broken":
            break

    # Transient failures weigh 0.5: degraded from the 2nd, broken at the 8th (weight 4.0).
    assert seen == [
        ("healthy", 1),
        *[("degraded", n) for n in range(2, 8)],
        ("broken", 8),
    ]
    assert len(http_server.requests_to("/flaky.rss")) == 8
    _monitor()  # still failing: broken already, so no second alert
    # Hockey, so that no new-article alert joins the two about the feed.
    http_server.routes["/flaky.rss"] = Response(_rss(http_server, "flaky", "Canadiens hockey"))
    recovered = _monitor()
    _monitor()  # healthy again: nothing more to say

    feed = _feeds()["flaky.rss"]
    assert (feed["health"], feed["failures"], feed["last_error"]) == ("healthy", 0, None)
    assert recovered["feeds_fetched"] == 1
    assert recovered["new_articles"] == 2
    with context.sessions().begin() as session:
        outbox = session.scalars(select(Alert).order_by(Alert.id)).all()
        alerts = [(a.kind, a.payload["feed"], a.payload["health"]) for a in outbox]
    assert alerts == [
        ("feed_broken", "flaky.rss", "broken"),
        ("feed_recovered", "flaky.rss", "healthy"),
    ]


# --- a feed that goes quiet ------------------------------------------------------------------


def test_a_read_timeout_is_recorded_and_the_other_feed_is_stored(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    vigie_env.setenv("VIGIE_READ_TIMEOUT", "0.3")
    vigie_env.setenv("VIGIE_FETCH_RETRIES", "0")
    context.reset()
    # Headers at once, then silence longer than the read timeout before the body.
    http_server.routes["/quiet.rss"] = Response(
        chunks=[_rss(http_server, "quiet")], chunk_delay=1.5
    )
    http_server.routes["/good.rss"] = Response(_rss(http_server, "good"))
    _add_feed(http_server, "/quiet.rss")
    _add_feed(http_server, "/good.rss")

    counts = _monitor()

    assert (counts["feeds_failed"], counts["feeds_fetched"], counts["new_articles"]) == (1, 1, 2)
    feeds = _feeds()
    assert feeds["quiet.rss"]["last_error"] == (
        f"timed out after 0.3 s reading {http_server.url('/quiet.rss')} (the server went quiet)"
    )
    assert feeds["good.rss"]["last_error"] is None
    assert _count(Article, Article.source == "good.rss") == 2


# --- every feed of a batch fails ---------------------------------------------------------------


class SilentHost:
    """A server that accepts connections and never answers, like the dead host of the user
    review: every fetch from it ends in a read timeout, a transient error."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so that close() stops the accept loop quickly
        self._accepted: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        return len(self._accepted)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self._listener.getsockname()[1]}{path}"

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        for connection in [self._listener, *self._accepted]:
            connection.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                self._accepted.append(self._listener.accept()[0])
            except TimeoutError:
                continue


@pytest.fixture
def silent() -> Iterator[SilentHost]:
    host = SilentHost()
    yield host
    host.close()


def _both_feeds_fail(
    env: pytest.MonkeyPatch, http_server: LoopbackServer, silent: SilentHost, silent_name: str
) -> None:
    """Two feeds that fail transiently: a 503 from ``http_server`` at 127.0.0.1, and a read
    timeout from ``silent`` reached as ``silent_name``: "localhost" is a second host, although
    the same machine; "127.0.0.1" the same host on another port."""
    env.setenv("VIGIE_FETCH_ALLOW_HOSTS", "127.0.0.1,localhost")
    env.setenv("VIGIE_READ_TIMEOUT", "0.3")
    env.setenv("VIGIE_FETCH_RETRY_DELAY", "0.05")  # the batch pause: 15 x 0.05 = 0.75 s
    context.reset()
    http_server.routes["/down.rss"] = Response(b"unavailable", 503)
    context.ensure_schema()
    with context.sessions().begin() as session:
        specs = [
            repo.FeedSpec(http_server.url("/down.rss"), "down.rss"),
            repo.FeedSpec(silent.url("/silent.rss", host=silent_name), "silent.rss"),
        ]
        repo.add_feeds(session, specs, _now())


def _monitor_run() -> tuple[dict[str, Any], list[TaskRun]]:
    """A pass's counts, and its fetch-feeds task runs as the Prefect server recorded them."""
    state = asyncio.run(monitor_feeds(due_only=False, fetch_pages=False, return_state=True))
    assert state.name == "All feeds failed"  # every feed of these passes fails
    counts = state.result(raise_on_failure=False)
    return counts, asyncio.run(_fetch_task_runs(state.state_details.flow_run_id))


async def _fetch_task_runs(flow_run_id: object) -> list[TaskRun]:
    """The flow run's fetch-feeds task runs, in order, once each has its final state on the
    server (task run states reach it as events, a moment after the flow returns). Every task
    run is kept, not only finished ones, so that a run stuck or failed shows in the result."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    of_run = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    async with get_client() as client:
        runs: list[TaskRun] = []
        for _ in range(50):
            runs = await client.read_task_runs(flow_run_filter=of_run)
            runs = [run for run in runs if run.name.rsplit("-", 1)[0] == "fetch-feeds"]
            if runs and all(run.state is not None and run.state.is_final() for run in runs):
                break
            await asyncio.sleep(0.1)
        return sorted(runs, key=lambda run: run.start_time or run.created)


def _state_names(runs: list[TaskRun]) -> list[str | None]:
    return [run.state.name if run.state else None for run in runs]


def _batch_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "failed transiently" in record.getMessage()
    ]


@pytest.mark.parametrize(
    ("retries", "silent_host", "requests", "batch_retried"),
    [
        # Two batch attempts, each fetching each feed twice (one in-run retry of the feed).
        pytest.param("1", "localhost", 4, True, id="two hosts: the network may be down"),
        # One dead host is its feeds' failure: each had its in-run retry, and no more.
        pytest.param("1", "127.0.0.1", 2, False, id="one host: its feeds' failure"),
        pytest.param("0", "localhost", 1, False, id="in-run retries off"),
    ],
)
def test_a_failing_batch_is_fetched_again_only_when_the_network_may_be_down(
    vigie_env: pytest.MonkeyPatch,
    http_server: LoopbackServer,
    silent: SilentHost,
    caplog: pytest.LogCaptureFixture,
    retries: str,
    silent_host: str,
    requests: int,
    batch_retried: bool,
) -> None:
    vigie_env.setenv("VIGIE_FETCH_RETRIES", retries)
    _both_feeds_fail(vigie_env, http_server, silent, silent_host)

    with caplog.at_level(logging.WARNING):
        counts, fetches = _monitor_run()

    assert len(http_server.requests_to("/down.rss")) == silent.connections == requests
    warning = (
        "all 2 feeds on 2 hosts failed transiently (the network may be down); "
        "trying the batch once more in 0.75 s"
    )
    assert _batch_warnings(caplog) == ([warning] if batch_retried else [])
    # A handled outage: every attempt is a task run that completed, none Failed, and no
    # ERROR (with its traceback) on screen; only the run's own state says all feeds failed.
    assert _state_names(fetches) == ["Completed"] * (2 if batch_retried else 1)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage().split("(")[0] for r in errors] == ["Finished in state All feeds failed"]
    assert errors[0].exc_info is None
    assert counts["feeds_failed"] == 2
    feeds = _feeds()
    assert "HTTP 503" in feeds["down.rss"]["last_error"]
    assert "timed out after 0.3 s reading" in feeds["silent.rss"]["last_error"]
