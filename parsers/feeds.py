"""Feed parsing: raw RSS, Atom or JSON feed bytes in, a frozen ``FeedData`` out."""

from __future__ import annotations

import calendar
import functools
import hashlib
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.mixin
from bs4 import BeautifulSoup, SoupStrainer  # type: ignore[attr-defined]  # not in __all__

from parsers.exceptions import ParseError
from parsers.text import clean_text, html_to_text, safe_text
from parsers.urls import canonical_url

# Vigie turns feed HTML into plain text and never renders it, so feedparser's sanitiser and
# relative-URI rewriting of embedded HTML are wasted work (measured: ~1.8x faster without).
PARSE_OPTIONS: dict[str, Any] = {"sanitize_html": False, "resolve_relative_uris": False}


def _remember_base_joins() -> None:
    """Have feedparser remember the base URIs it joins.

    Given the document's URL (``Content-Location``), feedparser joins the base URI with each
    start tag's (``xml:base``, else the same one again) and checks the result's scheme: nine
    times an item, the same two strings each time, 0.03-0.06 ms of an item's 0.6. The join
    is a pure function of its two strings (and of feedparser's list of acceptable schemes,
    which Vigie never changes), so a small cache gives the same URIs; a test compares every
    corpus file's parse with and without it.
    """
    join = getattr(feedparser.mixin, "make_safe_absolute_uri", None)
    # A feedparser without this function parses as before, only without the cache.
    if callable(join) and not hasattr(join, "cache_info"):  # once, whoever imports this
        feedparser.mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=256)(join)


_remember_base_joins()
# Entity declarations live in the DTD, before the root element.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_PROLOGUE_BYTES = 65_536
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html[\s/>])", re.IGNORECASE)
_HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: Where an HTML page's feed links are looked for: ``<link>``s live in ``<head>``, and a head
#: longer than this is rare; the cap keeps a huge or hostile page from costing a full parse.
_HTML_HEAD_BYTES = 262_144
#: Media types of ``<link rel="alternate">`` that point at a feed Vigie reads.
_FEED_LINK_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)
#: At most this many advertised feeds are named in the reason.
_MAX_FEED_LINKS = 3
_MAX_FEED_LINK_CHARS = 2_000
#: A document with more items than this is parsed a slice of this many items at a time:
#: feedparser holds every entry of what it parses, 112 MB for 52,000 items (9.8 MB).
SLICE_ITEMS = 500
# Top-level items (RSS ``item``, Atom ``entry``), told from text that merely looks like one
# inside CDATA sections and comments.
_ITEM_TAG = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<(/?)(item|entry)(?=[\s/>])[^>]*>", re.S)


@dataclass(frozen=True)
class EntryData:
    """One feed item, as parsed."""

    #: The entry's own id (guid/atom:id), or a hash of its link and title when it has none.
    guid: str
    #: Canonical link to the article page; empty when the entry has no usable link.
    url: str
    #: Plain-text title.
    title: str
    #: Plain-text body: full content when the feed carries it, else the summary.
    text: str
    #: True when ``text`` came from a full ``content`` element rather than a summary.
    has_full_content: bool
    #: When the item says it was published (UTC), if it says.
    published_at: datetime | None
    #: When the item says it was last updated (UTC), if it says.
    updated_at: datetime | None
    #: Language declared by the item or its feed (``en``, ``fr``), if any.
    language: str | None
    #: Author name, if given.
    author: str | None


@dataclass(frozen=True)
class FeedData:
    """A whole feed document, as parsed."""

    #: The URL the feed was fetched from (after redirects).
    url: str
    #: Plain-text feed title.
    title: str
    #: The site the feed belongs to, if it says.
    link: str | None
    #: Declared language, reduced to its primary subtag (``fr-CA`` -> ``fr``).
    language: str | None
    #: Entries in document order.
    entries: tuple[EntryData, ...]
    #: Why feedparser found the document ill-formed, when it did but still yielded entries.
    warning: str | None


def parse_feed(url: str, content: bytes, headers: Mapping[str, str] | None = None) -> FeedData:
    """Parse feed bytes; raise ``ParseError`` with a readable reason when it is not a feed.

    ``headers`` are the HTTP response headers: feedparser uses Content-Type and Content-Location
    to decide the charset and the base URL, exactly as it would when fetching itself.
    """
    feed, entries = read_feed(url, content, headers)
    return replace(feed, entries=tuple(entries))


def read_feed(
    url: str, content: bytes, headers: Mapping[str, str] | None = None
) -> tuple[FeedData, Iterator[EntryData]]:
    """``parse_feed``'s feed (with no entries) and its entries, read as they are asked for.

    A document of more than ``SLICE_ITEMS`` items is parsed a slice of items at a time (each
    slice with the document's own head and tail), so that memory holds one slice's entries
    rather than the whole document's; a reader that keeps only some entries keeps memory
    bounded whatever the feed's size. ``ParseError`` when it is not a feed (a later slice
    that is not may raise it while entries are read).
    """
    if not content or content.isspace():
        raise ParseError("not a feed: the body is empty")
    if _looks_like_json(content):
        data = parse_json_feed(url, content)
        return replace(data, entries=()), iter(data.entries)
    if _ENTITY_DECLARATION.search(content[:_PROLOGUE_BYTES]):
        # feedparser's expat expands internal entities: a few hundred bytes can become
        # megabytes ("billion laughs"). No real news feed needs to declare its own.
        raise ParseError("not a feed Vigie accepts: it declares XML entities (expansion attack)")
    slices = _slices(content)
    first = _parse_xml(url, next(slices), headers)
    return replace(first, entries=()), _entries_of(first, slices, url, headers)


def _entries_of(
    first: FeedData, slices: Iterator[bytes], url: str, headers: Mapping[str, str] | None
) -> Iterator[EntryData]:
    yield from first.entries
    for piece in slices:
        yield from _parse_xml(url, piece, headers).entries


def _slices(content: bytes) -> Iterator[bytes]:
    """The document, or, past ``SLICE_ITEMS`` items, documents of ``SLICE_ITEMS`` items each
    (the head before the first item and the tail after the last around each slice)."""
    # Counting tags is cheap; only a document that may be long is scanned.
    spans = (
        _item_spans(content)
        if content.count(b"<item") + content.count(b"<entry") > SLICE_ITEMS
        else None
    )
    if not spans or len(spans) <= SLICE_ITEMS:
        yield content
        return
    head, tail = content[: spans[0][0]], content[spans[-1][1] :]
    for first in range(0, len(spans), SLICE_ITEMS):
        last = min(first + SLICE_ITEMS, len(spans)) - 1
        yield head + content[spans[first][0] : spans[last][1]] + tail


def _item_spans(content: bytes) -> list[tuple[int, int]] | None:
    """Byte spans of the document's items, or None when items nest or do not close (the
    document is then parsed whole, as feedparser reads it)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for tag in _ITEM_TAG.finditer(content):
        if tag.group(2) is None:
            continue  # CDATA or a comment
        if tag.group(1):  # a closing tag
            if start is None:
                return None
            spans.append((start, tag.end()))
            start = None
        elif start is not None:
            return None
        elif tag.group().endswith(b"/>"):
            spans.append((tag.start(), tag.end()))
        else:
            start = tag.start()
    return None if start is not None else spans


def _parse_xml(url: str, content: bytes, headers: Mapping[str, str] | None) -> FeedData:
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-location", url)
    # A local file has no Content-Type; saying "XML" keeps feedparser from warning about a
    # missing header while still letting the XML declaration or BOM decide the charset.
    response_headers.setdefault("content-type", "application/xml")
    try:
        parsed = feedparser.parse(content, response_headers=response_headers, **PARSE_OPTIONS)
    except Exception as exc:  # feedparser promises not to raise; a few inputs still make it
        raise ParseError(f"feed parser crashed: {type(exc).__name__}: {exc}") from exc
    warning = _bozo_reason(parsed)
    if not parsed.entries and not parsed.get("version"):
        if _is_html(content, response_headers.get("content-type", "")):
            raise ParseError(f"not a feed: {_html_page_reason(url, content)}")
        reason = warning or "no RSS, Atom or JSON feed structure found"
        raise ParseError(f"not a feed: {reason}")
    language = _primary_language(parsed.feed.get("language"))
    entries = tuple(
        entry
        for raw in parsed.entries
        if (entry := _entry(raw, base=url, feed_language=language)) is not None
    )
    return FeedData(
        url=url,
        title=clean_text(html_to_text(parsed.feed.get("title", ""))),
        link=_link(parsed.feed.get("link"), url),
        language=language,
        entries=entries,
        warning=warning,
    )


def _is_html(content: bytes, content_type: str) -> bool:
    """Whether the body is an HTML page: served as one, or with an HTML root near its start.

    Asked only once feedparser found neither a feed version nor entries, so an RSS document
    wrongly served as ``text/html`` is still read as the feed it is.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in _HTML_MEDIA_TYPES or bool(_HTML_ROOT.search(content[:_PROLOGUE_BYTES]))


def _html_page_reason(url: str, content: bytes) -> str:
    feeds = _advertised_feeds(url, content)
    if not feeds:
        return "an HTML page, and it advertises no feed"
    return (
        f"an HTML page; it advertises {'these feeds' if len(feeds) > 1 else 'a feed'}: "
        f"{', '.join(feeds)} (add one with `vigie feeds add URL`)"
    )


def _advertised_feeds(url: str, content: bytes) -> list[str]:
    """Absolute URLs of the page's ``<link rel="alternate" type="application/rss+xml">`` (or
    Atom, RDF, JSON Feed), in page order, at most ``_MAX_FEED_LINKS``.

    Reads only the first ``_HTML_HEAD_BYTES``, decoded as UTF-8 (feed URLs are ASCII in
    practice), and never raises: a page it cannot read simply advertises nothing.
    """
    markup = content[:_HTML_HEAD_BYTES].decode("utf-8", errors="replace")
    try:
        soup = BeautifulSoup(markup, "lxml", parse_only=SoupStrainer(["base", "link"]))
        base_tag = soup.find("base", href=True)
        base = urljoin(url, str(base_tag["href"])) if base_tag is not None else url
        feeds: list[str] = []
        for link in soup.find_all("link", href=True):
            rels = {str(rel).lower() for rel in link.get_attribute_list("rel") if rel}
            media_type = str(link.get("type") or "").split(";", 1)[0].strip().lower()
            if "alternate" not in rels or media_type not in _FEED_LINK_TYPES:
                continue
            feed_url = _absolute_http_url(str(link["href"]), base)
            if feed_url and feed_url not in feeds:
                feeds.append(feed_url)
                if len(feeds) == _MAX_FEED_LINKS:
                    break
        return feeds
    except Exception:  # a reason for a failure must not fail in turn
        return []


def _absolute_http_url(href: str, base: str) -> str | None:
    """``href`` resolved against ``base``, when that gives an http(s) URL fit to print."""
    try:
        resolved = urljoin(base, href.strip())
        parts = urlsplit(resolved)
    except ValueError:
        return None
    printable = all(c.isprintable() and not c.isspace() for c in resolved)
    if parts.scheme not in ("http", "https") or not parts.hostname or not printable:
        return None
    return resolved if len(resolved) <= _MAX_FEED_LINK_CHARS else None


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc is not None else "ill-formed document"


def _entry(raw: Any, *, base: str, feed_language: str | None) -> EntryData | None:
    # dict.get, not feedparser's own: that one maps legacy key names (none of those read
    # here has one) and raises and catches a KeyError for each key an item lacks.
    get = dict.get
    title = html_to_text(get(raw, "title", ""))
    link = _link(get(raw, "link"), base) or ""
    full = _full_content(raw)
    summary = html_to_text(get(raw, "summary", ""))
    text = full or summary
    if not (title or text or link):
        return None  # nothing a person could read or follow
    return EntryData(
        guid=_guid(raw, link, title),
        url=link,
        title=title,
        text=text,
        has_full_content=bool(full) and len(full) > len(summary),
        published_at=_timestamp(get(raw, "published_parsed")),
        # feedparser's own .get("updated_parsed") would fall back to the published date.
        updated_at=_timestamp(get(raw, "updated_parsed")),
        language=_primary_language(get(raw, "language")) or feed_language,
        author=clean_text(get(raw, "author", "")) or None,
    )


def _full_content(raw: Any) -> str:
    contents = dict.get(raw, "content") or []
    texts = [html_to_text(c["value"]) for c in contents if dict.get(c, "value")]
    return max(texts, key=len, default="")


def _guid(raw: Any, link: str, title: str) -> str:
    guid = safe_text(str(raw.get("id") or "")).strip()
    if guid:
        return guid[:1000]
    # No id: the link (or, failing that, the title) is the only stable identity the item has.
    return "sha256:" + hashlib.sha256(f"{link}\n{title}".encode()).hexdigest()


def _link(value: Any, base: str) -> str | None:
    """A followable http(s) link; feedparser copies ``urn:``/``tag:`` ids into links."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        link = canonical_url(value, base=base)
    except ValueError:
        return None
    return link if link.startswith(("http://", "https://")) else None


# --- JSON Feed (jsonfeed.org): feedparser 6.0 reads only XML, so Vigie maps it itself --------


def _looks_like_json(content: bytes) -> bool:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def parse_json_feed(url: str, content: bytes) -> FeedData:
    """Parse a JSON Feed 1.0/1.1 document."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"not a feed: invalid JSON ({exc})") from exc
    except RecursionError as exc:
        raise ParseError("not a feed: JSON nested too deeply") from exc
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        raise ParseError("not a feed: JSON without a jsonfeed.org version")
    items = document.get("items")
    language = _primary_language(document.get("language"))
    entries = tuple(
        entry
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
        and (entry := _json_entry(item, base=url, feed_language=language)) is not None
    )
    return FeedData(
        url=url,
        title=clean_text(_string(document, "title")),
        link=_link(document.get("home_page_url"), url),
        language=language,
        entries=entries,
        warning=None if isinstance(items, list) else "JSON feed has no items list",
    )


def _json_entry(item: dict[str, Any], *, base: str, feed_language: str | None) -> EntryData | None:
    title = html_to_text(_string(item, "title"))
    link = _link(item.get("url"), base) or ""
    full = html_to_text(_string(item, "content_html")) or clean_text(_string(item, "content_text"))
    summary = clean_text(_string(item, "summary"))
    text = full or summary
    if not (title or text or link):
        return None
    return EntryData(
        guid=_json_id(item.get("id")) or _guid({}, link, title),
        url=link,
        title=title,
        text=text,
        has_full_content=bool(full),
        published_at=_iso_timestamp(item.get("date_published")),
        updated_at=_iso_timestamp(item.get("date_modified")),
        language=_primary_language(item.get("language")) or feed_language,
        author=_json_author(item),
    )


def _string(obj: dict[str, Any], key: str) -> str:
    """A string field, or "" when absent or of another type (JSON feeds in the wild vary)."""
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _json_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return safe_text(str(value)).strip()[:1000]


def _json_author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    if not isinstance(authors, list):
        authors = [item.get("author")]
    names = [_string(a, "name") for a in authors if isinstance(a, dict)]
    return ", ".join(name for name in names if name) or None


def _iso_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _timestamp(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _primary_language(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None
