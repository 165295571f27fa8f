"""Check that hostile feed text stays inert once a markdown artifact is rendered.

The markdown is rendered the way a permissive reader would (CommonMark with raw HTML allowed,
plus tables), and the HTML is searched for anything the feed text could have created.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

#: A title trying raw HTML, a javascript: link, table cells and emphasis at once.
HOSTILE_TITLE = (
    "<script>alert(1)</script> [x](javascript:alert(1)) | pipes | **bold** "
    "Quebec asks Ottawa to share the load of asylum seekers"
)
#: A feed name trying to add table cells.
HOSTILE_FEED_NAME = "Gone | feed"

_RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")
_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[hd][ >]")


def render(markdown: str) -> str:
    """The HTML a permissive markdown reader makes of ``markdown``."""
    return str(_RENDERER.render(markdown))


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page: tags removed, entities decoded, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def assert_inert(markdown: str, *texts: str) -> None:
    """Fail if ``markdown`` renders ``texts`` as anything but plain, readable text."""
    page = render(markdown)
    assert "<script" not in page.lower()
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', page)).lower()
    assert "<strong>bold</strong>" not in page and "<em>" not in page
    for table in _TABLE.findall(page):
        widths = {len(_CELL.findall(row)) for row in _ROW.findall(table)}
        assert len(widths) == 1, f"feed text changed a table's columns: {table}"
    shown = visible_text(page)
    for text in texts:
        assert " ".join(text.split()) in shown, f"{text!r} is not shown as written"
