"""Automations against a real ``prefect server start``: applied idempotently, they notify a
loopback webhook for a ``vigie.alert.*`` event and for a failed Vigie flow run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from db.outbox import AlertForDelivery
from tests.alerting import NOW, Receiver, free_port
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.prefect_server
AUTOMATIONS = Path(__file__).resolve().parent.parent / "deploy" / "automations.yaml"
STARTUP_DEADLINE_S = 60
DELIVERY_DEADLINE_S = 30


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``prefect server start`` subprocess with its own PREFECT_HOME; its API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING")  # fmt: skip
    prefect = Path(sys.executable).parent / "prefect"
    command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port),
               "--analytics-off"]  # fmt: skip
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_until(lambda: _healthy(api), STARTUP_DEADLINE_S, "the Prefect server to start")
        yield api
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(condition: Callable[[], object], deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


@pytest.fixture
def on_server(prefect_api: str) -> Iterator[str]:
    """Point this process's Prefect client (and event emitter) at the subprocess server."""
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    EventsWorker.drain_all(timeout=10)  # an emitter started earlier would send elsewhere
    with temporary_settings({PREFECT_API_URL: prefect_api}):
        yield prefect_api
        EventsWorker.drain_all(timeout=10)


def _names(api: str) -> list[str]:
    response = httpx.post(f"{api}/automations/filter", json={}, timeout=10)
    return sorted(a["name"] for a in response.json())


def test_automations_notify_on_alert_events_and_failed_runs(
    on_server: str,
    http_server: LoopbackServer,
    vigie_env: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.events.worker import EventsWorker

    from flows.alerts import deliver_alerts, emit_alert_event
    from flows.automations import apply

    receiver = Receiver(http_server, "/ops")
    CustomWebhookNotificationBlock(
        name="vigie-ops", url=receiver.url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    ).save("vigie-ops", overwrite=True)  # fmt: skip

    first = apply(AUTOMATIONS, "custom-webhook/vigie-ops")
    second = apply(AUTOMATIONS, "custom-webhook/vigie-ops")
    assert {a.action for a in first} == {"created"}
    assert {a.action for a in second} == {"unchanged"}
    assert _names(on_server) == sorted(a.name for a in first)

    alert = AlertForDelivery(
        id=41, dedup_key="new_relevant_article:article:7", kind="new_relevant_article",
        severity="info", article_id=7, feed_id=None, payload={"title": "Asylum story"},
        status="failed", attempts=6, created_at=NOW, next_attempt_at=None, sent_at=None,
        last_error="HTTP 503", delivered_channels=(), note=None, merged_into_id=None,
        digest_id=None,
    )  # fmt: skip
    emit_alert_event(alert, "failed")
    EventsWorker.drain_all(timeout=10)
    _wait_until(lambda: receiver.accepted, DELIVERY_DEADLINE_S, "the alert notification")
    notice = json.loads(receiver.accepted[0].body)
    assert notice["subject"] == "Vigie: alert 41 could not be delivered"
    assert "vigie.alert.new_relevant_article" in notice["body"] and "Asylum story" in notice["body"]

    bad_rules = tmp_path / "bad.toml"
    bad_rules.write_text("[kinds.nonsense]\n")
    vigie_env.setenv("VIGIE_ALERT_RULES_PATH", str(bad_rules))
    state = asyncio.run(deliver_alerts(return_state=True))  # type: ignore[call-overload]
    assert state.is_failed()
    _wait_until(lambda: len(receiver.accepted) >= 2, DELIVERY_DEADLINE_S, "the failure notice")
    failure = json.loads(receiver.accepted[1].body)
    assert failure["subject"].startswith("Vigie: deliver-alerts run deliver-")
    assert failure["subject"].endswith("is Failed")
    assert "unknown kind" in failure["body"]
    _assert_failure_recorded_in_outbox()


def _assert_failure_recorded_in_outbox() -> None:
    from db import outbox
    from flows import context

    with context.sessions().begin() as session:
        (recorded,) = outbox.list_alerts(session)
    assert (recorded.kind, recorded.severity) == ("run_failed", "critical")
    assert recorded.payload["flow"] == "deliver-alerts" and recorded.payload["state"] == "Failed"
