"""Glue between parsers and storage: turn parsed documents into ``ArticleIntent``s.

Everything here is pure given the tagger; flows call it between fetching and storing, in
their own process or in a worker process (``flows.cpu``), which is why this module imports
neither the database layer nor Prefect.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from db.intents import ArticleIntent, FeedForUpdate, RecheckTarget, TagSpec
from parsers.dedup import sketch, sketch_for
from parsers.feeds import EntryData, FeedData
from parsers.language import detect_language
from parsers.seeds import SeedDocument
from parsers.tagging import PENDING_TAGS, Tagger, tags_pending
from parsers.taxonomy import Taxonomy
from parsers.text import content_hash
from parsers.urls import host_of
from parsers.validators import usable_etag, usable_last_modified

if TYPE_CHECKING:  # page extraction is loaded by the runs and workers that read pages
    from parsers.articles import ArticleData

# Tag row for numbers found in text: figures are mentions too, but of no taxonomy concept.
FIGURE_TAG = TagSpec(key="figure", kind="figure", label_en="Figure", label_fr="Chiffre")


def tag_specs(taxonomy: Taxonomy) -> list[TagSpec]:
    """Every taxonomy concept as a tags row, plus the figure pseudo-concept."""
    specs = [
        TagSpec(key=c.key, kind=c.kind, label_en=c.label_en, label_fr=c.label_fr)
        for c in taxonomy.concepts
    ]
    return [*specs, FIGURE_TAG]


def intents_from_feed(
    feed: FeedForUpdate, data: FeedData, tagger: Tagger, page_min_words: int | None = None
) -> tuple[list[ArticleIntent], int]:
    """Intents for a feed's entries, and how many entries were dropped as in-feed duplicates.

    A feed that lists one story twice (same canonical URL, or same guid) yields one intent.
    With ``page_min_words`` (a pass that reads article pages), an entry that needs its page
    (``needs_page``) is left with ``PENDING_TAGS``: its page's text is tagged instead, and
    ``tagged`` tags the summary wherever it is kept.
    """
    intents: list[ArticleIntent] = []
    seen: set[str] = set()
    for entry in data.entries:
        if not entry.url or entry.url in seen or entry.guid in seen:
            continue
        seen.update((entry.url, entry.guid))
        intent = intent_from_entry(feed, data, entry)
        if page_min_words is None or not needs_page(intent, page_min_words):
            intent = replace(intent, tags=tagger.tag(intent.title, intent.text))
        intents.append(intent)
    dropped = sum(1 for entry in data.entries if entry.url) - len(intents)
    return intents, dropped


def entries_within_cap(
    entries: Iterable[EntryData], cap: int, known: Collection[str] = frozenset()
) -> tuple[tuple[EntryData, ...], int, int]:
    """The entries to read this pass, how many new ones are left for the next, and how many
    the document has.

    At most ``cap`` entries this feed has not brought before (``known`` guids), in document
    order, plus the known ones among its first ``cap`` (edits show at the top of a feed): a
    document within the cap is read whole, as always. Reading and storing 52,000 items in
    one pass held 614 MB and wrote 52,000 alerts; the next pass now gets the next ``cap``
    new ones. Only the chosen entries are kept, so memory stays bounded however many are
    read (``parsers.feeds.read_feed`` reads a long document a slice at a time).
    """
    chosen: list[EntryData] = []
    new = left = seen = 0
    for index, entry in enumerate(entries):
        seen += 1
        if not entry.url:
            continue  # never stored, whatever the cap
        if entry.guid in known:
            if index < cap:
                chosen.append(entry)
        elif new < cap:
            chosen.append(entry)
            new += 1
        else:
            left += 1
    return tuple(chosen), left, seen


def intent_from_entry(feed: FeedForUpdate, data: FeedData, entry: EntryData) -> ArticleIntent:
    """One feed entry, its tags still ``PENDING_TAGS`` (``intents_from_feed`` tags it)."""
    return ArticleIntent(
        canonical_url=entry.url,
        url=entry.url,
        title=entry.title,
        text=entry.text,
        content_hash=content_hash(entry.title, entry.text),
        language=detect_language(
            f"{entry.title}\n{entry.text}", entry.language or data.language or feed.language
        ),
        published_at=entry.published_at or entry.updated_at,
        source=feed.name,
        site=host_of(entry.url),
        origin="feed",
        tags=PENDING_TAGS,
        byline=entry.author,
        feed_id=feed.id,
        guid=entry.guid,
    )


def intents_from_seeds(seeds: Iterable[SeedDocument], tagger: Tagger) -> list[ArticleIntent]:
    """The seed articles, tagged, ready to store."""
    return [
        ArticleIntent(
            canonical_url=seed.url,
            url=seed.url,
            title=seed.title,
            text=seed.text,
            content_hash=content_hash(seed.title, seed.text),
            language=seed.language,
            published_at=seed.published_at,
            source="seed",
            site="seed",
            origin="seed",
            tags=tagger.tag(seed.title, seed.text),
        )
        for seed in seeds
    ]


def needs_page(intent: ArticleIntent, min_words: int) -> bool:
    """True when the feed gave only a summary, so the article page must be fetched."""
    return intent.url.startswith(("http://", "https://")) and len(intent.text.split()) < min_words


def with_page(
    intent: ArticleIntent,
    page: ArticleData,
    raw: bytes,
    headers: dict[str, str],
    tagger: Tagger,
) -> ArticleIntent:
    """The intent with the page's text and metadata, or the feed's text with the reason why not.

    The page is distrusted when the extractor flags it (consent wall, paywall) or finds less
    text than the feed summary had; the article is then still watched, so a later re-check
    can replace the summary with the real text.
    """
    reason = page.suspect_reason
    if reason is None and len(page.text.split()) <= len(intent.text.split()):
        reason = f"page text ({page.extraction}) is no longer than the feed summary"
        # Still what the page says: a re-check that finds it again has found no edit.
        return replace(with_fallback(intent, reason), page_hash=page.content_hash)
    if reason is not None:
        return with_fallback(intent, reason)
    title = page.title or intent.title
    canonical = page.canonical_url or intent.canonical_url
    return replace(
        intent,
        canonical_url=canonical,
        site=host_of(canonical),
        title=title,
        text=page.text,
        content_hash=page.content_hash if title == page.title else content_hash(title, page.text),
        language=detect_language(f"{title}\n{page.text}", page.language or intent.language),
        published_at=intent.published_at or page.published_at,
        byline=page.author or intent.byline,
        page_hash=page.content_hash,
        origin="page",
        tags=tagger.tag(title, page.text),
        raw_compressed=zlib.compress(raw, 6),
        raw_content_type=headers.get("content-type"),
        page_etag=usable_etag(headers.get("etag")),
        page_last_modified=usable_last_modified(headers.get("last-modified")),
        watch_page=True,
        sketch=None,  # the feed text's sketch; ``sketched`` makes the page text's
    )


def sketched(intent: ArticleIntent) -> ArticleIntent:
    """The intent with its text's near-duplicate sketch when it is relevant (only relevant
    articles are clustered). Workers call it on what they read, which takes the costliest
    part of filing a story off the storing process."""
    if not intent.tags.relevant or sketch_for(intent.content_hash, intent.sketch):
        return intent
    return replace(intent, sketch=sketch(intent.text, intent.content_hash))


def tagged(intent: ArticleIntent, tagger: Tagger) -> ArticleIntent:
    """The intent with its own text tagged (and sketched) if its tags are still pending:
    a feed item whose page was to replace its summary, and did not."""
    if not tags_pending(intent.tags):
        return intent
    return sketched(replace(intent, tags=tagger.tag(intent.title, intent.text)))


def with_fallback(intent: ArticleIntent, reason: str) -> ArticleIntent:
    """The intent keeping the feed's text, recording why the page could not replace it."""
    return replace(intent, fallback_reason=reason, watch_page=True)


def intent_from_page(
    target: RecheckTarget, page: ArticleData, raw: bytes, headers: dict[str, str], tagger: Tagger
) -> ArticleIntent:
    """A re-checked page as a candidate version of an article already stored.

    The page's own distrust (consent wall, paywall) travels as ``suspect_reason``, so the
    decider records it without making a version of it.
    """
    title = page.title
    return ArticleIntent(
        canonical_url=target.url,
        url=target.url,
        title=title,
        text=page.text,
        content_hash=page.content_hash,
        language=detect_language(f"{title}\n{page.text}", page.language or target.language),
        published_at=target.published_at or page.published_at,
        byline=page.author,
        page_hash=None if page.suspect_reason else page.content_hash,
        source=target.source,
        site=host_of(target.url),
        origin="page",
        tags=tagger.tag(title, page.text),
        raw_compressed=zlib.compress(raw, 6),
        raw_content_type=headers.get("content-type"),
        suspect_reason=page.suspect_reason,
        page_etag=usable_etag(headers.get("etag")),
        page_last_modified=usable_last_modified(headers.get("last-modified")),
        watch_page=True,
    )
