"""A feed's items stored in few statements, whatever their number, on both databases: its new
stories' clusters in one INSERT, and its stored items read together before each is compared
with its current version."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from bench.corpus import CorpusSpec, build, render_feed
from db import repo
from db.cluster_models import Cluster, ClusterMember
from db.engine import make_sessions
from db.intents import ArticleIntent, StoreCounts
from db.models import Article
from flows.cpu import parse_feed_document
from flows.pipeline import tag_specs
from parsers.tagging import Tagger

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


def _generated_feed(sessions: sessionmaker[Session], tagger: Tagger) -> list[ArticleIntent]:
    """A generated feed's 25 items, parsed and tagged as a worker does; its feed added."""
    corpus = build(CorpusSpec(feeds=1, items=25))
    plan = corpus.feeds[0]
    with sessions.begin() as session:
        repo.add_feeds(session, [repo.FeedSpec(plan.url, plan.name, plan.language)], NOW)
        (feed,) = repo.feeds_to_poll(session, NOW, due_only=False)
    body = render_feed(plan, corpus.items[0])
    headers = {"content-type": "application/xml"}
    return parse_feed_document(feed, plan.url, body, headers, tagger).intents


def _statements(engine: Engine) -> Iterator[Counter[str]]:
    """Statements run on ``engine`` while the generator is suspended, by their first words
    (an executemany counts once)."""
    seen: Counter[str] = Counter()

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen[" ".join(sql.split()[:3]).replace('"', "")] += 1

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def _store(
    sessions: sessionmaker[Session], tagger: Tagger, intents: list[ArticleIntent], now: datetime
) -> StoreCounts:
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        return repo.store_articles(session, intents, tag_ids, now)


def test_a_feeds_new_stories_get_their_clusters_in_one_insert(
    engine: Engine, sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    intents = _generated_feed(sessions, tagger)
    counting = _statements(engine)
    statements = next(counting)
    counts = _store(sessions, tagger, intents, NOW)
    next(counting, None)

    created = [a for a in counts.clustered if a.outcome == "created"]
    assert len(created) >= 5  # enough new stories for one statement a story to show
    # One for the stories that match nothing in the batch or stored; one each for the few
    # filed one by one (sharing a key with another item) that found no story to join.
    assert statements["INSERT INTO clusters"] < len(created) // 2, statements
    with sessions.begin() as session:
        for assignment in created:
            article = session.get_one(Article, assignment.article_id)
            cluster = session.get_one(Cluster, assignment.cluster_id)
            members = session.scalars(
                select(ClusterMember.article_id).where(ClusterMember.cluster_id == cluster.id)
            ).all()
            # Each cluster id went to its own article, whatever order the ids came back in.
            assert article.cluster_id == cluster.id
            assert cluster.representative_article_id == article.id
            assert cluster.title == article.title
            assert list(members) == [article.id]
        assert len({a.cluster_id for a in created}) == len(created)


def test_a_feeds_stored_items_are_read_together_and_each_marked_checked(
    engine: Engine, sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    intents = _generated_feed(sessions, tagger)
    first = _store(sessions, tagger, intents, NOW)
    later = NOW + timedelta(hours=1)
    counting = _statements(engine)
    statements = next(counting)
    again = _store(sessions, tagger, intents, later)
    next(counting, None)

    assert again.new_articles == 0 and again.new_versions == 0
    assert again.unchanged == len(intents) - first.duplicates > 20
    reads = sum(n for words, n in statements.items() if words.startswith("SELECT"))
    # The tags, three lookups of what the items are, the first entries, then the articles
    # with their current versions: no read an item (there were three).
    assert reads <= 8, statements
    with sessions.begin() as session:
        checked = session.scalars(select(Article.last_checked_at)).all()
    assert len(checked) == first.new_articles
    assert all(at is not None and at.replace(tzinfo=UTC) == later for at in checked)


def test_a_stored_feeds_articles_are_written_before_its_poll_is_recorded(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    # ``record_poll`` updates the feed's row by a statement that does not flush the session:
    # articles left to the commit would be locked after the feed's row, in the opposite order
    # of another pass storing the same feed, and the two could deadlock (PostgreSQL).
    intents = _generated_feed(sessions, tagger)
    _store(sessions, tagger, intents, NOW)
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        repo.store_articles(session, intents, tag_ids, NOW + timedelta(hours=1))
        assert not session.dirty and not session.new
