"""One suite every output kind goes through: feed text stays text wherever Vigie shows it.

Each output (alert subject, text, markdown and e-mail HTML; what chat channels send; the
digest; run artifacts; the terminal) is made from the same hostile feed text, then read the
way its medium reads it. All of them escape with ``parsers.inert``; this suite checks that
none was left out and that none lets markup, mentions, links or control characters through.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.table import Table

from cli.output import _console
from flows.channels import Delivery
from flows.report import (
    FeedReport,
    NewArticle,
    RunSummary,
    summary_markdown,
)
from parsers.digest import render_digest
from parsers.inert import clean
from parsers.messages import AlertContent, Style, render_alert
from tests.inert_markdown import render, visible_text

T0 = datetime(2026, 11, 21, 14, 15, tzinfo=UTC)

#: Feed text trying each medium's markup, each on its own and all at once.
HOSTILE = {
    "html": "Asylum <script>alert(1)</script><img src=x onerror=alert(1)><iframe src=x>",
    "markdown": "Asylum [click](javascript:alert(1)) ![x](http://evil.example/x.png) **bold**",
    "lines and cells": "Asylum | cell |\n# heading\n- item\n> quote",
    "chat mentions": "Asylum @everyone @here <!channel> <@U123> <#C1> <@&42> !here>",
    "terminal": "Asylum \x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \r\b",
    "bidi and controls": "Asylum \u202etxt.exe\u202c \x00\x07\x9b\u2066hidden\u2069",
    "rich markup": "Asylum [/x] [bold red]rich[/] [link=javascript:alert(1)]link[/link]",
}
HOSTILE["all at once"] = " ".join(HOSTILE.values())

# What no output may carry once read by its medium.
_LIVE_TAG = re.compile(r"<(script|iframe|img)\b", re.I)
_LIVE_MENTION = re.compile(r"@(everyone|here)\b|<[!@#]", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _payload(text: str) -> dict[str, Any]:
    return {"title": text, "source": text, "evidence": text, "feed": text, "last_error": text,
            "url": "https://news.example/a", "topics": [text]}  # fmt: skip


def _alert(text: str) -> Any:
    return render_alert(AlertContent("new_relevant_article", "info", _payload(text), T0), Style())


def _failed_feed(text: str) -> Any:
    return render_alert(AlertContent("feed_broken", "warning", _payload(text), T0), Style())


def _chat(text: str) -> Any:
    delivery = Delivery(_alert(text), "info", "key", "new_relevant_article", _payload(text))
    return delivery.outgoing()


def _digest(text: str) -> Any:
    update = {"kind": "article_edited", "severity": "info", "payload": _payload(text),
              "created_at": T0.isoformat()}  # fmt: skip
    payload = {"since": T0.isoformat(), "until": T0.isoformat(), "counts": {},
               "topics": [], "updates": [update]}  # fmt: skip
    return render_digest(payload, Style())


def _summary(text: str) -> RunSummary:
    summary = RunSummary(kind="monitor", started_at=T0, finished_at=T0)
    summary.feeds.append(FeedReport(1, text, "https://f.example/", "failed", error=text,
                                    health_after="broken"))  # fmt: skip
    summary.new_relevant.append(NewArticle(7, text, text, (text,), "https://a.example/", 0.9))
    return summary


def _terminal(text: str) -> tuple[str, str]:
    console = _console(file=io.StringIO(), width=400)
    table = Table("title")
    table.add_row(text)
    console.print(table)
    console.print(text)
    return str(console.file.getvalue()), text


def _plain(written: str) -> None:
    assert _CONTROL.search(written.replace("\n", "")) is None
    assert "Asylum" in written


def _one_line(written: str) -> None:
    _plain(written)
    assert "\n" not in written


def _markdown(written: str) -> None:
    page = render(written)
    assert _LIVE_TAG.search(page) is None
    assert "javascript:" not in " ".join(re.findall(r'(?:href|src)="([^"]*)"', page)).lower()
    assert "<strong>bold</strong>" not in page and "<h1>heading</h1>" not in page
    assert "Asylum" in visible_text(page)


def _html(written: str) -> None:
    assert _LIVE_TAG.search(written) is None
    assert not re.search(r'(?:href|src)="\s*javascript:', written, re.I)
    assert "Asylum" in written


def _chat_medium(sent: Any) -> None:
    for part in (sent.subject, sent.text, sent.markdown, sent.html):
        assert _LIVE_MENTION.search(part) is None
    _one_line(sent.subject)
    _markdown(sent.markdown)
    _html(sent.html)


def _terminal_medium(printed_from: tuple[str, str]) -> None:
    printed, text = printed_from
    _plain(printed)
    # Rich markup is printed as written, not read: nothing vanished into a style or a link.
    for markup in re.findall(r"\[[^\]\x00-\x1f]*\]", text):
        assert markup in printed


#: Every output kind: how it is made from feed text, and how its medium reads it.
OUTPUTS: dict[str, tuple[Callable[[str], Any], Callable[[Any], None]]] = {
    "plain text": (clean, _one_line),
    "alert subject": (lambda t: _alert(t).subject, _one_line),
    "alert text (SMS, plain e-mail)": (lambda t: _alert(t).text, _plain),
    "alert markdown": (lambda t: _alert(t).markdown, _markdown),
    "alert HTML e-mail": (lambda t: _alert(t).html, _html),
    "feed-broken alert markdown": (lambda t: _failed_feed(t).markdown, _markdown),
    "chat channels (Slack, Discord, Teams…)": (_chat, _chat_medium),
    "digest markdown": (lambda t: _digest(t).markdown, _markdown),
    "digest HTML e-mail": (lambda t: _digest(t).html, _html),
    "run artifact markdown": (lambda t: summary_markdown(_summary(t)), _markdown),
    "terminal": (_terminal, _terminal_medium),
}


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_feed_text_stays_text_in_every_output(output: str, hostile: str) -> None:
    make, read_as_its_medium = OUTPUTS[output]
    read_as_its_medium(make(hostile))
