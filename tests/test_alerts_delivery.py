"""Outbox delivery against real receivers (loopback webhook, aiosmtpd) and real databases."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from cli import alerting
from db import outbox
from db.models import Alert
from flows.alerts import DeliveryReport, deliver_due, delivery_markdown
from flows.channels import build_router
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

HOSTILE = "Asylum <script>alert(1)</script> [x](javascript:alert(1)) rules"


@pytest.fixture
def receiver(http_server: LoopbackServer) -> Receiver:
    return Receiver(http_server)


def _deliver(box: Outbox, at: Any = NOW, *, urls: str = "", rules_text: str = "", **kw: Any):
    events = kw.pop("events", None) or Events()
    config = settings(alert_urls=urls, **kw)
    parsed = rules(rules_text)
    report = deliver_due(
        box.sessions, at, settings=config, rules=parsed, router=build_router(parsed, config),
        emit=events,
    )  # fmt: skip
    return report, events


# --- channels ----------------------------------------------------------------------------------


def test_webhook_and_email_receive_escaped_messages(box: Outbox, receiver: Receiver) -> None:
    article = box.article()
    alert_id = box.add("new_relevant_article", article_payload(HOSTILE), article_id=article)
    with smtp_server() as mailbox:
        report, events = _deliver(box, urls=f"{receiver.apprise_url()},{mailbox.url()}")

    assert report.count("sent") == 1
    assert box.get(alert_id).status == "sent"
    assert box.get(alert_id).delivered_channels == ("default[1]", "default[2]")
    (hit,) = receiver.accepted
    assert hit.key == box.get(alert_id).dedup_key
    body = json.loads(hit.body)
    assert HOSTILE in body["title"] and "La Presse" in body["message"]
    assert "https://news.example/2026/11/asylum" in body["message"]

    (message,) = mailbox.messages
    parts = mailbox.parts()
    html = parts["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://news.example/2026/11/asylum">' in html
    assert "45,000 asylum claimants" in html and "La Presse" in parts["text/plain"]
    assert "New article" in message["Subject"]
    assert events.emitted[0][0] == "vigie.alert.new_relevant_article"
    assert events.emitted[0][1]["prefect.resource.id"] == f"vigie.article.{article}"


def test_json_webhook_channel_posts_alert_data_with_idempotency_key(
    box: Outbox, receiver: Receiver
) -> None:
    feed = box.feed("IRCC news")
    payload = {"feed": "IRCC news", "url": "https://feeds.example/x", "health": "broken",
               "consecutive_failures": 3, "last_error": "HTTP 500"}  # fmt: skip
    alert_id = box.add("feed_broken", payload, feed_id=feed, severity="warning")
    rules_text = f'[channels.ops]\nwebhook = "{receiver.url}"\n[defaults]\nchannels = ["ops"]\n'

    report, events = _deliver(box, rules_text=rules_text)

    assert report.count("sent") == 1
    (hit,) = receiver.accepted
    assert hit.key == box.get(alert_id).dedup_key
    body = json.loads(hit.body)
    assert body["kind"] == "feed_broken" and body["payload"]["last_error"] == "HTTP 500"
    assert "Feed broken: IRCC news" in body["text"]
    assert events.emitted[0][1]["prefect.resource.id"] == f"vigie.feed.{feed}"
    assert events.emitted[0][1]["vigie.alert.severity"] == "warning"


def test_a_dated_seed_shows_its_date_not_the_evening_before(
    box: Outbox, receiver: Receiver, tagger: Tagger
) -> None:
    """Seed 000 is dated June 14, 2024, with no time: stored as midnight UTC, it once read as
    "13 Jun 2024 20:00 EDT" in the alert."""
    store_seeds(box, tagger)

    _deliver(box, urls=receiver.apprise_url())

    messages = [json.loads(hit.body)["message"] for hit in receiver.accepted]
    (dated,) = [m for m in messages if m.startswith("New article: Quebec Premier")]
    assert dated.splitlines()[1].startswith("seed · 14 Jun 2024 · ")


def test_unconfigured_channel_is_an_error_not_silence(box: Outbox) -> None:
    alert_id = box.add("new_relevant_article", article_payload())

    report, events = _deliver(box, urls="")

    alert = box.get(alert_id)
    assert report.count("retry") == 1 and alert.status == "pending"
    assert "VIGIE_ALERT_URLS" in (alert.last_error or "")
    assert events.emitted == []


def test_bad_apprise_url_is_reported(box: Outbox) -> None:
    alert_id = box.add("new_relevant_article", article_payload())

    _deliver(box, urls="nosuchscheme://whatever/abc")

    assert "not a URL Apprise can send to" in (box.get(alert_id).last_error or "")


# --- retries -----------------------------------------------------------------------------------


def test_receiver_down_backs_off_then_delivers_each_once(box: Outbox, receiver: Receiver) -> None:
    ids = [box.add("new_relevant_article", article_payload(f"Story {n}")) for n in range(3)]
    url = receiver.apprise_url()
    receiver.status = 503

    first, _ = _deliver(box, urls=url)
    assert first.count("retry") == 3
    for alert in map(box.get, ids):
        assert alert.status == "pending" and alert.attempts == 1
        assert alert.next_attempt_at == NOW + timedelta(seconds=60)
        assert "json://127.0.0.1" in (alert.last_error or "")

    early, _ = _deliver(box, NOW + timedelta(seconds=30), urls=url)
    assert early.outcomes == []  # backing off: nothing is due

    second, _ = _deliver(box, NOW + timedelta(seconds=61), urls=url)
    assert [box.get(i).next_attempt_at for i in ids] == [NOW + timedelta(seconds=181)] * 3
    assert second.count("retry") == 3  # 60 s, then 120 s

    receiver.status = 200
    third, events = _deliver(box, NOW + timedelta(seconds=181), urls=url)
    assert third.count("sent") == 3
    assert receiver.keys() == {box.get(i).dedup_key: 1 for i in ids}
    assert [box.get(i).attempts for i in ids] == [3, 3, 3]
    assert "503" in (box.get(ids[0]).last_error or "")  # history stays visible
    assert events.statuses() == {"sent": 3}

    again, _ = _deliver(box, NOW + timedelta(hours=1), urls=url)
    assert again.outcomes == [] and len(receiver.accepted) == 3


def test_gives_up_after_max_attempts(box: Outbox, receiver: Receiver) -> None:
    alert_id = box.add("new_relevant_article", article_payload())
    receiver.status = 500
    url = receiver.apprise_url()

    _deliver(box, urls=url, alert_max_attempts=2)
    report, events = _deliver(box, NOW + timedelta(minutes=5), urls=url, alert_max_attempts=2)

    alert = box.get(alert_id)
    assert report.count("failed") == 1
    assert (alert.status, alert.attempts, alert.next_attempt_at) == ("failed", 2, None)
    assert events.statuses() == {"failed": 1}
    markdown = delivery_markdown(report)
    assert "failed for good | 1 | 1" in markdown and "json://127.0.0.1" in markdown


def test_retry_sends_only_to_channels_that_failed(box: Outbox, http_server: LoopbackServer) -> None:
    good, bad = Receiver(http_server, "/good"), Receiver(http_server, "/bad")
    bad.status = 502
    alert_id = box.add("new_relevant_article", article_payload())
    urls = f"{good.apprise_url()},{bad.apprise_url()}"

    _deliver(box, urls=urls)
    assert box.get(alert_id).delivered_channels == ("default[1]",)
    bad.status = 200
    _deliver(box, NOW + timedelta(minutes=2), urls=urls)

    assert box.get(alert_id).status == "sent"
    assert len(good.accepted) == 1 and len(bad.accepted) == 1


def test_abandoned_claim_is_taken_over_after_the_timeout(box: Outbox, receiver: Receiver) -> None:
    alert_id = box.add("new_relevant_article", article_payload())
    with box.sessions.begin() as session:  # a run that claims, then dies
        outbox.claim_due(session, NOW, token="dead", limit=10, claim_timeout=timedelta(minutes=5))
    url = receiver.apprise_url()

    soon, _ = _deliver(box, NOW + timedelta(minutes=4), urls=url)
    later, _ = _deliver(box, NOW + timedelta(minutes=6), urls=url)

    assert soon.outcomes == [] and later.count("sent") == 1
    assert receiver.keys() == {box.get(alert_id).dedup_key: 1}


def test_two_runs_at_once_send_each_alert_once(box: Outbox, receiver: Receiver) -> None:
    ids = [box.add("new_relevant_article", article_payload(f"Story {n}")) for n in range(30)]
    url = receiver.apprise_url()
    reports: list[DeliveryReport] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        reports.append(_deliver(box, urls=url, alert_batch_size=12)[0])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    keys = receiver.keys()
    assert set(keys) == {box.get(i).dedup_key for i in ids} and set(keys.values()) == {1}
    assert sum(r.count("sent") for r in reports) == 30
    assert box.statuses() == {"sent": 30}


# --- rules -------------------------------------------------------------------------------------


def test_burst_of_edits_first_goes_at_once_the_rest_as_one(box: Outbox, receiver: Receiver) -> None:
    """The debounce merges, it never delays: the first edit goes at once, the edits after
    it within the window go together once the window closes."""
    article = box.article()

    def edit(n: int, kind: str) -> int:
        return box.add("article_edited", {"title": f"Title v{n}", "url": "https://news.example/e",
                                          "source": "CBC", "change_kinds": [kind],
                                          "diff_excerpt": f"- {n}0 claims\n+ {n}5 claims"},
                       at=NOW + timedelta(minutes=2 * n), article_id=article)  # fmt: skip

    url, text = receiver.apprise_url(), "[kinds.article_edited]\ndebounce_minutes = 10\n"
    first = edit(0, "title")
    report, _ = _deliver(box, NOW + timedelta(seconds=30), urls=url, rules_text=text)
    assert report.count("sent") == 1 and box.get(first).status == "sent"
    assert "Title v0" in json.loads(receiver.accepted[0].body)["message"]

    ids = [edit(n, kind) for n, kind in enumerate(["body", "body", "figures", "title"], start=1)]
    held, _ = _deliver(box, NOW + timedelta(minutes=9), urls=url, rules_text=text)
    assert held.count("held") == 4 and len(receiver.accepted) == 1
    assert "a message on this went out" in (box.get(ids[0]).note or "")
    report, events = _deliver(
        box, NOW + timedelta(minutes=12, seconds=2), urls=url, rules_text=text
    )

    assert report.count("sent") == 1 and report.count("merged") == 3
    message = json.loads(receiver.accepted[1].body)["message"]
    assert "Article edited (4 times): Title v4" in message
    assert "changed: body, figures, title" in message and "+ 45 claims" in message
    assert [box.get(i).merged_into_id for i in ids[1:]] == [ids[0]] * 3
    assert events.statuses() == {"sent": 1, "merged": 3}

    # Edits after a quiet window: the first of the new burst goes at once again.
    quiet = box.add("article_edited", {"title": "Title v9", "change_kinds": ["body"]},
                    at=NOW + timedelta(minutes=30), article_id=article)  # fmt: skip
    _deliver(box, NOW + timedelta(minutes=30, seconds=5), urls=url, rules_text=text)
    assert box.get(quiet).status == "sent" and len(receiver.accepted) == 3


def test_a_retried_alert_goes_at_once_despite_its_debounce(box: Outbox, receiver: Receiver) -> None:
    article = box.article()
    url, text = receiver.apprise_url(), "[kinds.article_edited]\ndebounce_minutes = 10\n"
    box.add("article_edited", {"title": "v0", "change_kinds": ["body"]}, at=NOW,
            article_id=article)  # fmt: skip
    _deliver(box, NOW + timedelta(seconds=10), urls=url, rules_text=text)
    second = box.add("article_edited", {"title": "v1", "change_kinds": ["body"]},
                     at=NOW + timedelta(minutes=1), article_id=article)  # fmt: skip
    held, _ = _deliver(box, NOW + timedelta(minutes=2), urls=url, rules_text=text)
    assert held.count("held") == 1

    with box.sessions.begin() as session:
        assert outbox.retry(session, second, NOW + timedelta(minutes=3))
    report, _ = _deliver(box, NOW + timedelta(minutes=3), urls=url, rules_text=text)
    assert report.count("sent") == 1 and len(receiver.accepted) == 2


def test_merged_burst_survives_a_failed_send(box: Outbox, receiver: Receiver) -> None:
    article = box.article()
    for n in range(3):
        box.add("article_edited", {"title": f"v{n}", "change_kinds": ["body"]},
                at=NOW + timedelta(minutes=n), article_id=article)  # fmt: skip
    url, text = receiver.apprise_url(), "[kinds.article_edited]\ndebounce_minutes = 5\n"
    receiver.status = 503

    _deliver(box, NOW + timedelta(minutes=6), urls=url, rules_text=text)
    receiver.status = 200
    report, _ = _deliver(box, NOW + timedelta(minutes=8), urls=url, rules_text=text)

    assert report.count("sent") == 1 and box.statuses() == {"sent": 1, "merged": 2}
    (hit,) = receiver.accepted
    assert "Article edited (3 times): v2" in json.loads(hit.body)["message"]


def test_unreadable_payload_fails_that_alert_only(box: Outbox, receiver: Receiver) -> None:
    broken = box.add("digest", {"topics": "not a list"})
    fine = box.add("new_relevant_article", article_payload())

    report, _ = _deliver(box, urls=receiver.apprise_url())

    assert box.get(fine).status == "sent" and box.get(broken).status == "pending"
    assert "cannot render the message" in (box.get(broken).last_error or "")
    assert report.count("retry") == 1


def test_rules_skip_keep_for_digest_and_override_severity(box: Outbox, receiver: Receiver) -> None:
    low = box.add("new_relevant_article", article_payload(relevance=0.5))
    off_topic = box.add("new_relevant_article", article_payload(topics=["economy"]))
    cluster = box.add("cluster_growing", {"title": "Story", "outlets": ["A", "B"], "size": 3})
    wanted = box.add("new_relevant_article", article_payload())
    text = """
    [kinds.new_relevant_article]
    min_relevance = 1.0
    topics = ["asylum_refugees"]
    severity = "critical"
    [kinds.cluster_growing]
    mode = "digest"
    """

    _, events = _deliver(box, urls=receiver.apprise_url(), rules_text=text)

    assert [box.get(i).status for i in (low, off_topic, cluster, wanted)] == [
        "skipped", "skipped", "digest", "sent"]  # fmt: skip
    assert "below the rules' minimum" in (box.get(low).note or "")
    assert "topics of interest" in (box.get(off_topic).note or "")
    (hit,) = receiver.accepted
    assert json.loads(hit.body)["type"] == "failure"  # critical, as Apprise calls it
    assert events.statuses() == {"skipped": 2, "digest": 1, "sent": 1}


def test_retry_says_what_the_next_delivery_will_do(box: Outbox) -> None:
    from cli.alerting import describe_retry
    from tests.alerting import rules, settings

    article = box.article()
    edited = box.get(box.add("article_edited", {"title": "v1"}, article_id=article))
    growing = box.get(box.add("cluster_growing", {"title": "x"}))
    low = box.get(box.add("new_relevant_article", article_payload(relevance=0.1)))
    configured = settings(alert_urls="json://127.0.0.1:9/hook")
    text = "[kinds.article_edited]\ndebounce_minutes = 10\n[kinds.new_relevant_article]\n"
    parsed = rules(text + 'min_relevance = 0.5\n[kinds.cluster_growing]\nmode = "digest"\n')

    sends = describe_retry(edited, parsed, configured)
    assert sends.startswith(f"Alert {edited.id} is due again: the next delivery sends it at once")
    assert "`vigie alerts deliver`" in sends
    assert "daily digest" in describe_retry(growing, parsed, configured)
    assert "the rules skip it" in describe_retry(low, parsed, configured)
    assert "has no URL (VIGIE_ALERT_URLS)" in describe_retry(edited, parsed, settings())


# --- CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli(vigie_env: pytest.MonkeyPatch) -> CliRunner:
    return CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    alerting.register(app)
    return app


def test_cli_list_retry_and_test(
    cli: CliRunner, vigie_env: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    from flows import context

    context.ensure_schema()
    with context.sessions().begin() as session:
        session.add(Alert(dedup_key="k1", kind="new_relevant_article", severity="info",
                          payload=article_payload(HOSTILE), status="failed", attempts=6,
                          created_at=NOW, last_error="HTTP 503"))  # fmt: skip
    app = _app()

    listed = cli.invoke(app, ["alerts", "list", "--status", "failed", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 6, "HTTP 503")
    assert cli.invoke(app, ["alerts", "list"]).exit_code == 0

    retried = cli.invoke(app, ["alerts", "retry", str(row["id"])])
    assert retried.exit_code == 0, retried.output
    assert f"Alert {row['id']} is due again" in retried.output
    with context.sessions().begin() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.status, alert.attempts) == ("pending", 0)
    assert cli.invoke(app, ["alerts", "retry", "999"]).exit_code == 1

    vigie_env.setenv("VIGIE_ALERT_URLS", receiver.apprise_url())
    context.reset()
    tested = cli.invoke(app, ["alerts", "test"])
    assert tested.exit_code == 0 and "ok" in tested.output
    assert receiver.accepted and "test" in (receiver.accepted[0].key or "")
    receiver.status = 500
    failed = cli.invoke(app, ["alerts", "test", "default"])
    assert failed.exit_code == 1 and "FAILED default" in failed.output and "500" in failed.output
    assert cli.invoke(app, ["alerts", "test", "nosuch"]).exit_code == 2


@pytest.mark.parametrize("command", [[], ["alerts"], ["alerts", "list"], ["alerts", "test"],
                                     ["alerts", "retry"], ["alerts", "deliver"], ["digest"],
                                     ["automations", "apply"]])  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(_app(), [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.prefect_server
@pytest.mark.usefixtures("on_prefect")
def test_deliver_command_runs_the_flow_with_an_artifact(
    cli: CliRunner, vigie_env: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    from prefect.client.orchestration import get_client

    from flows import context

    vigie_env.setenv("VIGIE_ALERT_URLS", receiver.apprise_url())
    context.ensure_schema()
    with context.sessions().begin() as session:
        session.add(Alert(dedup_key="k1", kind="new_relevant_article", severity="info",
                          payload=article_payload(), status="pending", attempts=0,
                          created_at=NOW, next_attempt_at=NOW))  # fmt: skip

    result = cli.invoke(_app(), ["alerts", "deliver"])

    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output and receiver.keys() == {"k1": 1}
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts(limit=50)
    summary = [a for a in artifact if a.key == "deliver-alerts-summary"]
    assert summary and "| sent | 1 |" in str(summary[0].data)
