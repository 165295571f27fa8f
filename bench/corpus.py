"""A deterministic, seeded news corpus for the benchmark: feeds, article pages and a manifest.

    python bench/corpus.py --feeds 200 --items 50 --out /tmp/corpus --seed 1 [--port 8765]

It writes ``DIR/www/`` (feeds as RSS 2.0 or Atom, one HTML page per story), ``DIR/routes.json``
(URL path -> file, Content-Type, Last-Modified, for ``bench.serve``) and ``DIR/manifest.json``:
what was planted, so a run can be scored against it.

Planted on purpose, always across feeds of one language:

- exact duplicates of two kinds: the same article URL with tracking parameters (``utm_*``,
  ``fbclid``) and a shorter summary in another feed; the same title and text under another
  outlet's URL;
- near-duplicate groups: one wire story run by 2 to 4 outlets, each with its own dateline and
  credit and one sentence of the lede rewritten, so no two copies are exactly equal;
- relevant items: stories on immigration topics; the rest is sports, weather, business and
  city news.

The same spec (seed, sizes, port, hosts) always gives byte-identical files: everything random
comes from one ``random.Random(seed)`` and nothing iterates over a set.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from random import Random
from xml.sax.saxutils import escape as xml_escape

if __package__ in (None, ""):
    # Run as a script: import siblings as ``bench.*`` from the repository root, and take
    # bench/ itself off the path, where profile.py would shadow the standard library's.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.corpus_text import (
    AUTHORS,
    FILLER,
    OUTLETS,
    PAGE_WORDS,
    RELEVANT_TOPICS,
    SECTIONS,
    SLOTS,
    TOPICS,
    WIRE_CREDITS,
)

#: The newest story of the corpus; others are up to ``_SPAN`` older. Fixed, not "now", so the
#: bytes do not depend on the day the corpus is made.
_NEWEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
_SPAN = timedelta(days=30)
_MIN_LEDE_WORDS = 32  # Vigie only trusts a shared content hash above 25 words
_PAGE_MIN, _PAGE_MAX = 5 * 1024, 15 * 1024
_REWRITTEN_TITLE = {"en": ": what we know", "fr": " : ce qu'il faut savoir"}
_SLOT = re.compile(r"\{(\w+)\}")
_TRACKING = (
    "utm_source=rss&utm_medium=feed&utm_campaign=aggregator",
    "utm_source=newsletter&utm_medium=email&utm_content=top",
    "fbclid=IwAR2xVb7{serial}kPq",
    "utm_source=facebook&utm_medium=social&fbclid=IwZXh0{serial}",
)


@dataclass(frozen=True)
class CorpusSpec:
    """What to generate. Rates are shares of all feed items."""

    feeds: int = 200
    items: int = 50
    seed: int = 1
    port: int = 8765
    #: Loopback addresses the outlets are spread over (one per outlet, round robin).
    hosts: tuple[str, ...] = ("127.0.0.1",)
    url_dup_rate: float = 0.02
    text_dup_rate: float = 0.02
    near_dup_rate: float = 0.03


@dataclass(frozen=True)
class FeedPlan:
    """One feed of the corpus."""

    index: int
    outlet: str
    outlet_name: str
    language: str
    section: str
    #: "rss" (RSS 2.0) or "atom".
    format: str
    #: Whether items carry the whole story (content:encoded / atom:content), not just a lede.
    full_content: bool
    #: Scheme, host and port of the outlet.
    base: str
    path: str

    @property
    def url(self) -> str:
        return self.base + self.path

    @property
    def name(self) -> str:
        return f"{self.outlet_name} — {self.section}"


@dataclass(frozen=True)
class Story:
    """The words of a story: a headline, and paragraphs of which the first is the lede."""

    title: str
    paragraphs: tuple[str, ...]
    topic: str


@dataclass
class Item:
    """One feed item and the page it links to."""

    id: str
    feed: int
    serial: int
    story: Story
    url: str
    guid: str
    published: datetime
    author: str
    #: original, tracking_url_copy, same_text_copy or near_duplicate.
    kind: str = "original"
    #: The item this one copies (exact duplicates).
    source: str | None = None
    #: Near-duplicate group id.
    group: str | None = None
    #: The text the feed gives for this item when it carries no full content.
    summary: str = ""
    #: URL path of the page (tracking copies share their source's page).
    page_path: str = ""

    @property
    def relevant(self) -> bool:
        return self.story.topic in RELEVANT_TOPICS


@dataclass
class Corpus:
    """A generated corpus in memory; ``write`` puts it on disk."""

    spec: CorpusSpec
    feeds: list[FeedPlan]
    #: Items per feed, newest first (the order feeds list them).
    items: list[list[Item]]
    exact_pairs: list[tuple[str, str, str]] = field(default_factory=list)
    near_groups: list[tuple[str, list[str]]] = field(default_factory=list)

    def all_items(self) -> Iterator[Item]:
        for feed_items in self.items:
            yield from feed_items


# --- words ---------------------------------------------------------------------------------


class Writer:
    """Fills templates with names and figures in one language, from the corpus's RNG."""

    def __init__(self, rng: Random, language: str) -> None:
        self.rng = rng
        self.language = language

    def fill(self, template: str) -> str:
        text = _SLOT.sub(lambda m: self._value(m.group(1)), template)
        return text[:1].upper() + text[1:]

    def _value(self, slot: str) -> str:
        pool = SLOTS[self.language].get(slot)
        if pool is not None:
            return self.rng.choice(pool)
        return self._number(slot)

    def _number(self, slot: str) -> str:
        rng, fr = self.rng, self.language == "fr"
        match slot:
            case "n" | "n2":
                return _thousands(rng.randrange(1_000, 500_000, 50), fr)
            case "money":
                amount = rng.randrange(12, 980)
                return f"{amount} millions de dollars" if fr else f"${amount} million"
            case "rate":
                rate = f"{rng.choice((2, 2.25, 2.5, 2.75, 3, 3.25)):.2f}"
                return rate.replace(".", ",") if fr else rate
            case "score":
                a, b = rng.randrange(3, 7), rng.randrange(0, 3)
                return f"{a} à {b}" if fr else f"{a}-{b}"
            case "year":
                return str(rng.randrange(2026, 2030))
            case "small":
                return str(rng.randrange(2, 13))
            case "small2":
                return str(rng.randrange(13, 21))
            case "pct":
                return str(rng.randrange(3, 46))
            case "n_shots":
                return str(rng.randrange(21, 46))
            case "temp":
                return str(rng.randrange(8, 33))
            case "cm":
                return str(rng.randrange(5, 45))
            case "kmh":
                return str(rng.randrange(50, 111))
        raise KeyError(f"unknown template slot {{{slot}}}")

    def story(self, topic: str) -> Story:
        headlines = TOPICS[self.language][topic][0]
        deck = self._deck(topic)
        paragraphs = [self._lede(deck)]
        for _ in range(self.rng.randrange(3, 8)):
            count = self.rng.randrange(2, 5)
            paragraphs.append(" ".join(self.fill(self._draw(deck, topic)) for _ in range(count)))
        return Story(self.fill(self.rng.choice(headlines)), tuple(paragraphs), topic)

    def _deck(self, topic: str) -> list[str]:
        """The story's sentence templates, shuffled: drawn without repeats while they last."""
        sentences = list(TOPICS[self.language][topic][1])
        filler = [
            t
            for t in FILLER[self.language]
            # A sports story quoting an opposition leader would smuggle politics in.
            if topic in RELEVANT_TOPICS or "{opposition}" not in t
        ]
        return self.rng.sample(sentences, len(sentences)) + self.rng.sample(filler, len(filler))

    def _draw(self, deck: list[str], topic: str) -> str:
        if not deck:
            deck.extend(self._deck(topic))
        return deck.pop(0)

    def _lede(self, deck: list[str]) -> str:
        # The lede comes from the topic's own sentences, which lead the deck.
        picked: list[str] = []
        while len(picked) < 2 or len(" ".join(picked).split()) < _MIN_LEDE_WORDS:
            picked.append(self.fill(deck.pop(0)))
        return " ".join(picked)


def _thousands(value: int, french: bool) -> str:
    return f"{value:,}".replace(",", " " if french else ",")


def fold(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a text: what "exactly the same" means."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def slugify(text: str, limit: int = 60) -> str:
    return fold(text).replace(" ", "-")[:limit].strip("-")


# --- plan ----------------------------------------------------------------------------------


def plan_feeds(spec: CorpusSpec) -> list[FeedPlan]:
    """Deal feeds to outlets in turn; each outlet's feeds walk through its sections."""
    feeds = []
    for index in range(spec.feeds):
        outlet_index = index % len(OUTLETS)
        slug, name, language = OUTLETS[outlet_index]
        sections = SECTIONS[language]
        section = sections[(index // len(OUTLETS)) % len(sections)][0]
        fmt = "atom" if index % 3 == 2 else "rss"
        host = spec.hosts[outlet_index % len(spec.hosts)]
        path = f"/{slug}/feeds/{section}-{index:04d}.{'atom' if fmt == 'atom' else 'xml'}"
        feeds.append(
            FeedPlan(
                index=index,
                outlet=slug,
                outlet_name=name,
                language=language,
                section=section,
                format=fmt,
                full_content=index % 4 == 1,
                base=f"http://{host}:{spec.port}",
                path=path,
            )
        )
    return feeds


def _topic_for(rng: Random, feed: FeedPlan) -> str:
    _, share, off_topics = next(s for s in SECTIONS[feed.language] if s[0] == feed.section)
    if rng.random() < share:
        return rng.choice(RELEVANT_TOPICS)
    return rng.choice(off_topics)


def _article_path(feed: FeedPlan, title: str, serial: int, when: datetime) -> str:
    # Outlets spell article URLs differently; three common shapes.
    slug = slugify(title)
    shape = sum(map(ord, feed.outlet)) % 3
    if shape == 0:
        return f"/{feed.outlet}/news/{feed.section}/{slug}-{serial}"
    if shape == 1:
        return f"/{feed.outlet}/{when:%Y-%m-%d}/{slug}-{serial}.html"
    return f"/{feed.outlet}/nouvelle/{serial}/{slug}"


def _guid(feed: FeedPlan, serial: int, url: str) -> str:
    if feed.format == "atom":
        return f"tag:{feed.outlet}.example,2026:article-{serial}"
    return url if serial % 2 else f"{feed.outlet}-{serial}"


class _Builder:
    """Makes the items, then plants duplicates over some of them."""

    def __init__(self, spec: CorpusSpec) -> None:
        self.spec = spec
        self.rng = Random(spec.seed)
        self.feeds = plan_feeds(spec)
        self.writers = {lang: Writer(self.rng, lang) for lang in ("en", "fr")}
        # Folded titles and (title, lede) pairs; sets for membership only, never iterated.
        self.seen: set[str] = set()
        self.seen_titles: set[str] = set()
        self.serial = 100_000
        self.items: list[list[Item]] = []
        self.reserved: set[tuple[int, int]] = set()
        self.corpus = Corpus(spec, self.feeds, self.items)

    def build(self) -> Corpus:
        for feed in self.feeds:
            self.items.append([self._original(feed, pos) for pos in range(self.spec.items)])
        self._plant()
        for feed_items in self.items:
            feed_items.sort(key=lambda item: (item.published, item.id), reverse=True)
        return self.corpus

    def _next_serial(self) -> int:
        self.serial += self.rng.randrange(1, 40)
        return self.serial

    def _unique_story(self, language: str, make: Story | None, topic: str) -> Story:
        """A story whose title and lede no other story has (a variant given as ``make``,
        when it is distinct). Distinct titles are preferred, but a small topic may run out
        of them; distinct text is required, or the scoring would see unplanted duplicates.
        A variant may repeat its wire story's title: copies of one story often do."""
        for attempt in range(100):
            variant, make = make, None
            story = variant or self.writers[language].story(topic)
            title = fold(story.title)
            key = title + "\n" + fold(story.paragraphs[0])
            title_taken = variant is None and attempt < 20 and title in self.seen_titles
            if key in self.seen or title_taken:
                continue
            self.seen.add(key)
            self.seen_titles.add(title)
            return story
        raise RuntimeError("could not draw a distinct story in 100 tries")

    def _original(self, feed: FeedPlan, pos: int) -> Item:
        story = self._unique_story(feed.language, None, _topic_for(self.rng, feed))
        when = _NEWEST - self.rng.random() * _SPAN
        return self._item(feed, pos, story, when.replace(microsecond=0))

    def _item(self, feed: FeedPlan, pos: int, story: Story, when: datetime) -> Item:
        serial = self._next_serial()
        path = _article_path(feed, story.title, serial, when)
        url = feed.base + path
        return Item(
            id=f"f{feed.index:04d}i{pos:03d}",
            feed=feed.index,
            serial=serial,
            story=story,
            url=url,
            guid=_guid(feed, serial, url),
            published=when,
            author=self.rng.choice(AUTHORS),
            summary=story.paragraphs[0],
            page_path=path,
        )

    # --- planting ------------------------------------------------------------------------

    def _plant(self) -> None:
        total = self.spec.feeds * self.spec.items
        slots = [(f, p) for f in range(self.spec.feeds) for p in range(self.spec.items)]
        order = self.rng.sample(slots, len(slots))
        for _ in range(_quota(total, self.spec.url_dup_rate)):
            self._plant_copy(order, same_text=False)
        for _ in range(_quota(total, self.spec.text_dup_rate)):
            self._plant_copy(order, same_text=True)
        remaining = _quota(total, self.spec.near_dup_rate, minimum=2)
        while remaining >= 2:
            size = min(remaining, self.rng.randrange(2, 5))
            remaining -= size if self._plant_near_group(order, size) else remaining

    def _free_slot(self, order: list[tuple[int, int]]) -> tuple[int, int] | None:
        while order:
            slot = order.pop()
            if slot not in self.reserved:
                return slot
        return None

    def _partner_slot(
        self, slot: tuple[int, int], avoid_feeds: Sequence[int], same_content: bool
    ) -> tuple[int, int] | None:
        """A free slot in another feed of the same language (and content mode, if asked)."""
        feed = self.feeds[slot[0]]
        candidates = [
            f.index
            for f in self.feeds
            if f.index not in avoid_feeds
            and f.language == feed.language
            and (not same_content or f.full_content == feed.full_content)
        ]
        for _ in range(50 if candidates else 0):
            other = (self.rng.choice(candidates), self.rng.randrange(self.spec.items))
            if other not in self.reserved:
                return other
        return None

    def _plant_copy(self, order: list[tuple[int, int]], *, same_text: bool) -> None:
        target = self._free_slot(order)
        if target is None:
            return
        source_slot = self._partner_slot(target, [target[0]], same_content=same_text)
        if source_slot is None:
            return
        self.reserved.update((target, source_slot))
        source = self.items[source_slot[0]][source_slot[1]]
        feed = self.feeds[target[0]]
        when = source.published + timedelta(minutes=self.rng.randrange(5, 240))
        copy = self._item(feed, target[1], source.story, when)
        if same_text:
            copy.kind = "same_text_copy"
        else:
            # An aggregator relinks the story with its tracking tags and a one-sentence teaser.
            query = self.rng.choice(_TRACKING).format(serial=copy.serial)
            copy.url = f"{source.url}?{query}"
            copy.guid = copy.url if feed.format == "rss" else copy.guid
            copy.page_path = source.page_path
            copy.summary = _first_sentence(source.summary)
            copy.kind = "tracking_url_copy"
        copy.source = source.id
        self.items[target[0]][target[1]] = copy
        self.corpus.exact_pairs.append((source.id, copy.id, copy.kind.removesuffix("_copy")))

    def _plant_near_group(self, order: list[tuple[int, int]], size: int) -> bool:
        first = self._free_slot(order)
        if first is None:
            return False
        members = [first]
        while len(members) < size:
            other = self._partner_slot(first, [m[0] for m in members], same_content=False)
            if other is None:
                break
            members.append(other)
        if len(members) < 2:
            return False
        self.reserved.update(members)
        self._write_wire_copies(members)
        return True

    def _write_wire_copies(self, members: list[tuple[int, int]]) -> None:
        language = self.feeds[members[0][0]].language
        writer = self.writers[language]
        topic = self.rng.choice(RELEVANT_TOPICS) if self.rng.random() < 0.7 else "business"
        wire = writer.story(topic)
        when = _NEWEST - self.rng.random() * _SPAN
        group = f"g{len(self.corpus.near_groups):04d}"
        dateline = self.rng.choice(SLOTS[language]["dateline"])
        ids = []
        for k, (feed_index, pos) in enumerate(members):
            story = self._unique_story(language, _wire_variant(writer, wire, k, dateline), topic)
            delay = timedelta(minutes=self.rng.randrange(0, 180))
            item = self._item(
                self.feeds[feed_index], pos, story, when.replace(microsecond=0) + delay
            )
            item.kind, item.group = "near_duplicate", group
            self.items[feed_index][pos] = item
            ids.append(item.id)
        self.corpus.near_groups.append((group, ids))


def _quota(total: int, rate: float, minimum: int = 1) -> int:
    return max(minimum, round(total * rate)) if rate > 0 else 0


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _wire_variant(writer: Writer, wire: Story, k: int, dateline: str) -> Story:
    """Copy ``k`` of a wire story: its own dateline and credit; copies after the first also
    rewrite one sentence of the lede, as desks do when they localise a story."""
    head, credit = WIRE_CREDITS[writer.language][k % len(WIRE_CREDITS[writer.language])]
    sentences = wire.paragraphs[0].split(". ")
    if k > 0 and len(sentences) > 1:
        sentences[-1] = writer.fill(writer.rng.choice(TOPICS[writer.language][wire.topic][1]))
    lede = f"{head.format(dateline=dateline)} " + ". ".join(sentences)
    title = wire.title if k % 2 == 0 else wire.title + _REWRITTEN_TITLE[writer.language]
    return Story(title, (lede, *wire.paragraphs[1:], credit), wire.topic)


def build(spec: CorpusSpec) -> Corpus:
    """Generate a corpus in memory."""
    return _Builder(spec).build()


# --- rendering -----------------------------------------------------------------------------


def _paragraphs_html(paragraphs: Sequence[str]) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def _item_html(feed: FeedPlan, item: Item) -> tuple[str, str | None]:
    """(summary HTML, full content HTML or None) as this feed publishes the item."""
    image = ""
    if item.serial % 3 == 0:
        image = f'<p><img src="{feed.base}/{feed.outlet}/img/{item.serial}.jpg" alt="" /></p>'
    summary = image + _paragraphs_html([item.summary])
    full = _paragraphs_html(item.story.paragraphs) if feed.full_content else None
    return summary, full


def _rss(feed: FeedPlan, items: Sequence[Item]) -> str:
    lang = f"{feed.language}-CA"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n',
        f"<title>{xml_escape(feed.name)}</title>\n<link>{feed.base}/{feed.outlet}/</link>\n",
        f"<description>{xml_escape(feed.outlet_name)}: {feed.section}</description>\n",
        f"<language>{lang}</language>\n<lastBuildDate>{_last_modified(items)}</lastBuildDate>\n",
        f'<atom:link href="{xml_escape(feed.url)}" rel="self" type="application/rss+xml"/>\n',
    ]
    for item in items:
        summary, full = _item_html(feed, item)
        permalink = "true" if item.guid == item.url else "false"
        parts.append(
            f"<item>\n<title>{xml_escape(item.story.title)}</title>\n"
            f"<link>{xml_escape(item.url)}</link>\n"
            f'<guid isPermaLink="{permalink}">{xml_escape(item.guid)}</guid>\n'
            f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>\n"
            f"<dc:creator>{xml_escape(item.author)}</dc:creator>\n"
            f"<category>{feed.section}</category>\n"
            f"<description>{xml_escape(summary)}</description>\n"
        )
        if full is not None:
            parts.append(f"<content:encoded><![CDATA[{full}]]></content:encoded>\n")
        parts.append("</item>\n")
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def _atom(feed: FeedPlan, items: Sequence[Item]) -> str:
    updated = max((i.published for i in items), default=_NEWEST).isoformat()
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="{feed.language}-CA">\n<title>{xml_escape(feed.name)}</title>\n'
        f"<id>{xml_escape(feed.url)}</id>\n<updated>{updated}</updated>\n"
        f'<link rel="self" href="{xml_escape(feed.url)}"/>\n'
        f'<link rel="alternate" type="text/html" href="{feed.base}/{feed.outlet}/"/>\n',
    ]
    for item in items:
        summary, full = _item_html(feed, item)
        stamp = item.published.isoformat()
        parts.append(
            f'<entry>\n<title type="html">{xml_escape(item.story.title)}</title>\n'
            f"<id>{xml_escape(item.guid)}</id>\n"
            f'<link rel="alternate" type="text/html" href="{xml_escape(item.url)}"/>\n'
            f"<published>{stamp}</published>\n<updated>{stamp}</updated>\n"
            f"<author><name>{xml_escape(item.author)}</name></author>\n"
            f'<summary type="html">{xml_escape(summary)}</summary>\n'
        )
        if full is not None:
            parts.append(f'<content type="html">{xml_escape(full)}</content>\n')
        parts.append("</entry>\n")
    parts.append("</feed>\n")
    return "".join(parts)


def _last_modified(items: Sequence[Item]) -> str:
    return format_datetime(max((i.published for i in items), default=_NEWEST), usegmt=True)


def render_feed(feed: FeedPlan, items: Sequence[Item]) -> bytes:
    """The feed document's bytes."""
    return (_atom(feed, items) if feed.format == "atom" else _rss(feed, items)).encode("utf-8")


def _json_ld(feed: FeedPlan, item: Item) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.story.title,
        "datePublished": item.published.isoformat(),
        "dateModified": item.published.isoformat(),
        "inLanguage": f"{feed.language}-CA",
        "author": [{"@type": "Person", "name": item.author}],
        "publisher": {"@type": "Organization", "name": feed.outlet_name},
        "mainEntityOfPage": {"@type": "WebPage", "@id": item.url.split("?")[0]},
        "description": item.story.paragraphs[0][:200],
        "articleSection": feed.section,
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _links(base: str, labels: Sequence[str], prefix: str) -> str:
    return "".join(
        f'<li><a href="{base}/{prefix}/{slugify(label)}">{html.escape(label)}</a></li>'
        for label in labels
    )


def render_page(feed: FeedPlan, item: Item, related: Sequence[Item]) -> bytes:
    """The article page: the story inside the boilerplate real news sites wrap it in."""
    words = PAGE_WORDS[feed.language]
    base, esc = f"{feed.base}/{feed.outlet}", html.escape
    title, canonical = esc(item.story.title), item.url.split("?")[0]
    body = list(item.story.paragraphs)
    middle = max(1, len(body) // 2)
    aside = (
        f'<aside class="read-also"><strong>{words["read_also"]}</strong> '
        f'<a href="{related[0].url}">{esc(related[0].story.title)}</a></aside>'
        if related
        else ""
    )
    related_html = "".join(
        f'<li><a href="{r.url}"><img src="{base}/img/thumb-{r.serial}.jpg" alt="" loading="lazy">'
        f"<span>{esc(r.story.title)}</span></a></li>"
        for r in related
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="{feed.language}-CA">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} | {esc(feed.outlet_name)}</title>\n"
        f'<link rel="canonical" href="{canonical}">\n'
        f'<meta property="og:title" content="{title}">\n'
        f'<meta property="og:url" content="{canonical}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta name="description" content="{esc(item.story.paragraphs[0][:160])}">\n'
        f'<link rel="stylesheet" href="{base}/static/site.{item.serial % 7}.css">\n'
        f'<script type="application/ld+json">{_json_ld(feed, item)}</script>\n'
        f'<script async src="{base}/static/analytics.js"></script>\n</head>\n<body>\n'
        f'<div id="cookie-banner" class="consent"><p>{esc(words["cookie"])}</p>'
        f'<button type="button">{esc(words["accept"])}</button></div>\n'
        f'<header class="site-header"><a class="logo" href="{base}/">{esc(feed.outlet_name)}</a>'
        f'<nav aria-label="main"><ul>{_links(base, words["nav"], "section")}</ul></nav></header>\n'
        f'<main><nav class="breadcrumb"><a href="{base}/">{esc(feed.outlet_name)}</a> › '
        f'<a href="{base}/section/{feed.section}">{feed.section}</a></nav>\n'
        f'<article><h1>{title}</h1>\n<p class="byline">{words["by"]} {esc(item.author)} · '
        f'<time datetime="{item.published.isoformat()}">{item.published:%Y-%m-%d %H:%M}</time></p>'
        f'<ul class="share">{"".join(f"<li><button>{s}</button></li>" for s in words["share"])}'
        f'</ul>\n<div class="article-body">{_paragraphs_html(body[:middle])}{aside}'
        f"{_paragraphs_html(body[middle:])}</div></article>\n"
        f'<section class="related"><h2>{words["related"]}</h2><ul>{related_html}</ul></section>\n'
        f'<div class="newsletter"><p>{esc(words["subscribe"])}</p><form><input type="email">'
        f"<button>OK</button></form></div></main>\n"
        f"<footer><ul>{_links(base, words['footer'], 'info')}</ul>"
        f"<p>© 2026 {esc(feed.outlet_name)}. {words['rights']}</p></footer>\n"
    )
    return (_padded(page, base, item) + "</body>\n</html>\n").encode("utf-8")


def _padded(page: str, base: str, item: Item) -> str:
    """Pages below 5 KB get the inline tracking config real sites carry, to a realistic size."""
    size = len(page.encode("utf-8"))
    if size >= _PAGE_MIN:
        return page
    slots = [f'{{"slot":"ad-{n}","path":"{base}/ads/{item.serial}/{n}"}}' for n in range(200)]
    config, n = "", 0
    while size + len(config) + 80 < _PAGE_MIN + 256 and n < len(slots):
        config += ("," if config else "") + slots[n]
        n += 1
    return page + f"<script>window.__AD_CONFIG__=[{config}];</script>\n"


# --- output --------------------------------------------------------------------------------


def _related(items: Sequence[Item], item: Item) -> list[Item]:
    return [other for other in items if other.id != item.id][:6]


def iter_files(corpus: Corpus) -> Iterator[tuple[str, str, bytes, str]]:
    """(URL path, file name, bytes, content type) of every document, feeds first."""
    for feed, items in zip(corpus.feeds, corpus.items, strict=True):
        kind = "application/atom+xml" if feed.format == "atom" else "application/rss+xml"
        yield feed.path, f"feeds/{feed.index:04d}.xml", render_feed(feed, items), kind
    for feed, items in zip(corpus.feeds, corpus.items, strict=True):
        for item in items:
            if item.kind == "tracking_url_copy":
                continue  # the source's page answers its URL (the query is ignored)
            page = render_page(feed, item, _related(items, item))
            yield item.page_path, f"pages/{item.id}.html", page, "text/html; charset=utf-8"


def manifest(corpus: Corpus) -> dict[str, object]:
    """What was generated and planted, for scoring a run."""
    spec = corpus.spec
    feeds = [
        {
            "index": f.index,
            "url": f.url,
            "name": f.name,
            "outlet": f.outlet,
            "language": f.language,
            "section": f.section,
            "format": f.format,
            "full_content": f.full_content,
        }
        for f in corpus.feeds
    ]
    items = [
        {
            "id": i.id,
            "feed": i.feed,
            "guid": i.guid,
            "url": i.url,
            "title": i.story.title,
            "language": corpus.feeds[i.feed].language,
            "topic": i.story.topic,
            "relevant": i.relevant,
            "kind": i.kind,
            "source": i.source,
            "group": i.group,
        }
        for i in corpus.all_items()
    ]
    return {
        "format": 1,
        "seed": spec.seed,
        "feeds_count": spec.feeds,
        "items_per_feed": spec.items,
        "items_total": spec.feeds * spec.items,
        "port": spec.port,
        "hosts": list(spec.hosts),
        "feeds": feeds,
        "items": items,
        "exact_duplicates": [{"a": a, "b": b, "kind": k} for a, b, k in corpus.exact_pairs],
        "near_duplicate_groups": [{"id": g, "items": ids} for g, ids in corpus.near_groups],
        "relevant_items": [i.id for i in corpus.all_items() if i.relevant],
    }


def write(corpus: Corpus, out: Path, *, pages: bool = True) -> dict[str, object]:
    """Write the corpus under ``out``; the manifest (also written) is returned."""
    www = out / "www"
    (www / "feeds").mkdir(parents=True, exist_ok=True)
    (www / "pages").mkdir(exist_ok=True)
    last_modified = {
        f.path: _last_modified(items) for f, items in zip(corpus.feeds, corpus.items, strict=True)
    }
    routes: dict[str, list[str]] = {}
    for path, name, data, kind in iter_files(corpus):
        if name.startswith("pages/") and not pages:
            break  # feeds come first, so everything left is a page
        (www / name).write_bytes(data)
        modified = last_modified.get(path, format_datetime(_NEWEST, usegmt=True))
        routes[path] = [name, kind, modified]
    (out / "routes.json").write_text(json.dumps(routes, indent=0, sort_keys=True) + "\n")
    document = manifest(corpus)
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    (out / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return document


def generate(spec: CorpusSpec, out: Path, *, pages: bool = True) -> dict[str, object]:
    """Build and write a corpus; its manifest."""
    return write(build(spec), out, pages=pages)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765, help="port written into URLs")
    parser.add_argument("--hosts", default="127.0.0.1", help="comma-separated loopback IPs")
    parser.add_argument("--no-pages", action="store_true", help="feeds and manifest only")
    args = parser.parse_args(argv)
    hosts = tuple(h.strip() for h in args.hosts.split(",") if h.strip())
    spec = CorpusSpec(args.feeds, args.items, args.seed, args.port, hosts)
    corpus = build(spec)
    write(corpus, args.out, pages=not args.no_pages)
    print(
        f"{args.out}: {spec.feeds} feeds x {spec.items} items, "
        f"{len(corpus.exact_pairs)} exact duplicate pairs, "
        f"{len(corpus.near_groups)} near-duplicate groups"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
