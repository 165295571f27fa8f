"""Fetching like a good citizen, through the real monitor_feeds flow and loopback servers.

Conditional GET (ETag, Last-Modified), identical bodies, Retry-After on 429/503, a 500 streak
that breaks a feed and its recovery (one alert each), and a feed that goes quiet. Routes are
functions of the request where the test needs to see what the fetcher sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from db import repo
from db.models import Alert, Article, Fetch
from flows import context
from flows.cli import app
from flows.monitor import monitor_feeds
from tests.loopback import LoopbackServer, Response

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
    return asyncio.run(monitor_feeds(due_only=False, fetch_pages=False))


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
    # Prefect retries transient errors, but not when the server named its own delay.
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
