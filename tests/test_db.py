"""Storage on a real SQLite file and a real PostgreSQL: migrations, upserts, idempotence."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, get_args, get_origin, get_type_hints

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session

from db import (
    cluster_models,  # noqa: F401  (maps the cluster tables on Base)
    repo,
)
from db.base import Base
from db.cluster_models import ArticlePassage, LshBand
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent, PollIntent
from db.migrate import HEAD_REVISION, alembic_config, upgrade, upgrade_if_behind
from db.models import (
    Alert,
    Article,
    ArticleVersion,
    Entry,
    Feed,
    Fetch,
    FigureStatement,
    Mention,
)
from db.versions import VersionPolicy
from parsers.exceptions import ConfigError, StorageError
from parsers.tagging import Mention as FoundMention
from parsers.tagging import TagResult
from parsers.text import content_hash

NOW = datetime(2026, 11, 21, 14, 15, tzinfo=UTC)
TABLES = {
    "feeds", "fetches", "articles", "entries", "article_versions", "raw_documents",
    "tags", "mentions", "alerts", "alembic_version",
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


def test_head_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert scripts.get_heads() == [HEAD_REVISION]


def _stamp(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_upgrade_if_behind_migrates_a_new_or_older_database_and_leaves_one_at_head(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    upgrade_if_behind(engine)  # a new database: every table
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert _stamp(engine) == [HEAD_REVISION]
    command.downgrade(alembic_config(engine), "0015")
    assert "ix_fetches_feed_id_started_at_found" not in _index_names(engine, "fetches")
    upgrade_if_behind(engine)  # an older one: migrated
    assert _stamp(engine) == [HEAD_REVISION]
    assert "ix_fetches_feed_id_started_at_found" in _index_names(engine, "fetches")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(Exception, match="9999"):  # a newer schema: Alembic says so, as before
        upgrade_if_behind(engine)
    engine.dispose()


def _index_names(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_a_database_at_head_is_checked_without_loading_alembic(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    check = (
        "import sys; from db.engine import make_engine; from db.migrate import upgrade_if_behind;"
        f"upgrade_if_behind(make_engine({sqlite_url!r})); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


def test_an_unreachable_database_says_so_before_alembic_is_asked() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StorageError, match="cannot migrate the database"):
        upgrade_if_behind(engine)


def test_the_unwritten_runs_table_is_dropped_and_a_downgrade_brings_it_back(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0008")
    assert "runs" in inspect(engine).get_table_names()
    upgrade(engine)
    assert "runs" not in inspect(engine).get_table_names()
    command.downgrade(alembic_config(engine), "0008")
    with engine.begin() as connection:
        _insert(connection, "runs", kind="monitor", started_at=NOW, counts={})
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


def _insert(connection: Connection, table: str, **values: object) -> int:
    """A row written the way an older schema holds it (the table as the database has it)."""
    reflected = Table(table, MetaData(), autoload_with=connection)
    return int(connection.execute(insert(reflected).values(**values)).inserted_primary_key[0])


def _old_article(connection: Connection, topics: tuple[str, ...], texts: tuple[str, ...]) -> int:
    """An article with its versions and topic mentions, as a schema before 0007 stored them."""
    tag_ids = [
        _insert(connection, "tags", key=topic, kind="topic", label_en=topic, label_fr=topic)
        for topic in topics
    ]
    article = _insert(
        connection, "articles", canonical_url="urn:x:1", title="Asylum", source="test",
        site="test", first_seen_at=NOW,
    )  # fmt: skip
    version = 0
    for n, body in enumerate(texts, 1):
        version = _insert(
            connection, "article_versions", article_id=article, n=n,
            content_hash=content_hash("Asylum", body), title="Asylum", text=body,
            origin="feed", fetched_at=NOW, change_kinds="new", relevance=0.9, relevant=True,
            taxonomy_version="old",
        )  # fmt: skip
        for tag_id in tag_ids:
            _insert(
                connection, "mentions", version_id=version, tag_id=tag_id, field="text",
                start=0, end=6, matched="asylum", sentence=body, taxonomy_version="old",
            )  # fmt: skip
    articles = Table("articles", MetaData(), autoload_with=connection)
    connection.execute(update(articles).values(current_version_id=version))
    return version


def test_upgrading_an_older_schema_keeps_every_row(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        tag_ids = _tag_ids(session)
        for text in ("First asylum text about Quebec.", "Edited asylum text about Quebec."):
            repo.store_articles(session, [_intent("urn:x:1", text)], tag_ids, NOW)
    # Stored by today's code, then taken back to revision 0004, before versions could repeat
    # an older text (the code of that time could not store into today's schema).
    command.downgrade(alembic_config(engine), "0004")
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


def test_upgrade_to_0008_keeps_topics_and_makes_tracked_figures_statements(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0007")  # before versions held their topics and figures their statements
    with engine.begin() as connection:
        texts = ("Quebec wants powers over asylum seekers.",)
        version = _old_article(connection, ("jurisdiction", "asylum_refugees"), texts)
        _insert(
            connection, "tracked_figures", key="immigration_levels|people|per_year|quebec",
            value=50_000.0, matched="50,000 immigrants per year", sentence="Quebec: 50,000.",
            article_id=1, version_id=version, updated_at=NOW,
        )  # fmt: skip
    upgrade(engine)

    with make_sessions(engine).begin() as session:
        stored = session.get_one(ArticleVersion, version)
        assert (stored.topics, stored.tag_note) == ("asylum_refugees jurisdiction", None)
        statement = session.scalars(select(FigureStatement)).one()
        assert (statement.value, statement.matched) == (50_000.0, "50,000 immigrants per year")
        assert (statement.version_id, statement.stated_at, statement.wrong_at) == (
            version,
            NOW,
            None,
        )
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    mine = ("article_versions", "figure_statements")
    assert [d for d in diffs if any(name in repr(d) for name in mine)] == []
    engine.dispose()


def test_upgrade_to_0012_keeps_evidence_as_offsets_and_loses_no_sentence(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0008")  # mentions repeated their words and sentence as text
    body = "Quebec wants   powers.\nAsylum seekers wait  in Montreal. Ottawa said no."
    with engine.begin() as connection:
        version = _old_article(connection, ("asylum_refugees",), (body,))
        tag = _insert(connection, "tags", key="montreal", kind="place", label_en="M", label_fr="M")
        start = body.index("Montreal")
        _insert(
            connection, "mentions", version_id=version, tag_id=tag, field="text", start=start,
            end=start + 8, matched="Montreal", sentence="Asylum seekers wait in Montreal.",
            taxonomy_version="old",
        )  # fmt: skip
    upgrade(engine)

    with make_sessions(engine).begin() as session:
        stored = session.get_one(ArticleVersion, version)
        by_field = {(m.start, m.end): m for m in stored.mentions}
        old = by_field[(0, 6)]  # _old_article's "sentence" is not the text's sentence there
        near = by_field[(start, start + 8)]
        assert (old.matched, old.sentence) == ("asylum", body)
        assert (old.stored_matched, old.stored_sentence) == ("asylum", body)
        assert (near.matched, near.sentence) == ("Montreal", "Asylum seekers wait in Montreal.")
        assert (near.stored_matched, near.stored_sentence) == (None, None)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "mentions" in repr(d)] == []

    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT start, matched, sentence, taxonomy_version FROM mentions ORDER BY start")
        ).all()
    assert [tuple(r) for r in rows] == [
        (0, "asylum", body, "old"),
        (start, "Montreal", "Asylum seekers wait in Montreal.", "old"),
    ]
    engine.dispose()


def _poll(feed_id: int, **changes: object) -> PollIntent:
    poll = PollIntent(
        feed_id=feed_id,
        url=f"https://feeds.example/{feed_id}.xml",
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=1),
        status=304,
        outcome="not_modified",
        bytes=0,
        elapsed_ms=12,
        entries=0,
        error=None,
        etag=None,
        last_modified=None,
        body_hash=None,
        next_check_at=NOW + timedelta(minutes=15),
        health="healthy",
        consecutive_failures=0,
        failure_weight=0.0,
        event=None,
    )
    return replace(poll, **changes)  # type: ignore[arg-type]


def test_recording_many_polls_updates_each_feed_as_one_poll_would(session: Session) -> None:
    specs = [repo.FeedSpec(f"https://feeds.example/{n}.xml", f"Feed {n}") for n in range(4)]
    repo.add_feeds(session, specs, NOW - timedelta(days=1))
    ids = [feed.id for feed in repo.list_feeds(session)]
    for feed in repo.list_feeds(session):  # what an earlier successful poll left
        feed.etag, feed.last_modified, feed.body_hash = '"v1"', "Mon, 02 Nov 2026", "h1"
        feed.last_success_at = NOW - timedelta(hours=1)
    session.flush()
    alerts = repo.record_polls(
        session,
        [
            _poll(ids[0]),  # 304: validators kept
            _poll(ids[1], status=200, outcome="fetched", etag='"v2"', body_hash="h2", entries=3),
            _poll(ids[2], status=500, outcome="failed", error="server error (500)",
                  health="failing", consecutive_failures=1, failure_weight=1.0),
            _poll(ids[3], status=None, outcome="failed", error="timed out", health="broken",
                  consecutive_failures=5, failure_weight=5.0, event="broken"),
        ],
    )  # fmt: skip
    session.flush()
    session.expire_all()  # read back what the database holds, not the session's objects
    feeds = {feed.id: feed for feed in repo.list_feeds(session)}
    kept, fetched, failing, broken = (feeds[i] for i in ids)
    assert (kept.etag, kept.last_modified, kept.body_hash) == ('"v1"', "Mon, 02 Nov 2026", "h1")
    assert kept.last_success_at == NOW + timedelta(seconds=1) and kept.last_status == 304
    assert kept.next_check_at == NOW + timedelta(minutes=15) and kept.last_error is None
    assert (fetched.etag, fetched.last_modified, fetched.body_hash) == (
        '"v2"',
        "Mon, 02 Nov 2026",
        "h2",
    )
    # A failure keeps the validators and the last success, and says why.
    assert (failing.etag, failing.last_error, failing.health) == (
        '"v1"',
        "server error (500)",
        "failing",
    )
    assert failing.last_success_at == NOW - timedelta(hours=1)
    assert (failing.consecutive_failures, failing.failure_weight) == (1, 1.0)
    assert (broken.health, broken.last_error) == ("broken", "timed out")
    assert alerts == 1
    [alert] = session.scalars(select(Alert).where(Alert.kind == "feed_broken")).all()
    assert alert.feed_id == ids[3]
    logged = session.scalars(select(Fetch.feed_id).order_by(Fetch.feed_id)).all()
    assert logged == sorted(ids)
    not_modified = session.scalars(select(Fetch.feed_id).where(Fetch.not_modified)).all()
    assert not_modified == [ids[0]]


def _stored_evidence(session: Session) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    """Each entry's guid and link, and each mention's field, offsets, words and sentence:
    what ``vigie show`` and the story views read back."""
    links = session.execute(
        select(Entry.guid, Entry.url, Article.canonical_url)
        .join(Article, Article.id == Entry.article_id)
        .order_by(Entry.guid)
    ).all()
    mentions = session.scalars(select(Mention)).all()
    return (
        [(guid, Entry.url_of(url, canonical)) for guid, url, canonical in links],
        sorted((m.field, m.start, m.end, m.matched, m.sentence) for m in mentions),
    )


def _fetch_log(feed_id: int, found: list[int]) -> list[dict[str, object]]:
    """A feed's fetches, one every 15 minutes up to ``NOW``, finding ``found`` entries each."""
    start = NOW - timedelta(minutes=15) * len(found)
    return [
        {
            "feed_id": feed_id,
            "url": f"https://f.example/{feed_id}",
            "started_at": start + timedelta(minutes=15) * n,
            "status": 200 if entries else 304,
            "not_modified": not entries,
            "entries_found": entries,
        }
        for n, entries in enumerate(found)
    ]


def _chosen(engine: Engine) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The due feeds and every enabled one, each with the entries of its last document."""
    with make_sessions(engine).begin() as session:
        due = repo.feeds_to_poll(session, NOW)
        every = repo.feeds_to_poll(session, NOW, due_only=False)
    return [(f.id, f.entries_last_seen) for f in due], [(f.id, f.entries_last_seen) for f in every]


def _poll_plan(engine: Engine) -> str:
    """SQLite's plan for the statement ``feeds_to_poll`` sends, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def keep(_c: object, _cur: object, statement: str, parameters: Any, *_: object) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        _chosen(engine)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    statement, parameters = next(s for s in sent if "FROM feeds" in s[0])
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_the_index_of_fetches_that_found_entries_chooses_the_same_feeds_and_round_trips(
    database_url: str,
) -> None:
    """Revision 0016 only indexes: the feeds chosen, their order and each one's entries last
    seen are those of the walk back through every fetch, and a downgrade drops the index."""
    engine = make_engine(database_url)
    upgrade(engine)
    specs = [repo.FeedSpec(f"https://f{n}.example/rss", f"f{n}") for n in range(5)]
    with make_sessions(engine).begin() as session:
        repo.add_feeds(session, specs, NOW)
        ids = [f.id for f in repo.feeds_to_poll(session, NOW, due_only=False)]
    histories = {
        ids[0]: [0] * 30,  # never found anything
        ids[1]: [5, 0, 3] + [0] * 40,  # the last that found entries, long ago, counts
        ids[2]: [0, 9, 0, 7],  # found entries on its latest poll
        ids[3]: [4],
        ids[4]: [],  # never polled
    }
    later = {ids[0]: 30, ids[1]: None, ids[2]: 10, ids[3]: -5, ids[4]: -20}  # minutes from NOW
    with engine.begin() as connection:
        for feed_id, found in histories.items():
            if found:
                connection.execute(insert(Fetch), _fetch_log(feed_id, found))
            minutes = later[feed_id]
            due = None if minutes is None else NOW + timedelta(minutes=minutes)
            connection.execute(update(Feed).where(Feed.id == feed_id).values(next_check_at=due))
        # A page's fetch has no feed: it is no feed's last document.
        connection.execute(insert(Fetch), [{**_fetch_log(ids[0], [12])[0], "feed_id": None}])
    expected = (
        [(ids[1], 3), (ids[4], 0), (ids[3], 4)],
        [(ids[0], 0), (ids[1], 3), (ids[2], 7), (ids[3], 4), (ids[4], 0)],
    )
    found_index = "ix_fetches_feed_id_started_at_found"

    def indexes() -> dict[str, dict[str, Any]]:
        return {i["name"]: i for i in inspect(engine).get_indexes("fetches")}

    assert _chosen(engine) == expected
    assert indexes()[found_index]["column_names"] == ["feed_id", "started_at"]
    if engine.dialect.name == "sqlite":
        assert f"USING INDEX {found_index} " in _poll_plan(engine)
    else:
        where = indexes()[found_index]["dialect_options"]["postgresql_where"]
        assert where == "(entries_found > 0)"

    command.downgrade(alembic_config(engine), "0015")
    assert found_index not in indexes()
    assert _chosen(engine) == expected
    upgrade(engine)
    assert found_index in indexes()
    assert _chosen(engine) == expected
    engine.dispose()


def test_the_leaner_store_gives_back_every_link_field_and_search_and_round_trips(
    database_url: str,
) -> None:
    from db.search import ArticleFilters, search_ids
    from parsers.search_query import parse

    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    text_body = " ".join(["Quebec wants fewer asylum seekers and more powers."] * 4)
    with sessions.begin() as session:
        tag_ids = _tag_ids(session)
        repo.add_feeds(session, [repo.FeedSpec("https://f.example/rss", "f")], NOW)
        feed_id = repo.feeds_to_poll(session, NOW)[0].id
        original = _intent("https://a.example/story", text_body, guid="a", feed_id=feed_id)
        in_title = FoundMention(
            concept="asylum_refugees", kind="topic", field="title", start=0, end=6,
            text="Asylum", sentence="Asylum claims rise", topic="asylum_refugees",
        )  # fmt: skip
        tags = replace(original.tags, mentions=(*original.tags.mentions, in_title))
        copy = _intent("https://b.example/copy", text_body, guid="b", feed_id=feed_id)
        repo.store_articles(session, [replace(original, tags=tags), copy], tag_ids, NOW)
        article_id = session.scalars(select(Article.id)).one()
        session.add_all(
            [
                LshBand(article_id=article_id, band=0, hash=-(2**62)),
                LshBand(article_id=article_id, band=1, hash=7),
                ArticlePassage(article_id=article_id, hash=2**62, shape=-5),
            ]
        )
    with sessions.begin() as session:
        before = _stored_evidence(session)
        found = search_ids(session, parse("asylum seekers"), ArticleFilters(), None)
    assert before[0] == [("a", "https://a.example/story"), ("b", "https://b.example/copy")]
    assert [m[0] for m in before[1]] == ["text", "title"]
    assert before[1][1][3:] == ("Asylum", "Asylum claims rise")
    assert len(found) == 1
    with engine.connect() as connection:
        keys = connection.execute(_KEYS).all()
        assert [k for k in keys if k[0] == "band"] == [
            ("band", article_id, 0, -(2**62)),
            ("band", article_id, 1, 7),
        ]
        # The original's link is its article's URL, stored once; the copy's is its own.
        urls = connection.execute(text("SELECT guid, url FROM entries ORDER BY guid")).all()
        fields = connection.execute(text("SELECT field FROM mentions ORDER BY field")).scalars()
        assert [tuple(r) for r in urls] == [("a", None), ("b", "https://b.example/copy")]
        assert list(fields) == [0, 1]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if any(t in repr(d) for t in ("entries", "mentions"))] == []
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        with engine.connect() as connection:
            # Contentless: the index answers, but holds no copy of the terms.
            assert connection.execute(text("SELECT terms FROM article_search")).scalar() is None
            schema = dict(connection.execute(text("SELECT name, sql FROM sqlite_master")).all())
        assert (
            "WITHOUT ROWID" in schema["lsh_bands"] and "WITHOUT ROWID" in schema["article_passages"]
        )

    command.downgrade(alembic_config(engine), "0013")
    with engine.connect() as connection:
        urls = connection.execute(text("SELECT guid, url FROM entries ORDER BY guid")).all()
        fields = connection.execute(text("SELECT field FROM mentions ORDER BY field")).scalars()
        assert [tuple(r) for r in urls] == before[0]
        assert list(fields) == ["text", "title"]
        if sqlite:
            terms = connection.execute(text("SELECT terms FROM article_search")).scalar()
            assert terms is not None and "asylum" in terms
            schema = dict(connection.execute(text("SELECT name, sql FROM sqlite_master")).all())
            assert "WITHOUT ROWID" not in schema["lsh_bands"]
        assert connection.execute(_KEYS).all() == keys

    upgrade(engine)
    with sessions.begin() as session:
        assert _stored_evidence(session) == before
        assert search_ids(session, parse("asylum seekers"), ArticleFilters(), None) == found
    with engine.connect() as connection:
        assert connection.execute(_KEYS).all() == keys
    engine.dispose()


#: The story keys of articles: LSH bands and passages, as stored.
_KEYS = text(
    "SELECT 'band', article_id, band, hash FROM lsh_bands UNION ALL "
    "SELECT 'passage', article_id, hash, shape FROM article_passages ORDER BY 1, 3"
)


# --- one schema: the Core tables, and the ORM classes that map them ---------------------------


def _mapped_annotations(model: type[Base]) -> dict[str, Any]:
    """The class's ``Mapped[X]`` annotations of columns, as ``{attribute: X}``."""
    hints = get_type_hints(model, vars(sys.modules[model.__module__]))
    return {
        name: get_args(hint)[0]
        for name, hint in hints.items()
        if get_origin(hint) is Mapped and name in model.__mapper__.column_attrs
    }


@pytest.mark.parametrize(
    "model", sorted(Base.__subclasses__(), key=lambda m: m.__name__), ids=lambda m: m.__name__
)
def test_each_class_types_exactly_the_columns_of_its_table_and_their_nullability(
    model: type[Base],
) -> None:
    """The tables (``db.schema``) define the columns; a class's annotations only type them,
    so nothing else keeps a ``Mapped[X | None]`` in step with a nullable column."""
    columns = {prop.key: prop.columns[0] for prop in model.__mapper__.column_attrs}
    typed = _mapped_annotations(model)
    annotated = {
        name for name, hint in get_type_hints(model, vars(sys.modules[model.__module__])).items()
        if get_origin(hint) is Mapped
    }  # fmt: skip
    relationships = set(model.__mapper__.relationships.keys())

    assert set(typed) == set(columns) and annotated - relationships == set(columns)
    for name, column in columns.items():
        optional = type(None) in get_args(typed[name])
        assert optional == column.nullable, f"{model.__name__}.{name}"
