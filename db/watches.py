"""Watch alerts: a new article or version that a watch's query matches is one outbox alert.

Matched through the search index (``db.search``), which the version's own transaction has
just written, so a watch finds exactly what ``vigie search`` with its query would find. The
alert's key names the watch, the article and the version, so a re-run never alerts twice;
a page's full text replacing the feed's summary keeps the first version's key, since the
publisher changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from db.search import matching_articles
from db.upsert import add_alert
from parsers.alert_rules import WATCH_KIND, Watch
from parsers.search_query import parse, positive_terms
from parsers.search_text import passage


@dataclass(frozen=True)
class NewText:
    """A version just stored, as a watch alert describes it."""

    article_id: int
    #: The version's number; an upgrade (page text for the feed's summary) is not an edit.
    n: int
    upgrade: bool
    title: str
    text: str
    url: str
    source: str
    published_at: datetime | None
    topics: tuple[str, ...]


@dataclass(frozen=True)
class WatchHit:
    """A watch alert written: which watch matched which article, for the run summary."""

    watch: str
    article_id: int
    title: str
    url: str


def alert_watches(
    session: Session, watches: Sequence[Watch], texts: Sequence[NewText], now: datetime
) -> list[WatchHit]:
    """One alert per (watch, new text) the watch's query matches; the alerts written."""
    if not watches or not texts:
        return []
    hits = []
    ids = [t.article_id for t in texts]
    for watch in watches:
        query = parse(watch.query)
        matched = matching_articles(session, query, ids)
        wanted = positive_terms(query)
        for new in texts:
            if new.article_id in matched and add_alert(
                session,
                kind=WATCH_KIND,
                dedup_key=_key(watch, new),
                payload=_payload(watch, new, wanted),
                now=now,
                article_id=new.article_id,
            ):
                hits.append(WatchHit(watch.name, new.article_id, new.title, new.url))
    return hits


def _key(watch: Watch, new: NewText) -> str:
    version = "" if new.n == 1 or new.upgrade else f":v{new.n}"
    return f"{WATCH_KIND}:{watch.name}:article:{new.article_id}{version}"


def _payload(watch: Watch, new: NewText, wanted: frozenset[str]) -> dict[str, object]:
    quoted = passage(new.text, wanted)
    if not quoted.highlights:  # the match is in the title
        quoted = passage(new.title, wanted)
    return {
        "watch": watch.name,
        "query": watch.query,
        "title": new.title,
        "url": new.url,
        "source": new.source,
        "published_at": new.published_at.isoformat() if new.published_at else None,
        "topics": list(new.topics),
        "version": new.n,
        "passage": quoted.text,
    }
