"""Race-safe writes: insert a row unless a unique constraint says it exists already.

Two runs over the same feed converge on one row instead of failing or duplicating; the
outbox relies on it so that a re-run never alerts twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.base import Base, core_table
from db.base import dialect_name as dialect_name  # here for the write path; in base for reads
from db.models import Alert


def dialect_insert(dialect: str, model: type[Base]) -> Any:
    """An INSERT on ``model``'s Core table that can say ON CONFLICT in ``dialect``.

    The one place the dialect is chosen: PostgreSQL's insert, else SQLite's (the two
    databases Vigie runs on). The Core table, not the ORM class: the ORM's bulk-insert
    bookkeeping cost more than running the statement (measured on the cluster path).
    """
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(core_table(model))


def insert_ignore(
    session: Session,
    model: type[Base],
    values: Mapping[str, Any],
    conflict: Sequence[str] | None,
) -> int | None:
    """Insert a row unless it collides; the new id, or None when it existed.

    ``conflict`` names the unique columns that decide; None means any unique constraint.
    """
    statement = _insert_ignore_statement(
        dialect_name(session), model, tuple(conflict) if conflict else None
    )
    return session.execute(statement, dict(values)).scalar_one_or_none()


@cache
def _insert_ignore_statement(
    dialect: str, model: type[Base], conflict: tuple[str, ...] | None
) -> Any:
    # Built once, values bound per call: building the statement cost more than running it.
    statement = dialect_insert(dialect, model).on_conflict_do_nothing(
        index_elements=list(conflict) if conflict else None
    )
    return statement.returning(core_table(model).c.id)


def add_alert(
    session: Session,
    *,
    kind: str,
    dedup_key: str,
    payload: Mapping[str, Any],
    now: datetime,
    severity: str = "info",
    article_id: int | None = None,
    feed_id: int | None = None,
) -> int:
    """Write an alert to the outbox unless its key exists; 1 if written, else 0."""
    values = alert_row(
        kind=kind,
        dedup_key=dedup_key,
        payload=payload,
        now=now,
        severity=severity,
        article_id=article_id,
        feed_id=feed_id,
    )
    return int(insert_ignore(session, Alert, values, ["dedup_key"]) is not None)


def alert_row(
    *,
    kind: str,
    dedup_key: str,
    payload: Mapping[str, Any],
    now: datetime,
    severity: str = "info",
    article_id: int | None = None,
    feed_id: int | None = None,
) -> dict[str, Any]:
    """An outbox row, pending and due now."""
    return {
        "dedup_key": dedup_key,
        "kind": kind,
        "severity": severity,
        "article_id": article_id,
        "feed_id": feed_id,
        "payload": dict(payload),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
