"""OPML subscription lists: bytes in, frozen ``OpmlData`` out; feeds in, OPML 2.0 bytes out.

Pure: no network, no files, no clock (``export_opml`` takes ``created`` from the caller).

An OPML file comes from elsewhere (another reader, a colleague, a download), so it is
parsed as hostile XML::

    refuse more than MAX_OPML_BYTES
    parse with lxml: entities never substituted, no DTD, file or network loading,
        libxml2's depth and entity-amplification limits kept
    refuse a DOCTYPE that declares entities (billion laughs, external entities)
    walk the outlines without recursion, at most MAX_OUTLINES of them
    keep http(s) feeds; list every other outline with a xmlUrl as skipped, with the reason

Every failure is a ``ParseError``; no other exception leaves ``parse_opml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree

from parsers.exceptions import ParseError
from parsers.inert import shorten
from parsers.language import primary_subtag
from parsers.urls import feed_url_refusal

#: Larger files are refused before parsing; a list of 10 000 feeds is about 2 MB.
MAX_OPML_BYTES = 10_000_000
#: Outlines (folders and feeds) read at most; past it the file is refused, not truncated.
MAX_OUTLINES = 50_000
#: Longest title kept, in characters (the feeds table holds 255).
MAX_TITLE_CHARS = 255

# XML 1.0 allows only these characters; a feed name with a stray control character would
# otherwise make the export fail.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class OutlineData:
    """One feed of an OPML file, as parsed (or as it will be exported)."""

    #: The feed's address (``xmlUrl``), http or https.
    url: str
    #: Display name: ``text``, else ``title``, else the URL; one line, at most 255 characters.
    title: str
    #: Primary language subtag from a ``language`` attribute (``fr-CA`` -> ``fr``), if any.
    language: str | None = None
    #: Titles of the folder outlines around it, outermost first.
    folders: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedOutline:
    """An outline with a ``xmlUrl`` that is not imported, and why."""

    #: The ``xmlUrl`` as written (one line, shortened when very long).
    url: str
    #: Its display name.
    title: str
    #: Why it is skipped, in words a person can act on.
    reason: str


@dataclass(frozen=True)
class OpmlData:
    """A whole OPML document, as parsed."""

    #: ``head/title``, if the file has one.
    title: str | None
    #: OPML version attribute as written (``1.0``, ``1.1``, ``2.0``), or None.
    version: str | None
    #: The http(s) feeds, in document order, each URL once.
    feeds: tuple[OutlineData, ...]
    #: Outlines that carried a ``xmlUrl`` but are not imported.
    skipped: tuple[SkippedOutline, ...]


# --- parsing ------------------------------------------------------------------------------


def _hardened_parser() -> Any:
    # Measured with lxml 6.1 / libxml2 2.14, and pinned by tests/test_opml.py: with these
    # options an external DTD (even a local file) is never read. Do not add collect_ids=False:
    # with it, libxml2 reads a local external DTD and expands its entities in attributes.
    return etree.XMLParser(
        resolve_entities=False,  # never substitute entities in text
        load_dtd=False,
        no_network=True,
        huge_tree=False,  # keeps libxml2's depth, size and amplification limits
        remove_pis=True,
        remove_comments=True,
    )


def parse_opml(content: bytes) -> OpmlData:
    """Parse OPML 1.0, 1.1 or 2.0 bytes; ``ParseError`` with a readable reason otherwise."""
    if len(content) > MAX_OPML_BYTES:
        raise ParseError(f"OPML file too large ({len(content):,} bytes; max {MAX_OPML_BYTES:,})")
    root = _parse_xml(content)
    _refuse_entity_declarations(root)
    if _local_name(root) != "opml":
        raise ParseError(f"not an OPML document: the root element is <{_local_name(root)}>")
    body = _child(root, "body")
    if body is None:
        raise ParseError("not an OPML document: it has no <body>")
    head = _child(root, "head")
    title_element = _child(head, "title") if head is not None else None
    feeds, skipped = _collect(_walk(body))
    return OpmlData(
        title=_one_line(_text_of(title_element)) or None,
        version=_attribute(root, "version") or None,
        feeds=tuple(feeds),
        skipped=tuple(skipped),
    )


def _parse_xml(content: bytes) -> Any:
    if not content.strip():
        raise ParseError("empty OPML file")
    try:
        return etree.fromstring(content, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc}") from exc
    except (etree.LxmlError, ValueError, UnicodeError) as exc:
        raise ParseError(f"unreadable OPML: {type(exc).__name__}: {exc}") from exc


def _refuse_entity_declarations(root: Any) -> None:
    # OPML never needs entities; a file that declares some is either a mistake or an attack
    # (exponential expansion, or an external entity pointing at a local file).
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError("OPML file declares XML entities (<!ENTITY>); refused as unsafe")


def _walk(body: Any) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Every outline under ``body`` in document order, with its folders; no recursion."""
    stack: list[tuple[Iterator[Any], tuple[str, ...]]] = [(iter(body), ())]
    seen = 0
    while stack:
        children, folders = stack[-1]
        element = next(children, None)
        if element is None:
            stack.pop()
            continue
        if not isinstance(element.tag, str) or _local_name(element) != "outline":
            continue  # comments, entity references and foreign elements carry no feed
        seen += 1
        if seen > MAX_OUTLINES:
            raise ParseError(f"OPML file has more than {MAX_OUTLINES:,} outlines; refused")
        yield element, folders
        if len(element):
            stack.append((iter(element), (*folders, _title(element, ""))))


def _collect(
    outlines: Iterable[tuple[Any, tuple[str, ...]]],
) -> tuple[list[OutlineData], list[SkippedOutline]]:
    feeds: list[OutlineData] = []
    skipped: list[SkippedOutline] = []
    urls: set[str] = set()
    for element, folders in outlines:
        attributes = _attributes(element)
        if "xmlurl" not in attributes:
            continue  # a folder, or a plain link (type="link"): not a feed
        raw_url = attributes["xmlurl"].strip()
        title = _title(element, raw_url)
        reason = feed_url_refusal(raw_url) or ("listed twice" if raw_url in urls else None)
        if reason:
            skipped.append(SkippedOutline(shorten(_one_line(raw_url), 200), title, reason))
            continue
        urls.add(raw_url)
        language = primary_subtag(attributes.get("language"))
        feeds.append(OutlineData(raw_url, title, language, folders))
    return feeds, skipped


def _attributes(element: Any) -> dict[str, str]:
    # Exporters disagree on case (xmlUrl, xmlurl, XMLURL); OPML attributes are unqualified.
    return {str(name).lower(): str(value) for name, value in element.attrib.items()}


def _attribute(element: Any, name: str) -> str:
    return _attributes(element).get(name, "").strip()


def _title(element: Any, fallback: str) -> str:
    attributes = _attributes(element)
    for name in ("text", "title"):
        title = shorten(_one_line(attributes.get(name, "")), MAX_TITLE_CHARS)
        if title:
            return title
    return shorten(_one_line(fallback), MAX_TITLE_CHARS)


def _child(element: Any, name: str) -> Any:
    return next((c for c in element if isinstance(c.tag, str) and _local_name(c) == name), None)


def _local_name(element: Any) -> str:
    return str(etree.QName(element).localname)


def _text_of(element: Any) -> str:
    return "" if element is None else "".join(str(t) for t in element.itertext())


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", _NOT_XML_CHAR.sub("", text)).strip()


# --- export -------------------------------------------------------------------------------


def export_opml(
    feeds: Iterable[OutlineData], *, title: str, created: datetime | None = None
) -> bytes:
    """An OPML 2.0 document (UTF-8) listing ``feeds``; every value is escaped by lxml.

    Feeds with folders are nested under one outline per folder, so a parsed file exports
    back to the same tree.
    """
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _one_line(title)
    if created is not None:
        etree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], Any] = {(): body}
    for feed in feeds:
        parent = _folder(folders, feed.folders)
        etree.SubElement(parent, "outline", _outline_attributes(feed))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _folder(folders: dict[tuple[str, ...], Any], path: tuple[str, ...]) -> Any:
    if path not in folders:
        parent = _folder(folders, path[:-1])
        name = _one_line(path[-1])
        folders[path] = etree.SubElement(parent, "outline", {"text": name, "title": name})
    return folders[path]


def _outline_attributes(feed: OutlineData) -> Mapping[str, str]:
    name = _one_line(feed.title) or feed.url
    attributes = {"type": "rss", "text": name, "title": name, "xmlUrl": _one_line(feed.url)}
    if feed.language:
        attributes["language"] = _one_line(feed.language)
    return attributes
