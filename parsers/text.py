"""Text helpers shared by every parser: HTML to text, normalisation and content hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD_RUN = re.compile(r"\w+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# NUL and other C0 controls (except tab/newline) are dropped: PostgreSQL rejects NUL in text,
# and none of them carry meaning in a news article.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr")
_DROPPED_TAGS = ("script", "style", "noscript", "iframe", "template")


def safe_text(text: str) -> str:
    """Text every database stores: no NUL or other C0 controls, no lone surrogates."""
    text = _CONTROL.sub("", text)
    return text.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(text) else text


def clean_text(text: str) -> str:
    """Drop control characters and collapse runs of blank space, keeping paragraph breaks."""
    text = safe_text(text).replace("\r\n", "\n").replace("\r", "\n")
    # str.split() and strip() break on exactly the characters ``\s`` matches (both ask
    # Py_UNICODE_ISSPACE), and splitting is four times faster than substituting.
    paragraphs = (" ".join(para.split()) for para in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment, one paragraph per block element.

    lxml rather than BeautifulSoup: feed summaries are small and many, and lxml's C parser
    is about ten times faster on them (BeautifulSoup is kept for page metadata).
    """
    if "<" not in html and "&" not in html:
        return clean_text(html)
    # Imported here: the other functions (hashing, folding, counting) serve the command line,
    # whose every start would otherwise pay lxml's import.
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(_CONTROL.sub("", html), create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(html)
    for element in list(root.iter(*_DROPPED_TAGS)):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n\n" + (element.tail or "")
        element.text = "\n\n" + (element.text or "")
    return clean_text(root.text_content())


def fold(text: str) -> str:
    """Case- and accent-insensitive form of ``text`` (may differ in length).

    NFKD of the case-folded text without its combining marks. Content hashes are built on
    it, so it must never change: the fast paths below give exactly what the definition does.
    """
    if text.isascii():  # NFKD leaves ASCII alone and casefold is lower() there
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # Only non-ASCII characters can be combining marks: a character-by-character generator
    # over the whole text cost a fifth of parsing a feed.
    return _NON_ASCII.sub(_unless_combining, decomposed)


def _unless_combining(match: re.Match[str]) -> str:
    return "".join(char for char in match.group() if not unicodedata.combining(char))


def normalise_for_hash(text: str) -> str:
    """The part of a text that counts as content: folded words, no spacing or punctuation.

    Two extractions that differ only in whitespace, punctuation or case hash the same, so a
    comma-only edit is never a new version.
    """
    # The words of the folded text joined by single spaces: what replacing every run of
    # non-word characters (whitespace included) by one space and stripping gives, in a
    # third less time than the two substitutions it replaced (pinned by a test).
    return " ".join(_WORD_RUN.findall(fold(text)))


def content_hash(title: str, text: str) -> str:
    """Stable SHA-256 of an article's normalised title and text."""
    payload = normalise_for_hash(title) + "\n" + normalise_for_hash(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def counted(count: int, noun: str) -> str:
    """``1 alert``, ``2 alerts``: a count with its noun (made plural with an s), for people."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
