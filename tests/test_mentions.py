"""Feed text cannot ping a chat channel: mentions are defused on the way out of every channel.

Reproductions: a title ending in "@everyone" and evidence "Contact @here" reached Discord and
Mattermost as written, through Apprise's default formats, as did ``<@id>`` in a subject; for
Slack, a link ending in ``!here`` came back as a ``<!here>`` token inside the link (Apprise
completes ``!here>``). Mattermost and JSON webhooks are real loopback servers; Slack's and
Discord's servers cannot run here, so what Apprise would post to them is recorded instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from flows.channels import AppriseChannel, Delivery, WebhookChannel
from parsers.inert import ZERO_WIDTH_SPACE, defuse_mentions, safe_link
from parsers.messages import AlertContent, Style, render_alert
from tests.loopback import LoopbackServer, Response

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOSTILE = {
    "title": "Asylum claims rise in Quebec @everyone <@U024BE7LH> <@&123456789> @channel",
    "evidence": "Contact @here or <!channel> <!here|here> <#C024BE7LH> and @all; !here> too",
    "source": "Outlet @here",
    "url": "https://news.example/story/!here",
    "topics": ["asylum_refugees"],
}
#: Mentions as Slack, Discord, Mattermost, Matrix and Zulip read them.
LIVE = re.compile(
    r"@(?:everyone|here|channel|all|room|U024BE7LH|&123456789)\b"
    r"|<!(?:here|channel|everyone)|<@[A-Z0-9&!]|<#C"
    r"|!here>|!here&gt;",
    re.IGNORECASE,
)


def delivery(payload: dict[str, Any] = HOSTILE) -> Delivery:
    message = render_alert(AlertContent("new_relevant_article", "info", payload, T0), Style())
    return Delivery(message, "info", "key-1", "new_relevant_article", payload)


@pytest.mark.parametrize(
    "text",
    ["@everyone", "@here", "<!channel>", "<!here>", "<@U024BE7LH>", "<#C024BE7LH>",
     "<@&123456789>", "<@!123456789>", "@channel", "@all", "@room", "!here>", "@**all**"],
)  # fmt: skip
def test_every_kind_of_mention_is_defused(text: str) -> None:
    defused = defuse_mentions(f"see {text} now")
    assert LIVE.search(defused) is None and "@**all" not in defused
    assert defused.replace(ZERO_WIDTH_SPACE, "") == f"see {text} now"  # reads the same


def test_a_link_carries_no_mention_and_still_leads_to_the_page() -> None:
    link = safe_link("https://user:pw@news.example/a/!here?x=@everyone#<@U1>")
    assert link == "https://news.example/a/%21here?x=%40everyone#%3C%40U1%3E"
    assert safe_link("https://café.example/é") == "https://xn--caf-dma.example/%C3%A9"


def test_every_rendering_of_a_hostile_alert_goes_out_inert() -> None:
    outgoing = delivery().outgoing()
    for text in (outgoing.subject, outgoing.text, outgoing.markdown, outgoing.html):
        assert LIVE.search(text) is None, text
    assert "Asylum claims rise in Quebec" in outgoing.subject


@pytest.fixture
def mattermost(http_server: LoopbackServer) -> Iterator[LoopbackServer]:
    http_server.routes["/hooks/token1234"] = Response(b"ok")
    yield http_server


@pytest.mark.parametrize("markup", ["markdown", "text"])
def test_mattermost_gets_no_mention(mattermost: LoopbackServer, markup: str) -> None:
    port = mattermost.base_url.rsplit(":", 1)[1]
    channel = AppriseChannel("mm", f"mmost://127.0.0.1:{port}/token1234", markup)  # type: ignore[arg-type]

    channel.send(delivery())

    (request,) = mattermost.requests_to("/hooks/token1234")
    sent = json.loads(request.body)
    assert "Asylum claims rise" in json.dumps(sent, ensure_ascii=False)
    for value in sent.values():
        assert LIVE.search(str(value)) is None, value


def test_a_json_webhook_gets_no_mention(http_server: LoopbackServer) -> None:
    http_server.routes["/hook"] = Response(b"ok")
    WebhookChannel("hook", http_server.url("/hook")).send(delivery())

    (request,) = http_server.requests_to("/hook")
    sent = json.loads(request.body)
    assert LIVE.search(sent["subject"]) is None and LIVE.search(sent["text"]) is None


class _Recorded:
    """What a plugin posted, and a reply as the service gives it."""

    def __init__(self, status: int, content: bytes = b"") -> None:
        self.posts: list[dict[str, Any]] = []
        self.status, self.content = status, content

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        url = kwargs.get("url") or next(a for a in args if str(a).startswith("http"))
        self.posts.append({"url": url, "data": kwargs.get("data") or kwargs.get("json")})
        reply = type("Reply", (), {})()
        reply.status_code, reply.content, reply.text = self.status, self.content, ""
        reply.headers = {}
        reply.json = lambda: {}
        return reply

    def payloads(self) -> list[str]:
        return [
            p["data"] if isinstance(p["data"], str) else json.dumps(p["data"]) for p in self.posts
        ]


@pytest.mark.parametrize("markup", ["markdown", "text"])
def test_slack_gets_no_mention_and_no_token_in_a_link(
    monkeypatch: pytest.MonkeyPatch, markup: str
) -> None:
    import apprise.plugins.slack as slack

    recorded = _Recorded(200, b"ok")
    monkeypatch.setattr(slack.requests, "request", recorded)
    monkeypatch.setattr(slack.requests, "post", recorded)
    channel = AppriseChannel(
        "slack", "slack://T1234ABCD/B1234ABCD/abcdefghijklmnopqrstuvwx", markup
    )  # type: ignore[arg-type]

    channel.send(delivery())

    (payload,) = recorded.payloads()
    text = json.loads(payload)
    flat = json.dumps(text, ensure_ascii=False)
    assert "Asylum claims rise" in flat and "%21here" in flat
    assert LIVE.search(flat) is None, flat
    if markup == "markdown":  # escaped for markdown, nothing makes a token at all
        assert re.search(r"<[!@#]", flat) is None, flat


@pytest.mark.parametrize("markup", ["markdown", "text"])
def test_discord_gets_no_mention(monkeypatch: pytest.MonkeyPatch, markup: str) -> None:
    import apprise.plugins.discord as discord

    recorded = _Recorded(204)
    monkeypatch.setattr(discord.requests, "post", recorded)
    channel = AppriseChannel("discord", "discord://1234567890/abcdefghijklmnop", markup)  # type: ignore[arg-type]

    channel.send(delivery())

    for payload in recorded.payloads():
        sent = json.loads(payload)
        assert "allow_mentions" not in sent, sent  # Apprise found nothing to ping
        assert LIVE.search(json.dumps(sent, ensure_ascii=False)) is None
