"""Guarantee: one hostile feed or page cannot stop, stall or flood a pass.

Each reproduction of the hostile-feeds report, run as an operator would run it (the real
``vigie`` commands, a real Prefect server, loopback sites): the pass ends with exit 0, the
good feed stored, one reason for each bad feed or page, and no traceback.

- URLs and headers httpx or the resolver choke on: a Location with backslashes, an invalid
  IDNA host, a port out of range, an ETag that cannot be sent back (stored now, or stored by
  an earlier version), for feeds, pages and re-checks;
- a property: generated status lines, headers and links, served raw;
- bounds: new items and page fetches per feed and pass, a deadline for the whole pass;
- failures that are Vigie's own (its database) do not count against a feed;
- the terminal gets text: markup, escape sequences and bidi overrides from feeds are shown
  as text in every command;
- every database failure (corrupt file, bad URL options, unreachable server, read-only
  directory) is one line in every command, and so is an argument that is not UTF-8.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, event, select, text, update

from db import repo
from db.models import Alert, Article, Feed
from flows import context
from flows.monitor import monitor_feeds, run_monitor
from tests.guarantees import T0, FeedItem, add_feeds, rss
from tests.loopback import LoopbackServer, Response

pytestmark = pytest.mark.usefixtures("prefect_server")
VIGIE = Path(sys.executable).parent / "vigie"

GOOD_TITLE = "Quebec asks Ottawa for help with asylum seekers"


def good_item(server: LoopbackServer) -> FeedItem:
    """The good feed's one item, whose page (when pages are fetched) is on the same site."""
    text = "Quebec asks Ottawa for help with asylum seekers arriving at the border."
    return FeedItem("good-1", server.url("/good-1"), GOOD_TITLE, text)


@dataclass(frozen=True)
class Ran:
    """What one run of the real ``vigie`` executable gave."""

    exit_code: int
    output: str


def vigie(*args: str) -> Ran:
    """The real executable, as an operator runs it (with the test's settings and Prefect
    server); no traceback may reach its output, from Vigie or from Prefect's logging."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "200"}
    done = subprocess.run([str(VIGIE), *args], env=env, capture_output=True, text=True, timeout=240)
    ran = Ran(done.returncode, done.stdout + done.stderr)
    assert "Traceback" not in ran.output, ran.output
    return ran


@pytest.fixture
def feeds(vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer) -> LoopbackServer:
    """A good feed and a bad one (``/bad.rss``, which each test fills) on one loopback site,
    pages not fetched unless a test turns them on."""
    vigie_env.setenv("VIGIE_FETCH_PAGES", "false")
    vigie_env.setenv("VIGIE_FETCH_RETRIES", "0")
    context.reset()
    http_server.routes["/good.rss"] = Response(rss("good", [good_item(http_server)]))
    context.ensure_schema()
    add_feeds(context.sessions(), [http_server.url("/good.rss"), http_server.url("/bad.rss")])
    return http_server


def feed_rows() -> dict[str, Feed]:
    with context.sessions().begin() as session:
        return {feed.url.rsplit("/", 1)[1]: feed for feed in session.scalars(select(Feed))}


def titles() -> list[str]:
    with context.sessions().begin() as session:
        return sorted(row.title for row in repo.list_articles(session))


def run_failed_alerts() -> int:
    with context.sessions().begin() as session:
        return len(session.scalars(select(Alert).where(Alert.kind == "run_failed")).all())


def assert_only_the_bad_feed_failed(reason: str) -> None:
    """The good feed stored and healthy; the bad one failed with ``reason``, not due again
    at once (its health moved, so the next passes do not all fail on it)."""
    assert GOOD_TITLE in titles()
    rows = feed_rows()
    assert rows["good.rss"].last_error is None and rows["good.rss"].health == "healthy"
    bad = rows["bad.rss"]
    assert bad.last_error is not None and reason in bad.last_error, bad.last_error
    assert bad.consecutive_failures == 1
    assert bad.next_check_at is not None and bad.next_check_at > datetime.now(UTC)
    assert run_failed_alerts() == 0


# --- 1. one bad URL or header ------------------------------------------------------------------

BAD_REDIRECTS = {
    "backslashes": ("http:\\\\127.0.0.2:8993/feed1.xml", "URL contains a backslash"),
    "empty IDNA label": ("http://xn--/", "invalid IDNA label 'xn--'"),
    "port out of range": ("http://127.0.0.1:99999/feed.xml", "Port out of range"),
    "over-long label": (f"http://{'a' * 64}.example/feed", "over-long"),
}


@pytest.mark.parametrize(("location", "reason"), BAD_REDIRECTS.values(), ids=BAD_REDIRECTS)
def test_a_redirect_to_an_unusable_url_fails_only_its_feed(
    feeds: LoopbackServer, location: str, reason: str
) -> None:
    feeds.routes["/bad.rss"] = Response(status=302, headers={"Location": location})

    result = vigie("monitor", "--all")

    assert result.exit_code == 0, result.output
    assert "1 failed" in result.output
    assert_only_the_bad_feed_failed(reason)


def test_an_item_linking_to_a_port_out_of_range_fails_only_that_page(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    vigie_env.setenv("VIGIE_FETCH_PAGES", "true")
    context.reset()
    bad_link = FeedItem("p-1", "http://127.0.0.1:99999/story", "Asylum seekers", "Asylum.")
    feeds.routes["/bad.rss"] = Response(rss("bad", [bad_link]))

    result = vigie("monitor", "--all")

    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output and len(titles()) == 2
    with context.sessions().begin() as session:
        article = session.scalars(select(Article).where(Article.title == "Asylum seekers")).one()
        version = article.current_version
        assert version is not None and version.fallback_reason is not None
        assert "Port out of range" in version.fallback_reason


def test_an_etag_that_cannot_be_sent_back_is_not_kept(feeds: LoopbackServer) -> None:
    feeds.routes["/bad.rss"] = Response(rss("bad", []), headers={"ETag": '"café"'})

    first, second = vigie("monitor", "--all"), vigie("monitor", "--all")

    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert "0 failed" in second.output
    assert feed_rows()["bad.rss"].etag is None
    assert all("If-None-Match" not in r.headers for r in feeds.requests_to("/bad.rss"))


def test_an_etag_stored_by_an_earlier_version_is_not_sent(feeds: LoopbackServer) -> None:
    feeds.routes["/bad.rss"] = Response(rss("bad", []), headers={"ETag": '"v1"'})
    vigie("monitor", "--all")
    with context.sessions().begin() as session:  # what an earlier version could store
        session.execute(update(Feed).values(etag='"café"', last_modified="lundi, é"))

    result = vigie("monitor", "--all")

    assert result.exit_code == 0 and "0 failed" in result.output, result.output
    last = feeds.requests_to("/bad.rss")[-1]
    assert "If-None-Match" not in last.headers and "If-Modified-Since" not in last.headers
    assert feed_rows()["bad.rss"].etag == '"v1"'  # the server's usable one replaces it


PAGE = (
    "<html><head><title>Quebec and asylum seekers</title></head><body><article>"
    "<h1>Quebec and asylum seekers</h1>"
    + "".join(
        f"<p>In its note number {n}, Quebec asks Ottawa to share the cost of hosting the "
        f"asylum seekers who arrived in the {n}th week of the year.</p>"
        for n in range(1, 31)
    )
    + "</article></body></html>"
).encode()


def test_a_page_etag_that_cannot_be_sent_back_fails_no_recheck(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    vigie_env.setenv("VIGIE_FETCH_PAGES", "true")
    context.reset()
    html = {"Content-Type": "text/html; charset=utf-8", "ETag": '"café"'}
    feeds.routes["/story"] = Response(PAGE, headers=html)
    item = FeedItem("s-1", feeds.url("/story"), "Quebec and asylum seekers", "Short.")
    feeds.routes["/bad.rss"] = Response(rss("bad", [item]))
    vigie("monitor", "--all")
    with context.sessions().begin() as session:
        assert session.scalars(select(Article.page_etag)).all() == [None, None]
        session.execute(update(Article).values(page_etag='"café"'))  # an earlier version's

    result = vigie("recheck", "--all")

    assert result.exit_code == 0, result.output
    with context.sessions().begin() as session:
        story = session.scalars(select(Article.id).where(Article.title == item.title)).one()
    assert f"article {story} failed" not in result.output  # the good item's page is a 404
    assert "If-None-Match" not in feeds.requests_to("/story")[-1].headers


def test_feed_fetch_reports_an_unusable_redirect_in_one_line(feeds: LoopbackServer) -> None:
    feeds.routes["/bad.rss"] = Response(status=301, headers={"Location": "http://xn--/"})

    result = vigie("feed", "fetch", feeds.url("/bad.rss"))

    assert result.exit_code == 1
    assert result.output.strip().startswith("error: fetch failed: HTTP 301 redirect from")
    assert len(result.output.strip().splitlines()) == 1


# --- a property: whatever a server answers ------------------------------------------------------

HOSTILE_VALUES = [
    "http:\\\\127.0.0.2:8993/feed1.xml", "http://xn--/", "http://127.0.0.1:99999/x",
    "http://127.0.0.1:0/x", "//evil.example/x", "/relative", "javascript:alert(1)", "",
    "http://[::1", "http://a..b/", f"http://{'a' * 64}.example/", "ftp://example.com/",
    '"café"', 'W/"x"', "\x00", "\x1b[31m", "x" * 3000, "-1", "NaN", "1e400",
    "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "gzip", "br",
    "deflate, gzip", "x-gzip", "identity", "compress", "text/xml; charset=utf-42",
    "application/rss+xml; charset=utf-16", "text/html", "application/json", "\u202eevil",
]  # fmt: skip
one_line = st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b)
header_value = st.one_of(st.sampled_from(HOSTILE_VALUES).map(lambda v: v.encode("utf-8")), one_line)
HEADER_NAMES = ["Location", "ETag", "Last-Modified", "Retry-After", "Content-Type",
                "Content-Encoding", "Content-Length", "Cache-Control", "Expires"]  # fmt: skip
status_line = st.tuples(
    st.one_of(
        st.sampled_from([200, 203, 204, 301, 302, 303, 304, 307, 308, 404, 410, 429, 500, 503]),
        st.integers(0, 1200),
    ),
    st.one_of(
        st.just(b"OK"), st.binary(max_size=20).filter(lambda b: b"\r" not in b and b"\n" not in b)
    ),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"ICY", b""]),
)


@st.composite
def raw_responses(draw: st.DrawFn, body: bytes) -> bytes:
    """A response as a hostile server may write it: any status line, any of the headers the
    fetcher reads (with values it must refuse), a body encoded as said or not."""
    status, reason, version = draw(status_line)
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_value), max_size=6))
    if draw(st.booleans()) and any(name == "Content-Encoding" for name, _ in headers):
        body = gzip.compress(body)
    lines = [version + b" " + str(status).encode() + b" " + reason]
    lines += [name.encode() + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


link = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.text(max_size=30).map(lambda path: f"LOOPBACK/{path}"),
    st.just("LOOPBACK/page"),
)


@settings(
    max_examples=int(os.environ.get("VIGIE_TEST_PROPERTY_EXAMPLES", "15")) * 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_whatever_a_server_answers_the_good_feed_is_stored(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    """Generated status lines, headers (Location, ETag, Last-Modified, Retry-After,
    Content-Type, Content-Encoding) and item links, served raw by a loopback server, for the
    feed and for the pages it links to: the pass completes and the good feed is stored."""
    vigie_env.setenv("VIGIE_FETCH_PAGES", "true")
    vigie_env.setenv("VIGIE_TOTAL_TIMEOUT", "3")
    vigie_env.setenv("VIGIE_READ_TIMEOUT", "2")
    vigie_env.setenv("VIGIE_MAX_PAGES_PER_FEED", "3")
    context.reset()
    links = data.draw(st.lists(link, min_size=1, max_size=4))
    items = [
        FeedItem(f"x-{n}", url.replace("LOOPBACK", feeds.base_url), "Asylum seekers", "Short.")
        for n, url in enumerate(links)
    ]
    feeds.routes["/bad.rss"] = Response(raw=data.draw(raw_responses(rss("bad", items))))
    feeds.routes["/page"] = Response(raw=data.draw(raw_responses(PAGE)))

    state = asyncio.run(monitor_feeds(due_only=False, return_state=True))

    assert state.is_completed(), state.message
    assert GOOD_TITLE in titles()
    assert feed_rows()["good.rss"].last_error is None


# --- 6. bounded work per feed and per pass --------------------------------------------------------


def story_items(server: LoopbackServer, count: int, prefix: str = "s") -> list[FeedItem]:
    """Relevant summary-only items whose pages are on the loopback site."""
    return [
        FeedItem(
            f"{prefix}-{n}",
            server.url(f"/{prefix}/{n}"),
            f"Quebec and Ottawa on asylum seekers, part {n}",
            f"Quebec asks Ottawa about asylum seekers, part {n}.",
        )
        for n in range(count)
    ]


def stored_guids() -> set[str]:
    with context.sessions().begin() as session:
        return set(session.scalars(text("SELECT guid FROM entries")))


def test_the_cap_keeps_the_first_new_entries_and_the_known_ones_at_the_top() -> None:
    from flows.pipeline import entries_within_cap
    from parsers.feeds import EntryData

    def entry(n: int) -> EntryData:
        return EntryData(f"g{n}", f"https://x.example/{n}", "t", "x", False, None, None, None, None)

    entries = [entry(n) for n in range(10)]
    chosen, left, seen = entries_within_cap(iter(entries), 3)
    assert [e.guid for e in chosen] == ["g0", "g1", "g2"] and (left, seen) == (7, 10)
    chosen, left, _ = entries_within_cap(iter(entries), 3, known={"g0", "g1", "g2", "g5"})
    assert [e.guid for e in chosen] == ["g0", "g1", "g2", "g3", "g4", "g6"] and left == 3
    chosen, left, _ = entries_within_cap(iter(entries), 10)
    assert len(chosen) == 10 and left == 0


def test_a_feed_brings_at_most_the_cap_of_new_items_and_the_rest_next_passes(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    """Reproduction: a 52,000-item feed stored 52,000 articles and wrote as many alerts in one
    pass. With a cap of 5, 12 items take three passes, each a scheduled one (not --all):
    the feed is due again at once and its validators do not let the next fetch skip it."""
    vigie_env.setenv("VIGIE_MAX_NEW_ITEMS_PER_FEED", "5")
    items = story_items(feeds, 12)
    feeds.routes["/bad.rss"] = Response(rss("big", items), headers={"ETag": '"big-1"'})

    runs = [vigie("monitor") for _ in range(4)]

    assert [r.exit_code for r in runs] == [0, 0, 0, 0], runs[-1].output
    assert "7 new items left for the next pass" in runs[0].output
    assert "2 new items left for the next pass" in runs[1].output
    assert "left for the next pass" not in runs[2].output
    assert stored_guids() >= {item.guid for item in items}
    requests = feeds.requests_to("/bad.rss")
    assert len(requests) == 3  # read whole by the third pass, the feed waits its interval
    assert all("If-None-Match" not in request.headers for request in requests)
    big = feed_rows()["bad.rss"]
    assert big.last_error is None and big.etag == '"big-1"'  # read whole: validators kept
    assert big.next_check_at is not None and big.next_check_at > datetime.now(UTC)
    with context.sessions().begin() as session:
        alerts = session.scalars(select(Alert.kind)).all()
    assert alerts.count("new_relevant_article") <= 13  # 12 stories and the good one, once


def test_a_feed_has_at_most_the_cap_of_pages_fetched(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    """Reproduction: N links in a feed made N GETs to any host. The other items keep their
    feed text, with the reason, and are watched so that a re-check fetches their pages."""
    vigie_env.setenv("VIGIE_FETCH_PAGES", "true")
    vigie_env.setenv("VIGIE_MAX_PAGES_PER_FEED", "2")
    items = story_items(feeds, 6)
    feeds.routes["/bad.rss"] = Response(rss("links", items))
    for item in items:
        feeds.routes[item.url.removeprefix(feeds.base_url)] = Response(PAGE)

    result = vigie("monitor", "--all")

    assert result.exit_code == 0 and "4 article pages left to a re-check" in result.output
    assert sum(len(feeds.requests_to(f"/s/{n}")) for n in range(6)) == 2
    with context.sessions().begin() as session:
        versions = [a.current_version for a in session.scalars(select(Article))]
        reasons = [v.fallback_reason or "" for v in versions if v is not None]
        watched = session.scalars(select(Article.next_check_at)).all()
    assert sum("VIGIE_MAX_PAGES_PER_FEED" in reason for reason in reasons) == 4
    assert all(when is not None for when in watched)


def test_pages_that_drip_cannot_hold_the_pass_past_its_deadline(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    """Reproduction: 20 summary-only items whose pages drip a byte at a time held the pass
    for items x total timeout / per-host concurrency (60 s here). The deadline ends it; the
    items are stored with their feed text, left to a re-check."""
    vigie_env.setenv("VIGIE_FETCH_PAGES", "true")
    vigie_env.setenv("VIGIE_TOTAL_TIMEOUT", "6")
    vigie_env.setenv("VIGIE_PASS_DEADLINE_SECONDS", "4")
    items = story_items(feeds, 20)
    feeds.routes["/bad.rss"] = Response(rss("drip", items))
    for item in items:
        path = item.url.removeprefix(feeds.base_url)
        feeds.routes[path] = Response(b"<html>", chunks=_drip(), chunk_delay=0.5)

    started = time.monotonic()
    result = vigie("monitor", "--all")
    took = time.monotonic() - started

    assert result.exit_code == 0, result.output
    assert took < 25, took  # the command's own start-up included; 60 s without a deadline
    assert "left to a re-check" in result.output
    assert {item.title for item in items} <= set(titles())
    with context.sessions().begin() as session:
        reasons = session.scalars(text("SELECT fallback_reason FROM article_versions")).all()
    assert sum("deadline" in (reason or "") for reason in reasons) >= 18


def test_a_recheck_ends_by_its_deadline_and_leaves_the_rest_due(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    vigie_env.setenv("VIGIE_FETCH_PAGES", "true")
    context.reset()
    feeds.routes["/story"] = Response(PAGE, headers={"Content-Type": "text/html"})
    item = FeedItem("s-1", feeds.url("/story"), "Quebec and asylum seekers", "Short.")
    feeds.routes["/bad.rss"] = Response(rss("bad", [item]))
    vigie("monitor", "--all")
    with context.sessions().begin() as session:
        checked_before = session.scalars(select(Article.last_checked_at)).all()
    feeds.routes["/story"] = Response(b"<html>", chunks=_drip(), chunk_delay=0.5)
    feeds.routes["/good-1"] = Response(b"<html>", chunks=_drip(), chunk_delay=0.5)
    vigie_env.setenv("VIGIE_PASS_DEADLINE_SECONDS", "3")

    started = time.monotonic()
    result = vigie("recheck", "--all")

    assert result.exit_code == 0 and time.monotonic() - started < 25, result.output
    assert "postponed 2" in result.output
    with context.sessions().begin() as session:
        assert session.scalars(select(Article.last_checked_at)).all() == checked_before


def _drip() -> Iterator[bytes]:
    while True:
        yield b" "


def test_a_feed_not_polled_by_the_deadline_stays_due_and_comes_first(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch
) -> None:
    """A feed still arriving at the deadline is not recorded (not blamed, not skipped): it
    stays due, and the next scheduled pass takes it before the feeds it has just polled."""
    vigie_env.setenv("VIGIE_PASS_DEADLINE_SECONDS", "3")
    feeds.routes["/bad.rss"] = Response(b"<rss>", chunks=_drip(), chunk_delay=0.5)

    result = vigie("monitor", "--all")

    assert result.exit_code == 0, result.output
    assert "1 feed not polled" in result.output and GOOD_TITLE in titles()
    slow = feed_rows()["bad.rss"]
    assert (slow.last_error, slow.health, slow.last_fetched_at) == (None, "healthy", None)
    with context.sessions().begin() as session:
        due = repo.feeds_to_poll(session, datetime.now(UTC))
    assert [feed.url for feed in due] == [feeds.url("/bad.rss")]


# --- 7. failures that are Vigie's own ---------------------------------------------------------

LONG_TEXT = " ".join(f"Quebec asks Ottawa about asylum seekers, sentence {n}." for n in range(800))


def _feeds_with_a_marked_item(server: LoopbackServer) -> None:
    """The bad feed's one item has a marker in its title and text long enough that storing
    it needs new database pages."""
    item = FeedItem("m-1", server.url("/m-1"), "MARKED asylum seekers", LONG_TEXT)
    server.routes["/bad.rss"] = Response(rss("marked", [item]), headers={"ETag": '"m1"'})


def _when_storing_the_marked_item(engine: Any, fail: Callable[[Any], None]) -> None:
    """Call ``fail(dbapi_connection)`` once, just before the marked article is inserted."""
    armed = [True]

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if armed[0] and statement.startswith("INSERT INTO articles") and "MARKED" in str(params):
            armed[0] = False
            fail(conn.connection.dbapi_connection)


def _assert_not_blamed(counts: dict[str, Any], reason: str) -> None:
    assert counts["feeds_failed"] == 1 and GOOD_TITLE in titles()
    marked = feed_rows()["bad.rss"]
    assert marked.last_error is not None and reason in marked.last_error
    assert "the feed is not at fault" in marked.last_error
    assert (marked.health, marked.consecutive_failures, marked.failure_weight) == (
        "healthy",
        0,
        0.0,
    )
    assert marked.next_check_at is not None and marked.next_check_at <= datetime.now(UTC)
    assert marked.etag is None  # the next fetch brings the document again


def test_a_full_disk_does_not_count_against_the_feed(feeds: LoopbackServer) -> None:
    """Reproduction: a full disk marked healthy feeds degraded, pushing their next check
    back. SQLite's own limit on the file's pages makes the disk full for one insert."""
    _feeds_with_a_marked_item(feeds)

    def full(dbapi: Any) -> None:
        pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
        dbapi.execute(f"PRAGMA max_page_count = {pages}")

    _when_storing_the_marked_item(context.engine(), full)

    @event.listens_for(context.engine(), "rollback")
    def room_again(conn: Any) -> None:
        conn.connection.dbapi_connection.execute("PRAGMA max_page_count = 1073741823")

    counts = asyncio.run(run_monitor(due_only=False))

    _assert_not_blamed(counts, "database or disk is full")
    again = asyncio.run(run_monitor(due_only=True))  # due at once, stored this time
    assert again["feeds_failed"] == 0 and "MARKED asylum seekers" in titles()


def test_a_killed_database_backend_does_not_count_against_the_feed(
    feeds: LoopbackServer, vigie_env: pytest.MonkeyPatch, postgres_url: str
) -> None:
    """Reproduction: a PostgreSQL backend killed during a pass marked the feed degraded."""
    vigie_env.setenv("VIGIE_DATABASE_URL", postgres_url)
    context.reset()
    context.ensure_schema()
    add_feeds(context.sessions(), [feeds.url("/good.rss"), feeds.url("/bad.rss")])
    _feeds_with_a_marked_item(feeds)
    admin = create_engine(postgres_url)

    def kill(dbapi: Any) -> None:
        with admin.connect() as connection:
            pid = {"pid": dbapi.info.backend_pid}
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), pid)

    _when_storing_the_marked_item(context.engine(), kill)
    try:
        counts = asyncio.run(run_monitor(due_only=False))
    finally:
        admin.dispose()

    _assert_not_blamed(counts, "terminat")
    again = asyncio.run(run_monitor(due_only=True))
    assert again["feeds_failed"] == 0 and "MARKED asylum seekers" in titles()


# --- 4. the terminal gets text ------------------------------------------------------------------

MARKUP_TITLE = (
    "[/x] Asylum seekers: [link=http://evil.example/]Read the notice[/link] "
    "![px](http://evil.example/p.png) \u202eevil\u202c [bold red]loud[/]"
)
ESCAPING_NAME = "Feed \x1b[31mred\x1b[0m \x1b]8;;http://evil.example/\x07link\x1b]8;;\x07 \x9b2J"


COMMANDS = {
    "show --versions": "show 1 --versions",
    "diff": "diff 1",
    "show": "show 1",
    "articles": "articles",
    "articles json": "articles --format json",
    "feeds list": "feeds list",
    "feeds list json": "feeds list --format json",
    "alerts list": "alerts list",
}


def _store_hostile_texts(url: str) -> None:
    """An article from a feed with terminal escapes in its name, whose title carries Rich
    markup and a right-to-left override; stored twice, so that it has two versions."""
    from tests.guarantees import database, migrated_sqlite, store_feed

    migrated_sqlite(Path(url.removeprefix("sqlite:///")))
    with database(url) as (_engine, sessions):
        with sessions.begin() as session:
            repo.add_feeds(session, [repo.FeedSpec("http://feeds.example/h", ESCAPING_NAME)], T0)
            (feed,) = repo.feeds_to_poll(session, T0, due_only=False)
        text = "Quebec asks Ottawa about asylum seekers. [/x] \x1b[2J cleared? \u202e reversed."
        for n, when in enumerate((T0, T0 + timedelta(hours=1)), start=1):
            item = FeedItem("h1", "http://news.example/h1", MARKUP_TITLE, f"{text} Version {n}.")
            store_feed(sessions, feed, rss("h", [item]), when)


@pytest.fixture(scope="module")
def terminal_outputs(
    prefect_server: None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Ran]:
    """What each command prints about the hostile article, run together."""
    tmp = tmp_path_factory.mktemp("terminal")
    url = f"sqlite:///{tmp / 'vigie.db'}"
    _store_hostile_texts(url)
    env = _plain_env(tmp) | {"VIGIE_DATABASE_URL": url}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, command, env, tmp) for name, command in COMMANDS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", COMMANDS)
def test_feed_text_reaches_the_terminal_as_text(
    terminal_outputs: dict[str, Ran], name: str
) -> None:
    """Reproduction: ``[/x]`` in a title crashed ``show --versions`` and ``diff`` (a
    MarkupError), ``[link=…]`` made a hidden terminal hyperlink, ``![px](…)`` lost ``[px]``,
    ``articles`` printed U+202E and ``feeds list`` a raw ESC."""
    result = terminal_outputs[name]

    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output  # no escape at all
    assert "\u202e" not in result.output
    if name.startswith(("show", "diff", "articles")):
        assert "[/x]" in result.output
    if name in ("show", "articles"):
        assert "Read the notice[/link]" in result.output and "![px](" in result.output


def test_json_output_keeps_the_text_but_escapes_what_a_terminal_acts_on(
    terminal_outputs: dict[str, Ran],
) -> None:
    output = terminal_outputs["articles json"].output
    (article,) = json.loads(output)
    assert article["title"] == MARKUP_TITLE  # the data is unchanged
    assert "\\u202e" in output


def _plain_env(tmp: Path) -> dict[str, str]:
    """The environment of a run of ``vigie``: none of the test's settings, the test's
    Prefect server, a data directory of its own."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "PREFECT_"))}
    return env | {
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "VIGIE_DATA_DIR": str(tmp / "data"),
    }


def _run(command: str, env: dict[str, str], cwd: Path) -> Ran:
    done = subprocess.run(
        [str(VIGIE), *command.split()], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    return Ran(done.returncode, done.stdout + done.stderr)


# --- 5. a broken database: one line ---------------------------------------------------------------


def _database_cases(tmp: Path, postgres_admin_url: str) -> dict[str, dict[str, str]]:
    corrupt = tmp / "corrupt.db"
    corrupt.write_bytes(b"this is not a SQLite database" * 100)
    admin = postgres_admin_url
    return {
        "corrupt file": {"VIGIE_DATABASE_URL": f"sqlite:///{corrupt}"},
        "bad URL options": {"VIGIE_DATABASE_URL": f"{admin}?connect_timeout=abc"},
        "unreachable server": {
            "VIGIE_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/vigie"
        },
        "read-only directory": {"VIGIE_DATA_DIR": "/sys/vigie/data"},
    }


BROKEN_DATABASE_RUNS = [
    *(("corrupt file", c) for c in ("init", "articles", "monitor", "feeds list", "alerts list",
                                     "clusters", "alerts deliver", "digest", "recheck", "show 1",
                                     "diff 1", "figures", "search Ottawa")),
    *(("bad URL options", c) for c in ("articles", "monitor", "alerts deliver", "digest")),
    *(("unreachable server", c) for c in ("articles", "digest", "show 1", "figures",
                                           "search Ottawa")),
    *(("read-only directory", c) for c in ("init", "articles", "digest")),
]  # fmt: skip


@pytest.fixture(scope="module")
def broken_database_outcomes(
    prefect_server: None, tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> dict[tuple[str, str], Ran]:
    """What each command prints on each broken database, run together."""
    tmp = tmp_path_factory.mktemp("broken-database")
    cases = _database_cases(tmp, postgres_admin_url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            (case, command): pool.submit(_run, command, _plain_env(tmp) | cases[case], tmp)
            for case, command in BROKEN_DATABASE_RUNS
        }
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize(("case", "command"), BROKEN_DATABASE_RUNS)
def test_a_broken_database_is_one_line_in_every_command(
    broken_database_outcomes: dict[tuple[str, str], Ran], case: str, command: str
) -> None:
    """Reproduction: a corrupt SQLite file gave 148-309 lines of DatabaseError; ``alerts
    deliver`` and ``digest`` printed a Prefect traceback first; ``clusters`` a raw
    OperationalError; ``?connect_timeout=abc`` a ProgrammingError traceback."""
    ran = broken_database_outcomes[(case, command)]
    lines = ran.output.strip().splitlines()
    assert ran.exit_code == 2 and len(lines) == 1, ran.output
    assert lines[0].startswith("error:") and "Traceback" not in ran.output


# --- 7. smaller ---------------------------------------------------------------------------------


def test_an_argument_that_is_not_utf8_is_one_line() -> None:
    done = subprocess.run(
        [str(VIGIE), "feeds", "add", "http://x.example/feed", "--name", b"n\xff"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "error: argument 5 is not valid UTF-8 (b'n\\xff'); Vigie reads its arguments as UTF-8"
    )


def test_a_page_nested_past_the_parsers_limit_says_so() -> None:
    from parsers.articles import extract_article

    deep = (
        "<html><head><title>Asylum seekers</title></head><body>" + "<div>" * 300
        + "<p>" + "Quebec asks Ottawa about asylum seekers. " * 60 + "</p>" + "</div>" * 300
        + "</body></html>"
    ).encode()  # fmt: skip
    page = extract_article("http://news.example/deep", deep, {"content-type": "text/html"})
    assert page.text == "" and page.suspect_reason is not None
    assert "nests its elements 256 levels deep" in page.suspect_reason
