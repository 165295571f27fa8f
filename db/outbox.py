"""The alerts outbox, seen from the delivery side: claim, hold, merge, record the outcome.

Like ``repo``, every function takes a Session and never commits. Delivery runs one short
transaction per step, so that what reached a receiver is recorded before the next send.

Exactly once, and where it can fail:

- ``claim_due`` is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``.
  On PostgreSQL two runs lock disjoint rows; on SQLite the statement takes the write lock,
  so claims are serial. Either way an alert is claimed by one run, identified by its token.
- Every later write is conditional on that token: a run whose claim was taken over writes
  nothing.
- A run that dies between a send and its record leaves the alert ``sending``; once the
  claim is older than the claim timeout another run takes it over and sends again. That
  duplicate (at most one per timeout) is why webhooks carry an ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select, update

from db.schema import alerts, tags

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.schema import Reader

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
MERGED = "merged"
DIGEST = "digest"
STATUSES = (PENDING, SENDING, SENT, FAILED, SKIPPED, MERGED, DIGEST)
#: The note of an alert a person asked to retry: the next pass sends it without a debounce.
RETRY_NOTE = "retry requested"


@dataclass(frozen=True)
class AlertForDelivery:
    """An outbox row as read for delivery or listing."""

    id: int
    dedup_key: str
    kind: str
    severity: str
    article_id: int | None
    feed_id: int | None
    payload: dict[str, Any]
    status: str
    #: Delivery attempts so far (a claim that is merely held does not count).
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    #: Channels that already accepted it.
    delivered_channels: tuple[str, ...]
    note: str | None
    merged_into_id: int | None
    digest_id: int | None

    @property
    def subject(self) -> tuple[str, int] | None:
        """What a debounce window groups by: the article or the feed, when there is one."""
        if self.article_id is not None:
            return ("article", self.article_id)
        if self.feed_id is not None:
            return ("feed", self.feed_id)
        return None


_COLUMNS = (
    alerts.c.id,
    alerts.c.dedup_key,
    alerts.c.kind,
    alerts.c.severity,
    alerts.c.article_id,
    alerts.c.feed_id,
    alerts.c.payload,
    alerts.c.status,
    alerts.c.attempts,
    alerts.c.created_at,
    alerts.c.next_attempt_at,
    alerts.c.sent_at,
    alerts.c.last_error,
    alerts.c.delivered_channels,
    alerts.c.note,
    alerts.c.merged_into_id,
    alerts.c.digest_id,
)


def _from_row(row: Row[Any]) -> AlertForDelivery:
    values = row._asdict()
    values["delivered_channels"] = tuple(values["delivered_channels"] or ())
    values["payload"] = dict(values["payload"] or {})
    return AlertForDelivery(**values)


# --- claiming ------------------------------------------------------------------------------


def _claimable(now: datetime, claim_timeout: timedelta) -> ColumnElement[bool]:
    due = or_(alerts.c.next_attempt_at.is_(None), alerts.c.next_attempt_at <= now)
    abandoned = and_(alerts.c.status == SENDING, alerts.c.claimed_at < now - claim_timeout)
    return or_(and_(alerts.c.status == PENDING, due), abandoned)


def claim_due(
    session: Session,
    now: datetime,
    *,
    token: str,
    limit: int,
    claim_timeout: timedelta,
    ids: Sequence[int] | None = None,
) -> list[AlertForDelivery]:
    """Claim up to ``limit`` due alerts (oldest first) for the run holding ``token``."""
    condition = _claimable(now, claim_timeout)
    if ids is not None:
        condition = and_(condition, alerts.c.id.in_(list(ids)))
    # SKIP LOCKED: a concurrent run's candidates are passed over, not waited for. SQLite
    # ignores FOR UPDATE; there the UPDATE's write lock serialises claims instead.
    candidates = (
        select(alerts.c.id)
        .where(condition)
        .order_by(alerts.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(alerts)
        # The condition again: PostgreSQL re-checks it on rows changed since the subquery ran.
        .where(alerts.c.id.in_(candidates.scalar_subquery()), condition)
        .values(status=SENDING, claim_token=token, claimed_at=now)
        .returning(*_COLUMNS)
    )
    claimed = [_from_row(row) for row in session.execute(statement)]
    return sorted(claimed, key=lambda alert: alert.id)


def _owned(alert_id: int, token: str) -> ColumnElement[bool]:
    return and_(alerts.c.id == alert_id, alerts.c.status == SENDING, alerts.c.claim_token == token)


def _write_if_owned(session: Session, alert_id: int, token: str, **values: Any) -> bool:
    statement = update(alerts).where(_owned(alert_id, token)).values(**values)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


_UNCLAIMED = {"claim_token": None, "claimed_at": None}


# --- outcomes ------------------------------------------------------------------------------


def hold(session: Session, alert_id: int, token: str, until: datetime, note: str) -> bool:
    """Give a claimed alert back, due again at ``until`` (not an attempt: nothing was sent)."""
    return _write_if_owned(
        session, alert_id, token, status=PENDING, next_attempt_at=until, note=note, **_UNCLAIMED
    )


def settle(session: Session, alert_id: int, token: str, status: str, note: str) -> bool:
    """Close a claimed alert without sending it: ``skipped`` or ``digest``."""
    if status not in (SKIPPED, DIGEST):
        raise ValueError(f"cannot settle an alert as {status!r}")
    return _write_if_owned(
        session, alert_id, token, status=status, next_attempt_at=None, note=note, **_UNCLAIMED
    )


def begin_attempt(session: Session, alert_id: int, token: str) -> int | None:
    """Count one more attempt before sending (a run that dies mid-send still used it up)."""
    statement = (
        update(alerts)
        .where(_owned(alert_id, token))
        .values(attempts=alerts.c.attempts + 1)
        .returning(alerts.c.attempts)
    )
    return session.execute(statement).scalar_one_or_none()


def record_channels(session: Session, alert_id: int, token: str, channels: Sequence[str]) -> bool:
    """Remember which channels accepted the alert so far."""
    return _write_if_owned(session, alert_id, token, delivered_channels=list(channels))


def mark_sent(
    session: Session, alert_id: int, token: str, now: datetime, channels: Sequence[str]
) -> bool:
    """Every channel accepted it. Its last error, if any, stays visible."""
    return _write_if_owned(
        session,
        alert_id,
        token,
        status=SENT,
        sent_at=now,
        next_attempt_at=None,
        delivered_channels=list(channels),
        note=None,
        **_UNCLAIMED,
    )


def mark_failed_attempt(
    session: Session,
    alert_id: int,
    token: str,
    *,
    error: str,
    retry_at: datetime | None,
    channels: Sequence[str],
) -> bool:
    """An attempt failed: due again at ``retry_at``, or ``failed`` for good when it is None."""
    return _write_if_owned(
        session,
        alert_id,
        token,
        status=PENDING if retry_at is not None else FAILED,
        next_attempt_at=retry_at,
        last_error=error,
        delivered_channels=list(channels),
        **_UNCLAIMED,
    )


# --- debounce ------------------------------------------------------------------------------


def _same_subject(alert: AlertForDelivery) -> ColumnElement[bool]:
    return and_(
        alerts.c.kind == alert.kind,
        alerts.c.article_id.is_not_distinct_from(alert.article_id),
        alerts.c.feed_id.is_not_distinct_from(alert.feed_id),
        alerts.c.id != alert.id,
    )


def open_leader(
    session: Session, alert: AlertForDelivery, window: timedelta
) -> AlertForDelivery | None:
    """The earliest undelivered alert on the same subject that ``alert`` falls in the window of."""
    earlier = or_(
        alerts.c.created_at < alert.created_at,
        and_(alerts.c.created_at == alert.created_at, alerts.c.id < alert.id),
    )
    query = (
        select(*_COLUMNS)
        .where(
            _same_subject(alert),
            earlier,
            alerts.c.created_at >= alert.created_at - window,
            alerts.c.status.in_((PENDING, SENDING)),
        )
        .order_by(alerts.c.created_at, alerts.c.id)
        .limit(1)
    )
    row = session.execute(query).first()
    return _from_row(row) if row is not None else None


def sent_within(session: Session, alert: AlertForDelivery, window: timedelta) -> bool:
    """True when a message on the same subject went out for an alert written in the window
    before ``alert``: ``alert`` is then the second of a burst, and waits to merge the rest."""
    query = select(alerts.c.id).where(
        _same_subject(alert),
        alerts.c.created_at <= alert.created_at,
        alerts.c.created_at >= alert.created_at - window,
        alerts.c.status.in_((SENT, MERGED)),
    )
    return session.execute(query.limit(1)).first() is not None


def merge_followers(
    session: Session, leader: AlertForDelivery, window: timedelta, token: str
) -> list[AlertForDelivery]:
    """Fold the alerts on the leader's subject within its window into it; oldest first.

    Only unclaimed alerts (or ones this run holds) are taken, atomically: an alert another run
    claimed at this moment stays with that run, which sends it on its own.
    """
    statement = (
        update(alerts)
        .where(
            _same_subject(leader),
            alerts.c.created_at >= leader.created_at,
            alerts.c.created_at <= leader.created_at + window,
            or_(
                alerts.c.status == PENDING,
                and_(alerts.c.status == SENDING, alerts.c.claim_token == token),
            ),
        )
        .values(
            status=MERGED,
            merged_into_id=leader.id,
            next_attempt_at=None,
            note=f"merged into alert {leader.id}",
            **_UNCLAIMED,
        )
        .returning(*_COLUMNS)
    )
    merged = [_from_row(row) for row in session.execute(statement)]
    return sorted(merged, key=lambda alert: (alert.created_at, alert.id))


def merged_into(session: Session, leader_id: int) -> list[AlertForDelivery]:
    """The alerts merged into ``leader_id``, oldest first."""
    query = (
        select(*_COLUMNS)
        .where(alerts.c.merged_into_id == leader_id)
        .order_by(alerts.c.created_at, alerts.c.id)
    )
    return [_from_row(row) for row in session.execute(query)]


# --- reading and operator actions ----------------------------------------------------------


def list_alerts(
    session: Reader, *, status: str | None = None, limit: int = 50
) -> list[AlertForDelivery]:
    """Alerts, newest first, optionally of one status."""
    query = select(*_COLUMNS).order_by(alerts.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(alerts.c.status == status)
    return [_from_row(row) for row in session.execute(query)]


def get_alert(session: Session, alert_id: int) -> AlertForDelivery | None:
    """One alert by id."""
    row = session.execute(select(*_COLUMNS).where(alerts.c.id == alert_id)).first()
    return _from_row(row) if row is not None else None


def status_counts(session: Session) -> dict[str, int]:
    """How many alerts are in each status (every status listed, zeros included)."""
    query = select(alerts.c.status, func.count()).group_by(alerts.c.status)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in session.execute(query).tuples()})
    return counts


def retry(session: Session, alert_id: int, now: datetime) -> bool:
    """Make a failed (or waiting) alert due now with a fresh set of attempts.

    Channels that already accepted it are not sent to again. Sent, merged and claimed alerts
    are left alone; the return value says whether anything changed.
    """
    statement = (
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.status.in_((FAILED, PENDING)))
        .values(status=PENDING, next_attempt_at=now, attempts=0, note=RETRY_NOTE)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def topic_labels(session: Session, language: str = "en") -> dict[str, str]:
    """Topic key -> label in ``language`` ("en" or "fr"), from the taxonomy in ``tags``."""
    label = tags.c.label_fr if language == "fr" else tags.c.label_en
    query = select(tags.c.key, label).where(tags.c.kind == "topic")
    return dict(session.execute(query).tuples().all())


# --- digest --------------------------------------------------------------------------------


def created_between(
    session: Session, since: datetime, until: datetime, kinds: Iterable[str] | None = None
) -> list[AlertForDelivery]:
    """Alerts written in ``[since, until)``, oldest first (merged ones included)."""
    query = select(*_COLUMNS).where(alerts.c.created_at >= since, alerts.c.created_at < until)
    if kinds is not None:
        query = query.where(alerts.c.kind.in_(list(kinds)))
    return [_from_row(row) for row in session.execute(query.order_by(alerts.c.id))]


def awaiting_digest(session: Session, until: datetime) -> list[AlertForDelivery]:
    """Alerts kept for the digest and not listed in one yet, however old."""
    query = (
        select(*_COLUMNS)
        .where(alerts.c.status == DIGEST, alerts.c.digest_id.is_(None), alerts.c.created_at < until)
        .order_by(alerts.c.id)
    )
    return [_from_row(row) for row in session.execute(query)]


def attach_to_digest(session: Session, alert_ids: Sequence[int], digest_id: int) -> int:
    """Record that the digest ``digest_id`` lists these alerts; how many were attached."""
    if not alert_ids:
        return 0
    statement = (
        update(alerts)
        .where(alerts.c.id.in_(list(alert_ids)), alerts.c.digest_id.is_(None))
        .values(digest_id=digest_id)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def id_for_key(session: Session, dedup_key: str) -> int | None:
    """The id of the alert with this dedup key."""
    return session.scalars(select(alerts.c.id).where(alerts.c.dedup_key == dedup_key)).one_or_none()
