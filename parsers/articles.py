"""Article pages: HTML bytes in, a frozen ``ArticleData`` out.

trafilatura finds the main text, with the options that scored best on real news pages
(``bench/eval_extract.py``; ``docs/design.md`` has the scores); readability-lxml reads the
same tree, and its text is kept when it holds nearly all of trafilatura's: it then only adds
what trafilatura dropped (subheads, captions, short list items). The metadata publishers declare for
search engines (JSON-LD, Open Graph tags, ``<link rel=canonical>``, ``<html lang>``) is read
from the same lxml tree that trafilatura is then given: one parse per page. The JSON-LD
``articleBody`` replaces trafilatura's text when trafilatura kept only a fragment of it.
BeautifulSoup decodes the bytes and, when neither gives any text, reads the page's visible
text.
"""

from __future__ import annotations

import copy
import email.utils
import functools
import html
import importlib.metadata
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import readability.readability
import trafilatura
from bs4 import BeautifulSoup, Tag, UnicodeDammit
from lxml.html import HtmlElement, document_fromstring
from readability import Document as ReadabilityDocument
from trafilatura.settings import Extractor

from parsers.exceptions import ParseError
from parsers.language import detect_language, primary_subtag
from parsers.text import clean_text, content_hash, fold, html_to_text, normalise_for_hash
from parsers.urls import canonical_url, prefer_declared

Extraction = Literal["trafilatura", "readability", "json-ld", "fallback", "empty"]

#: Fewer words than this and the page is a stub, not an article.
STUB_MAX_WORDS = 50
#: Levels of nested elements libxml2's HTML parser reads; what lies deeper is dropped.
PARSER_MAX_DEPTH = 256
#: Consent and paywall wording only marks a page as suspect when the extracted text is this
#: short: a full article may well discuss cookies or mention its subscription offer. Up to
#: ``WALL_MAX_WORDS`` two different cues are needed; below ``WALL_ONE_CUE_WORDS`` one is
#: enough (a short story about consent law must not read as a consent wall).
WALL_MAX_WORDS = 300
WALL_ONE_CUE_WORDS = 120
#: The page's JSON-LD ``articleBody`` is its text when trafilatura kept fewer words than this
#: share of it: trafilatura then took a teaser, a caption block or the page's furniture for
#: the article. A longer extraction keeps its own paragraphs, which ``articleBody`` often
#: lacks, and what the body leaves out (headings, tables).
BODY_SHARE_KEPT = 0.5
#: readability-lxml's text replaces trafilatura's when it holds at least this share of
#: trafilatura's word 4-grams: the two then agree on where the article is, and readability
#: only adds what trafilatura's stricter filters dropped (subheads, captions, short list
#: items, table cells). Below it they disagree on the article itself, and trafilatura, which
#: scored higher alone whenever they disagreed, is kept (how it was chosen: docs/design.md).
READABILITY_KEEPS = 0.9
#: A block marked as furniture (class or id: ad, share, newsletter, related) is dropped from
#: readability's copy up to this many words; a longer one may be a wrapper of the article.
FURNITURE_MAX_WORDS = 40
#: ...and when it is at most this many times as long: what readability adds beyond that is
#: not a caption or subhead but another block (related stories, a digest, a gallery).
READABILITY_MAX_GROWTH = 1.25
#: Words per shingle in that comparison: long enough that common phrases do not match alone.
SHINGLE_WORDS = 4
#: Folded (lower-case, unaccented) phrases of consent walls, in English and French.
CONSENT_CUES = (
    "accept cookies", "accept all cookies", "we use cookies", "manage cookies",
    "cookie preferences", "cookie settings", "your privacy choices", "before you continue",
    "accepter les cookies", "accepter les temoins", "nous utilisons des temoins",
    "nous utilisons des cookies", "tout accepter", "consentement", "gerer mes preferences",
    "parametres des temoins",
)  # fmt: skip
#: Folded phrases of paywalls, in English and French.
PAYWALL_CUES = (
    "subscribe to continue", "subscribe to read", "subscribers only", "already a subscriber",
    "to continue reading", "this article is for subscribers", "exclusive to subscribers",
    "abonnez-vous pour", "reserve aux abonnes", "deja abonne", "pour lire la suite",
    "contenu reserve", "cet article est reserve", "connectez-vous pour lire",
)  # fmt: skip
# schema.org types whose nodes describe the article itself.
_ARTICLE_TYPE = re.compile(r"(?:^|[/:])(?:\w*Article|BlogPosting|LiveBlogPosting|Report)$")
# Byte signatures of documents that are certainly not HTML.
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")
_WESTERN_SINGLE_BYTE = frozenset({"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"})
_BYLINE_PREFIX = re.compile(r"^(?:by|par)\s+", re.IGNORECASE)
# Openers of the link lines that newsrooms drop between paragraphs ("Related: ...").
_FURNITURE = re.compile(
    r"^\W*(?:related|read more|also read|see also|more on this|a lire aussi|à lire aussi"
    r"|lire aussi|à voir aussi|a voir aussi|sur le même sujet|voir aussi)\b\s*:",
    re.IGNORECASE,
)
# An HTML tag, opening or closing: some publishers put markup in ``articleBody``.
_MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_TABLE_RULE = re.compile(r"^[\s|:-]*-[\s|:-]*$")
_WORD = re.compile(r"\w+")
# Class or id words of page furniture that sits among an article's paragraphs: ad slots,
# share bars, newsletter sign-ups, related-story boxes. readability-lxml keeps short blocks
# like these when they sit inside the article's container; trafilatura already drops them.
_FURNITURE_MARK = re.compile(
    r"(?:^|[\s_-])(?:ad|ads|advert\w*|advertisement|sponsor\w*|promo\w*|newsletter\w*"
    r"|share|sharing|social|related|outbrain|taboola|subscribe\w*|partage\w*|publicit\w*)(?:$|[\s_-])",
    re.IGNORECASE,
)
_GALLERY_MARK = re.compile(
    r"(?:^|[\s_-])(?:gallery|galleries|slideshow|carousel)(?:$|[\s_-])", re.IGNORECASE
)
# An element that is, or holds, the article's own container.
_HOLDS_ARTICLE = "descendant-or-self::*[self::article or self::main or @itemprop='articleBody']"
# What readability's copy of the page loses first: no article text lives there. Comments,
# processing instructions and <link> elements are what readability's cleaner (comments,
# processing_instructions, links) removes anyway, as drop_tree does: removed here, they do
# not go through its walks of every node and link first.
_NOT_TEXT = "|".join(
    f"//{name}"
    for name in (
        "script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "iframe",
        "select", "button", "link", "comment()", "processing-instruction()",
    )
)  # fmt: skip
# readability-lxml's own ``clean``, which ``_readability_clean`` stands in for (kept for tests).
_READABILITY_CLEAN = readability.readability.clean
# Its three patterns, as it writes them but for the lookbehind: a match of either can only
# begin where a run of blank space begins, and the lookbehind spares the regex engine trying
# every other position of the text (readability's patterns start with no fixed character).
_LONG_BLANK = re.compile(r"(?<!\s)\s{255,}")
_BLANK_WITH_NEWLINE = re.compile(r"(?<!\s)\s*\n\s*")
_TAB_OR_SPACES = re.compile(r"\t|[ \t]{2,}")
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ")
_EMPTY_PAGE = document_fromstring("<html></html>")
_MIN_YEAR, _MAX_YEAR = 1990, 2100


@dataclass(frozen=True)
class ArticleData:
    """One article page, as parsed."""

    #: The URL the page was fetched from, exactly as given.
    url: str
    #: Where the article is filed: its declared canonical URL when on the same site, else ``url``.
    canonical_url: str
    #: Plain-text headline (empty when the page has none).
    title: str
    #: Main text, paragraphs separated by blank lines (empty when nothing was found).
    text: str
    #: When the page says the article was first published (UTC), if it says.
    published_at: datetime | None
    #: When the page says the article was last modified (UTC), if it says.
    modified_at: datetime | None
    #: Primary language subtag (``en``, ``fr``), declared or detected; None when unsure.
    language: str | None
    #: Author names, comma-separated, if given.
    author: str | None
    #: The outlet's name, if given.
    publisher: str | None
    #: The page's summary (JSON-LD, og: or meta description), if given.
    description: str | None
    #: Where ``text`` comes from: trafilatura, the page's JSON-LD ``articleBody``, the
    #: page's visible text (a fallback), or nowhere.
    extraction: Extraction
    #: Why the page looks like a consent wall, paywall or stub rather than the article.
    suspect_reason: str | None
    #: ``content_hash(title, text)``: equal for extractions that differ only in spacing.
    content_hash: str


@dataclass(frozen=True)
class _Metadata:
    """What the page declares about itself, before any fallback is applied."""

    #: Headline: JSON-LD, og:title, twitter:title, <h1>, then <title> minus the outlet's name.
    title: str | None
    #: First publication, from JSON-LD, article: meta tags or microdata (UTC).
    published_at: datetime | None
    #: Last modification, from the same sources (UTC).
    modified_at: datetime | None
    #: Author names, comma-separated.
    author: str | None
    #: The outlet's name.
    publisher: str | None
    #: The page's own summary.
    description: str | None
    #: ``<link rel=canonical>`` as written (possibly relative).
    canonical_link: str | None
    #: ``og:url`` as written.
    og_url: str | None
    #: The first well-formed language tag the page or its headers declare.
    declared_language: str | None
    #: The JSON-LD ``articleBody``, paragraphs separated by blank lines.
    body: str | None
    #: False when JSON-LD says ``isAccessibleForFree: false`` (a paywall, for search engines).
    free: bool


def extract_article(
    url: str, content: bytes, headers: Mapping[str, str] | None = None
) -> ArticleData:
    """Parse an article page; raise ``ParseError`` when the bytes are not an HTML page.

    ``headers`` are the HTTP response headers (Content-Type for the charset,
    Content-Language as a last-resort language declaration). A page that parses but yields
    little is not an error: it comes back with ``suspect_reason`` set.
    """
    header_map = {k.lower(): v for k, v in (headers or {}).items()}
    try:
        markup = _decode(content, header_map.get("content-type", ""))
        return _extract(url, markup, header_map)
    except ParseError:
        raise
    except Exception as exc:
        # Any page is untrusted input: whatever it trips in a library is a bad page, not a bug
        # in the run. The cause stays chained for whoever reads the log.
        raise ParseError(f"cannot parse page {url}: {type(exc).__name__}: {exc}") from exc


def _extract(url: str, markup: str, headers: Mapping[str, str]) -> ArticleData:
    # One lxml parse serves the metadata and trafilatura (which copies the tree it is given);
    # a BeautifulSoup tree cost twice the rest of the extraction. None: no HTML tree at all.
    tree = trafilatura.load_html(markup)
    meta = _metadata(tree, headers)
    title = meta.title or ""
    text, extraction = _main_text(tree, markup, url, meta)
    text = _drop_furniture(_drop_leading_title(text, title))
    language = detect_language(text or f"{title}\n{meta.description or ''}", meta.declared_language)
    return ArticleData(
        url=url,
        canonical_url=_canonical(url, meta),
        title=title,
        text=text,
        published_at=meta.published_at,
        modified_at=meta.modified_at,
        language=language,
        author=meta.author,
        publisher=meta.publisher,
        description=meta.description,
        extraction=extraction,
        suspect_reason=_too_deep(tree, text) or _suspect_reason(title, text, meta),
        content_hash=content_hash(title, text),
    )


# --- decoding -------------------------------------------------------------------------------


def _decode(content: bytes, content_type: str) -> str:
    """Bytes to text: BOM, then the HTTP charset, then ``<meta charset>``, then sniffing."""
    if not content.strip():
        raise ParseError("empty document")
    if content.lstrip().startswith(_BINARY_MAGIC):
        raise ParseError("not an HTML document (binary data)")
    declared = _header_charset(content_type)
    if declared in _WESTERN_SINGLE_BYTE and _is_utf8_with_non_ascii(content):
        # Servers often label every page Latin-1 by default; a body that is valid UTF-8 with
        # accented letters is almost never really Latin-1, and decoding it so gives mojibake.
        declared = "utf-8"
    has_bom = content.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
    definite = [declared] if declared and not has_bom else []
    if not definite and not has_bom and _is_utf8_with_non_ascii(content):
        # Undeclared bytes that are valid UTF-8 are UTF-8. UnicodeDammit would ask chardet
        # first when it is installed (readability-lxml brings it), and chardet reads short
        # UTF-8 French as Windows-1252: "Rémi" came out "RÃ©mi".
        definite = ["utf-8"]
    markup = UnicodeDammit(content, known_definite_encodings=definite, is_html=True).unicode_markup
    if markup is None or "\x00" in markup[:4096]:
        raise ParseError("not an HTML document (undecodable or binary data)")
    return markup


def _header_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1).lower() if match else None


def _is_utf8_with_non_ascii(content: bytes) -> bool:
    if content.isascii():
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- metadata -------------------------------------------------------------------------------


def _metadata(tree: HtmlElement | None, headers: Mapping[str, str]) -> _Metadata:
    if tree is None:  # not HTML enough for a tree: only the headers can declare anything
        tree = _EMPTY_PAGE
    tags = _meta_tags(tree)
    node = _article_node(_json_ld(tree))
    site_name = _ld_name(node.get("publisher")) or tags.get("og:site_name")
    return _Metadata(
        title=_title(node, tags, tree, site_name),
        # The <time> elements last, and only when nothing else gave a date: finding them
        # takes three walks of the whole tree.
        published_at=_first_date(
            node.get("datePublished"), tags.get("article:published_time"),
            tags.get("datepublished"), tags.get("pubdate"), tags.get("dc.date.issued"),
            tags.get("parsely-pub-date"),
        ) or _first_date(_time_attr(tree)),
        modified_at=_first_date(
            node.get("dateModified"), tags.get("article:modified_time"),
            tags.get("og:updated_time"), tags.get("datemodified"),
        ),
        author=_ld_names(node.get("author")) or _meta_author(tags) or _microdata_author(tree),
        publisher=site_name or tags.get("application-name"),
        description=_text_or_none(node.get("description"))
        or _text_or_none(tags.get("og:description"))
        or _text_or_none(tags.get("description")),
        canonical_link=_link_canonical(tree),
        og_url=tags.get("og:url"),
        declared_language=_first_language(
            _text_or_none(node.get("inLanguage")), _html_lang(tree), tags.get("og:locale"),
            tags.get("content-language"), headers.get("content-language"),
        ),
        body=_body_text(node.get("articleBody")),
        free=node.get("isAccessibleForFree") not in (False, "false", "False"),
    )  # fmt: skip


def _body_text(value: Any) -> str | None:
    """``articleBody`` as text: markup read as HTML, each line of plain text a paragraph."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if not isinstance(value, str):
        return None
    raw = html.unescape(value)
    if _MARKUP.search(raw):
        return html_to_text(raw) or None
    return clean_text(re.sub(r"\s*\n\s*", "\n\n", raw)) or None


def _first_language(*values: str | None) -> str | None:
    return next((tag for tag in values if primary_subtag(tag)), None)


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """``<meta>`` contents by lower-cased property, name or itemprop; the first one wins."""
    found: dict[str, str] = {}
    for tag in tree.iter("meta"):
        content = _attr(tag, "content").strip()
        for key in ("property", "name", "itemprop", "http-equiv"):
            name = _attr(tag, key).strip().lower()
            if name and content:
                found.setdefault(name, content)
    return found


def _json_ld(tree: HtmlElement) -> list[Any]:
    documents: list[Any] = []
    for script in tree.iter("script"):
        if "ld+json" in _attr(script, "type").lower():
            parsed = _loads_lenient(script.text or "")
            if parsed is not None:
                documents.append(parsed)
    return documents


def _loads_lenient(raw: str) -> Any:
    # CMS templates wrap JSON-LD in HTML comments or CDATA, and leave raw newlines in strings.
    cleaned = re.sub(r"^\s*(?:<!--|/\*\s*<!\[CDATA\[\s*\*/)|(?:-->|/\*\s*]]>\s*\*/)\s*$", "", raw)
    try:
        return json.loads(cleaned, strict=False)
    except (ValueError, RecursionError):
        return None


def _article_node(documents: list[Any]) -> dict[str, Any]:
    """The page's own JSON-LD article node, with ``@id`` references resolved.

    That is the first article node with a headline, in document order: later ones are
    usually related stories listed in an ``ItemList``.
    """
    nodes = list(_walk(documents, depth=0))
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    articles = [n for n in nodes if _is_article(n)]
    if not articles:
        return {}
    main = next((n for n in articles if n.get("headline")), articles[0])
    return {key: _resolve(value, by_id) for key, value in main.items()}


def _walk(value: Any, depth: int) -> Iterator[dict[str, Any]]:
    """Every dict nested in ``value`` (``@graph`` lists, ``mainEntity``, ...), bounded."""
    if depth > 8:
        return
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, depth + 1)


def _is_article(node: dict[str, Any]) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and _ARTICLE_TYPE.search(t) for t in names)


def _resolve(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    """Replace ``{"@id": ...}`` references (Yoast-style ``@graph``) by the nodes they name."""
    if isinstance(value, list):
        return [_resolve_one(v, by_id) for v in value]
    return _resolve_one(value, by_id)


def _resolve_one(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict) and set(value) == {"@id"} and isinstance(value["@id"], str):
        return by_id.get(value["@id"], value)
    return value


def _ld_name(value: Any) -> str | None:
    if isinstance(value, list):
        return _ld_name(value[0]) if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return _text_or_none(value)


def _ld_names(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    names = [name for v in values if (name := _ld_name(v))]
    cleaned = [_BYLINE_PREFIX.sub("", name) for name in names]
    return ", ".join(dict.fromkeys(cleaned)) or None


def _meta_author(tags: Mapping[str, str]) -> str | None:
    for key in ("author", "article:author", "byl", "dc.creator", "parsely-author"):
        value = tags.get(key)
        if value and not value.startswith(("http://", "https://")):
            return _BYLINE_PREFIX.sub("", clean_text(value)) or None
    return None


def _microdata_author(tree: HtmlElement) -> str | None:
    tag = _first(tree, "//*[@itemprop='author']")
    if tag is None:
        return None
    source = _first(tag, ".//*[@itemprop='name']")
    source = tag if source is None else source
    value = _attr(source, "content") or _get_text(source)
    return _BYLINE_PREFIX.sub("", clean_text(value)) or None


def _title(
    node: Mapping[str, Any], tags: Mapping[str, str], tree: HtmlElement, site: str | None
) -> str | None:
    for value in (node.get("headline"), tags.get("og:title"), tags.get("twitter:title")):
        if title := _text_or_none(value):
            return title
    heading = next(tree.iter("h1"), None)
    if heading is not None and (title := _text_or_none(_get_text(heading))):
        return title
    page_title = next(tree.iter("title"), None)
    if page_title is not None and (title := _text_or_none(_get_text(page_title))):
        return _strip_site_suffix(title, site)
    return None


def _strip_site_suffix(title: str, site: str | None) -> str:
    """ "Headline | Outlet" -> "Headline", for titles read from ``<title>``."""
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if not (found and head):
            continue
        # Dashes also occur inside headlines, so only the outlet's own name is cut after one;
        # after a bar, any short tail is a section or outlet name.
        if (site and fold(tail) == fold(site)) or (separator == " | " and len(tail.split()) <= 4):
            return head.strip()
    return title


def _link_canonical(tree: HtmlElement) -> str | None:
    for link in tree.iter("link"):
        if "canonical" in _attr(link, "rel").lower().split():
            return _attr(link, "href").strip() or None
    return None


def _html_lang(tree: HtmlElement) -> str | None:
    root = next(tree.iter("html"), None)
    if root is None:
        return None
    return (_attr(root, "lang") or _attr(root, "xml:lang")).strip() or None


def _time_attr(tree: HtmlElement) -> str | None:
    # A bare <time> anywhere could be the masthead's "today"; only the article's own counts.
    for path in (
        "//*[@itemprop='datePublished']",
        "(//article)[1]//time[@datetime]",
        "//time[@pubdate]",
    ):
        tag = _first(tree, path)
        if tag is not None:
            return _attr(tag, "datetime") or _attr(tag, "content") or None
    return None


def _first(tree: HtmlElement, path: str) -> HtmlElement | None:
    """The first element an XPath finds, in document order."""
    found = tree.xpath(path)
    return found[0] if found else None


def _get_text(tag: HtmlElement) -> str:
    """All the text under ``tag``, pieces joined by spaces (as BeautifulSoup's get_text(" "))."""
    return " ".join(tag.xpath(".//text()"))


def _attr(tag: HtmlElement, name: str) -> str:
    value = tag.get(name)
    return value if isinstance(value, str) else ""


def _text_or_none(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if not isinstance(value, str):
        return None
    return clean_text(html.unescape(value)) or None


# --- dates ----------------------------------------------------------------------------------


def _first_date(*values: Any) -> datetime | None:
    for value in values:
        if isinstance(value, str) and (parsed := parse_datetime(value)):
            return parsed
    return None


def parse_datetime(value: str) -> datetime | None:
    """A timestamp as publishers write it (ISO 8601 or RFC 2822), in UTC; None if unusable.

    A timestamp without a zone is taken as UTC, as feedparser does for feeds, so that the two
    sources of dates agree. Dates outside 1990-2100 are template placeholders, not dates.
    """
    value = value.strip()
    parsed = _iso(value) or _rfc2822(value)
    if parsed is None:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed if _MIN_YEAR <= parsed.year <= _MAX_YEAR else None


def _iso(value: str) -> datetime | None:
    # "2024-01-10 14:32:00 -0500" is common in meta tags; fromisoformat wants no space before
    # the offset.
    for candidate in (value, re.sub(r"\s+(?=[+-]\d{2}:?\d{2}$)", "", value)):
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            continue
    return None


def _rfc2822(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


# --- main text ------------------------------------------------------------------------------


def _main_text(
    tree: HtmlElement | None, markup: str, url: str, meta: _Metadata
) -> tuple[str, Extraction]:
    text, extraction = _best_candidate(tree, url, meta.body) if tree is not None else ("", "empty")
    if meta.body and _prefer_body(text, meta.body):
        return meta.body, "json-ld"
    if text:
        return text, extraction
    text = _visible_text(BeautifulSoup(markup, "lxml"))
    return (text, "fallback") if text else ("", "empty")


def _prefer_body(text: str, body: str) -> bool:
    """Whether the page's JSON-LD ``articleBody`` is a better text than trafilatura's.

    It is when trafilatura kept under ``BODY_SHARE_KEPT`` of its words (a fragment), and when
    trafilatura's text is mostly the body word for word: trafilatura then read the JSON-LD
    itself (it does when a page's HTML holds too little text), and Vigie's reading keeps the
    body's paragraphs. A body that is a small part of the text is a summary, not the article.
    """
    text_words, body_words = len(text.split()), len(body.split())
    if text_words < BODY_SHARE_KEPT * body_words:
        return True
    return body_words >= BODY_SHARE_KEPT * text_words and (
        normalise_for_hash(body) in normalise_for_hash(text)
    )


def _best_candidate(tree: HtmlElement, url: str, body: str | None) -> tuple[str, Extraction]:
    """trafilatura's text, or readability's when it holds nearly all of trafilatura's."""
    _drop_galleries(tree)
    text = _trafilatura_text(tree, url)
    if not text:  # nothing to agree with: the page's visible text is read instead
        return "", "empty"
    if body and _body_wins_anyway(text, body):
        return text, "trafilatura"  # _main_text takes the body: readability is not needed
    second = _readability_text(tree)
    if (
        second
        and len(second.split()) <= READABILITY_MAX_GROWTH * len(text.split())
        and _share_kept(text, second) >= READABILITY_KEEPS
    ):
        return second, "readability"
    return text, "trafilatura"


def _body_wins_anyway(text: str, body: str) -> bool:
    """Whether ``_prefer_body`` takes the JSON-LD body over trafilatura's text and over any
    text of readability's that could replace it (at most ``READABILITY_MAX_GROWTH`` times as
    many words): both are then a fragment of the body, and reading the page again with
    readability (two fifths of a page's extraction) would decide nothing.
    """
    return READABILITY_MAX_GROWTH * len(text.split()) < BODY_SHARE_KEPT * len(body.split())


def _drop_galleries(tree: HtmlElement) -> None:
    """Remove photo galleries and slideshows: their captions read as paragraphs otherwise.

    Both extractors take a gallery's fifty captions, or a slideshow's buttons ("Previous",
    "1 of 5", "Fullscreen"), for the article's text. A marked element that holds the
    article itself (``<article>``, ``<main>``, ``itemprop=articleBody``) is a page wrapper
    named after a gallery, and stays.
    """
    for element in tree.xpath("//body//*[@class or @id]"):
        marks = f"{_attr(element, 'class')} {_attr(element, 'id')}"
        if (
            _GALLERY_MARK.search(marks)
            and element.getparent() is not None
            and not element.xpath(_HOLDS_ARTICLE)
        ):
            element.drop_tree()


def _share_kept(text: str, other: str) -> float:
    """The share of ``text``'s word shingles (as a multiset) that ``other`` also has."""
    mine, theirs = _shingles(text), _shingles(other)
    total = sum(mine.values())
    return sum((mine & theirs).values()) / total if total else 0.0


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    """Every run of ``SHINGLE_WORDS`` words; a shorter text is its one shingle."""
    words = _WORD.findall(text)
    if len(words) < SHINGLE_WORDS:
        return Counter([tuple(words)] if words else [])
    # zip over shifted lists (the shortest ends it) builds the tuples in C: slicing each one
    # made this comparison a twentieth of a page's extraction.
    return Counter(zip(*(words[i:] for i in range(SHINGLE_WORDS)), strict=False))


def _readability_text(tree: HtmlElement) -> str:
    # readability edits the tree it reads (drops hidden nodes, cleans it): it gets a copy, as
    # the caller's tree is still read afterwards. Its cleaner would drop scripts, styles and
    # inline drawings anyway; dropping them first spares it a third of its work. No URL: it
    # would only make the links absolute, which plain text does not show.
    copied = copy.deepcopy(tree)
    for element in copied.xpath(_NOT_TEXT):
        element.drop_tree()
    for element in copied.xpath("//body//*[@class or @id]"):
        if element.getparent() is not None and _is_furniture(element):
            element.drop_tree()
    try:
        summary = ReadabilityDocument(copied).summary(html_partial=True)
    except Exception:  # any odd tree it trips on leaves trafilatura's text
        return ""
    return html_to_text(summary) if isinstance(summary, str) else ""


def _readability_clean(text: str) -> str:
    """readability-lxml's ``clean``: the same string for every text, in a third of the time.

    readability normalises the text of every candidate block and of every link in it with
    ``clean`` (to weigh paragraphs and link density): a fifth of a real page's extraction.
    Each substitution is the same, and is skipped when it cannot match (a run of 255 blanks
    needs 255 characters, a newline a newline, a tab or two spaces those). Why each pattern
    matches where readability's does: a maximal run of blank space either matches as a whole
    from its first character, or nowhere in it (both start by taking blank space greedily).
    """
    if len(text) >= 255:
        text = _LONG_BLANK.sub(" " * 255, text)
    if "\n" in text:
        text = _BLANK_WITH_NEWLINE.sub("\n", text)
    if "\t" in text or "  " in text:
        text = _TAB_OR_SPACES.sub(" ", text)
    return text.strip()


# readability calls ``clean`` by its module's global name (``text_length`` and its scoring).
# Only the releases whose ``clean`` it was checked against get the stand-in: another keeps
# its own, slower but never different (the tests compare the two on every run).
_CLEAN_CHECKED_ON = frozenset({"0.9"})
if importlib.metadata.version("readability-lxml") in _CLEAN_CHECKED_ON:
    readability.readability.clean = _readability_clean


def _is_furniture(element: HtmlElement) -> bool:
    """A short block whose class or id marks it as furniture (ad slot, share bar, ...).

    Mostly-link blocks are not dropped on that ground alone: on real pages, short linked
    paragraphs inside the article body were more often text than furniture.
    """
    marks = f"{_attr(element, 'class')} {_attr(element, 'id')}"
    # The mark first: counting an element's words reads its whole subtree.
    if _FURNITURE_MARK.search(marks) is None:
        return False
    return len(element.text_content().split()) <= FURNITURE_MAX_WORDS


def _trafilatura_text(tree: HtmlElement, url: str) -> str:
    try:
        extracted = trafilatura.extract(tree, options=_trafilatura_options(url))
    except Exception:  # trafilatura trips on some odd trees; the fallback handles the page
        return ""
    if not extracted:
        return ""
    # trafilatura puts one paragraph (or table row) per line; Vigie separates paragraphs with a
    # blank line. A table's header rule (|---|---|) says nothing.
    lines = (line for line in extracted.splitlines() if not _TABLE_RULE.match(line))
    return clean_text("\n\n".join(lines))


@functools.cache
def _trafilatura_settings() -> Extractor:
    # Options chosen by F1 on real pages (bench/eval_extract.py): balanced rather than
    # precision-first (which scored lower on both counts), tables kept (figures live in
    # them), reader comments left out (they are not the article and change by the minute),
    # and no second opinion from readability and jusText (fast), which scored lower and cost
    # half as much CPU again. Built once: reading its limits from trafilatura's configuration
    # cost 2% of a page.
    return Extractor(output_format="txt", fast=True, comments=False, tables=True, dedup=False)


def _trafilatura_options(url: str) -> Extractor:
    """The settings for one page: a copy naming its URL, as trafilatura makes them."""
    options = copy.copy(_trafilatura_settings())
    options.url = url
    options.source = url.encode("utf-8", "replace").decode("utf-8") if url else None
    return options


def _visible_text(soup: BeautifulSoup) -> str:
    """The readable text of ``<article>``, ``<main>`` or ``<body>``, without page furniture."""
    for tag in soup(
        ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form"]
    ):
        tag.decompose()
    for name in ("article", "main", "body"):
        found = soup.find(name)
        if isinstance(found, Tag):
            return html_to_text(str(found))
    return ""


def _drop_leading_title(text: str, title: str) -> str:
    """Remove the headline when it opens the text, so a headline edit is not also a body edit."""
    first, _, rest = text.partition("\n\n")
    if title and normalise_for_hash(first) == normalise_for_hash(title):
        return rest
    return text


def _drop_furniture(text: str) -> str:
    """Drop in-article "Related:" / "À lire aussi :" link lines that extraction let through."""
    paragraphs = text.split("\n\n")
    kept = [p for p in paragraphs if not (_FURNITURE.match(p) and len(p.split()) <= 25)]
    return "\n\n".join(kept)


def _canonical(url: str, meta: _Metadata) -> str:
    page = canonical_url(url)
    # og:url usually repeats <link rel=canonical>: a value already refused is not tried again.
    for declared in dict.fromkeys((meta.canonical_link, meta.og_url)):
        chosen = prefer_declared(page, declared)
        if chosen != page:
            return chosen
    return page


# --- suspect pages --------------------------------------------------------------------------


def _too_deep(tree: HtmlElement | None, text: str) -> str | None:
    """Why no text was found when the page nests past what the HTML parser reads.

    libxml2 stops at ``PARSER_MAX_DEPTH`` levels of elements and drops what lies deeper: a
    page whose text is that deep reads as empty, which said nothing of the cause.
    """
    if text.strip() or tree is None:
        return None
    depth, pending = 0, [(tree, 1)]
    while pending and depth < PARSER_MAX_DEPTH:
        element, level = pending.pop()
        depth = max(depth, level)
        pending.extend((child, level + 1) for child in element)
    if depth < PARSER_MAX_DEPTH:
        return None
    return (
        f"empty: the page nests its elements {PARSER_MAX_DEPTH} levels deep or more, past "
        "what the HTML parser reads (libxml2's limit), so its text could not be reached"
    )


def _suspect_reason(title: str, text: str, meta: _Metadata) -> str | None:
    """Why this extraction is probably not the article, or None when it looks like one."""
    words = len(text.split())
    if words == 0:
        return "empty: no article text found"
    if words <= WALL_MAX_WORDS:
        folded = fold(f"{title}\n{text}")  # only short texts: folding a long one is costly
        needed = 1 if words < WALL_ONE_CUE_WORDS else 2
        for kind, cues in (("consent wall", CONSENT_CUES), ("paywall", PAYWALL_CUES)):
            found = [cue for cue in cues if cue in folded]
            if len(found) >= needed:
                return f"{kind}: {', '.join(map(repr, found[:2]))} in a {words}-word text"
        if not meta.free:
            return f"paywall: isAccessibleForFree is false and only {words} words were found"
    if words < STUB_MAX_WORDS:
        return f"stub: only {words} words"
    return None
