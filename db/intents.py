"""What the pipeline asks storage to write (``*Intent``) and what storage reads back
for an update (``*ForUpdate``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from parsers.dedup import TextSketch
from parsers.schedule import Event, Health
from parsers.tagging import TagResult

if TYPE_CHECKING:
    from db.story_filing import ClusterAssignment
    from db.watches import WatchHit


@dataclass(frozen=True)
class ArticleIntent:
    """One parsed, canonicalised and tagged document to store."""

    #: Canonical URL: the article's identity.
    canonical_url: str
    #: The URL as the source gave it (kept on the entry).
    url: str
    title: str
    text: str
    #: SHA-256 of the normalised title and text (``parsers.text.content_hash``).
    content_hash: str
    language: str | None
    published_at: datetime | None
    #: Human name of the source (feed name, "seed", file name).
    source: str
    #: Host of the canonical URL, or a label for non-web sources.
    site: str
    #: Where the text came from: seed, feed, page or import.
    origin: str
    tags: TagResult
    #: The feed and item id this came from, when it came from a feed.
    feed_id: int | None = None
    guid: str | None = None
    #: The page as fetched, zlib-compressed, to archive with the version, and its content
    #: type. Compressed where the page was extracted (a worker), not by the storing process.
    raw_compressed: bytes | None = None
    raw_content_type: str | None = None
    #: Why the extractor distrusts this text (consent wall, paywall), if it does.
    suspect_reason: str | None = None
    #: Why the page text could not be used and the feed's text stands in for it.
    fallback_reason: str | None = None
    #: ``content_hash`` of the page (its own title and text) when a page was read and trusted,
    #: whether its text or the feed's is stored: what a re-check compares the page with.
    page_hash: str | None = None
    #: Page validators, kept for cheap re-checks.
    page_etag: str | None = None
    page_last_modified: str | None = None
    #: True when a page was (or should be) fetched for this article, so it is re-checked.
    watch_page: bool = False
    #: Who wrote it, as the feed item or the page names them.
    byline: str | None = None
    #: Near-duplicate sketch of ``text``, made by the worker that read it (relevant only).
    sketch: TextSketch | None = None


@dataclass(frozen=True)
class RecheckTarget:
    """An article whose page is due for a re-check."""

    id: int
    url: str
    source: str
    language: str | None
    published_at: datetime | None
    page_etag: str | None
    page_last_modified: str | None


@dataclass(frozen=True)
class FeedForUpdate:
    """A feed as read from storage, with what a conditional fetch needs."""

    id: int
    url: str
    name: str
    language: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    interval_minutes: int | None
    health: Health
    consecutive_failures: int
    failure_weight: float
    #: Entries the last poll that found any saw in the document; a feed longer than the
    #: per-pass cap on new items is read against the guids it already brought.
    entries_last_seen: int = 0
    #: When the feed was added: items published before it are a backfill, never alerted.
    created_at: datetime | None = None
    #: Whether a poll of the feed ever succeeded: its first pass backfills undated items too.
    polled_before: bool = True


@dataclass
class StoreCounts:
    """What storing a batch did; summed into the run summary."""

    new_articles: int = 0
    new_versions: int = 0
    unchanged: int = 0
    duplicates: int = 0
    #: Extractions recorded but not trusted as versions (consent walls, shrinkage, churn).
    suspect: int = 0
    #: Story-cluster assignments made for this batch's relevant articles.
    clustered: list[ClusterAssignment] = field(default_factory=list)
    alerts: int = 0
    #: (id, canonical URL) of the relevant articles this batch created.
    new_relevant: list[tuple[int, str]] = field(default_factory=list)
    #: New relevant articles older than their feed's addition: stored, not alerted.
    backfilled: int = 0
    #: New relevant articles that joined a recent story: named in its alert instead.
    joined_stories: int = 0
    #: New relevant articles whose alerts became one flood alert of their feed.
    flooded: int = 0
    #: The watch alerts this batch wrote.
    watched: list[WatchHit] = field(default_factory=list)

    @property
    def near_duplicates(self) -> int:
        """Articles that joined another outlet's story."""
        return sum(1 for a in self.clustered if a.outcome in ("joined", "merged"))

    def add(self, other: StoreCounts) -> None:
        """Accumulate another batch's counts into this one."""
        self.new_articles += other.new_articles
        self.new_versions += other.new_versions
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.suspect += other.suspect
        self.clustered.extend(other.clustered)
        self.alerts += other.alerts
        self.new_relevant.extend(other.new_relevant)
        self.backfilled += other.backfilled
        self.joined_stories += other.joined_stories
        self.flooded += other.flooded
        self.watched.extend(other.watched)


class PollOutcome(StrEnum):
    """What polling a feed came to."""

    #: A new body, parsed.
    FETCHED = "fetched"
    #: 304 Not Modified.
    NOT_MODIFIED = "not_modified"
    #: A 200 whose body hashes as the stored one: the server ignores validators; no parse.
    UNCHANGED_BODY = "unchanged_body"
    #: A fetch, parse or storage error, recorded on the feed.
    FAILED = "failed"
    #: Not polled: the pass reached its deadline; the next pass polls it (never recorded).
    POSTPONED = "postponed"


@dataclass(frozen=True)
class PollIntent:
    """The outcome of polling one feed, to record on the feed and in the fetch log."""

    feed_id: int
    url: str
    started_at: datetime
    finished_at: datetime
    #: HTTP status, when a response arrived.
    status: int | None
    #: Never ``POSTPONED``: a postponed poll is not recorded.
    outcome: PollOutcome
    bytes: int
    elapsed_ms: int
    entries: int
    #: A reason a person can act on, when the poll failed.
    error: str | None
    #: New validators and body hash; None keeps the stored ones.
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_check_at: datetime
    health: Health
    consecutive_failures: int
    failure_weight: float
    #: "broken" or "recovered" when this poll changed the feed's standing, else None.
    event: Event | None
    #: True when the document was not read to its end (items left for the next pass): the
    #: stored validators and body hash are cleared, so that the next fetch brings it all again.
    forget_validators: bool = False


@dataclass(frozen=True)
class TagSpec:
    """A taxonomy concept as a tags row."""

    key: str
    kind: str
    label_en: str
    label_fr: str
