"""Figures tracked across articles: every statement kept with its source, the current value
derived from them, and an analyst's corrections.

A relevant article version that states a tracked target (``parsers.tracking``) records a
``FigureStatement``: the value as written, its sentence, its article and version. The tracked
figure holds the latest statement not marked wrong. When a later statement in another article
changes it, a ``figure_changed`` alert names the source of the old value and of the new one,
and quotes the sentence of the new one. Marking a statement wrong sets it aside (no alert) and
the figure goes back to the latest statement still standing; marking it right again restores
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.intents import ArticleIntent
from db.models import Article, FigureStatement, TrackedFigure

# `vigie figures` reads through db.queries, which imports no write path.
from db.queries import StatementRow as StatementRow
from db.queries import list_statements as list_statements
from db.story_queries import coverage
from db.upsert import add_alert, insert_ignore
from parsers.inert import clean
from parsers.tagging import Mention as FoundMention
from parsers.tracking import tracked_key


def stated_figures(intent: ArticleIntent) -> dict[str, FoundMention]:
    """The tracked figures (by key) a relevant article states, first statement of each."""
    if not intent.tags.relevant:
        return {}
    stated: dict[str, FoundMention] = {}
    for mention in intent.tags.figures:
        key = tracked_key(mention, intent.title)
        if key is not None and mention.value is not None:
            stated.setdefault(key, mention)
    return stated


def track_figures(
    session: Session, article: Article, version_id: int, intent: ArticleIntent, now: datetime
) -> int:
    """Record the tracked figures this version states; alert when another article moved one.

    A change within one article is its edit alert's business; here the news is that a
    different article states a new value (a new immigration target, say). Statements older
    than the tracked one never move it back, and a statement marked wrong never counts.
    """
    as_of = intent.published_at or now
    alerts = 0
    for key, mention in stated_figures(intent).items():
        statement = _record(session, article, version_id, key, mention, as_of)
        if statement is not None and statement.wrong_at is None:
            alerts += _track_one(session, article, statement)
    return alerts


def _record(
    session: Session,
    article: Article,
    version_id: int,
    key: str,
    mention: FoundMention,
    as_of: datetime,
) -> FigureStatement | None:
    assert mention.value is not None  # stated_figures keeps valued figures
    values = {
        "key": key,
        "value": mention.value,
        "matched": mention.text,
        "sentence": mention.sentence,
        "article_id": article.id,
        "version_id": version_id,
        "stated_at": as_of,
    }
    insert_ignore(session, FigureStatement, values, ["version_id", "key"])
    query = select(FigureStatement).where(
        FigureStatement.version_id == version_id, FigureStatement.key == key
    )
    return session.scalars(query).one_or_none()


def _track_one(session: Session, article: Article, statement: FigureStatement) -> int:
    tracked = _tracked(session, statement.key)
    if tracked is None:
        values = {"key": statement.key, **_current_values(statement)}
        insert_ignore(session, TrackedFigure, values, ["key"])
        return 0
    if statement.stated_at < tracked.updated_at or tracked.value == statement.value:
        return 0
    alerts = 0
    if tracked.article_id != article.id:
        alerts = _alert_changed(session, article, tracked, statement)
    _set_current(tracked, statement)
    return alerts


def _tracked(session: Session, key: str) -> TrackedFigure | None:
    return session.scalars(select(TrackedFigure).where(TrackedFigure.key == key)).one_or_none()


def _current_values(statement: FigureStatement) -> dict[str, Any]:
    return {
        "value": statement.value,
        "matched": statement.matched,
        "sentence": statement.sentence,
        "article_id": statement.article_id,
        "version_id": statement.version_id,
        "updated_at": statement.stated_at,
    }


def _set_current(tracked: TrackedFigure, statement: FigureStatement) -> None:
    for name, value in _current_values(statement).items():
        setattr(tracked, name, value)


def _alert_changed(
    session: Session, article: Article, tracked: TrackedFigure, statement: FigureStatement
) -> int:
    topic = tracked.key.split("|", 1)[0]
    old_article = session.get(Article, tracked.article_id) if tracked.article_id else None
    return add_alert(
        session,
        kind="figure_changed",
        dedup_key=f"figure_changed:{tracked.key}:{tracked.value:g}->{statement.value:g}",
        payload={
            "title": article.title,
            "url": article.canonical_url,
            "source": article.source,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "topic": topic,
            "old": tracked.matched,
            "old_source": source_label(old_article),
            "old_sentence": tracked.sentence,
            "new": statement.matched,
            "new_source": source_label(article),
            "sentence": statement.sentence,
            "tracked": tracked.key,
        }
        | coverage(session, article.id),
        now=statement.stated_at,
        severity="warning",
        article_id=article.id,
    )


def source_label(article: Article | None) -> str:
    """Where a value was stated: outlet, headline and publication date when known
    ("La Presse, “…”, 2024-11-01"). Never the time Vigie read it: an alert says the same
    whichever run wrote it."""
    if article is None:
        return "an article no longer stored"
    title = clean(article.title, None)
    label = f"{article.source}, “{title}”"
    return f"{label}, {article.published_at:%Y-%m-%d}" if article.published_at else label


# --- listing and correcting ------------------------------------------------------------------


def mark_wrong(session: Session, statement_id: int, now: datetime, wrong: bool = True) -> bool:
    """Mark a statement wrong (or right again) and re-derive its figure's current value.

    Returns False when there is no such statement. No alert is written: the analyst made
    the change.
    """
    statement = session.get(FigureStatement, statement_id)
    if statement is None:
        return False
    statement.wrong_at = now if wrong else None
    session.flush()
    _rederive(session, statement.key)
    return True


def _rederive(session: Session, key: str) -> None:
    standing = _standing(session, key)
    tracked = _tracked(session, key)
    if not standing:
        if tracked is not None:
            session.delete(tracked)
        return
    latest = standing[0]
    if tracked is None:
        insert_ignore(session, TrackedFigure, {"key": key, **_current_values(latest)}, ["key"])
    else:
        _set_current(tracked, latest)


def _standing(session: Session, key: str) -> Sequence[FigureStatement]:
    query = (
        select(FigureStatement)
        .where(FigureStatement.key == key, FigureStatement.wrong_at.is_(None))
        .order_by(FigureStatement.stated_at.desc(), FigureStatement.id.desc())
    )
    return session.scalars(query).all()
