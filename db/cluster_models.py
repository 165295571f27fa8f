"""Story-cluster tables: signatures and LSH keys of articles, and the clusters they form.

A cluster is a set of articles that are copies of one story (``parsers.dedup``): one row in
``clusters``, one row per article in ``cluster_members``. Every fingerprinted article belongs
to exactly one cluster, a singleton until a copy turns up. Migration 0004 creates them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, intpk, utc, utc_or_none


class ArticleSignature(Base):
    """An article's fingerprint: what its copies are recognised by."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    #: MinHash signature, ``parsers.dedup.NUM_PERM`` little-endian uint32 values.
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    #: Words in the normalised text; below ``SHORT_TEXT_WORDS`` the title rule applies.
    words: Mapped[int] = mapped_column(Integer)
    #: Title as the short-text rule compares it (``parsers.dedup.normalised_title``).
    normalised_title: Mapped[str] = mapped_column(Text)
    #: The outlet the article counts for (``parsers.dedup.outlet_of``).
    outlet: Mapped[str]
    #: Language subtag, or "und": only articles of one language are compared.
    language: Mapped[str] = mapped_column(String(8))
    published_at: Mapped[utc_or_none]
    #: When the article was first fingerprinted.
    first_seen_at: Mapped[utc]

    @property
    def seen_at(self) -> datetime:
        """When the story appeared: published, else first seen."""
        return self.published_at or self.first_seen_at


class LshBand(Base):
    """One LSH key of an article; articles sharing a (band, hash) are candidate copies."""

    __tablename__ = "lsh_bands"
    # On SQLite a row is its key: WITHOUT ROWID stores it once (migration 0014).
    __table_args__ = (
        Index("ix_lsh_bands_band_hash", "band", "hash"),
        {"sqlite_with_rowid": False},
    )

    # (article_id, band) is the primary key: one key per band and article.
    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    #: 0 to BANDS - 1, or ``parsers.dedup.TITLE_BAND`` for the title key.
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger)


class Cluster(Base):
    """A story, and the numbers that describe its spread."""

    __tablename__ = "clusters"

    id: Mapped[intpk]
    #: The earliest member (ties: the longest text): whose title names the story.
    representative_article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="SET NULL")
    )
    size: Mapped[int] = mapped_column(Integer)
    #: Distinct outlets among the members.
    outlet_count: Mapped[int] = mapped_column(Integer)
    #: Highest outlet threshold a growth alert was written for (0: none). Kept through
    #: merges as the maximum of the merged clusters, so a story alerts once per threshold.
    alerted_outlets: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[utc]
    updated_at: Mapped[utc]
    #: The representative's title.
    title: Mapped[str] = mapped_column(Text)


class ClusterMember(Base):
    """An article's place in a cluster."""

    __tablename__ = "cluster_members"
    __table_args__ = (UniqueConstraint("article_id"),)

    id: Mapped[intpk]
    cluster_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("clusters.id", ondelete="CASCADE"), index=True
    )
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    outlet: Mapped[str]
    joined_at: Mapped[utc]
    #: Best similarity to the member it matched when it joined; NULL for a cluster's founder.
    similarity: Mapped[float | None] = mapped_column(Float)


class ArticlePassage(Base):
    """One passage of an article (``parsers.dedup.passages``); migration 0009 creates them.

    Articles sharing passages are candidate copies, whatever their Jaccard similarity.
    """

    __tablename__ = "article_passages"
    # On SQLite a row is its key: WITHOUT ROWID stores it once (migration 0014).
    __table_args__ = (
        Index("ix_article_passages_hash", "hash"),
        {"sqlite_with_rowid": False},
    )

    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The passage's hash with its digits masked.
    shape: Mapped[int] = mapped_column(BigInteger)
