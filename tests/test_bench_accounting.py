"""The benchmark's feed accounting tells a feed the pass postponed from one it lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bench.accounting import account_feeds
from flows import context
from flows.monitor import monitor_feeds
from tests.guarantees import FeedItem, add_feeds, rss
from tests.loopback import LoopbackServer, Response

pytestmark = pytest.mark.usefixtures("prefect_server")


def _drip() -> Iterator[bytes]:
    while True:
        yield b" "


def test_every_feed_of_a_pass_is_stored_failed_or_reported_postponed(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, database_url: str
) -> None:
    """A stored feed, a 404, an empty feed and one still dripping at the deadline:
    each lands in its place, and the postponed one is unaccounted only if the pass did not
    report it."""
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)
    vigie_env.setenv("VIGIE_FETCH_RETRIES", "0")
    vigie_env.setenv("VIGIE_PASS_DEADLINE_SECONDS", "3")
    context.reset()
    item = FeedItem("g-1", http_server.url("/g-1"), "Quebec and asylum seekers", "Text.")
    http_server.routes["/good.rss"] = Response(rss("good", [item]))
    http_server.routes["/empty.rss"] = Response(rss("empty", []))
    http_server.routes["/slow.rss"] = Response(b"<rss>", chunks=_drip(), chunk_delay=0.5)
    urls = [http_server.url(p) for p in ("/good.rss", "/gone.rss", "/empty.rss", "/slow.rss")]
    context.ensure_schema()
    add_feeds(context.sessions(), urls)

    counts = asyncio.run(monitor_feeds(due_only=False, fetch_pages=False))
    account = account_feeds(database_url, counts)

    assert (counts["feeds_failed"], counts["feeds_postponed"]) == (1, 1)
    assert (account.stored, account.failed, account.nothing_new) == (1, 1, 1)
    assert account.not_polled == [http_server.url("/slow.rss")]
    assert (account.reported_unrecorded, account.unaccounted) == (1, [])
    unreported = account_feeds(database_url, {**counts, "feeds_postponed": 0})
    assert unreported.unaccounted == [http_server.url("/slow.rss")]
