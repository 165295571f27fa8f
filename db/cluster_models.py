"""Story-cluster tables: signatures and LSH keys of articles, and the clusters they form.

A cluster is a set of articles that are copies of one story (``parsers.dedup``): one row in
``clusters``, one row per article in ``cluster_members``. Every fingerprinted article belongs
to exactly one cluster, a singleton until a copy turns up. Migration 0004 creates them.
The tables, with what each column holds, are in ``db.schema``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from db import schema
from db.base import Base


class ArticleSignature(Base):
    """An article's fingerprint: what its copies are recognised by."""

    __table__ = schema.article_signatures

    article_id: Mapped[int]
    minhash: Mapped[bytes]
    words: Mapped[int]
    normalised_title: Mapped[str]
    outlet: Mapped[str]
    language: Mapped[str]
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]

    @property
    def seen_at(self) -> datetime:
        """When the story appeared: published, else first seen."""
        return self.published_at or self.first_seen_at


class LshBand(Base):
    """One LSH key of an article; articles sharing a (band, hash) are candidate copies."""

    __table__ = schema.lsh_bands

    article_id: Mapped[int]
    band: Mapped[int]
    hash: Mapped[int]


class Cluster(Base):
    """A story, and the numbers that describe its spread."""

    __table__ = schema.clusters

    id: Mapped[int]
    representative_article_id: Mapped[int | None]
    size: Mapped[int]
    outlet_count: Mapped[int]
    alerted_outlets: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    title: Mapped[str]


class ClusterMember(Base):
    """An article's place in a cluster."""

    __table__ = schema.cluster_members

    id: Mapped[int]
    cluster_id: Mapped[int]
    article_id: Mapped[int]
    outlet: Mapped[str]
    joined_at: Mapped[datetime]
    similarity: Mapped[float | None]


class ArticlePassage(Base):
    """One passage of an article (``parsers.dedup.passages``); migration 0009 creates them.

    Articles sharing passages are candidate copies, whatever their Jaccard similarity.
    """

    __table__ = schema.article_passages

    article_id: Mapped[int]
    hash: Mapped[int]
    shape: Mapped[int]
