"""Storage on a real SQLite file and a real PostgreSQL: migrations, upserts, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from db import repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent
from db.migrate import upgrade
from db.models import Alert, Article, ArticleVersion, Entry, Mention
from db.versions import VersionPolicy
from parsers.exceptions import ConfigError, StorageError
from parsers.tagging import Mention as FoundMention
from parsers.tagging import TagResult
from parsers.text import content_hash

NOW = datetime(2026, 11, 21, 14, 15, tzinfo=UTC)
TABLES = {
    "feeds", "fetches", "articles", "entries", "article_versions", "raw_documents",
    "tags", "mentions", "alerts", "runs", "alembic_version",
}  # fmt: skip


def _tags(relevant: bool, text: str) -> TagResult:
    start = text.find("asylum")
    mention = FoundMention(
        concept="asylum_refugees",
        kind="topic",
        field="text",
        start=start,
        end=start + len("asylum"),
        text="asylum",
        sentence=text,
        topic="asylum_refugees",
    )
    return TagResult(
        topics=("asylum_refugees",) if relevant else (),
        actors=(),
        organisations=(),
        places=(),
        programmes=(),
        figures=(),
        mentions=(mention,) if relevant else (),
        score=2.0 if relevant else 0.0,
        relevant=relevant,
        taxonomy_version="test-1",
    )


def _intent(
    url: str, text: str, *, guid: str | None = None, feed_id: int | None = None
) -> ArticleIntent:
    return ArticleIntent(
        canonical_url=url,
        url=url,
        title="Asylum claims rise",
        text=text,
        content_hash=content_hash("Asylum claims rise", text),
        language="en",
        published_at=NOW - timedelta(hours=1),
        source="test",
        site="news.example",
        origin="feed",
        tags=_tags("asylum" in text, text),
        feed_id=feed_id,
        guid=guid,
    )


@pytest.fixture
def session(database_url: str) -> Session:
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        yield session
    engine.dispose()


def _tag_ids(session: Session) -> dict[str, int]:
    return repo.sync_tags(session, [repo.TagSpec("asylum_refugees", "topic", "Asylum", "Asile")])


def test_migrations_create_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_store_is_idempotent_and_versions_only_real_changes(session: Session) -> None:
    tag_ids = _tag_ids(session)
    text = "More asylum seekers arrived in Quebec this month, officials said on Monday."
    first = repo.store_articles(session, [_intent("https://n.example/a", text)], tag_ids, NOW)
    again = repo.store_articles(session, [_intent("https://n.example/a", text)], tag_ids, NOW)
    spaced = repo.store_articles(
        session, [_intent("https://n.example/a", text.replace(" ", "  ") + " ")], tag_ids, NOW
    )
    edited = repo.store_articles(
        session, [_intent("https://n.example/a", text + " Ottawa responded.")], tag_ids, NOW
    )

    assert (first.new_articles, first.alerts) == (1, 1)
    assert (again.new_articles, again.unchanged, again.alerts) == (0, 1, 0)
    assert spaced.unchanged == 1  # whitespace is not content
    assert (edited.new_versions, edited.alerts) == (1, 0)
    assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 2
    article = session.scalars(select(Article)).one()
    assert article.current_version is not None and article.current_version.n == 2
    assert session.scalar(select(func.count()).select_from(Alert)) == 1
    mention = session.scalars(select(Mention)).first()
    assert mention is not None
    assert article.versions[0].text[mention.start : mention.end] == "asylum"


def test_same_long_text_under_another_url_is_a_duplicate(session: Session) -> None:
    tag_ids = _tag_ids(session)
    now = NOW
    repo.add_feeds(session, [repo.FeedSpec("https://f.example/rss", "f")], now)
    feed_id = repo.feeds_to_poll(session, now)[0].id
    text = " ".join(["Quebec wants fewer asylum seekers and more powers over immigration."] * 4)
    counts = repo.store_articles(
        session,
        [
            _intent("https://a.example/story", text, guid="a", feed_id=feed_id),
            _intent("https://b.example/copy", text, guid="b", feed_id=feed_id),
        ],
        tag_ids,
        now,
    )
    assert (counts.new_articles, counts.duplicates) == (1, 1)
    entries = session.scalars(select(Entry)).all()
    assert len({e.article_id for e in entries}) == 1 and len(entries) == 2


def test_short_identical_summaries_are_not_merged(session: Session) -> None:
    tag_ids = _tag_ids(session)
    counts = repo.store_articles(
        session,
        [
            _intent("https://a.example/1", "Read more."),
            _intent("https://a.example/2", "Read more."),
        ],
        tag_ids,
        NOW,
    )
    assert counts.new_articles == 2


def test_alert_outbox_key_is_unique(session: Session) -> None:
    args = {"kind": "x", "dedup_key": "x:1", "payload": {}, "now": NOW}
    assert repo.add_alert(session, **args) == 1
    assert repo.add_alert(session, **args) == 0


def test_bad_database_urls_say_what_to_fix() -> None:
    with pytest.raises(ConfigError, match="not a usable database URL"):
        make_engine("nosuchdriver://x")
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StorageError, match="cannot migrate the database"):
        upgrade(engine)


@pytest.mark.parametrize(("material", "alerts"), [(None, 1), (frozenset({"headline_changed"}), 0)])
def test_which_edits_alert_is_configurable(
    session: Session, material: frozenset[str] | None, alerts: int
) -> None:
    tag_ids = _tag_ids(session)
    policy = VersionPolicy(material=material) if material else VersionPolicy()
    text = "More asylum seekers arrived in Quebec this month, officials said on Monday."
    corrected = text + "\n\nCorrection: an earlier version misstated the month."
    repo.store_articles(session, [_intent("urn:x:1", text)], tag_ids, NOW, policy)
    edit = repo.store_articles(session, [_intent("urn:x:1", corrected)], tag_ids, NOW, policy)

    assert edit.new_versions == 1
    assert edit.alerts == alerts
    version = session.scalars(select(ArticleVersion).where(ArticleVersion.n == 2)).one()
    assert "correction_notice" in version.change_kinds.split()


def test_reverted_edit_becomes_the_current_version_again(session: Session) -> None:
    tag_ids = _tag_ids(session)
    texts = [f"Quebec will admit {n} asylum seekers next year, officials said." for n in (1, 2, 1)]
    results = [
        repo.store_articles(session, [_intent("urn:x:1", text)], tag_ids, NOW) for text in texts
    ]

    assert [r.new_versions for r in results] == [0, 1, 1]
    article = session.scalars(select(Article)).one()
    assert [v.n for v in article.versions] == [1, 2, 3]
    assert article.current_version is not None
    assert (article.current_version.n, article.current_version.text) == (3, texts[0])


def test_upgrading_an_older_schema_keeps_every_row(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0004")  # before versions could repeat an older text
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        tag_ids = _tag_ids(session)
        for text in ("First asylum text about Quebec.", "Edited asylum text about Quebec."):
            repo.store_articles(session, [_intent("urn:x:1", text)], tag_ids, NOW)
    upgrade(engine)

    with sessions.begin() as session:
        article = session.scalars(select(Article)).one()
        assert article.current_version is not None and article.current_version.n == 2
        assert session.scalar(select(func.count()).select_from(Mention)) == 2
        revert = repo.store_articles(
            session, [_intent("urn:x:1", "First asylum text about Quebec.")], tag_ids, NOW
        )
        assert revert.new_versions == 1
    engine.dispose()
