"""The daily digest flow: the last day's stories per topic, sent through the alert channels.

The digest travels through the outbox like any alert (kind ``digest``, one per hour at most by
its dedup key), so it is retried with backoff, claimed once, and visible in ``vigie alerts
list``; its channels come from the rules' ``[digest]`` table.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger
from sqlalchemy.orm import Session, sessionmaker

from db import outbox
from db.outbox import AlertForDelivery
from db.stories import stories_now
from db.upsert import add_alert
from flows.alerts import DeliveryReport, Emitter, deliver_due, emit_alert_event, record_run_failure
from flows.channels import Router, build_router
from flows.parameters import plain_parameters
from flows.report import rename_run, run_name, run_title
from flows.settings import Settings, get_settings
from parsers.alert_rules import DIGEST_KIND, AlertRules, load_rules
from parsers.digest import DigestInput, build_digest, is_empty, render_digest
from parsers.messages import Style
from parsers.text import counted


@dataclass(frozen=True)
class DigestResult:
    """What one digest run did."""

    #: The digest's outbox row, or None when nothing was queued (empty and not wanted).
    alert_id: int | None
    #: True when a digest for this hour had already been queued (by an earlier run).
    already_queued: bool
    empty: bool
    #: The digest as markdown, for the artifact and the CLI.
    markdown: str
    #: The delivery pass that sent it, when one ran.
    delivery: DeliveryReport | None = None
    #: The digest's outbox row as this run left it: whether it was delivered (by this run or
    #: an earlier one), and if not, the attempts, the last (redacted) error and the next try.
    row: AlertForDelivery | None = None

    @property
    def status(self) -> str:
        """What this run did, in one word: sent, queued (will be retried), failed, empty or
        duplicate (an earlier run queued this hour's digest; ``row`` says if it went out)."""
        if self.alert_id is None:
            return "empty"
        if self.delivery is None:
            return "duplicate" if self.already_queued else "queued"
        counts = self.delivery.as_counts()
        if counts["sent"]:
            return "sent"
        return "failed" if counts["failed"] else "queued"

    @property
    def delivered(self) -> bool:
        """True when the digest reached its channels, in this run or an earlier one."""
        return self.row is not None and self.row.status == outbox.SENT

    def as_dict(self) -> dict[str, object]:
        """The flow's return value: the status and what the outbox row says."""
        row = self.row
        return {
            "status": self.status,
            "alert_id": self.alert_id,
            "empty": self.empty,
            "already_queued": self.already_queued,
            "delivered": self.delivered,
            "outbox_status": row.status if row else None,
            "attempts": row.attempts if row else 0,
            "last_error": row.last_error if row else None,
            "note": row.note if row else None,
            "next_attempt_at": _iso(row.next_attempt_at) if row else None,
            "sent_at": _iso(row.sent_at) if row else None,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def describe(result: Mapping[str, object]) -> str:
    """What a digest run did, for a person: delivered or not, why, and what to do about it.

    ``result`` is ``DigestResult.as_dict()``, the flow's return value.
    """
    alert_id, status = result.get("alert_id"), result.get("status")
    state = result.get("outbox_status")
    if alert_id is None:
        return "Nothing new in the period: no digest sent."
    if status == "sent":
        return f"Digest sent (alert {alert_id})."
    if state == outbox.SENT:
        return (
            f"A digest was already sent this hour (alert {alert_id}{_at(result.get('sent_at'))})."
        )
    if result.get("already_queued"):
        head = f"This hour's digest was already queued as alert {alert_id}"
        if state == outbox.SENDING:
            return f"{head}; another run is sending it now (see `vigie alerts list`)."
        head += " and is still not delivered"
    else:
        head = f"Digest queued as alert {alert_id}, not delivered"
    tries = result.get("attempts")
    if isinstance(tries, int) and tries:
        head += f" ({counted(tries, 'attempt')})"
    reason = str(result.get("last_error") or result.get("note") or "").rstrip(". ")
    head += f": {reason}." if reason else "."
    to_send = (
        "fix its channel (VIGIE_ALERT_URLS or the rules' [digest] channels; test with "
        f"`vigie alerts test`), then run `vigie alerts retry {alert_id}` and "
        "`vigie alerts deliver`."
    )
    if state == outbox.PENDING:
        after = _at(result.get("next_attempt_at"), " after")
        retried = f"It stays pending; the next delivery pass{after} retries it."
        return f"{head} {retried} To send it now: {to_send}"
    if state == outbox.FAILED:
        return f"{head} It failed for good: {to_send}"
    return f"{head} It is {state}."


def _at(value: object, prefix: str = ", at") -> str:
    if not isinstance(value, str):
        return ""
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return f"{prefix} {moment:%Y-%m-%d %H:%M} UTC"


def _inputs(alerts: list[AlertForDelivery]) -> list[DigestInput]:
    return [
        DigestInput(a.kind, a.severity, a.payload, a.created_at, a.article_id, a.status, a.id)
        for a in alerts
    ]


def queue_digest(
    session: Session,
    now: datetime,
    *,
    hours: int,
    rules: AlertRules,
    send_when_empty: bool | None = None,
) -> tuple[int | None, bool, dict[str, object]]:
    """Build the digest of ``hours`` before ``now`` and write it to the outbox.

    Returns (alert id, already queued, payload); the id is None when the digest is empty and
    empty digests are not wanted. Alerts kept for the digest are attached to it.
    """
    since = now - timedelta(hours=hours)
    in_window = outbox.created_between(session, since, now)
    kept = outbox.awaiting_digest(session, now)
    # Stories as they read now (current titles), and every outlet carrying each.
    articles = [a.article_id for a in [*in_window, *kept] if a.article_id is not None]
    payload = build_digest(
        _inputs([a for a in in_window if a.kind != DIGEST_KIND]),
        _inputs(kept),
        since=since,
        until=now,
        rule=rules.digest,
        current=stories_now(session, articles),
    )
    wanted = rules.digest.send_when_empty if send_when_empty is None else send_when_empty
    if is_empty(payload) and not wanted:
        return None, False, payload
    key = f"digest:{now.astimezone(UTC):%Y-%m-%dT%H}Z"
    written = add_alert(session, kind=DIGEST_KIND, dedup_key=key, payload=payload, now=now)
    digest_id = outbox.id_for_key(session, key)
    if digest_id is not None and written:
        outbox.attach_to_digest(session, [a.id for a in kept], digest_id)
    return digest_id, not written, payload


def send_digest(
    session_factory: sessionmaker[Session],
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    rules: AlertRules | None = None,
    router: Router | None = None,
    emit: Emitter = emit_alert_event,
    hours: int | None = None,
    send_when_empty: bool | None = None,
) -> DigestResult:
    """Queue the digest and deliver it now (a failed send stays queued and is retried)."""
    settings = settings or get_settings()
    rules = rules or load_rules(settings.resolved_alert_rules_path)
    now = now or datetime.now(UTC)
    with session_factory.begin() as session:
        digest_id, already, payload = queue_digest(
            session,
            now,
            hours=hours or settings.digest_hours,
            rules=rules,
            send_when_empty=send_when_empty,
        )
        style = Style(settings.zone, outbox.topic_labels(session))
    markdown = render_digest(payload, style).markdown
    if digest_id is None:
        return DigestResult(None, False, True, markdown)
    delivery = deliver_due(
        session_factory,
        now,
        settings=settings,
        rules=rules,
        router=router or build_router(rules, settings),
        emit=emit,
        ids=[digest_id],
    )
    ran = delivery if delivery.outcomes else None
    with session_factory.begin() as session:
        row = outbox.get_alert(session, digest_id)
    return DigestResult(digest_id, already, is_empty(payload), markdown, ran, row)


@plain_parameters
@flow(
    name="daily-digest",
    flow_run_name=run_name("digest"),
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def daily_digest(
    hours: int | None = None, send_when_empty: bool | None = None
) -> dict[str, object]:
    """Send the digest of the last ``hours`` (default: the ``digest_hours`` setting).

    Pipeline:
        alerts of the window (db)  -> per topic: count + top stories; updates kept for it
        write the digest to the outbox (one per hour), attach what it lists
        deliver it now through the [digest] channels; publish it as a markdown artifact
    Nothing is sent when there is nothing to tell, unless ``send_when_empty``.
    """
    from prefect.artifacts import acreate_markdown_artifact

    from flows import context

    context.ensure_schema()
    started_at = datetime.now(UTC)
    result = await asyncio.to_thread(
        send_digest, context.sessions(), started_at, hours=hours, send_when_empty=send_when_empty
    )
    await acreate_markdown_artifact(result.markdown, key="daily-digest", description="Daily digest")
    outcome = result.as_dict()
    await rename_run(run_title("digest", started_at, [str(outcome["status"])]))
    undelivered = result.alert_id is not None and not result.delivered
    level = logging.WARNING if undelivered else logging.INFO
    get_run_logger().log(level, "digest: %s", describe(outcome))
    return outcome
