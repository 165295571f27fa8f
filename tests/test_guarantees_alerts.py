"""Guarantee 4, alert delivery: no alert lost or duplicated across an outage, two delivery
runs at once, or a crash; and the one duplicate that cannot be avoided, bounded.

``tests/test_alerts_delivery.py`` covers backoff, threads claiming at once and a claim left by
a run that never sent. Here: separate processes claiming at once, a process killed (SIGKILL)
between a send and its record, an outage longer than every retry, a receiver that takes a
message but answers with an error, and a send slower than the claim timeout.

The bound on duplicates: a receiver may get an alert more than once only when the sender
could not learn that it did (a crash between send and mark-sent, an error answered after the
message was taken, a send outlasting ``alert_claim_timeout_seconds``). Each such event adds at
most one copy, to the channel that was being sent to, and every copy carries the alert's dedup
key as ``Idempotency-Key``: a receiver that keeps the keys it saw drops them all.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from bench.chaos_worker import run_job, worker_context
from db import outbox
from flows.alerts import DeliveryReport, deliver_due
from flows.channels import build_router
from tests.alerting import Events, Outbox, article_payload, rules, settings
from tests.guarantees import job, log_tail, run_together
from tests.loopback import LoopbackServer, Response

CLAIM_TIMEOUT_S = 60
RULES = '[defaults]\nchannels = ["default"]\nmode = "immediate"\n'
#: Worker processes never reach Prefect when they only deliver; any address will do.
NO_PREFECT = "http://127.0.0.1:9/api"


class Hook:
    """A webhook that counts every request by Idempotency-Key and can misbehave on cue."""

    def __init__(self, server: LoopbackServer, path: str = "/hook") -> None:
        self.server = server
        self.path = path
        self.received: Counter[str] = Counter()
        #: Requests answered with this status, then 200 again (after taking the message).
        self.fail_next = 0
        #: The n-th request (1-based) is held until ``release`` is set.
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        server.routes[path] = self._answer

    @property
    def apprise_url(self) -> str:
        return f"json://{self.server.base_url.removeprefix('http://')}{self.path}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> Response:
        key = handler.headers.get("Idempotency-Key") or "(none)"
        with self._lock:
            self.received[key] += 1
            count = sum(self.received.values())
            failing, self.fail_next = self.fail_next > 0, max(0, self.fail_next - 1)
        if count == self.hold_at:
            self.holding.set()
            self.release.wait(timeout=60)
        return Response(b"{}", 500 if failing else 200, {"Content-Type": "application/json"})


@pytest.fixture
def hook(http_server: LoopbackServer) -> Hook:
    return Hook(http_server)


def _alerts(box: Outbox, n: int) -> list[str]:
    """``n`` due alerts; their dedup keys, oldest first."""
    ids = [box.add("new_relevant_article", article_payload(f"Story {i}")) for i in range(n)]
    return [box.get(i).dedup_key for i in ids]


def _deliver(box: Outbox, hook: Hook, later_s: float = 0.0, **config: Any) -> DeliveryReport:
    """One delivery pass in this process, ``later_s`` seconds from now."""
    config = {"alert_claim_timeout_seconds": CLAIM_TIMEOUT_S, **config}
    values = settings(alert_urls=hook.apprise_url, **config)
    parsed = rules(RULES)
    now = datetime.now(UTC) + timedelta(seconds=later_s)
    router = build_router(parsed, values)
    return deliver_due(box.sessions, now, settings=values, rules=parsed, router=router,
                       emit=Events())  # fmt: skip


def _worker_env(box: Outbox, hook: Hook, rules_file: Path, **extra: str) -> dict[str, str]:
    rules_file.write_text(RULES)
    return {
        "VIGIE_DATABASE_URL": box.engine.url.render_as_string(hide_password=False),
        "VIGIE_ALERT_URLS": hook.apprise_url,
        "VIGIE_ALERT_RULES_PATH": str(rules_file),
        "VIGIE_ALERT_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT_S),
        **extra,
    }


def test_a_crash_between_send_and_record_resends_that_alert_once_and_loses_none(
    box: Outbox, hook: Hook, tmp_path: Path
) -> None:
    keys = _alerts(box, 5)
    hook.hold_at = 3  # the third send reaches the receiver; then the sender dies
    work = job(tmp_path / "killed", NO_PREFECT, _worker_env(box, hook, tmp_path / "rules.toml"),
               ["deliver"])  # fmt: skip
    process = worker_context().Process(target=run_job, args=(work, None), daemon=True)
    process.start()
    try:
        assert hook.holding.wait(timeout=120), log_tail(work)
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=30)
    finally:
        hook.release.set()
    assert process.exitcode == -signal.SIGKILL

    statuses = {key: box.get(box_id(box, key)).status for key in keys}
    assert statuses == dict(
        zip(keys, ["sent", "sent", "sending", "sending", "sending"], strict=True)
    )
    early = _deliver(box, hook, later_s=CLAIM_TIMEOUT_S / 2)
    assert early.outcomes == []  # a live claim is never taken over early
    resumed = _deliver(box, hook, later_s=CLAIM_TIMEOUT_S + 1)

    assert resumed.count("sent") == 3 and box.statuses() == {"sent": 5}
    # Nothing lost; the alert caught between send and record went twice, with one key.
    assert hook.received == {keys[0]: 1, keys[1]: 1, keys[2]: 2, keys[3]: 1, keys[4]: 1}


def box_id(box: Outbox, key: str) -> int:
    with box.sessions.begin() as session:
        alert_id = outbox.id_for_key(session, key)
    assert alert_id is not None
    return alert_id


def test_delivery_processes_started_together_send_each_alert_once(
    box: Outbox, hook: Hook, tmp_path: Path
) -> None:
    keys = _alerts(box, 40)
    env = _worker_env(box, hook, tmp_path / "rules.toml", VIGIE_ALERT_BATCH_SIZE="15")
    jobs = [job(tmp_path / f"run{n}", NO_PREFECT, env, ["deliver"]) for n in range(3)]

    results = run_together(jobs)
    leftover = _deliver(box, hook)  # three passes of 15 claim all 40 unless one lost a race

    sent = sum(r["deliver"]["sent"] for r in results) + leftover.count("sent")
    assert sent == 40 and box.statuses() == {"sent": 40}
    assert hook.received == dict.fromkeys(keys, 1)
    assert sum(r["deliver"]["lost"] for r in results) == 0


def test_an_outage_longer_than_every_retry_loses_nothing(box: Outbox, hook: Hook) -> None:
    keys = _alerts(box, 3)
    hook.fail_next = 1000  # down: every request is answered 500

    waits = [0, 61, 61 + 121]  # backoff: 60 s, then 120 s
    reports = [_deliver(box, hook, later_s=w, alert_max_attempts=3) for w in waits]
    assert [r.count("retry") for r in reports] == [3, 3, 0] and reports[-1].count("failed") == 3
    assert box.statuses() == {"failed": 3}  # given up on, visible, not gone

    hook.fail_next = 0
    hook.received.clear()
    with box.sessions.begin() as session:  # what `vigie alerts retry ID` does
        for key in keys:
            assert outbox.retry(session, box_id(box, key), datetime.now(UTC))
    back = _deliver(box, hook, later_s=400, alert_max_attempts=3)

    assert back.count("sent") == 3 and box.statuses() == {"sent": 3}
    assert hook.received == dict.fromkeys(keys, 1)


def test_a_receiver_that_takes_a_message_but_answers_an_error_gets_one_copy_per_attempt(
    box: Outbox, hook: Hook
) -> None:
    (key,) = _alerts(box, 1)
    hook.fail_next = 1  # the message arrives, the answer says 500

    first = _deliver(box, hook)
    second = _deliver(box, hook, later_s=61)

    assert first.count("retry") == 1 and second.count("sent") == 1
    assert hook.received == {key: 2}  # the bound: one copy per unacknowledged attempt


def test_a_send_slower_than_the_claim_timeout_is_taken_over_and_recorded_once(
    box: Outbox, hook: Hook
) -> None:
    (key,) = _alerts(box, 1)
    hook.hold_at = 1  # the first run's send hangs past the claim timeout
    slow: list[DeliveryReport] = []
    first = threading.Thread(target=lambda: slow.append(_deliver(box, hook)))
    first.start()
    assert hook.holding.wait(timeout=30)

    takeover = _deliver(box, hook, later_s=CLAIM_TIMEOUT_S + 1)
    hook.release.set()
    first.join(timeout=60)

    assert takeover.count("sent") == 1 and slow[0].count("lost") == 1
    assert box.statuses() == {"sent": 1} and box.get(box_id(box, key)).attempts == 2
    assert hook.received == {key: 2}  # the bound: one copy per takeover
