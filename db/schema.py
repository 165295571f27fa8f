"""Vigie's tables as SQLAlchemy Core sees them: the one definition of the schema.

The ORM classes in ``db.models`` and ``db.cluster_models`` map these tables (``__table__``)
and add relationships; Alembic compares migrations with this metadata. The reading commands
query the tables here directly: importing the ORM and mapping the classes cost each of them
about 0.1 CPU-s of start-up (``docs/cli.md``), for lists that are plain rows anyway.

Tables are grouped as: sources (feeds, fetches), content (articles, entries, versions, raw
documents), tracked figures, tagging (tags, mentions), operations (alerts) and story
clusters (signatures, LSH keys, passages, clusters and their members).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.orm import Session

    #: What reads the database: a Core connection (the reading commands) or an ORM session
    #: (the flows); the read-side queries take either.
    Reader: TypeAlias = Connection | Session

# Named constraints: Alembic can drop or alter them by name, and the upserts in ``repo`` name
# the unique constraints they rely on.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Vigie stores UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FieldCode(TypeDecorator[str]):
    """Which string of a version a mention indexes, "title" or "text", stored as 0 or 1: a
    small integer takes no bytes beyond its row header on SQLite (migration 0014)."""

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        try:
            return _FIELD_CODES[value]
        except KeyError:
            raise ValueError(f"a mention indexes 'title' or 'text', not {value!r}") from None

    def process_result_value(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else _FIELD_NAMES[value]


#: The strings a mention can index, by their stored code (the position here).
MENTION_FIELDS = ("title", "text")
_FIELD_CODES = {name: code for code, name in enumerate(MENTION_FIELDS)}
_FIELD_NAMES = dict(enumerate(MENTION_FIELDS))

# BIGINT on PostgreSQL, but INTEGER on SQLite so that it stays an auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def dialect_name(reader: Reader) -> str:
    """The database dialect ("postgresql" or "sqlite") of a connection or session."""
    dialect = getattr(reader, "dialect", None)  # a Connection's; a Session has get_bind()
    return (dialect or reader.get_bind().dialect).name  # type: ignore[union-attr]


# Core columns are nullable unless told otherwise; these say which, as the ORM's
# ``Mapped[X]`` and ``Mapped[X | None]`` did.
def _required(name: str, *args: Any, **kwargs: Any) -> Column[Any]:
    return Column(name, *args, nullable=False, **kwargs)


def _optional(name: str, *args: Any, **kwargs: Any) -> Column[Any]:
    return Column(name, *args, nullable=True, **kwargs)


def _id() -> Column[Any]:
    return Column("id", BigId, primary_key=True)


def _reference(name: str, target: str, on_delete: str, **kwargs: Any) -> Column[Any]:
    """A nullable foreign key to ``target`` (``table.column``)."""
    return _optional(name, BigId, ForeignKey(target, ondelete=on_delete), **kwargs)


def _owner(name: str, target: str, **kwargs: Any) -> Column[Any]:
    """A required foreign key to the row this one belongs to (deleted with it)."""
    return _required(name, BigId, ForeignKey(target, ondelete="CASCADE"), **kwargs)


def _utc(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, UTCDateTime(), nullable=nullable)


#: A name or short label (the ORM's ``str``).
_NAME = String(255)
#: A URL.
_URL = String(2048)


# --- sources -------------------------------------------------------------------------------

#: A feed Vigie polls, with its HTTP validators, schedule and health.
feeds = Table(
    "feeds",
    metadata,
    _id(),
    _required("url", _URL),
    _required("name", _NAME),
    _optional("language", String(8)),
    # Minutes between polls for this feed; NULL means the global setting.
    _optional("interval_minutes", Integer),
    _required("enabled", Boolean, default=True),
    _optional("etag", String(1024)),
    _optional("last_modified", String(255)),
    # SHA-256 of the last body parsed, to skip parsing when a server ignores validators.
    _optional("body_hash", String(64)),
    _utc("next_check_at", nullable=True),
    _required("health", String(16), default="healthy"),
    _required("consecutive_failures", Integer, default=0),
    _required("failure_weight", Float, default=0.0),
    _optional("last_error", Text),
    _optional("last_status", Integer),
    _utc("last_fetched_at", nullable=True),
    _utc("last_success_at", nullable=True),
    _utc("created_at"),
    UniqueConstraint("url"),
)

#: One attempt to fetch a feed or page: the log behind a feed's health.
fetches = Table(
    "fetches",
    metadata,
    _id(),
    _reference("feed_id", "feeds.id", "CASCADE"),
    # Set for article page fetches (feed_id is then NULL).
    _reference("article_id", "articles.id", "CASCADE", index=True),
    _required("url", _URL),
    _utc("started_at"),
    _optional("status", Integer),
    _required("bytes", Integer, default=0),
    _required("elapsed_ms", Integer, default=0),
    _required("not_modified", Boolean, default=False),
    _required("entries_found", Integer, default=0),
    _optional("error", Text),
    Index("ix_fetches_feed_id_started_at", "feed_id", "started_at"),
)

# The partial index of fetches that found entries (migration 0016) is in ``db.models``.

# --- content -------------------------------------------------------------------------------

#: A story at one canonical URL; its text lives in versions.
articles = Table(
    "articles",
    metadata,
    _id(),
    _required("canonical_url", _URL),
    _required("title", Text),
    # Human name of where it came from: the feed's name, "seed", or the site's host.
    _required("source", _NAME),
    _required("site", _NAME),
    # Who wrote it, as the feed or the page says (the latest version's, when it says).
    _optional("byline", Text),
    _optional("language", String(8)),
    _utc("published_at", nullable=True),
    _utc("first_seen_at"),
    # When the page is due to be re-checked for edits; NULL once it is too old to watch.
    _utc("next_check_at", nullable=True),
    _utc("last_checked_at", nullable=True),
    # Validators of the article page, for cheap re-checks.
    _optional("page_etag", String(1024)),
    _optional("page_last_modified", String(255)),
    # ``content_hash`` of the page (its own title and text) as last read and trusted, whether
    # or not it became the text: a re-check versions the page only when the page changed.
    _optional("page_hash", String(64)),
    # Why the last extraction was not trusted (consent wall, paywall, shrank), if it was not.
    _optional("suspect_reason", Text),
    _optional(
        "current_version_id",
        BigId,
        ForeignKey("article_versions.id", use_alter=True, ondelete="SET NULL"),
    ),
    _optional("cluster_id", BigId),
    UniqueConstraint("canonical_url"),
)

#: A feed item (feed, guid) and the article it points to.
entries = Table(
    "entries",
    metadata,
    _id(),
    _owner("feed_id", "feeds.id"),
    _required("guid", String(1024)),
    _owner("article_id", "articles.id", index=True),
    # The item's link; NULL when it is the article's canonical URL, as it mostly is
    # (``entry_url`` gives it back either way).
    _optional("url", _URL),
    _utc("first_seen_at"),
    UniqueConstraint("feed_id", "guid"),
)

#: One distinct text of an article; ``n`` counts from 1.
article_versions = Table(
    "article_versions",
    metadata,
    _id(),
    _owner("article_id", "articles.id"),
    _required("n", Integer),
    _required("content_hash", String(64)),
    _required("title", Text),
    _required("text", Text),
    # Where the text came from: seed, feed, page or import.
    _required("origin", String(16)),
    # Why the page text could not be used when the feed summary stands in for it.
    _optional("fallback_reason", Text),
    _utc("fetched_at"),
    # Space-separated change kinds relative to the previous version ("new" for n = 1).
    _required("change_kinds", String(255), default="new"),
    _optional("diff", JSON),
    _required("relevance", Float, default=0.0),
    _required("relevant", Boolean, default=False),
    # What the text is about, space-separated topic keys, primary topic first (empty when
    # not relevant). Topic mentions outside it are passing mentions.
    _required("topics", String(255), default="", server_default=""),
    # Why the tagger read only part of the text (too long, or its CPU budget spent).
    _optional("tag_note", Text),
    _required("taxonomy_version", String(64)),
    UniqueConstraint("article_id", "n"),
    Index("ix_article_versions_content_hash", "content_hash"),
)

#: Compressed bytes behind a version, so it can be re-extracted without refetching.
raw_documents = Table(
    "raw_documents",
    metadata,
    _id(),
    _owner("version_id", "article_versions.id"),
    _required("url", _URL),
    _optional("content_type", _NAME),
    _required("compressed", LargeBinary),
    _utc("fetched_at"),
    UniqueConstraint("version_id"),
)

# --- tracked figures -------------------------------------------------------------------------

#: The latest value of a figure Vigie tracks across articles (``db.models.TrackedFigure``).
tracked_figures = Table(
    "tracked_figures",
    metadata,
    _id(),
    # ``topic|unit|scope|jurisdiction``.
    _required("key", _NAME),
    _required("value", Float),
    _required("matched", Text),
    _required("sentence", Text),
    _reference("article_id", "articles.id", "SET NULL"),
    _reference("version_id", "article_versions.id", "SET NULL"),
    _utc("updated_at"),
    UniqueConstraint("key"),
)

#: An article version stating a tracked figure (``db.models.FigureStatement``).
figure_statements = Table(
    "figure_statements",
    metadata,
    _id(),
    # The tracked figure's ``topic|unit|scope|jurisdiction``.
    _required("key", _NAME),
    _required("value", Float),
    # The figure as written ("45 000 immigrants permanents par année").
    _required("matched", Text),
    # The sentence that states it.
    _required("sentence", Text),
    _owner("article_id", "articles.id"),
    _owner("version_id", "article_versions.id"),
    # When it was stated: the article's publication time, else when Vigie read it.
    _utc("stated_at"),
    # When an analyst marked it wrong; NULL while it counts.
    _utc("wrong_at", nullable=True),
    UniqueConstraint("version_id", "key"),
    Index("ix_figure_statements_key_stated_at", "key", "stated_at"),
)

# --- tagging -------------------------------------------------------------------------------

#: A taxonomy concept: topic, programme, actor, organisation, place, or figure.
tags = Table(
    "tags",
    metadata,
    _id(),
    _required("key", String(64)),
    _required("kind", String(16)),
    _required("label_en", _NAME),
    _required("label_fr", _NAME),
    UniqueConstraint("key"),
)

#: Evidence for a tag: where in which version, and the sentence around it
#: (``db.models.Mention`` reads the words and the sentence back from the version).
mentions = Table(
    "mentions",
    metadata,
    _id(),
    # No index of its own: the unique constraint's index starts with it.
    _owner("version_id", "article_versions.id"),
    _owner("tag_id", "tags.id"),
    # "title" or "text": which string of the version ``start``/``end`` index.
    _required("field", FieldCode()),
    _required("start", Integer),
    _required("end", Integer),
    # The sentence as a span of the same string (``parsers.evidence``).
    _optional("sentence_start", Integer),
    _optional("sentence_end", Integer),
    # Stored only when the offsets cannot give the text back.
    _optional("matched", Text),
    _optional("sentence", Text),
    # For figures: the number, its unit, and the topic it argues.
    _optional("value", Float),
    _optional("unit", String(32)),
    _optional("topic", String(64)),
    # For figures: what the number counts over, e.g. ``per_year``.
    _optional("scope", String(32)),
    UniqueConstraint("version_id", "tag_id", "field", "start"),
)

# --- operations ----------------------------------------------------------------------------

#: Outbox rows: written in the transaction that caused them, delivered later, exactly once
#: (``db.models.Alert`` describes the statuses).
alerts = Table(
    "alerts",
    metadata,
    _id(),
    _required("dedup_key", String(255)),
    _required("kind", String(32)),
    _required("severity", String(16), default="info"),
    _reference("article_id", "articles.id", "SET NULL"),
    _reference("feed_id", "feeds.id", "SET NULL"),
    _required("payload", JSON),
    _required("status", String(16), default="pending"),
    _required("attempts", Integer, default=0),
    _utc("created_at"),
    _utc("next_attempt_at", nullable=True),
    _utc("sent_at", nullable=True),
    _optional("last_error", Text),
    # When a delivery run claimed it, and that run's token: a claim older than the claim
    # timeout belongs to a run that died, and another run may take it over.
    _utc("claimed_at", nullable=True),
    _optional("claim_token", String(36)),
    # Channels that already accepted it, so a retry sends only to the others.
    _optional("delivered_channels", JSON),
    # Why it was skipped, held or merged, in words.
    _optional("note", Text),
    # The alert whose message carried this one (debounce).
    _reference("merged_into_id", "alerts.id", "SET NULL"),
    # The digest alert that lists this one.
    _reference("digest_id", "alerts.id", "SET NULL"),
    UniqueConstraint("dedup_key"),
    Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_alerts_created_at", "created_at"),
    # A story's alert is found by its articles (migration 0015): no scan of the outbox.
    Index("ix_alerts_article_id", "article_id"),
)

# --- story clusters (migration 0004; passages 0009) -----------------------------------------

#: An article's fingerprint: what its copies are recognised by.
article_signatures = Table(
    "article_signatures",
    metadata,
    _owner("article_id", "articles.id", primary_key=True),
    # MinHash signature, ``parsers.dedup.NUM_PERM`` little-endian uint32 values.
    _required("minhash", LargeBinary),
    # Words in the normalised text; below ``SHORT_TEXT_WORDS`` the title rule applies.
    _required("words", Integer),
    # Title as the short-text rule compares it (``parsers.dedup.normalised_title``).
    _required("normalised_title", Text),
    # The outlet the article counts for (``parsers.dedup.outlet_of``).
    _required("outlet", _NAME),
    # Language subtag, or "und": only articles of one language are compared.
    _required("language", String(8)),
    _utc("published_at", nullable=True),
    # When the article was first fingerprinted.
    _utc("first_seen_at"),
)

#: One LSH key of an article; articles sharing a (band, hash) are candidate copies.
lsh_bands = Table(
    "lsh_bands",
    metadata,
    # (article_id, band) is the primary key: one key per band and article.
    _owner("article_id", "articles.id", primary_key=True),
    # 0 to BANDS - 1, or ``parsers.dedup.TITLE_BAND`` for the title key.
    _required("band", SmallInteger, primary_key=True),
    _required("hash", BigInteger),
    Index("ix_lsh_bands_band_hash", "band", "hash"),
    # On SQLite a row is its key: WITHOUT ROWID stores it once (migration 0014).
    sqlite_with_rowid=False,
)

#: A story, and the numbers that describe its spread.
clusters = Table(
    "clusters",
    metadata,
    _id(),
    # The earliest member (ties: the longest text): whose title names the story.
    _reference("representative_article_id", "articles.id", "SET NULL"),
    _required("size", Integer),
    # Distinct outlets among the members.
    _required("outlet_count", Integer),
    # Highest outlet threshold a growth alert was written for (0: none). Kept through
    # merges as the maximum of the merged clusters, so a story alerts once per threshold.
    _required("alerted_outlets", Integer, default=0),
    _utc("created_at"),
    _utc("updated_at"),
    # The representative's title.
    _required("title", Text),
)

#: An article's place in a cluster.
cluster_members = Table(
    "cluster_members",
    metadata,
    _id(),
    _owner("cluster_id", "clusters.id", index=True),
    _owner("article_id", "articles.id"),
    _required("outlet", _NAME),
    _utc("joined_at"),
    # Best similarity to the member it matched when it joined; NULL for a cluster's founder.
    _optional("similarity", Float),
    UniqueConstraint("article_id"),
)

#: One passage of an article (``parsers.dedup.passages``): articles sharing passages are
#: candidate copies, whatever their Jaccard similarity.
article_passages = Table(
    "article_passages",
    metadata,
    _owner("article_id", "articles.id", primary_key=True),
    _required("hash", BigInteger, primary_key=True),
    # The passage's hash with its digits masked.
    _required("shape", BigInteger),
    Index("ix_article_passages_hash", "hash"),
    # On SQLite a row is its key: WITHOUT ROWID stores it once (migration 0014).
    sqlite_with_rowid=False,
)


def entry_url(url: str | None, canonical_url: str) -> str:
    """An entry's link, from its ``url`` column and its article's canonical URL."""
    return canonical_url if url is None else url


def topic_keys(topics: str | None) -> tuple[str, ...]:
    """The topic keys a version's ``topics`` column holds, primary first."""
    return tuple((topics or "").split())
