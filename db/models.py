"""Vigie's tables, grouped as: sources (feeds, fetches), content (articles, entries, versions),
tagging (tags, mentions), and operations (alerts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, BigId, FieldCode, intpk, str_url, utc, utc_or_none
from parsers.evidence import sentence_at
from parsers.schedule import Health

# --- sources -------------------------------------------------------------------------------


class Feed(Base):
    """A feed Vigie polls, with its HTTP validators, schedule and health."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("url"),)

    id: Mapped[intpk]
    url: Mapped[str_url]
    name: Mapped[str]
    language: Mapped[str | None] = mapped_column(String(8))
    #: Minutes between polls for this feed; NULL means the global setting.
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(255))
    #: SHA-256 of the last body parsed, to skip parsing when a server ignores validators.
    body_hash: Mapped[str | None] = mapped_column(String(64))
    next_check_at: Mapped[utc_or_none]
    health: Mapped[Health] = mapped_column(String(16), default="healthy")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failure_weight: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_fetched_at: Mapped[utc_or_none]
    last_success_at: Mapped[utc_or_none]
    created_at: Mapped[utc]


class Fetch(Base):
    """One attempt to fetch a feed or page: the log behind a feed's health."""

    __tablename__ = "fetches"
    __table_args__ = (Index("ix_fetches_feed_id_started_at", "feed_id", "started_at"),)

    id: Mapped[intpk]
    feed_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("feeds.id", ondelete="CASCADE"))
    #: Set for article page fetches (feed_id is then NULL).
    article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str_url]
    started_at: Mapped[utc]
    status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    entries_found: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


# --- content -------------------------------------------------------------------------------


class Article(Base):
    """A story at one canonical URL; its text lives in versions."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("canonical_url"),)

    id: Mapped[intpk]
    canonical_url: Mapped[str_url]
    title: Mapped[str] = mapped_column(Text)
    #: Human name of where it came from: the feed's name, "seed", or the site's host.
    source: Mapped[str]
    site: Mapped[str]
    #: Who wrote it, as the feed or the page says (the latest version's, when it says).
    byline: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[utc_or_none]
    first_seen_at: Mapped[utc]
    #: When the page is due to be re-checked for edits; NULL once it is too old to watch.
    next_check_at: Mapped[utc_or_none]
    last_checked_at: Mapped[utc_or_none]
    #: Validators of the article page, for cheap re-checks.
    page_etag: Mapped[str | None] = mapped_column(String(1024))
    page_last_modified: Mapped[str | None] = mapped_column(String(255))
    #: ``content_hash`` of the page (its own title and text) as last read and trusted, whether
    #: or not it became the text: a re-check versions the page only when the page changed.
    page_hash: Mapped[str | None] = mapped_column(String(64))
    #: Why the last extraction was not trusted (consent wall, paywall, shrank), if it was not.
    suspect_reason: Mapped[str | None] = mapped_column(Text)
    current_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("article_versions.id", use_alter=True, ondelete="SET NULL")
    )
    cluster_id: Mapped[int | None] = mapped_column(BigId)

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article",
        foreign_keys="ArticleVersion.article_id",
        order_by="ArticleVersion.n",
    )
    current_version: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class Entry(Base):
    """A feed item (feed, guid) and the article it points to."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("feed_id", "guid"),)

    id: Mapped[intpk]
    feed_id: Mapped[int] = mapped_column(BigId, ForeignKey("feeds.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(1024))
    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    #: The item's link; NULL when it is the article's canonical URL, as it mostly is
    #: (``url_of`` gives it back either way).
    url: Mapped[str | None] = mapped_column(String(2048))
    first_seen_at: Mapped[utc]

    @staticmethod
    def url_of(url: str | None, canonical_url: str) -> str:
        """An entry's link, from its ``url`` column and its article's canonical URL."""
        return canonical_url if url is None else url


class ArticleVersion(Base):
    """One distinct text of an article; ``n`` counts from 1."""

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "n"),
        Index("ix_article_versions_content_hash", "content_hash"),
    )

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    #: Where the text came from: seed, feed, page or import.
    origin: Mapped[str] = mapped_column(String(16))
    #: Why the page text could not be used when the feed summary stands in for it.
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[utc]
    #: Space-separated change kinds relative to the previous version ("new" for n = 1).
    change_kinds: Mapped[str] = mapped_column(String(255), default="new")
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    relevance: Mapped[float] = mapped_column(Float, default=0.0)
    relevant: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the text is about, space-separated topic keys, primary topic first (empty when
    #: not relevant). Topic mentions outside it are passing mentions.
    topics: Mapped[str] = mapped_column(String(255), default="", server_default="")
    #: Why the tagger read only part of the text (too long, or its CPU budget spent).
    tag_note: Mapped[str | None] = mapped_column(Text)
    taxonomy_version: Mapped[str] = mapped_column(String(64))

    article: Mapped[Article] = relationship(back_populates="versions", foreign_keys=[article_id])
    mentions: Mapped[list[Mention]] = relationship(
        order_by="Mention.start", back_populates="version"
    )

    @property
    def topic_keys(self) -> tuple[str, ...]:
        """What the version is about: its topic keys, primary first."""
        return topic_keys(self.topics)


class RawDocument(Base):
    """Compressed bytes behind a version, so it can be re-extracted without refetching."""

    __tablename__ = "raw_documents"
    __table_args__ = (UniqueConstraint("version_id"),)

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("article_versions.id", ondelete="CASCADE")
    )
    url: Mapped[str_url]
    content_type: Mapped[str | None]
    compressed: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[utc]


class TrackedFigure(Base):
    """The latest value of a figure Vigie tracks across articles (an immigration target, say).

    Keyed by topic, unit, scope and jurisdiction, so "40,000 immigrants per year" in one
    article and "50,000 immigrants per year" in a later one are one figure that changed. The
    value is that of the latest ``FigureStatement`` not marked wrong, with its source.
    """

    __tablename__ = "tracked_figures"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[intpk]
    #: ``topic|unit|scope|jurisdiction``.
    key: Mapped[str]
    value: Mapped[float] = mapped_column(Float)
    matched: Mapped[str] = mapped_column(Text)
    sentence: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="SET NULL")
    )
    version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("article_versions.id", ondelete="SET NULL")
    )
    updated_at: Mapped[utc]


class FigureStatement(Base):
    """An article version stating a tracked figure: the value, as written, in its sentence.

    A tracked figure's value is its latest statement not marked wrong, so an analyst who
    marks one wrong (``vigie figures wrong ID``) sets it aside and keeps the evidence.
    """

    __tablename__ = "figure_statements"
    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        Index("ix_figure_statements_key_stated_at", "key", "stated_at"),
    )

    id: Mapped[intpk]
    #: The tracked figure's ``topic|unit|scope|jurisdiction``.
    key: Mapped[str]
    value: Mapped[float] = mapped_column(Float)
    #: The figure as written ("45 000 immigrants permanents par année").
    matched: Mapped[str] = mapped_column(Text)
    #: The sentence that states it.
    sentence: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("article_versions.id", ondelete="CASCADE")
    )
    #: When it was stated: the article's publication time, else when Vigie read it.
    stated_at: Mapped[utc]
    #: When an analyst marked it wrong; NULL while it counts.
    wrong_at: Mapped[utc_or_none]

    article: Mapped[Article] = relationship()


# --- tagging -------------------------------------------------------------------------------


class Tag(Base):
    """A taxonomy concept: topic, programme, actor, organisation, place, or figure."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    label_en: Mapped[str]
    label_fr: Mapped[str]


class Mention(Base):
    """Evidence for a tag: where in which version, and the sentence around it.

    The matched words and the sentence are read from the version's own title or text:
    ``start``/``end`` and ``sentence_start``/``sentence_end`` index it. Their text is stored
    (``stored_matched``, ``stored_sentence``) only when the offsets cannot give it back.
    """

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("version_id", "tag_id", "field", "start"),)

    id: Mapped[intpk]
    # No index of its own: the unique constraint's index starts with it.
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("article_versions.id", ondelete="CASCADE")
    )
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"))
    #: "title" or "text": which string of the version ``start``/``end`` index.
    field: Mapped[str] = mapped_column(FieldCode())
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    #: The sentence as a span of the same string (``parsers.evidence``).
    sentence_start: Mapped[int | None] = mapped_column(Integer)
    sentence_end: Mapped[int | None] = mapped_column(Integer)
    stored_matched: Mapped[str | None] = mapped_column("matched", Text)
    stored_sentence: Mapped[str | None] = mapped_column("sentence", Text)
    #: For figures: the number, its unit, and the topic it argues.
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    #: For figures: what the number counts over, e.g. ``per_year``.
    scope: Mapped[str | None] = mapped_column(String(32))

    tag: Mapped[Tag] = relationship()
    version: Mapped[ArticleVersion] = relationship(back_populates="mentions")

    @property
    def matched(self) -> str:
        """The words that matched, exactly as in the version."""
        if self.stored_matched is not None:
            return self.stored_matched
        return self._field_text()[self.start : self.end]

    @property
    def sentence(self) -> str:
        """The sentence around the match, whitespace collapsed."""
        if self.stored_sentence is not None or self.sentence_start is None:
            return self.stored_sentence or ""
        return sentence_at(self._field_text(), self.sentence_start, self.sentence_end or 0)

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

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_alerts_created_at", "created_at"),
    )

    id: Mapped[intpk]
    dedup_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="info")
    article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="SET NULL")
    )
    feed_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("feeds.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[utc]
    next_attempt_at: Mapped[utc_or_none]
    sent_at: Mapped[utc_or_none]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When a delivery run claimed it, and that run's token: a claim older than the claim
    #: timeout belongs to a run that died, and another run may take it over.
    claimed_at: Mapped[utc_or_none]
    claim_token: Mapped[str | None] = mapped_column(String(36))
    #: Channels that already accepted it, so a retry sends only to the others.
    delivered_channels: Mapped[list[str] | None] = mapped_column(JSON)
    #: Why it was skipped, held or merged, in words.
    note: Mapped[str | None] = mapped_column(Text)
    #: The alert whose message carried this one (debounce).
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("alerts.id", ondelete="SET NULL")
    )
    #: The digest alert that lists this one.
    digest_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("alerts.id", ondelete="SET NULL")
    )


def topic_keys(topics: str | None) -> tuple[str, ...]:
    """The topic keys a version's ``topics`` column holds, primary first."""
    return tuple((topics or "").split())
