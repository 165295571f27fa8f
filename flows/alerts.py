"""Alert delivery: the outbox drained through the channels the rules choose.

``deliver_due`` is a plain function (the monitor flow calls it at the end of a pass);
``deliver_alerts`` is the Prefect flow around it, with a run summary artifact.

Guarantees (see ``db.outbox`` for how):

- Each alert is claimed by one run, even with several runs at once (PostgreSQL
  ``FOR UPDATE SKIP LOCKED``; SQLite's write lock), and sent once per channel. Channels that
  accepted it are recorded one by one, so a retry sends only to the others.
- A failed send is retried with exponential backoff until ``alert_max_attempts``, then the
  alert is ``failed``; attempts and the (redacted) last error stay visible.
- A run that dies after sending but before recording leaves a claim that expires after
  ``alert_claim_timeout_seconds``; the next run sends again. Webhooks carry the alert's dedup
  key as ``Idempotency-Key`` so receivers can drop that duplicate.
- Each alert is emitted once as the Prefect event ``vigie.alert.<kind>`` when it leaves the
  outbox (sent, failed, skipped, merged or kept for the digest), after that is committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger
from sqlalchemy.orm import Session, sessionmaker

from db import outbox
from db.outbox import AlertForDelivery
from db.upsert import add_alert
from flows.channels import Channel, Delivery, Router, build_router
from flows.parameters import plain_parameters
from flows.report import rename_run, run_name, run_title
from flows.settings import Settings, get_settings
from parsers.alert_rules import (
    DIGEST_KIND,
    AlertRules,
    Routing,
    digest_language,
    load_rules,
    retry_delay,
    route,
)
from parsers.digest import render_digest
from parsers.exceptions import AlertDeliveryError
from parsers.inert import clean, md_line
from parsers.messages import AlertContent, Rendered, Style, merge, render_alert
from parsers.redact import redact, secrets_in_url

#: Called once per alert as it leaves the outbox: (alert, final status).
Emitter = Callable[[AlertForDelivery, str], None]
# A follower waits this little past its leader's window, so the leader is handled first.
_AFTER_LEADER = timedelta(seconds=1)

_log = logging.getLogger("vigie.alerts")


@dataclass(frozen=True)
class Outcome:
    """What one delivery pass did with one alert."""

    alert_id: int
    kind: str
    #: sent, failed, retry (failed, will be retried), held, skipped, merged, digest, lost
    #: (another run took over the claim).
    result: str
    attempts: int = 0
    #: The redacted reason of a failure, a hold or a skip.
    detail: str = ""
    channels: tuple[str, ...] = ()


@dataclass
class DeliveryReport:
    """The outcomes of a pass and the outbox totals after it."""

    started_at: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def count(self, result: str) -> int:
        """How many alerts of this pass ended with ``result``."""
        return sum(1 for outcome in self.outcomes if outcome.result == result)

    def as_counts(self) -> dict[str, int]:
        """This pass's counts, for the CLI and the flow's return value."""
        results = ("sent", "failed", "retry", "held", "skipped", "merged", "digest", "lost")
        counts = {result: self.count(result) for result in results}
        counts["pending_total"] = self.totals.get(outbox.PENDING, 0)
        counts["failed_total"] = self.totals.get(outbox.FAILED, 0)
        return counts


def emit_alert_event(alert: AlertForDelivery, status: str) -> None:
    """Emit ``vigie.alert.<kind>`` about the alert's article or feed, payload as written."""
    from prefect.events import emit_event

    emit_event(
        event=f"vigie.alert.{alert.kind}",
        resource=event_resource(alert, status),
        payload=dict(alert.payload),
    )


def event_resource(alert: AlertForDelivery, status: str) -> dict[str, str]:
    """The event's resource: the article or feed, labelled with the alert's id and status."""
    if alert.article_id is not None:
        resource_id = f"vigie.article.{alert.article_id}"
    elif alert.feed_id is not None:
        resource_id = f"vigie.feed.{alert.feed_id}"
    else:
        resource_id = f"vigie.alert.{alert.id}"
    name = alert.payload.get("title") or alert.payload.get("feed") or alert.kind
    return {
        "prefect.resource.id": resource_id,
        "prefect.resource.name": clean(name, 200),
        "vigie.alert.id": str(alert.id),
        "vigie.alert.status": status,
        "vigie.alert.severity": alert.severity,
    }


def deliver_due(
    session_factory: sessionmaker[Session],
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    rules: AlertRules | None = None,
    router: Router | None = None,
    emit: Emitter = emit_alert_event,
    limit: int | None = None,
    ids: Sequence[int] | None = None,
) -> DeliveryReport:
    """One delivery pass over the alerts that are due at ``now``.

    Pipeline:
        claim due alerts (one transaction)
        for each: route by the rules -> skip | keep for digest | hold (debounce) | send
                  send: merge the burst, render per channel, send to each channel not yet
                        done, record after each; on error back off or give up
        emit vigie.alert.<kind> for every alert that left the outbox

    Configuration errors in the rules file raise ``ConfigError``; a channel's failure is
    recorded on the alert, never raised.
    """
    settings = settings or get_settings()
    rules = rules or load_rules(settings.resolved_alert_rules_path)
    now = now or datetime.now(UTC)
    run = _Pass(
        sessions=session_factory,
        now=now,
        token=uuid.uuid4().hex,
        settings=settings,
        rules=rules,
        router=router or build_router(rules, settings),
        emit=emit,
    )
    return run.deliver(limit or settings.alert_batch_size, ids)


@dataclass
class _Pass:
    sessions: sessionmaker[Session]
    now: datetime
    token: str
    settings: Settings
    rules: AlertRules
    router: Router
    emit: Emitter
    #: Channels that failed earlier in this pass, and why: not tried again until next pass.
    broken: dict[str, str] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    style: Style = field(default_factory=Style)
    #: The style of French digests: French topic labels.
    french: Style = field(default_factory=Style)

    def deliver(self, limit: int, ids: Sequence[int] | None) -> DeliveryReport:
        report = DeliveryReport(started_at=self.now)
        timeout = timedelta(seconds=self.settings.alert_claim_timeout_seconds)
        with self.sessions.begin() as session:
            claimed = outbox.claim_due(
                session, self.now, token=self.token, limit=limit, claim_timeout=timeout, ids=ids
            )
            self.style = Style(self.settings.zone, outbox.topic_labels(session))
            self.french = replace(self.style, topic_labels=outbox.topic_labels(session, "fr"))
        started = time.monotonic()
        for alert in claimed:
            if alert.id in self.done:
                continue
            if time.monotonic() - started > timeout.total_seconds() / 2:
                # Past half the claim timeout another run may take these over: give them back
                # rather than risk sending them twice.
                report.outcomes.append(self._release(alert))
                continue
            report.outcomes += self.process(alert)
        with self.sessions.begin() as session:
            report.totals = outbox.status_counts(session)
        return report

    def process(self, alert: AlertForDelivery) -> list[Outcome]:
        routing = route(self.rules, alert.kind, alert.severity, alert.payload)
        if routing.action == "skip":
            return [self._settle(alert, outbox.SKIPPED, routing.reason, "skipped")]
        if routing.action == "digest":
            return [self._settle(alert, outbox.DIGEST, "kept for the daily digest", "digest")]
        if routing.debounce and alert.subject is not None:
            held = self._hold_for_window(alert, routing.debounce)
            if held is not None:
                return [held]
        return self._send(alert, routing)

    # --- no send ---------------------------------------------------------------------------

    def _settle(self, alert: AlertForDelivery, status: str, note: str, result: str) -> Outcome:
        with self.sessions.begin() as session:
            owned = outbox.settle(session, alert.id, self.token, status, note)
        if not owned:
            return Outcome(alert.id, alert.kind, "lost")
        self._emit(alert, status)
        return Outcome(alert.id, alert.kind, result, alert.attempts, note)

    def _release(self, alert: AlertForDelivery) -> Outcome:
        note = "given back: the pass ran long"
        with self.sessions.begin() as session:
            owned = outbox.hold(session, alert.id, self.token, self.now, note)
        return Outcome(alert.id, alert.kind, "held" if owned else "lost", alert.attempts, note)

    def _hold_for_window(self, alert: AlertForDelivery, window: timedelta) -> Outcome | None:
        """Hold an alert that a debounce window merges with others; None when it may go now.

        The debounce merges, it never delays the first message: the first alert on a subject
        goes at once (with whatever arrived with it), and only an alert after a message
        already sent waits out its window, to carry the rest of the burst in one message.
        An alert a person asked to retry goes at once.
        """
        if alert.note == outbox.RETRY_NOTE:
            return None
        with self.sessions.begin() as session:
            leader = outbox.open_leader(session, alert, window)
            if leader is not None:
                until = max(leader.created_at + window + _AFTER_LEADER, self.now + _AFTER_LEADER)
                note = f"waiting to be merged into alert {leader.id}"
            elif self.now < alert.created_at + window and outbox.sent_within(
                session, alert, window
            ):
                until = alert.created_at + window
                note = "debounce: a message on this went out; the rest of the burst goes as one"
            else:
                return None
            owned = outbox.hold(session, alert.id, self.token, until, note)
        return Outcome(alert.id, alert.kind, "held" if owned else "lost", alert.attempts, note)

    # --- sending ---------------------------------------------------------------------------

    def _send(self, alert: AlertForDelivery, routing: Routing) -> list[Outcome]:
        with self.sessions.begin() as session:
            attempts = outbox.begin_attempt(session, alert.id, self.token)
            if attempts is None:
                return [Outcome(alert.id, alert.kind, "lost")]
            newly: list[AlertForDelivery] = []
            if routing.debounce and alert.subject is not None:
                newly = outbox.merge_followers(session, alert, routing.debounce, self.token)
            # Followers merged by an earlier, failed attempt belong in this message too.
            followers = outbox.merged_into(session, alert.id)
        self.done.update(f.id for f in newly)
        delivered, errors = self._send_to_channels(alert, followers, routing)
        outcome = self._record(alert, attempts, delivered, errors)
        for follower in newly:
            self._emit(follower, outbox.MERGED)
        merged = [Outcome(f.id, f.kind, "merged", f.attempts, f"into {alert.id}") for f in newly]
        return [outcome, *merged]

    def _send_to_channels(
        self, alert: AlertForDelivery, followers: Sequence[AlertForDelivery], routing: Routing
    ) -> tuple[list[str], list[str]]:
        delivered = list(alert.delivered_channels)
        errors: list[str] = []
        messages: dict[str, Rendered] = {}
        for channel in self.router.channels(routing.channels):
            if channel.name in delivered:
                continue
            # A digest is written in each channel's language; other alerts are one message.
            language = (
                digest_language(self.rules, channel.name) if alert.kind == DIGEST_KIND else ""
            )
            try:
                if language not in messages:
                    messages[language] = self._message(alert, followers, routing.severity, language)
            except (KeyError, TypeError, ValueError) as exc:
                # A payload the renderer cannot read is this alert's problem, not the pass's:
                # it fails like a refused send, so it cannot block the outbox.
                return delivered, [f"cannot render the message: {type(exc).__name__}: {exc}"]
            error = self._send_one(channel, alert, messages[language], routing.severity)
            if error:
                errors.append(error)
                continue
            delivered.append(channel.name)
            with self.sessions.begin() as session:
                outbox.record_channels(session, alert.id, self.token, delivered)
        return delivered, errors

    def _send_one(
        self, channel: Channel, alert: AlertForDelivery, message: Rendered, severity: str
    ) -> str:
        """Send to one channel; the redacted error, or "" when it was accepted."""
        if channel.name in self.broken:
            return f"{self.broken[channel.name]} (not retried in this pass)"
        delivery = Delivery(message, severity, alert.dedup_key, alert.kind, alert.payload)
        try:
            channel.send(delivery)
        except AlertDeliveryError as exc:
            self.broken[channel.name] = redact(str(exc), self.router.secrets)
            return self.broken[channel.name]
        return ""

    def _message(
        self,
        alert: AlertForDelivery,
        followers: Sequence[AlertForDelivery],
        severity: str,
        language: str = "",
    ) -> Rendered:
        if alert.kind == DIGEST_KIND:
            style = self.french if language == "fr" else self.style
            return render_digest(alert.payload, style, language or "en")
        payloads = [alert.payload, *(f.payload for f in followers)]
        content = AlertContent(
            kind=alert.kind,
            severity=severity,
            payload=merge(alert.kind, payloads),
            created_at=alert.created_at,
            count=len(payloads),
        )
        return render_alert(content, self.style)

    def _record(
        self, alert: AlertForDelivery, attempts: int, delivered: list[str], errors: list[str]
    ) -> Outcome:
        if not errors:
            with self.sessions.begin() as session:
                owned = outbox.mark_sent(session, alert.id, self.token, self.now, delivered)
            if owned:
                self._emit(alert, outbox.SENT)
            result = "sent" if owned else "lost"
            return Outcome(alert.id, alert.kind, result, attempts, channels=tuple(delivered))
        return self._record_failure(alert, attempts, delivered, "; ".join(errors))

    def _record_failure(
        self, alert: AlertForDelivery, attempts: int, delivered: list[str], error: str
    ) -> Outcome:
        retry_at = None
        if attempts < self.settings.alert_max_attempts:
            delay = retry_delay(
                attempts,
                self.settings.alert_backoff_seconds,
                self.settings.alert_backoff_max_seconds,
            )
            retry_at = self.now + delay
        with self.sessions.begin() as session:
            owned = outbox.mark_failed_attempt(
                session, alert.id, self.token, error=error, retry_at=retry_at, channels=delivered
            )
        if not owned:
            return Outcome(alert.id, alert.kind, "lost")
        if retry_at is None:
            self._emit(alert, outbox.FAILED)
        result = "retry" if retry_at is not None else "failed"
        return Outcome(alert.id, alert.kind, result, attempts, error, tuple(delivered))

    def _emit(self, alert: AlertForDelivery, status: str) -> None:
        try:
            self.emit(alert, status)
        except Exception as exc:  # an event is a copy; losing one must not undo a delivery
            _log.warning("could not emit the event of alert %s: %s", alert.id, type(exc).__name__)


async def deliver_after_run() -> DeliveryReport | None:
    """Deliver what is due at the end of a monitor or re-check run, so that its alerts leave
    within a minute of it; None when that is off (``VIGIE_DELIVER_AFTER_RUN``), when no
    channel is configured (nothing could be sent: the outbox keeps the alerts, untried), or
    when the delivery itself failed (logged; the deliver-alerts runs take the alerts over).
    """
    from flows import context

    settings = get_settings()
    if not settings.deliver_after_run:
        return None
    rules = load_rules(settings.resolved_alert_rules_path)
    if not settings.alert_url_list and not rules.channels:
        return None
    router = build_router(rules, settings)
    try:
        report = await asyncio.to_thread(
            deliver_due, context.sessions(), settings=settings, rules=rules, router=router
        )
    except Exception as exc:  # the run did its work; the outbox keeps the alerts for later
        reason = redact(f"{type(exc).__name__}: {exc}", router.secrets)
        get_run_logger().warning(
            "alerts not delivered by this run (%s); deliver-alerts will", reason
        )
        return None
    _log_report(report, router.secrets)
    return report


# --- run summary ---------------------------------------------------------------------------


def delivery_markdown(report: DeliveryReport, secrets: frozenset[str] = frozenset()) -> str:
    """The pass as a person reads it: counts, then each failure with its (redacted) reason."""
    counts = report.as_counts()
    lines = [
        "# Vigie alert delivery",
        "",
        f"Pass at {report.started_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
        "| | this pass | in the outbox |",
        "|---|---:|---:|",
        f"| sent | {counts['sent']} | {report.totals.get(outbox.SENT, 0)} |",
        f"| failed for good | {counts['failed']} | {report.totals.get(outbox.FAILED, 0)} |",
        f"| failed, will retry | {counts['retry']} | |",
        f"| pending | {counts['held']} held | {report.totals.get(outbox.PENDING, 0)} |",
        f"| merged (debounce) | {counts['merged']} | {report.totals.get(outbox.MERGED, 0)} |",
        f"| kept for the digest | {counts['digest']} | {report.totals.get(outbox.DIGEST, 0)} |",
        f"| skipped by the rules | {counts['skipped']} | {report.totals.get(outbox.SKIPPED, 0)} |",
        "",
    ]
    return "\n".join(lines + _failure_lines(report, secrets))


def _failure_lines(report: DeliveryReport, secrets: frozenset[str]) -> list[str]:
    failures = [o for o in report.outcomes if o.result in ("failed", "retry")]
    if not failures:
        return ["No delivery failed.", ""]
    lines = [
        "## Failed deliveries",
        "",
        "| alert | kind | attempts | reason |",
        "|---|---|---:|---|",
    ]
    lines += [
        f"| {o.alert_id} | {o.kind} | {o.attempts} | {md_line(redact(o.detail, secrets), 300)} |"
        for o in failures
    ]
    return [*lines, "", "Retry one with `vigie alerts retry ID` once the channel is fixed.", ""]


async def _publish(report: DeliveryReport, secrets: frozenset[str]) -> None:
    from prefect.artifacts import acreate_markdown_artifact

    await acreate_markdown_artifact(
        delivery_markdown(report, secrets),
        key="deliver-alerts-summary",
        description="Alert delivery summary",
    )


# --- run failures as alerts ----------------------------------------------------------------


def record_run_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """A flow ``on_failure``/``on_crashed`` hook writing a ``run_failed`` alert to the outbox.

    Attach it to Vigie's flows; the next delivery pass sends it. The automations in
    ``deploy/automations.yaml`` cover the case where the database itself is the problem.
    """
    from flows import context
    from flows.report import ALL_FEEDS_FAILED

    if getattr(state, "name", None) == ALL_FEEDS_FAILED:
        return  # the feeds' own failures alert (feed_broken), not one alert per pass
    payload = run_failed_payload(flow.name, flow_run.name, str(flow_run.id), state)
    try:
        with context.sessions().begin() as session:
            add_alert(
                session,
                kind="run_failed",
                dedup_key=f"run_failed:{flow_run.id}",
                payload=payload,
                now=datetime.now(UTC),
                severity="critical",
            )
    except Exception as exc:  # a hook must not mask the run's own failure
        _log.warning("could not record the failure of run %s: %s", flow_run.name, exc)


def run_failed_payload(flow_name: str, run: str, run_id: str, state: Any) -> Mapping[str, Any]:
    """The ``run_failed`` payload, the state message redacted."""
    secrets = {s for url in get_settings().alert_url_list for s in secrets_in_url(url)}
    message = redact(str(getattr(state, "message", "") or ""), secrets)
    return {
        "flow": flow_name,
        "flow_run": run,
        "flow_run_id": run_id,
        "state": str(getattr(state, "name", "Failed")),
        "message": message[:500],
    }


@plain_parameters
@flow(
    name="deliver-alerts",
    flow_run_name=run_name("deliver"),
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def deliver_alerts(limit: int | None = None) -> dict[str, int]:
    """Deliver the alerts that are due and publish what happened.

    Pipeline:
        deliver_due(sessions, now)     -- claim, route, send, record, emit events
        publish the summary artifact   -- counts and redacted failure reasons
    """
    from flows import context

    context.ensure_schema()
    settings = get_settings()
    rules = load_rules(settings.resolved_alert_rules_path)
    router = build_router(rules, settings)
    # In a worker thread: channels block on the network, and the flow's loop should not.
    report = await asyncio.to_thread(
        deliver_due, context.sessions(), settings=settings, rules=rules, router=router, limit=limit
    )
    _log_report(report, router.secrets)
    await _publish(report, router.secrets)
    counts = report.as_counts()
    found = [f"{counts['sent']} sent"]
    found += [
        f"{counts[k]} {w}" for k, w in (("retry", "retrying"), ("failed", "failed")) if counts[k]
    ]
    await rename_run(run_title("deliver", report.started_at, found))
    return counts


def _log_report(report: DeliveryReport, secrets: frozenset[str]) -> None:
    logger = get_run_logger()
    counts = report.as_counts()
    logger.info(
        "alerts: %d sent, %d retrying, %d failed, %d held, %d merged, %d skipped",
        counts["sent"],
        counts["retry"],
        counts["failed"],
        counts["held"],
        counts["merged"],
        counts["skipped"],
    )
    for outcome in report.outcomes:
        if outcome.result in ("failed", "retry"):
            detail = redact(outcome.detail, secrets)
            logger.warning("alert %d (%s): %s", outcome.alert_id, outcome.kind, detail)
