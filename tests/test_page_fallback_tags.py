"""A feed item whose page is to replace its summary is not tagged as a summary first; every
path that keeps the summary instead must tag it, or the article would be stored judged on
nothing. Each path here ends with the feed's text stored, and its tags those of that text.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from db import repo
from db.intents import ArticleIntent
from db.models import Article, ArticleVersion
from flows import context
from flows.monitor import run_monitor
from flows.pipeline import tagged
from parsers.tagging import PENDING_TAGS, Tagger, tags_pending
from tests.loopback import LoopbackServer, Response

HERE = Path(__file__).parent
CONSENT_WALL = (HERE / "pages" / "consent_wall.html").read_bytes()
HTML = {"Content-Type": "text/html; charset=utf-8"}
pytestmark = pytest.mark.usefixtures("prefect_server")

#: Relevant summaries, each well under ``page_min_words``, so each item needs its page.
SUMMARIES = {
    "missing": "Ottawa will cut the number of new study permits for international students "
    "by a third next year, the immigration minister said on Monday.",
    "binary": "Quebec asks Ottawa to take in more asylum seekers arriving at Roxham Road, "
    "saying its shelters for refugee claimants are full.",
    "pdf": "The federal government raises its permanent residents target to 500,000 "
    "immigrants a year in its new immigration levels plan.",
    "short": "Employers hiring temporary foreign workers through the low-wage stream of the "
    "Temporary Foreign Worker Program face a new cap, Ottawa says, as Canada cuts the number "
    "of temporary residents.",
    "consent": "Family reunification: Canada will process fewer spousal sponsorship "
    "applications for permanent residence next year, immigration lawyers say, as the wait "
    "grows to 20 months.",
    "slow": "A new express entry draw invited 4,500 candidates for permanent residence, the "
    "largest draw this year, immigration officials said.",
    "shorter": "Ottawa announced on Tuesday that the number of new permanent residents "
    "admitted next year will fall from 485,000 to 395,000 under the new immigration levels "
    "plan. The immigration minister said the cut would ease pressure on housing and public "
    "services, while economic immigration and family reunification keep most of their "
    "places. Provinces asked for more say over who is selected, and employers warned that "
    "the lower targets would leave jobs unfilled in health care and construction across the "
    "country over the coming years.",
    "refused": "Canada will lower its intake of temporary residents to 5 per cent of its "
    "population, the immigration minister announced.",
}
#: A page with more words than a stub, but fewer than its summary: the summary stays.
SHORTER_PAGE = (
    "<html><head><title>Levels</title></head><body><article><p>"
    + " ".join(f"Paragraph word{i} about the plan." for i in range(12))
    + "</p></article></body></html>"
).encode()
#: A page too short to be the article (a stub): the extractor distrusts it.
SHORT_PAGE = (
    b"<html><head><title>Cap</title></head><body><article><p>Cap announced.</p></article>"
    b"</body></html>"
)


def _page(server: LoopbackServer, key: str) -> str:
    if key == "refused":  # a link-local address: the fetch guard refuses it before any request
        return "http://169.254.169.254/news/refused"
    return server.url(f"/news/{key}")


def _serve_pages(server: LoopbackServer) -> None:
    server.routes["/news/missing"] = Response(b"gone", status=404)
    # Bytes that are no HTML page, though the server says they are: extraction refuses them.
    server.routes["/news/binary"] = Response(b"\x89PNG\r\n\x1a\n" + bytes(64), headers=HTML)
    server.routes["/news/pdf"] = Response(
        b"%PDF-1.7\n" + bytes(64), headers={"Content-Type": "application/pdf"}
    )
    server.routes["/news/short"] = Response(SHORT_PAGE, headers=HTML)
    server.routes["/news/shorter"] = Response(SHORTER_PAGE, headers=HTML)
    server.routes["/news/consent"] = Response(CONSENT_WALL, headers=HTML)
    # Headers at once, then nothing for longer than the read timeout.
    server.routes["/news/slow"] = Response(
        b"<html><body>", headers=HTML, chunks=[b"<p>late</p>"], chunk_delay=3.0
    )


def _feed(server: LoopbackServer, keys: list[str], title: str = "Herald") -> bytes:
    items = "".join(
        f"<item><title>{key.title()} story</title><link>{_page(server, key)}</link>"
        f"<guid isPermaLink='false'>{key}</guid>"
        f"<description>{SUMMARIES[key]}</description></item>"
        for key in keys
    )
    return f"<rss version='2.0'><channel><title>{title}</title>{items}</channel></rss>".encode()


def _add_feed(server: LoopbackServer, path: str, body: bytes) -> None:
    server.routes[path] = Response(body, headers={"Content-Type": "application/rss+xml"})
    context.ensure_schema()
    with context.sessions().begin() as session:
        repo.add_feeds(session, [repo.FeedSpec(server.url(path), path)], datetime.now(UTC))


def _stored() -> dict[str, ArticleVersion]:
    """Each article's current version, by the key its URL ends with."""
    with context.sessions().begin() as session:
        articles = session.scalars(select(Article)).all()
        versions = {a.canonical_url.rsplit("/", 1)[-1]: a.current_version for a in articles}
        for version in versions.values():
            assert version is not None
            session.expunge(version)
    return {key: version for key, version in versions.items() if version is not None}


def _assert_tagged_as_summary(version: ArticleVersion, key: str, tagger: Tagger) -> None:
    expected = tagger.tag(f"{key.title()} story", SUMMARIES[key])
    assert expected.relevant, "each summary is relevant: an untagged one would not be"
    assert version.origin == "feed" and version.text == SUMMARIES[key]
    assert version.fallback_reason is not None
    assert version.topics == " ".join(expected.topics)
    assert version.relevant is True and version.relevance == expected.score
    assert version.taxonomy_version == expected.taxonomy_version


def test_every_page_that_fails_leaves_its_summary_tagged(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, tagger: Tagger
) -> None:
    vigie_env.setenv("VIGIE_READ_TIMEOUT", "0.5")
    _serve_pages(http_server)
    keys = list(SUMMARIES)
    _add_feed(http_server, "/feed.rss", _feed(http_server, keys))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    assert counts["new_articles"] == len(keys) and counts["feeds_failed"] == 0
    stored = _stored()
    assert sorted(stored) == sorted(keys)
    for key in keys:
        _assert_tagged_as_summary(stored[key], key, tagger)
    assert "no longer than the feed summary" in (stored["shorter"].fallback_reason or "")
    assert "stub" in (stored["short"].fallback_reason or "")
    assert "consent" in (stored["consent"].fallback_reason or "").lower()


def test_items_over_the_page_cap_keep_their_summary_tagged(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, tagger: Tagger
) -> None:
    vigie_env.setenv("VIGIE_MAX_PAGES_PER_FEED", "1")
    _serve_pages(http_server)
    keys = ["missing", "short", "consent"]
    _add_feed(http_server, "/feed.rss", _feed(http_server, keys))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    assert counts["pages_left"] == 2
    stored = _stored()
    for key in keys:
        _assert_tagged_as_summary(stored[key], key, tagger)
    assert "VIGIE_MAX_PAGES_PER_FEED" in (stored["consent"].fallback_reason or "")


def test_a_page_cut_off_by_the_pass_deadline_leaves_its_summary_tagged(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, tagger: Tagger
) -> None:
    vigie_env.setenv("VIGIE_PASS_DEADLINE_SECONDS", "4")
    _serve_pages(http_server)
    # Headers at once, then nothing until well after the deadline (within the read timeout).
    http_server.routes["/news/slow"] = Response(
        b"<html><body>", headers=HTML, chunks=[b"<p>late</p>"], chunk_delay=8.0
    )
    _add_feed(http_server, "/feed.rss", _feed(http_server, ["slow"]))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    assert counts["pages_left"] == 1 and counts["feeds_postponed"] == 0
    version = _stored()["slow"]
    _assert_tagged_as_summary(version, "slow", tagger)
    assert "deadline" in (version.fallback_reason or "")


def test_an_item_another_feed_brought_is_tagged_without_its_page(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, tagger: Tagger
) -> None:
    """The second feed's copy of a story already stored asks for no page: its own text is
    what the store compares with the article, so it must be tagged too."""
    _serve_pages(http_server)
    _add_feed(http_server, "/first.rss", _feed(http_server, ["short"], "First"))
    asyncio.run(run_monitor(due_only=False, fetch_pages=True))
    requests = len(http_server.requests)
    _add_feed(http_server, "/second.rss", _feed(http_server, ["short"], "Second"))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    assert counts["pages_fetched"] == 0 and counts["feeds_failed"] == 0
    assert not [r for r in http_server.requests[requests:] if r.path.startswith("/news/")]
    _assert_tagged_as_summary(_stored()["short"], "short", tagger)


def test_a_page_stage_that_fails_leaves_the_feeds_summaries_tagged(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, tagger: Tagger
) -> None:
    from flows import monitor

    async def broken(*_args: object) -> list[object]:
        raise RuntimeError("page reader bug")

    vigie_env.setattr(monitor, "_read_pages", broken)  # no real input is known to do this
    _serve_pages(http_server)
    keys = ["short", "consent"]
    _add_feed(http_server, "/feed.rss", _feed(http_server, keys))

    asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    stored = _stored()
    for key in keys:
        _assert_tagged_as_summary(stored[key], key, tagger)
        assert "page reader bug" in (stored[key].fallback_reason or "")


def test_tagged_tags_only_what_is_pending(tagger: Tagger) -> None:
    pending = ArticleIntent(
        canonical_url="https://example.org/a",
        url="https://example.org/a",
        title="Consent story",
        text=SUMMARIES["consent"],
        content_hash="h",
        language="en",
        published_at=None,
        source="feed",
        site="example.org",
        origin="feed",
        tags=PENDING_TAGS,
    )
    done = tagged(pending, tagger)
    assert not tags_pending(done.tags)
    assert done.tags == tagger.tag("Consent story", SUMMARIES["consent"])
    assert done.sketch is not None  # relevant: sketched like any relevant feed item
    assert tagged(done, tagger) is done


def test_the_store_refuses_an_untagged_item(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    """A path that forgets to tag fails the feed with a reason instead of storing an
    article judged not relevant on no reading at all."""
    from flows import monitor

    async def forgetful(_item: object, _cpu: object) -> None:
        return None

    vigie_env.setattr(monitor, "_tag_feed_texts", forgetful)
    _serve_pages(http_server)
    _add_feed(http_server, "/feed.rss", _feed(http_server, ["missing"]))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    assert counts["feeds_failed"] == 1 and counts["new_articles"] == 0
    assert _stored() == {}


def test_a_summary_the_tagger_chokes_on_fails_only_its_feed(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    """As when a feed is parsed: the feed is recorded as failed with the reason, and the
    pass goes on."""
    from flows import monitor

    def choking(_intent: object, _tagger: object) -> None:
        raise RecursionError("tagger bug")

    vigie_env.setattr(monitor, "tagged", choking)  # no real input is known to do this
    _serve_pages(http_server)
    _add_feed(http_server, "/feed.rss", _feed(http_server, ["missing"]))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=True))

    assert counts["feeds_failed"] == 1 and counts["new_articles"] == 0
    with context.sessions().begin() as session:
        (feed,) = repo.list_feeds(session)
    assert "RecursionError" in (feed.last_error or "")
