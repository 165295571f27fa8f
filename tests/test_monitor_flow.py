"""End to end through a real Prefect server: loopback feeds -> monitor_feeds -> database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import repo
from db.models import Alert, Article, ArticleVersion, Entry, Feed, Fetch
from flows import context
from flows.monitor import monitor_feeds
from tests.loopback import LoopbackServer, Response

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
    return asyncio.run(monitor_feeds(due_only=False))


def _articles_by_title() -> dict[str, repo.ArticleRow]:
    with context.sessions().begin() as session:
        return {row.title: row for row in repo.list_articles(session)}


def _monitor_news_twice(server: LoopbackServer) -> tuple[dict[str, object], dict[str, object]]:
    _serve_news(server)
    _add_feeds(server, "/news.rss", "/nouvelles.atom")
    return _monitor(), _monitor()


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
