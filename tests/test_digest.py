"""The daily digest: the right stories per topic, escaped, sent once, and not sent when empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from flows import cli_alerts
from flows.channels import build_router
from flows.digest import send_digest
from parsers.alert_rules import DigestRule
from parsers.digest import DigestInput, build_digest, is_empty, render_digest, summary_line
from parsers.messages import Style
from tests.alerting import (  # noqa: F401  (fixtures)
    NOW,
    Events,
    Outbox,
    article_payload,
    on_prefect,
    prefect_api,
    rules,
    settings,
    smtp_server,
)

STYLE = Style(ZoneInfo("America/Toronto"), {"asylum_refugees": "Asylum and refugees"})


def _story(title: str, topics: list[str], relevance: float, hours_ago: float = 1) -> DigestInput:
    at = NOW - timedelta(hours=hours_ago)
    payload = article_payload(title, topics=topics, relevance=relevance, url=f"https://n.example/{len(title)}{title[-1]}",
                              published_at=at.isoformat())  # fmt: skip
    return DigestInput("new_relevant_article", "info", payload, at)


def _digest(stories: list[DigestInput], kept: list[DigestInput] = (), **rule: object):  # type: ignore[assignment]
    return build_digest(stories, list(kept), since=NOW - timedelta(hours=24), until=NOW,
                        rule=DigestRule(**rule))  # type: ignore[arg-type]  # fmt: skip


def test_topics_are_counted_and_their_best_stories_listed() -> None:
    stories = [
        _story("Asylum A", ["asylum_refugees"], 1.0),
        _story("Asylum B", ["asylum_refugees", "temporary_workers"], 3.0),
        _story("Asylum C", ["asylum_refugees"], 2.0),
        _story("Workers D", ["temporary_workers"], 1.5),
        DigestInput("article_edited", "info", {"title": "x"}, NOW),
    ]

    payload = _digest(stories, top_per_topic=2)

    assert [(t["topic"], t["count"]) for t in payload["topics"]] == [
        ("asylum_refugees", 3), ("temporary_workers", 2)]  # fmt: skip
    assert [s["title"] for s in payload["topics"][0]["stories"]] == ["Asylum B", "Asylum C"]
    assert payload["counts"] == {"new_relevant_article": 4, "article_edited": 1}
    assert payload["story_count"] == 4


def test_digest_filters_by_its_own_topics_and_relevance() -> None:
    stories = [_story("Asylum A", ["asylum_refugees"], 1.0), _story("Eco", ["economy"], 3.0)]

    payload = _digest(stories, topics=frozenset({"asylum_refugees"}), min_relevance=0.5)

    assert [t["topic"] for t in payload["topics"]] == ["asylum_refugees"]


def test_rendered_digest_is_readable_and_escaped() -> None:
    hostile = "Asylum <script>x</script> [a](javascript:b)"
    kept = [DigestInput("feed_recovered", "info", {"feed": "IRCC", "health": "healthy"}, NOW)]
    payload = _digest([_story(hostile, ["asylum_refugees"], 2.0)], kept)

    message = render_digest(payload, STYLE)

    assert message.subject == "Vigie digest · 21 Nov 2026: 1 new relevant story"
    assert "ASYLUM AND REFUGEES (1)" in message.text and "https://n.example/" in message.text
    assert "• Feed recovered: IRCC" in message.text
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "<script>" not in message.markdown and "](javascript" not in message.markdown
    assert "## Asylum and refugees (1)" in message.markdown


def test_empty_digest() -> None:
    payload = _digest([])

    assert is_empty(payload) and summary_line(payload["counts"]) == "nothing new"
    assert "No new relevant story in this period." in render_digest(payload, STYLE).text


# --- sending -----------------------------------------------------------------------------------


def _send(box: Outbox, url: str, at: datetime = NOW, rules_text: str = "", **kw: object):
    config = settings(alert_urls=url)
    parsed = rules(rules_text)
    router = build_router(parsed, config)
    return send_digest(box.sessions, at, settings=config, rules=parsed, router=router,
                       emit=Events(), **kw)  # type: ignore[arg-type]  # fmt: skip


def test_digest_email_lists_the_last_day_once(box: Outbox) -> None:
    box.add("new_relevant_article", article_payload("Fresh story"), at=NOW - timedelta(hours=2))
    box.add("new_relevant_article", article_payload("Old story"), at=NOW - timedelta(hours=30))
    with smtp_server() as mailbox:
        first = _send(box, mailbox.url())
        second = _send(box, mailbox.url(), at=NOW + timedelta(minutes=20))

    assert (first.status, second.status) == ("sent", "duplicate")
    assert len(mailbox.messages) == 1  # a second run in the same hour is the same digest
    parts = mailbox.parts()
    assert "Fresh story" in parts["text/html"] and "Old story" not in parts["text/html"]
    assert "Fresh story" in parts["text/plain"]
    assert "https://news.example/2026/11/asylum" in parts["text/plain"]
    assert mailbox.messages[0]["Subject"] == "Vigie digest · 21 Nov 2026: 1 new relevant story"


def test_alerts_kept_for_the_digest_are_listed_and_attached(box: Outbox) -> None:
    kept = box.add("cluster_growing", {"title": "Deal spreads", "outlets": ["A"], "size": 2},
                   at=NOW - timedelta(hours=40))  # fmt: skip
    with box.sessions.begin() as session:
        from db.models import Alert

        session.get_one(Alert, kept).status = "digest"
    with smtp_server() as mailbox:
        result = _send(box, mailbox.url())

    assert result.status == "sent" and box.get(kept).digest_id == result.alert_id
    assert "Story spreading: Deal spreads" in mailbox.parts()["text/plain"]


def test_nothing_is_sent_when_empty_unless_asked(box: Outbox) -> None:
    with smtp_server() as mailbox:
        quiet = _send(box, mailbox.url())
        assert quiet.status == "empty" and quiet.alert_id is None and mailbox.messages == []
        forced = _send(box, mailbox.url(), send_when_empty=True)

    assert forced.status == "sent" and len(mailbox.messages) == 1
    assert "nothing new" in mailbox.messages[0]["Subject"]


def test_failed_digest_stays_queued_for_retry(box: Outbox) -> None:
    box.add("new_relevant_article", article_payload(), at=NOW - timedelta(hours=1))

    result = _send(box, "json://127.0.0.1:9/unreachable")

    assert result.status == "queued"
    assert box.get(result.alert_id or 0).status == "pending"


@pytest.mark.prefect_server
@pytest.mark.usefixtures("on_prefect")
def test_digest_command_runs_the_flow(vigie_env: pytest.MonkeyPatch) -> None:
    from flows import context

    with smtp_server() as mailbox:
        vigie_env.setenv("VIGIE_ALERT_URLS", mailbox.url())
        context.reset()
        context.ensure_schema()
        box = Outbox(context.get_settings().resolved_database_url)
        box.add("new_relevant_article", article_payload(), at=datetime.now(UTC))
        app = typer.Typer()
        cli_alerts.register(app)
        result = CliRunner().invoke(app, ["digest"])
        again = CliRunner().invoke(app, ["digest"])
        box.close()

    assert result.exit_code == 0, result.output
    assert "Digest sent" in result.output and "already sent this hour" in again.output
    assert len(mailbox.messages) == 1
