"""Feed text and page text never make versions against each other; a publisher's edit does.

A feed that carries a short story in full: its page is read, holds no more than the feed, so
the feed's text is stored and the page watched. When the feed then edits the story and the
page stays as it was, a re-check finds the page's text, which differs from the (edited)
current version, but the page has not changed since it was last read: no version, no alert.
When the page itself changes, that is an edit. Runs on a SQLite file and on PostgreSQL,
through the pipeline's own functions (feed parsing, page extraction, storage).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db import repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent, RecheckTarget
from db.migrate import upgrade
from db.models import Alert, Article, ArticleVersion
from flows.pipeline import intent_from_page, intents_from_feed, tag_specs, with_page
from parsers.articles import extract_article
from parsers.feeds import parse_feed
from parsers.tagging import Tagger

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FEED_URL = "https://ledger.example/immigration.rss"
PAGE_URL = "https://ledger.example/2026/12/07/quebec-pauses-low-wage-hiring"
TITLE = "Quebec pauses low-wage foreign hiring in Montreal"
BRIEF = (
    "Quebec will stop processing low-wage temporary foreign worker applications for Montreal "
    "and Laval from September, Immigration Minister Jean-François Roberge said on Tuesday, "
    "citing pressure on housing and on French-language services. Employers in the two cities "
    "will have to wait six months before filing new requests, while the rest of the province "
    "is not affected. Business groups called the pause a blow to restaurants and farms."
)
FEED_EDIT = "Update: about 1,200 applications already filed will still be processed."
PAGE_EDIT = BRIEF.replace("September", "October")
HTML = {"content-type": "text/html; charset=utf-8"}


def rss(story: str) -> bytes:
    """The feed, carrying the whole story as content."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0' "
        "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
        "<title>The Capital Ledger</title><link>https://ledger.example/</link>"
        f"<item><title>{TITLE}</title><link>{PAGE_URL}</link><guid>ledger-4471</guid>"
        f"<description>{BRIEF[:80]}</description>"
        f"<content:encoded><![CDATA[{story}]]></content:encoded></item></channel></rss>"
    ).encode()


def page(story: str) -> bytes:
    """The article page: the story in the outlet's usual furniture."""
    return (
        f"<html lang='en'><head><title>{TITLE} | The Capital Ledger</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/immigration'>Immigration</a></nav></header>"
        f"<main><article><h1>{TITLE}</h1><p>{story}</p></article></main>"
        "<footer><p>© 2026 The Capital Ledger</p></footer></body></html>"
    ).encode()


class Newsroom:
    """One article's life: feed passes, re-checks, and what the database holds after each."""

    def __init__(self, sessions: sessionmaker[Session], tagger: Tagger) -> None:
        self.sessions, self.tagger, self.now = sessions, tagger, T0
        with sessions.begin() as session:
            repo.add_feeds(session, [repo.FeedSpec(FEED_URL, "The Capital Ledger", "en")], T0)
            self.tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
            (self.feed,) = repo.feeds_to_poll(session, T0, due_only=False)

    def feed_pass(self, story: str, page_bytes: bytes | None = None) -> None:
        """Store the feed's item; with ``page_bytes``, its page was read as for a new item."""
        (intent,), _ = intents_from_feed(self.feed, parse_feed(FEED_URL, rss(story)), self.tagger)
        if page_bytes is not None:
            extracted = extract_article(PAGE_URL, page_bytes, HTML)
            intent = with_page(intent, extracted, page_bytes, HTML, self.tagger)
        self._store(intent)

    def _store(self, intent: ArticleIntent) -> None:
        self.now += timedelta(minutes=15)
        with self.sessions.begin() as session:
            repo.store_articles(session, [intent], self.tag_ids, self.now)

    def recheck(self, page_bytes: bytes) -> str:
        """A re-check of the page; its outcome."""
        self.now += timedelta(minutes=15)
        with self.sessions.begin() as session:
            article = session.scalars(select(Article)).one()
            target = RecheckTarget(article.id, article.canonical_url, article.source, "en", None,
                                   article.page_etag, article.page_last_modified)  # fmt: skip
            extracted = extract_article(PAGE_URL, page_bytes, HTML)
            intent = intent_from_page(target, extracted, page_bytes, HTML, self.tagger)
            return repo.record_recheck(session, target, intent, self.tag_ids, self.now).outcome

    def versions(self) -> list[tuple[int, str, str]]:
        """(n, origin, text) of every version, in order."""
        with self.sessions.begin() as session:
            rows = session.execute(
                select(ArticleVersion.n, ArticleVersion.origin, ArticleVersion.text).order_by(
                    ArticleVersion.n
                )
            )
            return [tuple(row) for row in rows.tuples()]

    def edit_alerts(self) -> int:
        with self.sessions.begin() as session:
            kinds = ("article_edited", "figure_changed")
            query = select(func.count()).select_from(Alert).where(Alert.kind.in_(kinds))
            return session.scalar(query) or 0


@pytest.fixture
def newsroom(engine: Engine, tagger: Tagger) -> Iterator[Newsroom]:
    yield Newsroom(make_sessions(engine), tagger)


def test_a_page_unchanged_since_it_was_read_makes_no_version_against_the_feeds_edit(
    newsroom: Newsroom,
) -> None:
    newsroom.feed_pass(BRIEF, page(BRIEF))  # the page holds no more: the feed's text is kept
    newsroom.feed_pass(f"{BRIEF}\n\n{FEED_EDIT}")  # the feed edits the story, the page stays

    assert newsroom.recheck(page(BRIEF)) == "unchanged"
    assert [(n, origin) for n, origin, _ in newsroom.versions()] == [(1, "feed"), (2, "feed")]
    assert FEED_EDIT in newsroom.versions()[-1][2]
    assert newsroom.edit_alerts() == 0  # the story's edit is a feed's, not worth an alert


def test_a_page_the_publisher_edits_is_a_version(newsroom: Newsroom) -> None:
    newsroom.feed_pass(BRIEF, page(BRIEF))
    newsroom.feed_pass(f"{BRIEF}\n\n{FEED_EDIT}")
    newsroom.recheck(page(BRIEF))

    assert newsroom.recheck(page(PAGE_EDIT)).startswith("changed")
    assert newsroom.recheck(page(PAGE_EDIT)) == "unchanged"
    versions = newsroom.versions()
    assert [(n, origin) for n, origin, _ in versions] == [(1, "feed"), (2, "feed"), (3, "page")]
    assert "October" in versions[-1][2]


def test_a_feed_edit_read_with_an_unchanged_page_is_still_a_version(newsroom: Newsroom) -> None:
    # The page is read again (as for a new item) and says what it said: the feed's own text
    # changed, and that is what the version is about.
    newsroom.feed_pass(BRIEF, page(BRIEF))
    newsroom.feed_pass(f"{BRIEF}\n\n{FEED_EDIT}", page(BRIEF))

    assert [(n, origin) for n, origin, _ in newsroom.versions()] == [(1, "feed"), (2, "feed")]


def test_a_page_first_read_at_a_re_check_can_still_replace_the_feeds_text(
    newsroom: Newsroom,
) -> None:
    # Never read before (a failed fetch, a database from before the page was remembered):
    # the re-check decides against the current version, as it always did.
    newsroom.feed_pass(BRIEF)
    longer = f"{BRIEF} The pause will be reviewed in six months, the department said."

    assert newsroom.recheck(page(longer)).startswith("changed")
    assert [(n, origin) for n, origin, _ in newsroom.versions()] == [(1, "feed"), (2, "page")]


# --- migration 0007 ----------------------------------------------------------------------------


def test_upgrade_remembers_each_articles_last_page_text(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    article = (
        "INSERT INTO articles (id, canonical_url, title, source, site, first_seen_at) "
        "VALUES (:id, :url, 't', 's', 'ledger.example', :now)"
    )
    version = (
        "INSERT INTO article_versions (article_id, n, content_hash, title, text, origin, "
        "fetched_at, change_kinds, relevance, relevant, taxonomy_version) "
        "VALUES (:id, :n, :hash, 't', 'x', :origin, :now, 'new', 0, false, 'v')"
    )
    rows = [(1, 1, "a" * 64, "feed"), (1, 2, "b" * 64, "page"), (1, 3, "c" * 64, "feed")]
    rows += [(2, 1, "d" * 64, "feed")]
    with engine.begin() as connection:
        for article_id in (1, 2):
            url = f"https://ledger.example/{article_id}"
            connection.execute(text(article), {"id": article_id, "url": url, "now": T0})
        for article_id, n, digest, origin in rows:
            values = {"id": article_id, "n": n, "hash": digest, "origin": origin, "now": T0}
            connection.execute(text(version), values)
    upgrade(engine)

    with engine.connect() as connection:
        remembered = connection.execute(text("SELECT id, page_hash FROM articles ORDER BY id"))
        assert remembered.tuples().all() == [(1, "b" * 64), (2, None)]
    engine.dispose()
