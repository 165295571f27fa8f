"""``parse_feed`` on bodies that are not feeds: the reason must name the real problem.

An HTML article page given as a feed URL is the usual mistake; the reason says it is a page
and names the feeds the page advertises, so the person can add the right URL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from cli.feed_debug import register
from db import repo
from db.models import Feed
from flows import context
from flows.monitor import run_monitor
from flows.settings import get_settings
from parsers.exceptions import ParseError
from parsers.feeds import PARSE_OPTIONS, parse_feed
from tests.loopback import LoopbackServer, Response

CORPUS = Path(__file__).parent / "corpus"
PAGE_URL = "https://news.example/2026/11/a1.html"
# An article page as `python -m http.server` sends it: UTF-8, "text/html" without a charset.
# Its void elements are closed, so it is well-formed XML too: feedparser then blamed the
# encoding ("CharacterEncodingOverride: document declared as us-ascii, but parsed as utf-8").
ARTICLE = """<!DOCTYPE html>
<html lang="fr"><head>
<meta charset="utf-8"/>
<title>Été : hausse des demandes d'asile</title>
<link rel="stylesheet" href="/style.css"/>
<link rel="alternate" type="application/rss+xml" href="https://feeds.example/nouvelles.rss"/>
<link rel="alternate" hreflang="en" href="/en/2026/11/a1.html"/>
<link rel="alternate" type="application/atom+xml" title="Québec" href="../../quebec/atom.xml"/>
</head><body><h1>Été : hausse des demandes d'asile</h1><p>Le texte de l'article.</p></body></html>
""".encode()
# The page's absolute and relative feed links, resolved, in page order (and not its stylesheet
# or its English edition, which are no feeds).
ADVERTISED = ["https://feeds.example/nouvelles.rss", "https://news.example/quebec/atom.xml"]
HTML = {"Content-Type": "text/html"}
NO_FEEDS = "not a feed: an HTML page, and it advertises no feed"


def advertises(*feeds: str) -> str:
    """The reason given for an HTML page that advertises ``feeds``."""
    named = f"these feeds: {', '.join(feeds)}" if len(feeds) > 1 else f"a feed: {feeds[0]}"
    return f"not a feed: an HTML page; it advertises {named} (add one with `vigie feeds add URL`)"


def reason(content: bytes, headers: dict[str, str] | None = None, url: str = PAGE_URL) -> str:
    with pytest.raises(ParseError) as raised:
        parse_feed(url, content, headers)
    return str(raised.value)


# --- pure logic --------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [HTML, {"Content-Type": "text/html; charset=utf-8"}, None])
def test_an_html_page_is_named_with_the_feeds_it_advertises(headers: dict[str, str] | None) -> None:
    assert reason(ARTICLE, headers) == advertises(*ADVERTISED)


def test_an_html_page_with_no_feed_links_says_so() -> None:
    page = (CORPUS / "reader" / "sqlite_releases.html").read_bytes()
    for headers in (HTML, None):
        assert reason(page, headers) == NO_FEEDS


def test_a_base_element_and_duplicates_are_honoured_and_at_most_three_feeds_named() -> None:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="{href}">'
        for href in ("a.rss", "a.rss", "javascript:alert(1)", "b.rss", "c.rss", "d.rss")
    )
    page = f'<html><head><base href="https://cdn.example/feeds/">{links}</head></html>'
    named = [f"https://cdn.example/feeds/{n}.rss" for n in "abc"]
    assert reason(page.encode(), HTML) == advertises(*named)


def test_a_huge_page_is_read_only_as_far_as_its_head() -> None:
    late_link = b'<link rel="alternate" type="application/rss+xml" href="/late.rss">'
    page = b"<!doctype html><html><head><title>x</title></head><body>"
    page += b"<div>filler</div>" * 35_000 + late_link + b"</body></html>"  # 600 kB
    assert reason(page, HTML) == NO_FEEDS


def test_xhtml_served_as_xml_is_an_html_page() -> None:
    xhtml = b"""<?xml version="1.0"?><!-- generated -->
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title>
<link rel="alternate" type="application/atom+xml" href="/feed.atom"/></head><body/></html>"""
    text = reason(xhtml, {"Content-Type": "application/xml"})
    assert text == advertises("https://news.example/feed.atom")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "not a feed: the body is empty"),
        (b" \r\n\t ", "not a feed: the body is empty"),
        (b'[{"title": "x"}]', "not a feed: JSON without a jsonfeed.org version"),
    ],
)
def test_other_bodies_that_are_not_feeds_say_what_they_are(body: bytes, expected: str) -> None:
    assert reason(body, {"Content-Type": "text/html"}) == expected
    assert reason(body) == expected


def test_a_real_feed_still_parses_even_when_served_as_html() -> None:
    content = (CORPUS / "reader" / "full.rss").read_bytes()
    for headers in (None, {"Content-Type": "application/rss+xml"}, HTML):
        feed = parse_feed("http://example.com/feeds/full.rss", content, headers)
        assert feed.title == "RSS Title"
        assert feed.entries[0].title == "Example entry"


# --- through the real path: `vigie feed fetch` and the monitor flow -----------------------------


def _serve_page(server: LoopbackServer) -> list[str]:
    server.routes["/a1.html"] = Response(ARTICLE, headers=HTML)
    return ["https://feeds.example/nouvelles.rss", server.url("/quebec/atom.xml")]


def test_feed_fetch_on_an_html_page_names_the_page_and_its_feeds(
    http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_FETCH_ALLOW_HOSTS", "127.0.0.1")
    advertised = _serve_page(http_server)
    # The page lies at the server's root here, so "../../quebec/atom.xml" stops at "/".
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Vigie (test copy)."""

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["feed", "fetch", http_server.url("/a1.html")])
    finally:
        get_settings.cache_clear()
    output = " ".join(result.output.split())  # the console wraps long lines
    assert f"parse failed: {advertises(*advertised)}" in output, result.output
    assert "CharacterEncodingOverride" not in output  # what it said before


@pytest.mark.usefixtures("prefect_server")
def test_monitor_records_an_html_page_as_such_on_the_feed(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer
) -> None:
    advertised = _serve_page(http_server)
    context.ensure_schema()
    with context.sessions().begin() as session:
        spec = repo.FeedSpec(http_server.url("/a1.html"), "a1", None)
        repo.add_feeds(session, [spec], datetime.now(UTC))

    asyncio.run(run_monitor(due_only=False))

    with context.sessions().begin() as session:
        feed = session.scalars(select(Feed)).one()
        assert feed.last_error == advertises(*advertised)


# --- long documents, read a slice at a time ------------------------------------------------------


def _long_rss(items: int) -> bytes:
    """An RSS document whose items carry what a naive split would cut at: an item tag inside
    CDATA, one inside a comment, a self-closing item, and a relative link."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Long</title>'
        "<link>https://news.example/</link><language>fr-CA</language>"
    ]
    for n in range(items):
        parts.append(
            f"<item><title>Réfugiés {n}</title><link>/a/{n}</link><guid>g-{n}</guid>"
            f"<description><![CDATA[<p>Texte {n} </item><item> encore</p>]]></description>"
            f"<!-- <item> not one </item> --><dc:creator>A {n}</dc:creator></item>"
        )
        if n % 700 == 0:
            parts.append("<item/>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def test_a_long_document_read_a_slice_at_a_time_gives_what_a_whole_parse_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import parsers.feeds

    body = _long_rss(1_600)
    sliced = parse_feed("https://news.example/feed", body)
    monkeypatch.setattr(parsers.feeds, "SLICE_ITEMS", 10**9)
    whole = parse_feed("https://news.example/feed", body)

    assert sliced == whole
    assert len(sliced.entries) == 1_600 and sliced.language == "fr"
    assert sliced.entries[-1].text == "Texte 1599 encore"  # the CDATA did not end the item
    assert sliced.entries[7].url == "https://news.example/a/7"


def test_items_that_nest_are_read_whole_as_feedparser_reads_them() -> None:
    from parsers.feeds import _item_spans

    assert _item_spans(b"<rss><item><item></item></item></rss>") is None
    assert _item_spans(b"<rss><item></rss>") is None
    assert _item_spans(b"<feed><entry a='1'></entry><entry/></feed>") == [(6, 27), (27, 35)]


# Keys ``parsers.feeds`` reads from a feedparser entry with ``dict.get``: feedparser's own
# ``get`` must give the same for each (it differs for legacy names and "updated_parsed").
_ENTRY_KEYS = ("title", "link", "summary", "content", "published_parsed", "language", "author")


def test_entry_keys_read_with_dict_get_are_what_feedparser_gives() -> None:
    files = sorted(
        path
        for path in (CORPUS / "feedparser").rglob("*")
        if path.suffix in (".xml", ".rss", ".atom", ".rdf")
    )
    files += sorted((Path(__file__).parent / "feeds").iterdir())
    compared = 0
    for path in files:
        parsed = feedparser.parse(path.read_bytes(), **PARSE_OPTIONS)
        for entry in parsed.entries:
            for key in _ENTRY_KEYS:
                assert dict.get(entry, key, "") == entry.get(key, ""), (path, key)
                compared += 1
            for content in entry.get("content") or []:
                assert dict.get(content, "value") == content.get("value"), path
    assert compared > 1000  # the corpus holds hundreds of entries
