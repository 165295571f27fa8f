"""The ORM classes of Vigie's tables, grouped as: sources (feeds, fetches), content (articles,
entries, versions), tagging (tags, mentions), and operations (alerts).

Each maps a table of ``db.schema``, where the columns, their types and constraints are
defined (and documented); the ``Mapped`` annotations here give them their Python types, which
``tests/test_db.py`` checks against the tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, column_property, relationship

from db import schema
from db.base import Base
from db.schema import topic_keys as topic_keys
from parsers.evidence import mention_sentence, mention_words
from parsers.schedule import Health

# --- sources -------------------------------------------------------------------------------


class Feed(Base):
    """A feed Vigie polls, with its HTTP validators, schedule and health."""

    __table__ = schema.feeds

    id: Mapped[int]
    url: Mapped[str]
    name: Mapped[str]
    language: Mapped[str | None]
    interval_minutes: Mapped[int | None]
    enabled: Mapped[bool]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    body_hash: Mapped[str | None]
    next_check_at: Mapped[datetime | None]
    health: Mapped[Health]
    consecutive_failures: Mapped[int]
    failure_weight: Mapped[float]
    last_error: Mapped[str | None]
    last_status: Mapped[int | None]
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Fetch(Base):
    """One attempt to fetch a feed or page: the log behind a feed's health."""

    __table__ = schema.fetches

    id: Mapped[int]
    feed_id: Mapped[int | None]
    article_id: Mapped[int | None]
    url: Mapped[str]
    started_at: Mapped[datetime]
    status: Mapped[int | None]
    bytes: Mapped[int]
    elapsed_ms: Mapped[int]
    not_modified: Mapped[bool]
    entries_found: Mapped[int]
    error: Mapped[str | None]


#: A feed's last fetch that found entries (``repo.feeds_to_poll``), found without walking back
#: through the unchanged fetches after it: fetches are kept, and most of them find nothing.
#: Here, not in ``db.schema``: its ``postgresql_where`` loads the PostgreSQL dialect, which
#: only the write path and the migrations need.
_FOUND_ENTRIES = schema.fetches.c.entries_found > 0
Index(
    "ix_fetches_feed_id_started_at_found",
    schema.fetches.c.feed_id,
    schema.fetches.c.started_at,
    sqlite_where=_FOUND_ENTRIES,
    postgresql_where=_FOUND_ENTRIES,
)


# --- content -------------------------------------------------------------------------------


class Article(Base):
    """A story at one canonical URL; its text lives in versions."""

    __table__ = schema.articles

    id: Mapped[int]
    canonical_url: Mapped[str]
    title: Mapped[str]
    source: Mapped[str]
    site: Mapped[str]
    byline: Mapped[str | None]
    language: Mapped[str | None]
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    next_check_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    page_etag: Mapped[str | None]
    page_last_modified: Mapped[str | None]
    page_hash: Mapped[str | None]
    suspect_reason: Mapped[str | None]
    current_version_id: Mapped[int | None]
    cluster_id: Mapped[int | None]

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article",
        foreign_keys="ArticleVersion.article_id",
        order_by="ArticleVersion.n",
    )
    current_version: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[schema.articles.c.current_version_id], post_update=True
    )


class Entry(Base):
    """A feed item (feed, guid) and the article it points to."""

    __table__ = schema.entries

    id: Mapped[int]
    feed_id: Mapped[int]
    guid: Mapped[str]
    article_id: Mapped[int]
    url: Mapped[str | None]
    first_seen_at: Mapped[datetime]

    @staticmethod
    def url_of(url: str | None, canonical_url: str) -> str:
        """An entry's link, from its ``url`` column and its article's canonical URL."""
        return schema.entry_url(url, canonical_url)


class ArticleVersion(Base):
    """One distinct text of an article; ``n`` counts from 1."""

    __table__ = schema.article_versions

    id: Mapped[int]
    article_id: Mapped[int]
    n: Mapped[int]
    content_hash: Mapped[str]
    title: Mapped[str]
    text: Mapped[str]
    origin: Mapped[str]
    fallback_reason: Mapped[str | None]
    fetched_at: Mapped[datetime]
    change_kinds: Mapped[str]
    diff: Mapped[dict[str, Any] | None]
    relevance: Mapped[float]
    relevant: Mapped[bool]
    topics: Mapped[str]
    tag_note: Mapped[str | None]
    taxonomy_version: Mapped[str]

    article: Mapped[Article] = relationship(
        back_populates="versions", foreign_keys=[schema.article_versions.c.article_id]
    )
    mentions: Mapped[list[Mention]] = relationship(
        order_by="Mention.start", back_populates="version"
    )

    @property
    def topic_keys(self) -> tuple[str, ...]:
        """What the version is about: its topic keys, primary first."""
        return topic_keys(self.topics)


class RawDocument(Base):
    """Compressed bytes behind a version, so it can be re-extracted without refetching."""

    __table__ = schema.raw_documents

    id: Mapped[int]
    version_id: Mapped[int]
    url: Mapped[str]
    content_type: Mapped[str | None]
    compressed: Mapped[bytes]
    fetched_at: Mapped[datetime]


class TrackedFigure(Base):
    """The latest value of a figure Vigie tracks across articles (an immigration target, say).

    Keyed by topic, unit, scope and jurisdiction, so "40,000 immigrants per year" in one
    article and "50,000 immigrants per year" in a later one are one figure that changed. The
    value is that of the latest ``FigureStatement`` not marked wrong, with its source.
    """

    __table__ = schema.tracked_figures

    id: Mapped[int]
    key: Mapped[str]
    value: Mapped[float]
    matched: Mapped[str]
    sentence: Mapped[str]
    article_id: Mapped[int | None]
    version_id: Mapped[int | None]
    updated_at: Mapped[datetime]


class FigureStatement(Base):
    """An article version stating a tracked figure: the value, as written, in its sentence.

    A tracked figure's value is its latest statement not marked wrong, so an analyst who
    marks one wrong (``vigie figures wrong ID``) sets it aside and keeps the evidence.
    """

    __table__ = schema.figure_statements

    id: Mapped[int]
    key: Mapped[str]
    value: Mapped[float]
    matched: Mapped[str]
    sentence: Mapped[str]
    article_id: Mapped[int]
    version_id: Mapped[int]
    stated_at: Mapped[datetime]
    wrong_at: Mapped[datetime | None]

    article: Mapped[Article] = relationship()


# --- tagging -------------------------------------------------------------------------------


class Tag(Base):
    """A taxonomy concept: topic, programme, actor, organisation, place, or figure."""

    __table__ = schema.tags

    id: Mapped[int]
    key: Mapped[str]
    kind: Mapped[str]
    label_en: Mapped[str]
    label_fr: Mapped[str]


class Mention(Base):
    """Evidence for a tag: where in which version, and the sentence around it.

    The matched words and the sentence are read from the version's own title or text:
    ``start``/``end`` and ``sentence_start``/``sentence_end`` index it. Their text is stored
    (``stored_matched``, ``stored_sentence``) only when the offsets cannot give it back.
    """

    __table__ = schema.mentions

    id: Mapped[int]
    version_id: Mapped[int]
    tag_id: Mapped[int]
    field: Mapped[str]
    start: Mapped[int]
    end: Mapped[int]
    sentence_start: Mapped[int | None]
    sentence_end: Mapped[int | None]
    # Named apart from their columns: ``matched`` and ``sentence`` are the properties below.
    stored_matched: Mapped[str | None] = column_property(schema.mentions.c.matched)
    stored_sentence: Mapped[str | None] = column_property(schema.mentions.c.sentence)
    value: Mapped[float | None]
    unit: Mapped[str | None]
    topic: Mapped[str | None]
    scope: Mapped[str | None]

    tag: Mapped[Tag] = relationship()
    version: Mapped[ArticleVersion] = relationship(back_populates="mentions")

    @property
    def matched(self) -> str:
        """The words that matched, exactly as in the version."""
        if self.stored_matched is not None:  # the version is not loaded for nothing
            return self.stored_matched
        return mention_words(self._field_text(), self.start, self.end, None)

    @property
    def sentence(self) -> str:
        """The sentence around the match, whitespace collapsed."""
        if self.stored_sentence is not None or self.sentence_start is None:
            return self.stored_sentence or ""
        return mention_sentence(self._field_text(), self.sentence_start, self.sentence_end, None)

    def _field_text(self) -> str:
        return self.version.title if self.field == "title" else self.version.text


# --- operations ----------------------------------------------------------------------------


class Alert(Base):
    """Outbox row: written in the transaction that caused it, delivered later, exactly once.

    Status: pending (waiting for ``next_attempt_at``), sending (claimed by a delivery run),
    sent, failed (gave up after the configured attempts), skipped (the rules filter it out),
    merged (folded into ``merged_into_id`` by a debounce window) or digest (kept for the
    daily digest, which ``digest_id`` names once it is queued).
    """

    __table__ = schema.alerts

    id: Mapped[int]
    dedup_key: Mapped[str]
    kind: Mapped[str]
    severity: Mapped[str]
    article_id: Mapped[int | None]
    feed_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]]
    status: Mapped[str]
    attempts: Mapped[int]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None]
    delivered_channels: Mapped[list[str] | None]
    note: Mapped[str | None]
    merged_into_id: Mapped[int | None]
    digest_id: Mapped[int | None]
