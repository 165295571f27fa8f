"""Article versions: decide whether a fresh text is a new version, store it with its evidence,
archive the raw bytes, and write the edit alert in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.base import core_table
from db.figures import source_label, track_figures
from db.intents import ArticleIntent
from db.models import Article, ArticleVersion, Mention, RawDocument, Tag
from db.search import IndexedText, index_articles
from db.story_queries import coverage
from db.upsert import add_alert, insert_ignore, insert_many
from db.watches import NewText, WatchHit, alert_watches
from parsers.alert_rules import Watch
from parsers.diffs import (
    MATERIAL_KINDS,
    Candidate,
    ChurnGuard,
    Decision,
    Outcome,
    RecheckSchedule,
    StoredVersion,
    decide,
    is_material,
    recheck_due_after,
)
from parsers.evidence import sentence_span
from parsers.tagging import FigureChange, TagResult, figure_changes
from parsers.tagging import Mention as FoundMention


@dataclass(frozen=True)
class VersionPolicy:
    """What counts as a version, what is worth an alert, and when to look again."""

    #: Change kinds that make an "edited" alert.
    material: frozenset[str] = MATERIAL_KINDS
    #: Caps versions of pages whose text churns (clocks, counters).
    churn: ChurnGuard = field(default_factory=ChurnGuard)
    #: When article pages are fetched again to catch edits.
    recheck: RecheckSchedule = field(default_factory=RecheckSchedule)
    #: Saved searches that new articles and versions are matched against.
    watches: tuple[Watch, ...] = ()


@dataclass(frozen=True)
class VersionResult:
    """What ``apply_candidate`` did."""

    #: See ``parsers.diffs.decide``.
    outcome: Outcome
    #: The stored version, for new and changed.
    version_id: int | None
    #: Alerts written.
    alerts: int
    #: The watch alerts among them.
    watched: tuple[WatchHit, ...] = ()


def apply_candidate(
    session: Session,
    article_id: int,
    intent: ArticleIntent,
    tag_ids: Mapping[str, int],
    now: datetime,
    policy: VersionPolicy,
) -> VersionResult:
    """Compare ``intent`` with the article's current version and store what it warrants."""
    article = session.get_one(Article, article_id)
    current = article.current_version
    decision = decide(_candidate(intent), _stored(current))
    if decision.outcome == "changed" and _page_as_last_read(article, intent):
        # The text differs from the current version, which the feed gave, but not from what
        # the page said last time: feed and page disagree, the publisher changed nothing.
        decision = Decision("unchanged", decision.content_hash)
    if decision.outcome == "changed":
        decision = policy.churn.apply(decision, _versions_since(session, article_id, now, policy))
    article.last_checked_at = now
    if decision.outcome == "unchanged":
        article.suspect_reason = None
        article.page_hash = intent.page_hash or article.page_hash
        return VersionResult("unchanged", None, 0)
    if decision.outcome == "suspect":
        article.suspect_reason = decision.reason
        return VersionResult("suspect", None, 0)
    version_id = _insert_version(session, article, current, intent, decision, tag_ids, now)
    if version_id is None:  # a concurrent run stored its successor first
        return VersionResult("unchanged", None, 0)
    article.page_hash = intent.page_hash or article.page_hash
    alerts = track_figures(session, article, version_id, intent, now)
    upgrade = current is not None and _is_upgrade(current, intent)
    new = new_text(article, intent, current.n + 1 if current else 1, upgrade=upgrade)
    watched = tuple(alert_watches(session, policy.watches, [new], now))
    alerts += len(watched)
    if current is not None and not upgrade:
        alerts += _alert_edit(session, article, current, version_id, intent, decision, policy, now)
    return VersionResult("new" if current is None else "changed", version_id, alerts, watched)


def new_text(article: Article, intent: ArticleIntent, n: int, *, upgrade: bool) -> NewText:
    """A version just stored, for the watches."""
    return NewText(
        article_id=article.id,
        n=n,
        upgrade=upgrade,
        title=intent.title,
        text=intent.text,
        url=article.canonical_url,
        source=article.source,
        published_at=article.published_at,
        topics=intent.tags.topics,
    )


def _page_as_last_read(article: Article, intent: ArticleIntent) -> bool:
    """True when ``intent``'s text is the page's, and the page reads as it did last time.

    A feed text that stands in for its page carries the page's hash too, but its own text
    is the feed's: an edit there is an edit, whatever the page says.
    """
    return (
        intent.origin == "page"
        and intent.page_hash is not None
        and intent.page_hash == article.page_hash
    )


def _candidate(intent: ArticleIntent) -> Candidate:
    return Candidate(intent.title, intent.text, intent.tags.topics, intent.suspect_reason)


def _stored(version: ArticleVersion | None) -> StoredVersion | None:
    if version is None:
        return None
    return StoredVersion(version.title, version.text, version.content_hash, version.topic_keys)


def version_row(
    article_id: int,
    n: int,
    intent: ArticleIntent,
    content_hash: str,
    change_kinds: str,
    now: datetime,
) -> dict[str, Any]:
    """The row of an article's version ``n``, read from ``intent`` (without a diff)."""
    return {
        "article_id": article_id,
        "n": n,
        "content_hash": content_hash,
        "title": intent.title,
        "text": intent.text,
        "origin": intent.origin,
        "fallback_reason": intent.fallback_reason,
        "fetched_at": now,
        "change_kinds": change_kinds,
        **tag_values(intent.tags),
    }


def tag_values(tags: TagResult) -> dict[str, Any]:
    """The columns of a version that its tagging decides."""
    return {
        "relevance": tags.score,
        "relevant": tags.relevant,
        "topics": " ".join(tags.topics),
        "tag_note": tags.cut,
        "taxonomy_version": tags.taxonomy_version,
    }


def _versions_since(session: Session, article_id: int, now: datetime, policy: VersionPolicy) -> int:
    start = now - policy.churn.window
    query = select(func.count(ArticleVersion.id)).where(
        ArticleVersion.article_id == article_id, ArticleVersion.fetched_at > start
    )
    return session.scalar(query) or 0


def _is_upgrade(current: ArticleVersion, intent: ArticleIntent) -> bool:
    # A page's full text replacing a feed summary is not an edit by the publisher.
    return current.origin != "page" and intent.origin == "page"


def _insert_version(
    session: Session,
    article: Article,
    current: ArticleVersion | None,
    intent: ArticleIntent,
    decision: Decision,
    tag_ids: Mapping[str, int],
    now: datetime,
) -> int | None:
    # The successor of the version this decision was made against: two runs that read the
    # same current version collide on (article_id, n), however their texts compare.
    n = 1 if current is None else current.n + 1
    kinds = " ".join(decision.change_kinds) or ("new" if n == 1 else "changed")
    values = version_row(article.id, n, intent, decision.content_hash, kinds, now)
    values["diff"] = _diff_json(decision)
    version_id = insert_ignore(session, ArticleVersion, values, None)
    if version_id is None:
        return None
    add_evidence(session, [(intent, version_id)], tag_ids, now)
    article.current_version_id = version_id
    article.title = intent.title or article.title
    article.byline = intent.byline or article.byline
    replacing = None if current is None else (current.title, current.text)
    index_articles(session, [IndexedText(article.id, intent.title, intent.text, replacing)])
    article.suspect_reason = None
    return version_id


def _diff_json(decision: Decision) -> dict[str, Any] | None:
    if decision.diff is None:
        return None
    return {
        **asdict(decision.diff),
        "figures": [str(change) for change in decision.figure_changes],
    }


def add_evidence(
    session: Session,
    versions: Sequence[tuple[ArticleIntent, int]],
    tag_ids: Mapping[str, int],
    now: datetime,
) -> None:
    """Store new versions' evidence: their mentions and the raw page each came from."""
    mentions = [
        row
        for intent, version_id in versions
        for row in _mention_rows(
            version_id, intent.tags.mentions, (intent.title, intent.text), tag_ids
        )
    ]
    insert_many(session, Mention, mentions)
    raws = [
        {
            "version_id": version_id,
            "url": intent.url,
            "content_type": intent.raw_content_type,
            "compressed": intent.raw_compressed,
            "fetched_at": now,
        }
        for intent, version_id in versions
        if intent.raw_compressed is not None
    ]
    if raws:
        session.execute(insert(core_table(RawDocument)), raws)


def add_mentions(
    session: Session,
    version: ArticleVersion,
    mentions: tuple[FoundMention, ...],
    tag_ids: Mapping[str, int],
) -> None:
    """Store a version's evidence (reprocessing replaces a version's mentions)."""
    insert_many(
        session,
        Mention,
        _mention_rows(version.id, mentions, (version.title, version.text), tag_ids),
    )


def _mention_rows(
    version_id: int,
    mentions: Sequence[FoundMention],
    texts: tuple[str, str],
    tag_ids: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Rows for ``mentions`` of the version whose (title, text) are ``texts``: offsets into
    them, and the matched words and sentence as text only where offsets cannot say them."""
    rows = []
    # Mentions of one sentence share its span: found once (sentence_span was a tenth of the
    # store's time, for 11 mentions an article on the benchmark's corpus).
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for mention in mentions:
        source = texts[0] if mention.field == "title" else texts[1]
        known = spans.get((mention.field, mention.sentence))
        if known is not None and known[0] <= mention.start and mention.end <= known[1]:
            span: tuple[int, int] | None = known
        else:
            span = sentence_span(source, mention.start, mention.end, mention.sentence)
            if span is not None:
                spans[(mention.field, mention.sentence)] = span
        matched = source[mention.start : mention.end]
        rows.append(
            {
                "version_id": version_id,
                "tag_id": tag_ids[mention.concept],
                "field": mention.field,
                "start": mention.start,
                "end": mention.end,
                "sentence_start": span[0] if span else None,
                "sentence_end": span[1] if span else None,
                "matched": None if matched == mention.text else mention.text,
                "sentence": None if span else mention.sentence,
                "value": mention.value,
                "unit": mention.unit,
                "topic": mention.topic,
                "scope": mention.scope,
            }
        )
    return rows


def next_check_after(article: Article, now: datetime, policy: VersionPolicy) -> datetime | None:
    """When to fetch the article's page again (None: no longer watched)."""
    return recheck_due_after(article.first_seen_at, now, policy.recheck)


# --- edit alerts ------------------------------------------------------------------------------


def stored_figures(session: Session, version_id: int) -> list[FoundMention]:
    """A stored version's figure mentions, as the tagger's ``Mention``s."""
    rows = session.scalars(
        select(Mention)
        .join(Tag, Tag.id == Mention.tag_id)
        .where(Mention.version_id == version_id, Tag.kind == "figure")
    )
    return [
        FoundMention(
            concept="figure",
            kind="figure",
            field=row.field,
            start=row.start,
            end=row.end,
            text=row.matched,
            sentence=row.sentence,
            value=row.value,
            unit=row.unit,
            topic=row.topic,
            scope=row.scope,
        )
        for row in rows
    ]


def _alert_edit(
    session: Session,
    article: Article,
    previous: ArticleVersion,
    version_id: int,
    intent: ArticleIntent,
    decision: Decision,
    policy: VersionPolicy,
    now: datetime,
) -> int:
    """One alert per material edit: ``figure_changed`` when a tracked figure moved, else
    ``article_edited``. Its key names the version, so a re-run never alerts twice."""
    tracked = figure_changes(stored_figures(session, previous.id), intent.tags.figures)
    if not tracked and not is_material(decision.change_kinds, policy.material):
        return 0
    kind = "figure_changed" if tracked else "article_edited"
    n = previous.n + 1
    return add_alert(
        session,
        kind=kind,
        dedup_key=f"{kind}:article:{article.id}:v{n}",
        payload=_edit_payload(article, intent, decision, tracked, n)
        | _sources(article, previous, tracked)
        | coverage(session, article.id),
        now=now,
        severity="warning" if tracked else "info",
        article_id=article.id,
    )


def _sources(
    article: Article, previous: ArticleVersion, tracked: list[FigureChange]
) -> dict[str, Any]:
    """Where the old and new values of a moved figure were stated: two versions of one
    article."""
    if not tracked:
        return {}
    return {
        "old_source": f"{source_label(article)}, version {previous.n}",
        "old_sentence": tracked[0].old_sentence,
        "new_source": f"{source_label(article)}, version {previous.n + 1}",
    }


def _edit_payload(
    article: Article,
    intent: ArticleIntent,
    decision: Decision,
    tracked: list[FigureChange],
    n: int,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": intent.title or article.title,
        "url": article.canonical_url,
        "source": article.source,
        "version": n,
        "change_kinds": list(decision.change_kinds),
        "diff_excerpt": decision.diff.excerpt if decision.diff else "",
        "figures": [str(change) for change in decision.figure_changes],
        "topics": list(intent.tags.topics),
    }
    if tracked:
        first = tracked[0]
        payload |= {
            "topic": first.topic,
            "old": first.old_text,
            "new": first.new_text,
            "sentence": first.sentence,
        }
    return payload


# --- what a re-check changed ------------------------------------------------------------------


@dataclass(frozen=True)
class EditView:
    """An article's latest edit as a run summary lists it."""

    article_id: int
    title: str
    url: str
    source: str
    #: The number of the version the edit made.
    version: int
    change_kinds: tuple[str, ...]
    #: ``…context [-removed-]{+added+} context…`` (empty when no diff was kept).
    excerpt: str


def latest_edits(session: Session, article_ids: Sequence[int]) -> list[EditView]:
    """Each article's current version as an edit, in the order of ``article_ids``."""
    if not article_ids:
        return []
    query = (
        select(Article, ArticleVersion)
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .where(Article.id.in_(list(article_ids)))
    )
    found = {article.id: (article, version) for article, version in session.execute(query).tuples()}
    edits = []
    for article_id in article_ids:
        if article_id not in found:
            continue
        article, version = found[article_id]
        diff = version.diff or {}
        edits.append(
            EditView(
                article_id=article.id,
                title=version.title or article.title,
                url=article.canonical_url,
                source=article.source,
                version=version.n,
                change_kinds=tuple(version.change_kinds.split()),
                excerpt=str(diff.get("excerpt") or ""),
            )
        )
    return edits
