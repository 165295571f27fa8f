"""Alert and digest messages, readable in a phone notification and safe in any markup.

Every alert becomes a ``Card`` (label, headline, outlet · time · topics, a quoted sentence,
changes, link) by fixed code per kind, then the card is written out as plain text, markdown
and HTML. Feed-supplied text is untrusted: each writer escapes it for its markup, only
``http(s)`` links are ever linked, and whitespace (newlines included) is flattened so a title
cannot forge extra lines, headers or list items (all of it with ``parsers.inert``, which
also defuses chat mentions on the way out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from parsers.inert import clean, html_escape, md_escape, md_link, safe_link
from parsers.times import local_time, published_time

Markup = Literal["text", "markdown", "html"]

# Word-diff markers of ``parsers.diffs`` excerpts.
_REPLACED = re.compile(r"\[-(.*?)-\]\s*\{\+(.*?)\+\}")
_REMOVED = re.compile(r"\[-(.*?)-\]")
_ADDED = re.compile(r"\{\+(.*?)\+\}")

LABELS = {
    "new_relevant_article": "New article",
    "article_edited": "Article edited",
    "figure_changed": "Figure changed",
    "cluster_growing": "Story spreading",
    "feed_flood": "Many new articles",
    "feed_broken": "Feed broken",
    "feed_recovered": "Feed recovered",
    "run_failed": "Run failed",
    "watch_match": "Watch",
}


@dataclass(frozen=True)
class AlertContent:
    """What a message is made from: one alert, or a debounced burst merged into one."""

    kind: str
    #: info, warning or critical.
    severity: str
    payload: Mapping[str, Any]
    created_at: datetime
    #: How many alerts this stands for (more than 1 after a debounce merge).
    count: int = 1


@dataclass(frozen=True)
class Card:
    """A message's parts before markup; every string is raw (unescaped) text."""

    label: str
    headline: str
    #: Outlet, time, topics: shown on one line, separated by " · ".
    meta: tuple[str, ...] = ()
    #: The evidence sentence, or the sentence around a changed figure.
    quote: str = ""
    #: Diff lines, or "old → new" for figures.
    changes: tuple[str, ...] = ()
    #: The article or feed; only http(s) URLs are kept.
    link: str | None = None
    #: Other outlets that ran the story: (outlet, checked http(s) link or None).
    also: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Rendered:
    """One message in every markup a channel may want."""

    subject: str
    text: str
    markdown: str
    html: str

    def body(self, markup: Markup) -> str:
        """The body for a channel speaking ``markup``."""
        return {"text": self.text, "markdown": self.markdown, "html": self.html}[markup]


@dataclass(frozen=True)
class Style:
    """How times and topics are shown."""

    timezone: tzinfo = UTC
    #: Topic key -> human label (from the taxonomy); unknown keys are shown readably.
    topic_labels: Mapping[str, str] | None = None


# --- cards ---------------------------------------------------------------------------------


def card_for(content: AlertContent, style: Style) -> Card:
    """The card for an alert, by its kind (unknown kinds get a generic card)."""
    build = _CARDS.get(content.kind, _generic_card)
    return build(content, style)


def _article_meta(payload: Mapping[str, Any], style: Style, when: datetime) -> tuple[str, ...]:
    published = _parse_time(payload.get("published_at"))
    zone = style.timezone
    shown = published_time(published, zone) if published else local_time(when, zone)
    meta = [clean(payload.get("source"), 60), shown]
    topics = topics_line(payload.get("topics"), style)
    if topics:
        meta.append(topics)
    return tuple(part for part in meta if part)


def _also_covered(payload: Mapping[str, Any], limit: int = 6) -> tuple[tuple[str, str | None], ...]:
    """The story's other outlets, as ``also_covered_by`` lists them (outlet and link)."""
    entries = payload.get("also_covered_by")
    if not isinstance(entries, list):
        return ()
    found = []
    for entry in entries[:limit]:
        if isinstance(entry, Mapping) and (outlet := clean(entry.get("outlet"), 60)):
            found.append((outlet, safe_link(entry.get("url"))))
    return tuple(found)


def _new_article_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    return Card(
        label=LABELS["new_relevant_article"],
        headline=clean(payload.get("title"), 200) or "(untitled)",
        meta=_article_meta(payload, style, content.created_at),
        quote=clean(payload.get("evidence"), 280),
        link=safe_link(payload.get("url")),
        also=_also_covered(payload),
    )


def _flood_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    count = payload.get("count")
    feed = clean(payload.get("feed"), 120) or clean(payload.get("url"), 120)
    titles = payload.get("titles")
    shown = tuple(clean(t, 120) for t in titles[:5]) if isinstance(titles, list) else ()
    listing = clean(payload.get("list"), 200)
    return Card(
        label=LABELS["feed_flood"],
        headline=f"{feed}: {count} new relevant articles" if isinstance(count, int) else feed,
        meta=(local_time(content.created_at, style.timezone),),
        quote=f"One alert for them all; list them with: {listing}" if listing else "",
        changes=shown,
        link=safe_link(payload.get("url")),
    )


def _edited_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    kinds = payload.get("change_kinds") or []
    kinds_text = ", ".join(clean(k, 30) for k in kinds) if isinstance(kinds, list) else ""
    label = LABELS["article_edited"]
    if content.count > 1:
        label += f" ({content.count} times)"
    meta = [*_article_meta(payload, style, content.created_at)]
    if kinds_text:
        meta.append(f"changed: {kinds_text}")
    figures = payload.get("figures")
    moved = tuple(clean(f, 120) for f in figures[:3]) if isinstance(figures, list) else ()
    return Card(
        label=label,
        headline=clean(payload.get("title"), 200) or "(untitled)",
        meta=tuple(meta),
        changes=moved + diff_lines(payload.get("diff_excerpt")),
        link=safe_link(payload.get("url")),
        also=_also_covered(payload),
    )


def _figure_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    changes = payload.get("changes")
    if not isinstance(changes, list):
        changes = [payload]
    lines = tuple(
        _figure_line(change, style) for change in changes[:5] if isinstance(change, Mapping)
    )
    return Card(
        label=LABELS["figure_changed"],
        headline=clean(payload.get("title"), 200) or "(untitled)",
        meta=_article_meta({**payload, "topics": None}, style, content.created_at),
        quote=clean(payload.get("sentence"), 280),
        changes=lines,
        link=safe_link(payload.get("url")),
        also=_also_covered(payload),
    )


def _figure_line(change: Mapping[str, Any], style: Style) -> str:
    topic = topic_label(str(change.get("topic") or ""), style)
    old, new = clean(change.get("old"), 60) or "?", clean(change.get("new"), 60) or "?"
    # Where each value was stated, so an analyst can check both.
    if old_source := clean(change.get("old_source"), 140):
        old += f" (was: {old_source})"
    if new_source := clean(change.get("new_source"), 140):
        new += f" (now: {new_source})"
    return f"{topic}: {old} → {new}" if topic else f"{old} → {new}"


def _cluster_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    outlets = payload.get("outlets") or []
    names = [clean(o, 40) for o in outlets[:6]] if isinstance(outlets, list) else []
    size = payload.get("size")
    meta = [f"{size} articles" if isinstance(size, int) else "", ", ".join(names)]
    topics = topics_line(payload.get("topics"), style)
    return Card(
        label=LABELS["cluster_growing"],
        headline=clean(payload.get("title"), 200) or "(untitled)",
        meta=tuple(part for part in (*meta, topics) if part),
        link=safe_link(payload.get("url")),
    )


def _feed_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    broken = content.kind == "feed_broken"
    failures = payload.get("consecutive_failures")
    meta = [clean(payload.get("health"), 20)]
    if broken and isinstance(failures, int):
        meta.append(f"{failures} failures in a row")
    next_check = _parse_time(payload.get("next_check_at"))
    if next_check is not None:
        meta.append("next check " + local_time(next_check, style.timezone))
    return Card(
        label=LABELS[content.kind],
        headline=clean(payload.get("feed"), 120) or clean(payload.get("url"), 120),
        meta=tuple(m for m in meta if m),
        quote=clean(payload.get("last_error"), 280) if broken else "",
        link=safe_link(payload.get("url")),
    )


def _run_failed_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    flow_name = clean(payload.get("flow"), 60) or "a Vigie flow"
    run = clean(payload.get("flow_run"), 80)
    return Card(
        label=LABELS["run_failed"],
        headline=f"{flow_name} run {run} {clean(payload.get('state'), 20) or 'failed'}".strip(),
        meta=(local_time(content.created_at, style.timezone),),
        quote=clean(payload.get("message"), 280),
        link=safe_link(payload.get("url")),
    )


def _generic_card(content: AlertContent, style: Style) -> Card:
    payload = content.payload
    headline = clean(payload.get("title") or payload.get("feed") or content.kind, 200)
    return Card(
        label=clean(content.kind.replace("_", " ").capitalize(), 40),
        headline=headline,
        meta=(local_time(content.created_at, style.timezone),),
        link=safe_link(payload.get("url")),
    )


def _watch_card(content: AlertContent, style: Style) -> Card:
    """A watch's match: the watch's name in the label, the matching passage quoted."""
    payload = content.payload
    version = payload.get("version")
    meta = list(_article_meta(payload, style, content.created_at))
    if isinstance(version, int) and version > 1:
        meta.append(f"version {version}")
    return Card(
        label=f"{LABELS['watch_match']}: {clean(payload.get('watch'), 80)}",
        headline=clean(payload.get("title"), 200) or "(untitled)",
        meta=tuple(meta),
        quote=clean(payload.get("passage"), 280),
        link=safe_link(payload.get("url")),
    )


_CARDS: dict[str, Callable[[AlertContent, Style], Card]] = {
    "new_relevant_article": _new_article_card,
    "article_edited": _edited_card,
    "figure_changed": _figure_card,
    "cluster_growing": _cluster_card,
    "feed_flood": _flood_card,
    "feed_broken": _feed_card,
    "feed_recovered": _feed_card,
    "run_failed": _run_failed_card,
    "watch_match": _watch_card,
}


def diff_lines(excerpt: object, max_lines: int = 4) -> tuple[str, ...]:
    """A diff excerpt as a few short lines, each cleaned.

    Takes line diffs (``- old`` / ``+ new``) and word diffs (``[-old-]{+new+}`` hunks joined
    by " … "), which read better as ``old → new``.
    """
    if not isinstance(excerpt, str):
        return ()
    pieces = [hunk for line in excerpt.splitlines() for hunk in line.split(" … ")]
    lines = [clean(_readable_hunk(piece), 160) for piece in pieces]
    lines = [line for line in lines if line]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"… {len(lines) - max_lines} more lines"]
    return tuple(lines)


def _readable_hunk(hunk: str) -> str:
    hunk = _REPLACED.sub(r"\1 → \2", hunk)
    hunk = _REMOVED.sub(r"(removed: \1)", hunk)
    return _ADDED.sub(r"(added: \1)", hunk)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def topic_label(key: str, style: Style) -> str:
    """A topic's human label."""
    labels = style.topic_labels or {}
    return clean(labels.get(key) or key.replace("_", " "), 60)


def topic_list(topics: object, style: Style, limit: int = 4) -> str:
    """Up to ``limit`` topic labels, comma-separated, in the order given (an article's
    primary topic first)."""
    if not isinstance(topics, list | tuple):
        return ""
    return ", ".join(topic_label(str(t), style) for t in list(topics)[:limit])


def topics_line(topics: object, style: Style) -> str:
    """An article's topics as labels, the primary one leading: "Asylum seekers; also Visas"."""
    if not isinstance(topics, list | tuple) or not topics:
        return ""
    primary, others = topic_label(str(topics[0]), style), topic_list(topics[1:], style, 3)
    return f"{primary}; also {others}" if others else primary


# --- writing cards out ---------------------------------------------------------------------


def render_alert(content: AlertContent, style: Style) -> Rendered:
    """The message for one alert (or merged burst) in text, markdown and HTML."""
    card = card_for(content, style)
    return Rendered(
        subject=clean(f"Vigie · {card.label}: {card.headline}", 150),
        text=card_text(card),
        markdown=card_markdown(card),
        html=_html_page(card_html(card)),
    )


def card_text(card: Card) -> str:
    """Plain text: no markup to escape, but every line already flattened by ``clean``."""
    lines = [f"{card.label}: {card.headline}"]
    if card.meta:
        lines.append(" · ".join(card.meta))
    if card.quote:
        lines.append(f"“{card.quote}”")
    lines += list(card.changes)
    if card.link:
        lines.append(card.link)
    if card.also:
        covered = ", ".join(f"{outlet} {link}" if link else outlet for outlet, link in card.also)
        lines.append(f"Also covered by: {covered}")
    return "\n".join(lines)


def card_markdown(card: Card) -> str:
    """Markdown with every piece of feed text escaped; links only to checked http(s) URLs."""
    lines = [f"**{md_escape(card.label)}:** {md_escape(card.headline)}"]
    if card.meta:
        lines.append(" · ".join(md_escape(m) for m in card.meta))
    if card.quote:
        lines.append(f"> {md_escape(card.quote)}")
    lines += [f"- {md_escape(change)}" for change in card.changes]
    if card.link:
        lines.append(f"[Open]({md_link(card.link)})")
    if card.also:
        covered = ", ".join(
            f"[{md_escape(outlet)}]({md_link(link)})" if link else md_escape(outlet)
            for outlet, link in card.also
        )
        lines.append(f"Also covered by: {covered}")
    return "\n\n".join(lines) if card.quote else "\n".join(lines)


def card_html(card: Card) -> str:
    """An HTML fragment with every piece of feed text escaped."""
    headline = html_escape(card.headline)
    if card.link:
        headline = f'<a href="{html_escape(card.link)}">{headline}</a>'
    parts = [
        f'<p style="margin:0;color:#666;font-size:13px">{html_escape(card.label)}</p>',
        f'<p style="margin:2px 0;font-size:17px;font-weight:bold">{headline}</p>',
    ]
    if card.meta:
        meta = " · ".join(html_escape(m) for m in card.meta)
        parts.append(f'<p style="margin:2px 0;color:#444;font-size:13px">{meta}</p>')
    if card.quote:
        parts.append(
            f'<blockquote style="margin:6px 0 6px 8px">{html_escape(card.quote)}</blockquote>'
        )
    if card.changes:
        items = "".join(f"<li>{html_escape(change)}</li>" for change in card.changes)
        parts.append(f'<ul style="margin:4px 0">{items}</ul>')
    if card.link:
        # The bare URL too: the plain-text part of an email is derived from this HTML, and a
        # link's target would otherwise be lost there.
        link = html_escape(card.link)
        parts.append(f'<p style="margin:2px 0;font-size:12px"><a href="{link}">{link}</a></p>')
    if card.also:
        covered = ", ".join(
            f'<a href="{html_escape(link)}">{html_escape(outlet)}</a> ({html_escape(link)})'
            if link
            else html_escape(outlet)
            for outlet, link in card.also
        )
        parts.append(f'<p style="margin:2px 0;font-size:13px">Also covered by: {covered}</p>')
    return "\n".join(parts)


def _html_page(body: str) -> str:
    return (
        '<div style="font-family:-apple-system,Segoe UI,Roboto,Arial,sans-serif;'
        f'max-width:640px">\n{body}\n</div>'
    )


# --- merging a debounced burst -------------------------------------------------------------


def merge(kind: str, payloads: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One payload for a burst of alerts on one subject (oldest first), losing no change."""
    if not payloads:
        raise ValueError("nothing to merge")
    latest = dict(payloads[-1])
    if len(payloads) == 1:
        return latest
    if kind == "article_edited":
        kinds = [k for p in payloads for k in (p.get("change_kinds") or []) if isinstance(k, str)]
        latest["change_kinds"] = list(dict.fromkeys(kinds))
    elif kind == "figure_changed":
        latest["changes"] = _merged_figures(payloads)
    return latest


def _merged_figures(payloads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Per topic, the first old value and the last new one: 10 → 12 → 15 reads as 10 → 15.
    # Each value keeps the source that stated it, when the payload names one.
    by_topic: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        topic = str(payload.get("topic") or "")
        newest = {"new": payload.get("new")}
        if payload.get("new_source"):
            newest["new_source"] = payload.get("new_source")
        if topic in by_topic:
            by_topic[topic].update(newest)
        else:
            by_topic[topic] = {"topic": topic, "old": payload.get("old"), **newest}
            if payload.get("old_source"):
                by_topic[topic]["old_source"] = payload.get("old_source")
    return list(by_topic.values())
