"""Glue between parsers and storage: turn parsed documents into ``ArticleIntent``s.

Everything here is pure given the tagger; flows call it between fetching and storing.
"""

from __future__ import annotations

from collections.abc import Iterable

from db.intents import ArticleIntent, FeedForUpdate, StoreCounts
from db.repo import TagSpec
from flows.report import NewArticle
from parsers.feeds import EntryData, FeedData
from parsers.language import detect_language
from parsers.seeds import SeedDocument
from parsers.tagging import Tagger
from parsers.taxonomy import Taxonomy
from parsers.text import content_hash
from parsers.urls import host_of

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
    feed: FeedForUpdate, data: FeedData, tagger: Tagger
) -> tuple[list[ArticleIntent], int]:
    """Intents for a feed's entries, and how many entries were dropped as in-feed duplicates.

    A feed that lists one story twice (same canonical URL, or same guid) yields one intent.
    """
    intents: list[ArticleIntent] = []
    seen: set[str] = set()
    for entry in data.entries:
        if not entry.url or entry.url in seen or entry.guid in seen:
            continue
        seen.update((entry.url, entry.guid))
        intents.append(intent_from_entry(feed, data, entry, tagger))
    dropped = sum(1 for entry in data.entries if entry.url) - len(intents)
    return intents, dropped


def intent_from_entry(
    feed: FeedForUpdate, data: FeedData, entry: EntryData, tagger: Tagger
) -> ArticleIntent:
    """One feed entry, tagged, ready to store."""
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
        tags=tagger.tag(entry.title, entry.text),
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


def new_relevant_articles(
    counts: StoreCounts, intents: Iterable[ArticleIntent]
) -> list[NewArticle]:
    """The relevant articles a store created, described for the run summary."""
    by_url = {intent.canonical_url: intent for intent in intents}
    return [
        NewArticle(article_id, by_url[url].title, by_url[url].source, by_url[url].tags.topics, url)
        for article_id, url in counts.new_relevant
    ]
