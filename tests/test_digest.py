"""The daily digest: the right stories per topic, escaped, sent once, and not sent when empty."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner, Result

from cli import alerting
from db import outbox
from db.outbox import AlertForDelivery
from flows.channels import build_router
from flows.digest import describe, send_digest
from parsers.alert_rules import DigestRule
from parsers.digest import (
    Coverage,
    DigestInput,
    StoryNow,
    build_digest,
    is_empty,
    render_digest,
    summary_line,
)
from parsers.messages import Style
from tests.alerting import (  # noqa: F401  (fixtures)
    NOW,
    Events,
    Outbox,
    Receiver,
    article_payload,
    on_prefect,
    prefect_api,
    rules,
    settings,
    smtp_server,
    store_seeds,
)
from tests.loopback import LoopbackServer

if TYPE_CHECKING:
    from parsers.tagging import Tagger

STYLE = Style(ZoneInfo("America/Toronto"), {"asylum_refugees": "Asylum and refugees"})


def _story(title: str, topics: list[str], relevance: float, hours_ago: float = 1) -> DigestInput:
    at = NOW - timedelta(hours=hours_ago)
    payload = article_payload(title, topics=topics, relevance=relevance, url=f"https://n.example/{len(title)}{title[-1]}",
                              published_at=at.isoformat())  # fmt: skip
    return DigestInput("new_relevant_article", "info", payload, at)


def _digest(stories: list[DigestInput], kept: list[DigestInput] = (), current=None, **rule: object):  # type: ignore[assignment,no-untyped-def]
    return build_digest(stories, list(kept), since=NOW - timedelta(hours=24), until=NOW,
                        rule=DigestRule(**rule), current=current)  # type: ignore[arg-type]  # fmt: skip


def test_topics_are_counted_and_their_best_stories_listed() -> None:
    stories = [
        _story("Asylum A", ["asylum_refugees"], 1.0),
        _story("Asylum B", ["asylum_refugees", "temporary_workers"], 3.0),
        _story("Asylum C", ["asylum_refugees"], 2.0),
        _story("Workers D", ["temporary_workers"], 1.5),
        DigestInput("article_edited", "info", {"title": "x"}, NOW),
    ]

    payload = _digest(stories, top_per_topic=2)

    # Each story under its primary topic (its first): "Asylum B" is not counted twice.
    assert [(t["topic"], t["count"]) for t in payload["topics"]] == [
        ("asylum_refugees", 3), ("temporary_workers", 1)]  # fmt: skip
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


def test_failed_digest_says_it_was_not_delivered_why_and_what_to_do(box: Outbox) -> None:
    box.add("new_relevant_article", article_payload(), at=NOW - timedelta(hours=1))

    first = _send(box, "")
    again = _send(box, "", at=NOW + timedelta(seconds=30))  # before its retry is due
    later = _send(box, "", at=NOW + timedelta(minutes=20))  # retried, failing again

    digest_id = first.alert_id
    assert (first.status, again.status, first.delivered, again.delivered) == (
        "queued", "duplicate", False, False)  # fmt: skip
    for result in (first, again, later):
        message = describe(result.as_dict())
        assert "not delivered" in message and "already sent" not in message, message
        assert "no URL configured: set VIGIE_ALERT_URLS" in message  # the outbox row's reason
        assert f"`vigie alerts retry {digest_id}` and `vigie alerts deliver`" in message
    assert describe(first.as_dict()).startswith(
        f"Digest queued as alert {digest_id}, not delivered"
    )
    assert describe(again.as_dict()).startswith(
        f"This hour's digest was already queued as alert {digest_id} and is still not delivered"
    )
    assert "(1 attempt)" in describe(again.as_dict())
    assert "(2 attempts)" in describe(later.as_dict())
    assert "the next delivery pass after 2026-11-21 14:01 UTC" in describe(again.as_dict())


def test_a_sent_digest_is_reported_as_sent(box: Outbox) -> None:
    box.add("new_relevant_article", article_payload(), at=NOW - timedelta(hours=1))
    with smtp_server() as mailbox:
        first = _send(box, mailbox.url())
        again = _send(box, mailbox.url(), at=NOW + timedelta(minutes=20))

    assert first.delivered and again.delivered
    assert describe(first.as_dict()) == f"Digest sent (alert {first.alert_id})."
    assert describe(again.as_dict()) == (
        f"A digest was already sent this hour (alert {first.alert_id}, at 2026-11-21 14:00 UTC)."
    )


def test_a_dated_seed_is_listed_with_its_date(
    box: Outbox, http_server: LoopbackServer, tagger: Tagger
) -> None:
    """Seed 000 is dated June 14, 2024, with no time; it once read "13 Jun 2024 20:00 EDT"."""
    store_seeds(box, tagger, at=NOW - timedelta(hours=1))
    receiver = Receiver(http_server)

    _send(box, receiver.apprise_url())

    (hit,) = receiver.accepted
    text = json.loads(hit.body)["message"]
    title = "Quebec Premier and Prime Minister to Discuss Strengthening Canadian Immigration"
    assert f"{title} (seed · 14 Jun 2024 · also " in text  # then its secondary topics
    assert "13 Jun 2024" not in text


def _digest_twice() -> tuple[Result, Result, Outbox]:
    """`vigie digest` run twice over one new relevant article; the outbox, still open."""
    from flows import context

    context.reset()
    context.ensure_schema()
    box = Outbox(context.get_settings().resolved_database_url)
    box.add("new_relevant_article", article_payload(), at=datetime.now(UTC))
    app = typer.Typer()
    alerting.register(app)
    return CliRunner().invoke(app, ["digest"]), CliRunner().invoke(app, ["digest"]), box


@pytest.mark.prefect_server
@pytest.mark.usefixtures("on_prefect")
def test_digest_command_runs_the_flow(vigie_env: pytest.MonkeyPatch) -> None:
    with smtp_server() as mailbox:
        vigie_env.setenv("VIGIE_ALERT_URLS", mailbox.url())
        result, again, box = _digest_twice()
        box.close()

    assert result.exit_code == 0, result.output
    assert "Digest sent" in result.output and "already sent this hour" in again.output
    assert len(mailbox.messages) == 1


@pytest.mark.prefect_server
@pytest.mark.usefixtures("on_prefect")
def test_digest_command_without_a_channel_says_it_is_pending(
    vigie_env: pytest.MonkeyPatch,
) -> None:
    vigie_env.delenv("VIGIE_ALERT_URLS", raising=False)
    first, again, box = _digest_twice()
    (digest,) = [a for a in _all_alerts(box) if a.kind == "digest"]
    box.close()

    said = [" ".join(run.output.split()) for run in (first, again)]
    assert (first.exit_code, again.exit_code) == (1, 1), said
    assert said[0].startswith(f"Digest queued as alert {digest.id}, not delivered (1 attempt)")
    assert said[1].startswith(f"This hour's digest was already queued as alert {digest.id} and "
                              "is still not delivered (1 attempt)")  # fmt: skip
    for output in said:
        assert "no URL configured: set VIGIE_ALERT_URLS" in output
        assert f"`vigie alerts retry {digest.id}` and `vigie alerts deliver`" in output
        assert "already sent" not in output


def _all_alerts(box: Outbox) -> list[AlertForDelivery]:
    with box.sessions.begin() as session:
        return outbox.list_alerts(session)


# --- stories once, changes, current titles, languages ------------------------------------------

FR_STYLE = Style(ZoneInfo("America/Toronto"), {"family_reunification": "Regroupement familial"})


def _now(article_id: int, title: str, outlet: str, story: int | None, *coverage: str) -> StoryNow:
    covered = tuple(Coverage(o, f"https://{o.lower()}.example/{story}") for o in coverage)
    return StoryNow(article_id, title, f"https://{outlet.lower()}.example/{story}", outlet,
                    ("jurisdiction", "asylum_refugees"), story, covered)  # fmt: skip


def _alert(kind: str, article_id: int, minutes: int, status: str = "", **payload: object):  # type: ignore[no-untyped-def]
    base = article_payload(str(payload.pop("title", "Title when alerted")), **payload)
    return DigestInput(kind, "info", base, NOW - timedelta(minutes=minutes), article_id, status,
                       id=article_id * 100 + minutes)  # fmt: skip


def test_a_story_is_listed_once_under_its_primary_topic_with_its_other_outlets() -> None:
    current = {
        1: _now(1, "Ottawa and Quebec settle the asylum bill", "Herald", 7, "Herald", "Courier"),
        2: _now(2, "Copy of the same story", "Courier", 7, "Herald", "Courier"),
        3: _now(3, "A story of its own", "Gazette", None),
    }
    alerts = [_alert("new_relevant_article", n, 10 * n) for n in (1, 2, 3)]

    payload = _digest(alerts, current=current)

    # Two stories, not three entries, and not one per topic they touch.
    assert [(t["topic"], t["count"]) for t in payload["topics"]] == [("jurisdiction", 2)]
    first = payload["topics"][0]["stories"][0]
    assert first["title"] == "Ottawa and Quebec settle the asylum bill"  # current, not alerted
    assert first["also"] == [{"outlet": "Courier", "url": "https://courier.example/7"}]
    text = render_digest(payload, STYLE).text
    assert text.count("Ottawa and Quebec settle") == 1 and "Copy of the same story" not in text
    assert "also covered by Courier https://courier.example/7" in text
    assert "Title when alerted" not in text


def test_figure_changes_and_edits_are_listed_including_those_already_sent() -> None:
    current = {4: _now(4, "Quebec raises its target (updated)", "Herald", 9)}
    figure = _alert("figure_changed", 4, 30, "sent", topic="immigration_levels", old="40,000",
                    new="50,000", new_source="Herald, version 2",
                    sentence="Quebec will admit 50,000 immigrants.")  # fmt: skip
    burst = [
        _alert("article_edited", 4, 50, "sent", change_kinds=["headline_changed"],
               diff_excerpt="[-Quebec keeps-]{+Quebec raises+} its target"),
        _alert("article_edited", 4, 20, "merged", change_kinds=["quote_added"],
               diff_excerpt="{+“We must act,” she said.+}"),
    ]  # fmt: skip

    payload = _digest([figure, *burst], current=current)
    text = render_digest(payload, STYLE).text

    assert len(payload["figures"]) == 1 and len(payload["edits"]) == 1  # a burst is one entry
    assert text.splitlines()[1] == "1 edit, 1 figure change."  # as many as listed
    figures = text.split("FIGURE CHANGES")[1].split("EDITS")[0]
    assert "Quebec raises its target (updated)" in figures and "already sent at once" in figures
    assert "40,000 → 50,000 (now: Herald, version 2)" in figures
    assert "https://herald.example/9" in figures
    edits = text.split("EDITS")[1]
    assert "changed: quote added" in edits and "We must act" in edits


def test_escaping_never_shows_in_a_french_title() -> None:
    import markdown as python_markdown

    from tests.inert_markdown import render, visible_text

    title = "Regroupement familial : Québec ouvre la porte | Le Devoir ~ 2026"
    payload = _digest([_story(title, ["family_reunification"], 2.0)])
    message = render_digest(payload, FR_STYLE, "fr")

    assert title in message.text and "\\" not in message.text
    # Email (Apprise's Python-Markdown) and CommonMark readers show the title as written.
    assert title in visible_text(python_markdown.markdown(message.markdown))
    assert title in visible_text(render(message.markdown))
    assert title in visible_text(message.html)


def test_a_french_digest_speaks_french() -> None:
    figure = _alert("figure_changed", 4, 30, "sent", topics=["family_reunification"],
                    topic="family_reunification", old="10 000", new="12 000")  # fmt: skip
    stories = [_story("Regroupement familial : un plafond", ["family_reunification"], 2.0)]

    message = render_digest(_digest([*stories, figure]), FR_STYLE, "fr")

    assert message.subject == (
        "Résumé Vigie · 21 nov. 2026 : 1 nouvelle histoire pertinente, 1 chiffre modifié"
    )
    assert "REGROUPEMENT FAMILIAL (1)" in message.text and "CHIFFRES MODIFIÉS" in message.text
    assert "Regroupement familial : 10 000 → 12 000" in message.text
    assert "déjà envoyé sur le coup" in message.text and "## Chiffres modifiés" in message.markdown


def test_each_channel_gets_the_digest_in_its_language(
    box: Outbox, http_server: LoopbackServer
) -> None:
    receiver = Receiver(http_server)
    box.add("new_relevant_article", article_payload("Regroupement familial : un plafond"),
            at=NOW - timedelta(hours=1))  # fmt: skip
    text = f"""
    [channels.equipe]
    webhook = "{receiver.url}"
    language = "fr"
    [digest]
    channels = ["default", "equipe"]
    """
    with smtp_server() as mailbox:
        result = _send(box, mailbox.url(), rules_text=text)

    assert result.status == "sent"
    assert mailbox.messages[0]["Subject"].startswith("Vigie digest · 21 Nov 2026: ")
    (hit,) = receiver.accepted
    body = json.loads(hit.body)
    assert body["subject"].startswith("Résumé Vigie · 21 nov. 2026 : ")
    assert "Regroupement familial : un plafond" in body["text"]


def test_the_digest_reads_stories_as_they_are_now(box: Outbox) -> None:
    from db.cluster_models import Cluster, ClusterMember
    from db.models import Article, ArticleVersion
    from db.stories import stories_now

    ids = [box.article(f"Alerted title {n}") for n in (1, 2)]
    with box.sessions.begin() as session:
        cluster = Cluster(size=2, outlet_count=2, created_at=NOW, updated_at=NOW, title="x")
        session.add(cluster)
        session.flush()
        for n, (article_id, outlet) in enumerate(zip(ids, ("Herald", "Courier"), strict=True)):
            article = session.get_one(Article, article_id)
            article.source, article.first_seen_at = outlet, NOW + timedelta(minutes=n)
            version = ArticleVersion(article_id=article_id, n=2, content_hash=f"{n}" * 64,
                                     title=f"Edited title {n}", text="t", origin="page",
                                     fetched_at=NOW, change_kinds="headline_changed",
                                     topics="jurisdiction asylum_refugees",
                                     taxonomy_version="t")  # fmt: skip
            session.add(version)
            session.flush()
            article.current_version_id = version.id
            session.add(ClusterMember(cluster_id=cluster.id, article_id=article_id,
                                      outlet=outlet, joined_at=NOW))  # fmt: skip
    with box.sessions.begin() as session:
        found = stories_now(session, [*ids, 999])

    assert sorted(found) == ids  # an unknown article is left out
    first = found[ids[0]]
    assert (first.title, first.topics) == ("Edited title 0", ("jurisdiction", "asylum_refugees"))
    assert [c.outlet for c in first.coverage] == ["Herald", "Courier"]
    assert found[ids[1]].story_id == first.story_id
