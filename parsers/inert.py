"""Feed text made inert wherever Vigie shows it: the one module that does it.

Feed-supplied text (titles, summaries, outlet names, URLs) is untrusted. Before it reaches a
reader it goes through here:

- ``clean``: one line of plain text, no control characters or bidi overrides (error
  reasons, log lines and names are flattened with it too); ``shorten`` cuts text with "…";
- ``md_escape`` / ``html_escape``: no markup of its own in markdown or HTML;
- ``safe_link``: only absolute http(s) links, percent-encoded so that they cannot end the
  markup around them nor carry a chat mention;
- ``defuse_mentions``: no mention a chat service would act on (``@everyone``, ``@here``,
  ``<!channel>``, ``<@U123>``, ``<#C123>``, Discord roles ``<@&123>``, Mattermost groups):
  every channel's subject and bodies pass through it on their way out
  (``flows.channels.Delivery.outgoing``);
- ``printable``: text a terminal shows as text (no escape sequences, no reordering);
- ``md_line``, ``md_cell``, ``artifact_link``: the same for Prefect artifacts, whose
  markdown the UI renders (table cells included) and other readers of the API may not
  sanitise.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit, urlunsplit

import idna

from parsers.urls import host_refusal

# C0/C1 control characters and bidi overrides that can hide or reorder text in a notification.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Markdown punctuation that could turn feed text into links, autolinks, images, emphasis, code,
# tables or (at a line start) headings and lists; <, > and & become entities instead.
# These are the characters every common renderer (CommonMark, Python-Markdown, which Apprise
# uses for email) reads back without the backslash. ":" "|" and "~", which Python-Markdown
# would show as "\:", become character references where they could act (a scheme's "://",
# a table cell, strikethrough) and stay as they are elsewhere: "Regroupement familial : Québec"
# reads as written.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!])")
_MD_REFERENCES = {":": "&#58;", "|": "&#124;", "~": "&#126;"}
_MD_ACTIVE = re.compile(r":(?=//)|[|~]")
#: Put between a mention's sigil and its name, it leaves the text as it reads but no longer
#: a mention; Discord's own libraries escape mentions this way (``@\u200beveryone``).
ZERO_WIDTH_SPACE = "\u200b"
# What chat services read as mentions: "@" before a name (Discord, Mattermost, Matrix, Zulip,
# Teams: @everyone, @here, @channel, @all, @room, @user, <@123>, <@!123>, <@&role>), Slack's
# "<!" / "<@" / "<#" tokens, and Slack's specials without their "<", which Apprise completes
# ("!here>" is sent as "<!here>").
_MENTION = re.compile(
    r"(@)(?=\S)|(<)(?=[!@#])|(!)(?=(?:here|channel|everyone|subteam)\b)", re.IGNORECASE
)
# Inline markdown that could turn feed text into links, images, emphasis, tables or HTML.
# Artifact text is flattened to one line first, so line-start syntax cannot occur.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~!#])")
# Characters a URL may keep inside a bare markdown link target: everything else is
# percent-encoded, so a feed's URL cannot close the link early with ")" or open HTML with "<".
_ARTIFACT_URL_SAFE = ":/?#@!$&*+,;=%~-._"
# In a link, what could close its markup or read as a mention: percent-encoded. "%" stays, as
# existing escapes must; so do the delimiters a URL needs.
_LINK_SAFE = ":/?#[]$&'()*+,;=%-._~"


def clean(text: object, limit: int | None = 300) -> str:
    """One line of plain text: no control characters, whitespace collapsed, cut at ``limit``
    (None: not cut)."""
    flat = " ".join(_INVISIBLE.sub(" ", str(text or "")).split())
    return flat if limit is None else shorten(flat, limit)


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and "…" in that many."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def printable(text: object) -> str:
    """``text`` as a terminal shows it: each control character, escape sequence introducer
    and bidi override replaced by U+FFFD, so none can move the cursor, colour, hide, link or
    reorder what follows; newlines and tabs are kept."""
    return _INVISIBLE.sub("\ufffd", str(text or ""))


def defuse_mentions(text: str) -> str:
    """``text`` with every chat mention broken by a zero-width space after its sigil.

    It reads the same; no chat service notifies anyone for it. Links must already be
    ``safe_link``s, in which no sigil is left to break.
    """
    return _MENTION.sub(lambda match: match.group() + ZERO_WIDTH_SPACE, text)


def md_escape(text: str) -> str:
    """Text made inert in markdown (and in the HTML that markdown lets through)."""
    entities = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_SPECIAL.sub(r"\\\1", entities)
    return _MD_ACTIVE.sub(lambda match: _MD_REFERENCES[match.group()], escaped)


def md_link(url: str) -> str:
    """A markdown link destination for a ``safe_link`` URL (angle brackets allow parentheses)."""
    return f"<{url}>"


def html_escape(text: str) -> str:
    """Text made inert in HTML, attributes included."""
    return html.escape(text, quote=True)


def safe_link(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (no javascript:, data:, relative).

    Credentials are dropped, and what could end a markdown ``<destination>`` or an HTML
    attribute early, or read as a chat mention (``@``, ``!``, ``<``, ``>``, ``|``), is
    percent-encoded: a server reads ``%21here`` as ``!here``, a chat service reads nothing.
    """
    if not isinstance(url, str):
        return None
    candidate = url.strip()
    if _INVISIBLE.search(candidate) or any(c.isspace() for c in candidate):
        return None
    try:
        parts = urlsplit(candidate)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or host_refusal(host):
        return None
    if not host.isascii():
        host = idna.encode(host.lower()).decode("ascii")  # host_refusal checked it encodes
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    path, query, fragment = (quote(p, safe=_LINK_SAFE) for p in parts[2:])
    return urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))


# --- Prefect artifacts ------------------------------------------------------------------------


def md_line(text: str, limit: int = 300) -> str:
    """Text made inert in markdown and HTML: no links, images, tags or tables from a feed."""
    return _MD_INLINE.sub(r"\\\1", clean(text, limit).replace("&", "&amp;"))


def md_cell(text: str, limit: int = 300) -> str:
    """Text for a table artifact cell: one line, inert as HTML and as markdown.

    Prefect's UI renders each cell as markdown (3.8.8 turns ``[x](javascript:...)`` in a cell
    into a link), so cells get markdown escapes as well; ``<`` and ``>`` become entities, so
    that no reader of the API finds a raw tag either.
    """
    return _MD_INLINE.sub(r"\\\1", html.escape(clean(text, limit), quote=False))


def artifact_link(url: str) -> str | None:
    """An http(s) URL safe to put in a bare markdown link target, or None for any other scheme.

    ``javascript:``, ``data:`` and the like are refused rather than escaped: no escaping makes
    them harmless once a reader clicks them.
    """
    url = url.strip()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return quote(url, safe=_ARTIFACT_URL_SAFE)
