"""One story, one alert, and flood control, through a real Prefect server and loopback feeds.

The new-user scenario: two outlets' feeds, one of them running the other's wire story under
a new lede whose other six paragraphs are word for word the original's. One pass gives one
story with both outlets, named as their feeds are, and exactly one "new article" alert,
which names the second outlet ("also covered by").
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bench.corpus import Writer
from bench.wire_copies import NEW_LEDE, WIRE, Text
from cli.app import app
from db import repo, story_queries
from db.models import Alert
from flows import context
from flows.monitor import monitor_feeds
from parsers.alert_rules import WATCH_KIND
from tests.loopback import LoopbackServer, Response

pytestmark = pytest.mark.usefixtures("prefect_server")

LEDGER = "The Capital Ledger"
GAZETTE = "Harbour Gazette"


def _rss(items: Sequence[tuple[str, Text, datetime | None]]) -> bytes:
    """An RSS document of (link, text, published) items, paragraphs as HTML paragraphs."""
    entries = []
    for n, (link, text, published) in enumerate(items):
        body = "".join(f"<p>{escape(p)}</p>" for p in text.paragraphs)
        date = f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>" if published else ""
        entries.append(
            f"<item><title>{escape(text.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{n}-{link}</guid>{date}'
            f"<description>{escape(body)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>feed</title><link>http://example.invalid/</link><language>en-CA</language>"
        f"{''.join(entries)}</channel></rss>"
    ).encode()


def _serve(server: LoopbackServer, path: str, items: Sequence[tuple[str, Text, datetime | None]]):
    server.routes[path] = Response(_rss(items), headers={"Content-Type": "application/rss+xml"})


def _add_feeds(server: LoopbackServer, feeds: Sequence[tuple[str, str]], added: datetime) -> None:
    context.ensure_schema()
    specs = [repo.FeedSpec(server.url(path), name, None) for path, name in feeds]
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, added)


def _alerts(kind: str) -> list[Alert]:
    with context.sessions().begin() as session:
        rows = list(session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))
        session.expunge_all()
        return rows


def _monitor() -> dict[str, object]:
    return asyncio.run(monitor_feeds(due_only=False, fetch_pages=False))


@pytest.fixture
def env(vigie_env: pytest.MonkeyPatch, database_url: str) -> pytest.MonkeyPatch:
    """A SQLite file, then PostgreSQL; Vigie's defaults for backfills."""
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)
    vigie_env.setenv("VIGIE_ALERT_ON_BACKFILL", "false")
    context.reset()
    return vigie_env


def _distinct(n: int) -> Text:
    """A relevant story of its own (asylum seekers), from the bench corpus's templates."""
    story = Writer(random.Random(n), "en").story("asylum")
    return Text(f"{story.title} ({n})", story.paragraphs)


def test_a_wire_copy_with_a_new_lede_is_one_story_with_one_alert(
    env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    added = datetime.now(UTC) - timedelta(hours=1)
    when = added + timedelta(minutes=30)  # published after the feeds were added
    _serve(http_server, "/ledger.rss", [("http://ledger.example/caregivers", WIRE, when)])
    copy_at = when + timedelta(minutes=40)
    _serve(http_server, "/gazette.rss", [("http://gazette.example/limbo", NEW_LEDE, copy_at)])
    _add_feeds(http_server, [("/ledger.rss", LEDGER), ("/gazette.rss", GAZETTE)], added)

    summary = _monitor()

    assert summary["new_articles"] == 2 and summary["joined_stories"] == 1
    with context.sessions().begin() as session:
        [story] = story_queries.list_clusters(session)
    assert [o.outlet for o in story.outlets] == [LEDGER, GAZETTE]
    assert story.size == 2
    [alert] = _alerts("new_relevant_article")
    assert alert.payload["source"] == LEDGER
    assert alert.payload["also_covered_by"] == [
        {
            "article_id": story.article_ids[1],
            "outlet": GAZETTE,
            "url": "http://gazette.example/limbo",
        }
    ]
    assert _monitor()["alerts"] == 0  # and a second pass adds nothing
    listed = CliRunner().invoke(app, ["clusters", "--format", "json"])
    [shown] = json.loads(listed.stdout)
    assert [(o["outlet"], o["site"]) for o in shown["outlets"]] == [
        (LEDGER, "ledger.example"),
        (GAZETTE, "gazette.example"),
    ]


def test_a_first_pass_backfills_older_items_without_alerts(
    env: pytest.MonkeyPatch, http_server: LoopbackServer, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[watches.asylum]\nquery = "asylum"\n', encoding="utf-8")
    env.setenv("VIGIE_ALERT_RULES_PATH", str(rules))  # a watch that every item matches
    context.reset()
    added = datetime.now(UTC) - timedelta(hours=1)
    items = [
        ("http://ledger.example/old-1", _distinct(1), added - timedelta(days=3)),
        ("http://ledger.example/old-2", _distinct(2), added - timedelta(days=2)),
        ("http://ledger.example/new", _distinct(3), added + timedelta(minutes=5)),
    ]
    _serve(http_server, "/ledger.rss", items)
    _add_feeds(http_server, [("/ledger.rss", LEDGER)], added)

    summary = _monitor()

    assert summary["new_articles"] == 3 and summary["backfilled"] == 2
    [alert] = _alerts("new_relevant_article")
    assert alert.payload["url"] == "http://ledger.example/new"
    [watched] = _alerts(WATCH_KIND)  # the watch, too, alerts on the new item only
    assert watched.payload["url"] == "http://ledger.example/new"
    with context.sessions().begin() as session:  # stored, tagged and clustered all the same
        assert len(repo.list_articles(session, relevant_only=True)) == 3
        assert len(story_queries.list_clusters(session, min_size=1)) == 3


def test_more_relevant_items_than_the_flood_limit_make_one_alert(
    env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    env.setenv("VIGIE_ALERT_FLOOD_ITEMS", "3")
    context.reset()
    added = datetime.now(UTC) - timedelta(hours=1)
    items = [
        (f"http://ledger.example/story-{n}", _distinct(n), added + timedelta(minutes=n))
        for n in range(1, 6)
    ]
    _serve(http_server, "/ledger.rss", items)
    _add_feeds(http_server, [("/ledger.rss", LEDGER)], added)

    summary = _monitor()

    assert summary["new_articles"] == 5 and summary["flooded"] == 5
    assert _alerts("new_relevant_article") == []
    [flood] = _alerts("feed_flood")
    assert flood.payload["feed"] == LEDGER and flood.payload["count"] == 5
    assert flood.payload["url"] == http_server.url("/ledger.rss")
    assert flood.payload["list"] == f'vigie articles --relevant --outlet "{LEDGER}"'
    listed = CliRunner().invoke(
        app, ["articles", "--relevant", "--outlet", LEDGER, "--format", "json"]
    )
    assert len(json.loads(listed.stdout)) == 5  # the list the alert points to
    assert _monitor()["alerts"] == 0
