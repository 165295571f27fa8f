"""Automations against a real ``prefect server start``: applied idempotently, they notify a
loopback webhook for a ``vigie.alert.*`` event and for a failed Vigie flow run."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from db.outbox import AlertForDelivery
from tests.alerting import NOW, Receiver, on_prefect, prefect_api, wait_until  # noqa: F401
from tests.loopback import LoopbackServer

pytestmark = [pytest.mark.prefect_server, pytest.mark.usefixtures("on_prefect")]
AUTOMATIONS = Path(__file__).resolve().parent.parent / "deploy" / "automations.yaml"
DELIVERY_DEADLINE_S = 30


def _names(api: str) -> list[str]:
    response = httpx.post(f"{api}/automations/filter", json={}, timeout=10)
    return sorted(a["name"] for a in response.json())


def test_automations_notify_on_alert_events_and_failed_runs(
    http_server: LoopbackServer,
    vigie_env: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.settings import PREFECT_API_URL

    from flows.alerts import deliver_alerts
    from flows.automations import apply

    receiver = Receiver(http_server, "/ops")
    for name, path in (("vigie-ops-before", "/before"), ("vigie-ops", "/ops")):
        CustomWebhookNotificationBlock(
            name=name, url=receiver.url.replace("/ops", path),
            json_data={"subject": "{{subject}}", "body": "{{body}}"},
        ).save(name, overwrite=True)  # fmt: skip

    earlier = apply(AUTOMATIONS, "custom-webhook/vigie-ops-before")  # as a previous deploy left it
    moved = apply(AUTOMATIONS, "custom-webhook/vigie-ops")
    again = apply(AUTOMATIONS, "custom-webhook/vigie-ops")
    assert {a.action for a in earlier} <= {"created", "updated", "unchanged"}
    assert {a.action for a in moved} == {"updated"}
    assert {a.action for a in again} == {"unchanged"}
    assert _names(str(PREFECT_API_URL.value())) == sorted(a.name for a in moved)

    alert = AlertForDelivery(
        id=41, dedup_key="new_relevant_article:article:7", kind="new_relevant_article",
        severity="info", article_id=7, feed_id=None, payload={"title": "Asylum story"},
        status="failed", attempts=6, created_at=NOW, next_attempt_at=None, sent_at=None,
        last_error="HTTP 503", delivered_channels=(), note=None, merged_into_id=None,
        digest_id=None,
    )  # fmt: skip
    wait_until(lambda: _emitted(alert, receiver), DELIVERY_DEADLINE_S, "the alert notification")
    notice = json.loads(receiver.accepted[0].body)
    assert notice["subject"] == "Vigie: alert 41 could not be delivered"
    assert "vigie.alert.new_relevant_article" in notice["body"] and "Asylum story" in notice["body"]

    bad_rules = tmp_path / "bad.toml"
    bad_rules.write_text("[kinds.nonsense]\n")
    vigie_env.setenv("VIGIE_ALERT_RULES_PATH", str(bad_rules))
    state = asyncio.run(deliver_alerts(return_state=True))  # type: ignore[call-overload]
    assert state.is_failed()
    wait_until(lambda: len(receiver.accepted) >= 2, DELIVERY_DEADLINE_S, "the failure notice")
    failure = json.loads(receiver.accepted[1].body)
    assert failure["subject"].startswith("Vigie: deliver-alerts run deliver ")
    assert failure["subject"].endswith("is Failed")
    assert "unknown kind" in failure["body"]
    _assert_failure_recorded_in_outbox()


def _emitted(alert: AlertForDelivery, receiver: Receiver) -> bool:
    """Emit the alert's event until a notification arrives: a server that has just started
    may not be listening for events yet, and drops what comes before."""
    if receiver.accepted:
        return True
    from prefect.events.worker import EventsWorker

    from flows.alerts import emit_alert_event

    emit_alert_event(alert, "failed")
    EventsWorker.drain_all(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not receiver.accepted:
        time.sleep(0.2)
    return bool(receiver.accepted)


def _assert_failure_recorded_in_outbox() -> None:
    from db import outbox
    from flows import context

    with context.sessions().begin() as session:
        (recorded,) = outbox.list_alerts(session)
    assert (recorded.kind, recorded.severity) == ("run_failed", "critical")
    assert recorded.payload["flow"] == "deliver-alerts" and recorded.payload["state"] == "Failed"
