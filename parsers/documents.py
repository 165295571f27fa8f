"""Local article files for ``vigie import``: a file name and its bytes in, an
``ImportedDocument`` out. No file system, no network: the caller reads the bytes.

Formats, by extension (anything else is recognised by its first character):

* ``.txt``, ``.md``, ``.markdown``, ``.text``: UTF-8 text, optionally opened by front matter
  between two ``---`` lines, one ``key: value`` per line (``title``, ``url``, ``date``,
  ``language``, ``source``; other keys are ignored). Without a title there, the first line
  of the text is the title (a Markdown ``#`` heading loses its marks).
* ``.html``, ``.htm``, ``.xhtml``: an article page, read by ``parsers.articles.extract_article``
  like a fetched page; its declared canonical URL counts as the article's URL.
* ``.json``: one object with ``title`` and ``text`` (strings), and optionally ``url``,
  ``date`` (or ``published_at``), ``language`` and ``source``. Each line of its ``text`` is
  a paragraph: nobody hard-wraps a JSON string, so a line break there ends a paragraph (a
  heading, a dateline, a caption), and the tagger reads it as the end of a sentence.

Whatever goes wrong comes back as ``ParseError`` with a reason a person can act on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from parsers.articles import extract_article, parse_datetime
from parsers.exceptions import ParseError
from parsers.language import primary_subtag
from parsers.text import clean_text, content_hash
from parsers.urls import canonical_url

#: Files larger than this are not articles (an export, a video): refused, not read.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
#: A first line longer than this is a paragraph, not a title.
MAX_TITLE_CHARS = 300
IMPORT_URL_PREFIX = "urn:vigie:import:"

DocumentKind = Literal["text", "html", "json"]

_TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_JSON_SUFFIXES = frozenset({".json"})
_FRONT_MATTER_KEYS = frozenset({"title", "url", "date", "language", "source"})
# Signatures of common binary formats, and NUL, which no text file contains.
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")
_HEADING = re.compile(r"^#{1,6}\s+")
_FENCE = "---"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ImportedDocument:
    """One article read from a local file."""

    #: The file's name, as given: messages name the file by it.
    name: str
    #: How the file was read.
    kind: DocumentKind
    title: str
    #: Main text, paragraphs separated by blank lines.
    text: str
    #: The article's URL, when the file gives one (front matter, JSON, canonical link).
    url: str | None
    #: Publication time (UTC), when the file gives one.
    published_at: datetime | None
    #: Declared language subtag; None leaves it to detection.
    language: str | None
    #: Declared source (outlet) name.
    source: str | None
    #: ``parsers.text.content_hash(title, text)``.
    content_hash: str

    @property
    def canonical_url(self) -> str:
        """The article's identity: its canonical URL, else a URN made from its content.

        The URN makes re-importing the same text a no-op, whatever the file is called.
        """
        if self.url:
            return canonical_url(self.url)
        return IMPORT_URL_PREFIX + self.content_hash[:16]


def parse_document(name: str, content: bytes) -> ImportedDocument:
    """Read one local article file; raise ``ParseError`` saying why it cannot be imported."""
    try:
        return _parse(name, content)
    except ParseError:
        raise
    except Exception as exc:
        # A local file is untrusted input too: whatever it trips is a bad file, not a bug.
        raise ParseError(f"{name}: cannot read: {type(exc).__name__}: {exc}") from exc


def _parse(name: str, content: bytes) -> ImportedDocument:
    if len(content) > MAX_DOCUMENT_BYTES:
        raise ParseError(f"{name}: too large for an article ({len(content):,} bytes)")
    if not content.strip():
        raise ParseError(f"{name}: empty file")
    if content.startswith(_BINARY_MAGIC) or b"\0" in content:
        raise ParseError(f"{name}: binary file, not text, HTML or JSON")
    kind = _kind(name, content)
    if kind == "html":
        return _from_html(name, content)
    decoded = _decode_utf8(name, content)
    return _from_json(name, decoded) if kind == "json" else _from_text(name, decoded)


def _kind(name: str, content: bytes) -> DocumentKind:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix in _TEXT_SUFFIXES:
        return "text"
    if suffix in _HTML_SUFFIXES:
        return "html"
    if suffix in _JSON_SUFFIXES:
        return "json"
    first = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if first in (b"{", b"[") else "html" if first == b"<" else "text"


def _decode_utf8(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{name}: not UTF-8 text (byte {exc.start} is invalid)") from exc


# --- plain text with front matter ----------------------------------------------------------


def _from_text(name: str, decoded: str) -> ImportedDocument:
    fields, body = _split_front_matter(name, decoded)
    title = fields.get("title", "")
    if not title:
        title, body = _first_line_as_title(body)
    return _document(name, "text", title, clean_text(body), fields)


def _split_front_matter(name: str, decoded: str) -> tuple[dict[str, str], str]:
    lines = decoded.replace("\r\n", "\n").split("\n")
    if lines[0].strip() != _FENCE:
        return {}, decoded
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise ParseError(f"{name}: front matter opened on line 1 is never closed") from None
    fields = dict(_front_matter_pairs(name, lines[1:close]))
    return fields, "\n".join(lines[close + 1 :])


def _front_matter_pairs(name: str, lines: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(lines, start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            raise ParseError(f"{name}: front matter line {number} is not `key: value`: {line!r}")
        key = key.strip().lower()
        if key in _FRONT_MATTER_KEYS:
            pairs.append((key, _unquote(value.strip())))
    return pairs


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _first_line_as_title(body: str) -> tuple[str, str]:
    first, _, rest = body.strip().partition("\n")
    first = _HEADING.sub("", first).strip()
    if len(first) > MAX_TITLE_CHARS:
        return "", body  # a paragraph: the text has no title line
    return first, rest


# --- HTML ----------------------------------------------------------------------------------


def _from_html(name: str, content: bytes) -> ImportedDocument:
    # A file URI names the page: it is never taken for the article's web address, while an
    # absolute canonical link the page declares is.
    page = extract_article(f"file:///{name.lstrip('/')}", content)
    url = page.canonical_url if page.canonical_url.startswith(("http://", "https://")) else None
    fields = {"url": url or "", "language": page.language or ""}
    document = _document(name, "html", page.title, page.text, fields)
    return replace(document, published_at=page.published_at)


# --- JSON ----------------------------------------------------------------------------------


def _from_json(name: str, decoded: str) -> ImportedDocument:
    try:
        data = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(data, dict):
        raise ParseError(f"{name}: expected a JSON object, found {type(data).__name__}")
    fields = {key: _json_string(name, data, key) for key in ("url", "language", "source")}
    fields["date"] = _json_string(name, data, "date") or _json_string(name, data, "published_at")
    title = _json_string(name, data, "title", required=True)
    text = clean_text(_lines_as_paragraphs(_json_string(name, data, "text", required=True)))
    return _document(name, "json", title, text, fields)


def _lines_as_paragraphs(text: str) -> str:
    # ``clean_text`` joins the lines of a paragraph, as for hard-wrapped text; a JSON string's
    # lines were never wrapped, and joining them runs a heading into the sentence after it.
    return _LINE_BREAK.sub("\n\n", text)


def _json_string(name: str, data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        kind = type(value).__name__
        found = "missing" if value is None else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
        raise ParseError(f"{name}: `{key}` must be a string, but it is {found}")
    return value.strip()


# --- shared --------------------------------------------------------------------------------


def _document(
    name: str, kind: DocumentKind, title: str, text: str, fields: dict[str, str]
) -> ImportedDocument:
    if not text.strip():
        raise ParseError(f"{name}: no article text")
    return ImportedDocument(
        name=name,
        kind=kind,
        title=title.strip(),
        text=text,
        url=_url(name, fields.get("url", "")),
        published_at=_date(name, fields.get("date", "")),
        language=_language(name, fields.get("language", "")),
        source=fields.get("source") or None,
        content_hash=content_hash(title.strip(), text),
    )


def _url(name: str, value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise ParseError(f"{name}: url must start with http:// or https://, not {value!r}")
    return value


def _date(name: str, value: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ParseError(f"{name}: date {value!r} is not an ISO 8601 or RFC 2822 date")
    return parsed


def _language(name: str, value: str) -> str | None:
    if not value:
        return None
    primary = primary_subtag(value)
    if primary is None:
        raise ParseError(f"{name}: language {value!r} is not a language tag such as en or fr")
    return primary
