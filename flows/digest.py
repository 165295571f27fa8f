"""The daily digest flow: the last day's stories per topic, sent through the alert channels.

The digest travels through the outbox like any alert (kind ``digest``, one per hour at most by
its dedup key), so it is retried with backoff, claimed once, and visible in ``vigie alerts
list``; its channels come from the rules' ``[digest]`` table.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from sqlalchemy.orm import Session, sessionmaker

from db import outbox, repo
from db.outbox import AlertForDelivery
from flows.alerts import DeliveryReport, Emitter, deliver_due, emit_alert_event, record_run_failure
from flows.channels import Router, build_router
from flows.report import run_name
from flows.settings import Settings, get_settings
from parsers.alert_rules import DIGEST_KIND, AlertRules, load_rules
from parsers.digest import DigestInput, build_digest, is_empty, render_digest
from parsers.messages import Style


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

    @property
    def status(self) -> str:
        """sent, queued (will be retried), failed, empty or duplicate, in one word."""
        if self.alert_id is None:
            return "empty"
        if self.delivery is None:
            return "duplicate" if self.already_queued else "queued"
        counts = self.delivery.as_counts()
        if counts["sent"]:
            return "sent"
        return "failed" if counts["failed"] else "queued"


def _inputs(alerts: list[AlertForDelivery]) -> list[DigestInput]:
    return [DigestInput(a.kind, a.severity, a.payload, a.created_at) for a in alerts]


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
    payload = build_digest(
        _inputs([a for a in in_window if a.kind != DIGEST_KIND]),
        _inputs(kept),
        since=since,
        until=now,
        rule=rules.digest,
    )
    wanted = rules.digest.send_when_empty if send_when_empty is None else send_when_empty
    if is_empty(payload) and not wanted:
        return None, False, payload
    key = f"digest:{now.astimezone(UTC):%Y-%m-%dT%H}Z"
    written = repo.add_alert(session, kind=DIGEST_KIND, dedup_key=key, payload=payload, now=now)
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
        style = Style(ZoneInfo(settings.alert_timezone), outbox.topic_labels(session))
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
    return DigestResult(digest_id, already, is_empty(payload), markdown, ran)


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
    result = await asyncio.to_thread(
        send_digest, context.sessions(), hours=hours, send_when_empty=send_when_empty
    )
    await acreate_markdown_artifact(result.markdown, key="daily-digest", description="Daily digest")
    get_run_logger().info("digest: %s (alert %s)", result.status, result.alert_id)
    return {"status": result.status, "alert_id": result.alert_id, "empty": result.empty}
