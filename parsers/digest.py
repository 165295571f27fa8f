"""The daily digest: per topic, how many stories are mainly about it and the best of them (each
story once, with the other outlets carrying it), the figure changes and edits of the day, and
what else happened; in English or French.

``build_digest`` turns the alerts of a window into a JSON-able payload (stored on the digest's
outbox row, so a retry sends the same digest); ``render_digest`` writes that payload as text,
markdown and HTML. Both are pure; all feed text is escaped per markup as in ``messages``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from parsers.alert_rules import WATCH_KIND, DigestRule, payload_topics
from parsers.inert import clean, html_escape, md_escape, md_link, safe_link
from parsers.messages import (
    AlertContent,
    Card,
    Rendered,
    Style,
    card_for,
    diff_lines,
    topic_label,
    topic_list,
)
from parsers.times import published_time

STORY_KIND = "new_relevant_article"
EDIT_KIND = "article_edited"
FIGURE_KIND = "figure_changed"
#: Topic under which stories without a topic are listed.
NO_TOPIC = ""
MAX_UPDATES = 30
#: Edits and figure changes listed at most (the newest first); the counts cover them all.
MAX_CHANGES = 20
#: Alert statuses that mean a message went out at once (alone, or merged into another).
_SENT_AT_ONCE = frozenset({"sent", "merged"})


@dataclass(frozen=True)
class Coverage:
    """One outlet carrying a story, with its article's link."""

    outlet: str
    url: str


@dataclass(frozen=True)
class StoryNow:
    """An article as it reads now, and the story (cluster) it belongs to."""

    article_id: int
    title: str
    url: str
    source: str
    #: The current version's topics, its primary topic first.
    topics: tuple[str, ...]
    #: The story (cluster) id; None for an article not filed in one.
    story_id: int | None
    #: Every outlet carrying the story, in the order they were first seen (this one included).
    coverage: tuple[Coverage, ...] = ()


#: Matches listed under each watch (the count covers them all).
WATCH_TOP = 10


@dataclass(frozen=True)
class DigestInput:
    """An alert as the digest sees it."""

    kind: str
    severity: str
    payload: Mapping[str, Any]
    created_at: datetime
    article_id: int | None = None
    #: The alert's outbox status: "sent" or "merged" when it already went out at once.
    status: str = ""
    id: int | None = None


# --- building ------------------------------------------------------------------------------


def build_digest(
    in_window: Sequence[DigestInput],
    kept_for_digest: Sequence[DigestInput],
    *,
    since: datetime,
    until: datetime,
    rule: DigestRule,
    current: Mapping[int, StoryNow] | None = None,
) -> dict[str, Any]:
    """The digest payload: each story once under its primary topic, the figure changes and
    edits of the window (those already sent at once included), other updates, counts.

    ``current`` tells how each article reads now (title, topics, the outlets carrying its
    story); without it the alerts' own payloads are used.
    """
    now = current or {}
    stories = _stories(in_window, rule, now)
    changes = _changes([*in_window, *kept_for_digest], now)
    changed = (STORY_KIND, EDIT_KIND, FIGURE_KIND, WATCH_KIND)
    others = [a for a in kept_for_digest if a.kind not in changed]
    updates = others[:MAX_UPDATES]
    counts: dict[str, int] = {}
    for alert in in_window:
        counts[alert.kind] = counts.get(alert.kind, 0) + 1
    # Edits and figure changes are counted as listed: a burst of edits is one edit.
    for kind in (EDIT_KIND, FIGURE_KIND):
        counts.pop(kind, None)
        if listed := sum(1 for change in changes if change["kind"] == kind):
            counts[kind] = listed
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "story_count": len(stories),
        "topics": _by_topic(stories, rule.top_per_topic),
        "figures": [c for c in changes if c["kind"] == FIGURE_KIND][:MAX_CHANGES],
        "edits": [c for c in changes if c["kind"] == EDIT_KIND][:MAX_CHANGES],
        "updates": [_update_payload(a) for a in updates],
        "more_updates": max(len(others) - len(updates), 0),
        "counts": counts,
        "watches": watch_sections(in_window),
    }


def is_empty(payload: Mapping[str, Any]) -> bool:
    """True when the digest has no story, change, update or watch match to tell."""
    parts = ("story_count", "figures", "edits", "updates", "watches")
    return not any(payload.get(part) for part in parts)


def watch_sections(alerts: Sequence[DigestInput]) -> list[dict[str, Any]]:
    """One section per watch that matched in the window, in the order they first did:
    its name, how many matches, and the latest ``WATCH_TOP`` with their passages."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        if alert.kind == WATCH_KIND:
            payload = alert.payload
            sections.setdefault(clean(payload.get("watch"), 80), []).append(
                {
                    "title": clean(payload.get("title"), 200),
                    "url": payload.get("url") if isinstance(payload.get("url"), str) else None,
                    "source": clean(payload.get("source"), 60),
                    "published_at": payload.get("published_at") or alert.created_at.isoformat(),
                    "passage": clean(payload.get("passage"), 240),
                }
            )
    return [
        {"watch": name, "count": len(matches), "matches": matches[-WATCH_TOP:][::-1]}
        for name, matches in sections.items()
    ]


def _stories(
    alerts: Sequence[DigestInput], rule: DigestRule, current: Mapping[int, StoryNow]
) -> list[dict[str, Any]]:
    """One entry per story: copies of it across outlets (one cluster) are listed once."""
    seen: set[str] = set()
    stories = []
    for alert in alerts:
        if alert.kind != STORY_KIND or not _wanted(alert.payload, rule):
            continue
        now = current.get(alert.article_id) if alert.article_id is not None else None
        key = _story_key(alert, now)
        if key in seen:
            continue
        seen.add(key)
        stories.append(_story(alert, now))
    return stories


def _story_key(alert: DigestInput, now: StoryNow | None) -> str:
    if now is not None and now.story_id is not None:
        return f"story:{now.story_id}"
    if alert.article_id is not None:
        return f"article:{alert.article_id}"
    return f"url:{alert.payload.get('url') or alert.payload.get('title')}"


def _wanted(payload: Mapping[str, Any], rule: DigestRule) -> bool:
    relevance = payload.get("relevance")
    if isinstance(relevance, int | float) and relevance < rule.min_relevance:
        return False
    topics = payload_topics(payload) or ()
    return not rule.topics or bool(rule.topics & set(topics))


def _story(alert: DigestInput, now: StoryNow | None) -> dict[str, Any]:
    payload = alert.payload
    relevance = payload.get("relevance")
    source = now.source if now else clean(payload.get("source"), 60)
    topics = list(now.topics) if now and now.topics else list(payload_topics(payload) or ())
    also = [
        {"outlet": clean(c.outlet, 60), "url": c.url}
        for c in (now.coverage if now else ())
        if c.outlet != source
    ]
    return {
        "title": clean(now.title if now else payload.get("title"), 200),
        "url": now.url if now else _url(payload),
        "source": clean(source, 60),
        "published_at": payload.get("published_at") or alert.created_at.isoformat(),
        "relevance": float(relevance) if isinstance(relevance, int | float) else 0.0,
        "topics": topics,
        "evidence": clean(payload.get("evidence"), 240),
        "also": also,
    }


def _url(payload: Mapping[str, Any]) -> str | None:
    url = payload.get("url")
    return url if isinstance(url, str) else None


def _changes(
    alerts: Sequence[DigestInput], current: Mapping[int, StoryNow]
) -> list[dict[str, Any]]:
    """The figure changes and edits, newest first: every figure change, and each article's
    latest edit once (a burst of edits is one entry)."""
    seen: set[object] = set()
    changes = []
    for alert in sorted(alerts, key=lambda a: a.created_at, reverse=True):
        if alert.kind not in (EDIT_KIND, FIGURE_KIND):
            continue
        key = alert.id if alert.kind == FIGURE_KIND else (EDIT_KIND, alert.article_id or alert.id)
        if key in seen or (alert.id is not None and alert.id in seen):
            continue
        seen.update({key, alert.id} - {None})
        now = current.get(alert.article_id) if alert.article_id is not None else None
        changes.append(_change(alert, now))
    return changes


def _change(alert: DigestInput, now: StoryNow | None) -> dict[str, Any]:
    payload = alert.payload
    figure = {
        key: clean(payload.get(key), 140)
        for key in ("topic", "old", "new", "old_source", "new_source")
    }
    kinds = payload.get("change_kinds")
    return {
        "kind": alert.kind,
        "title": clean(now.title if now else payload.get("title"), 200),
        "url": now.url if now else _url(payload),
        "source": clean(now.source if now else payload.get("source"), 60),
        "created_at": alert.created_at.isoformat(),
        "change_kinds": [clean(k, 30) for k in kinds] if isinstance(kinds, list) else [],
        "diff_excerpt": payload.get("diff_excerpt") if alert.kind == EDIT_KIND else "",
        "figure": figure if alert.kind == FIGURE_KIND else {},
        "sentence": clean(payload.get("sentence"), 280),
        "sent_at_once": alert.status in _SENT_AT_ONCE,
    }


def _by_topic(stories: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    """Stories under their primary topic (the first), so each is listed once, where it
    belongs; its other topics show beside it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for story in stories:
        groups.setdefault((story["topics"] or [NO_TOPIC])[0], []).append(story)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0] == NO_TOPIC, item[0]))
    return [
        {
            "topic": topic,
            "count": len(group),
            "stories": sorted(group, key=_rank, reverse=True)[:top],
        }
        for topic, group in ranked
    ]


def _rank(story: Mapping[str, Any]) -> tuple[float, str]:
    # Most relevant first; among equals, the most recent (ISO strings sort by time).
    return (float(story["relevance"]), str(story["published_at"] or ""))


def _update_payload(alert: DigestInput) -> dict[str, Any]:
    return {
        "kind": alert.kind,
        "severity": alert.severity,
        "created_at": alert.created_at.isoformat(),
        "payload": dict(alert.payload),
    }


# --- rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """The digest's fixed words in one language (feed text is shown as written)."""

    title: str
    subject: str
    to: str
    no_story: str
    other_topic: str
    also_topics: str
    also_covered: str
    figures: str
    edits: str
    updates: str
    sent_at_once: str
    changed: str
    more: str
    nothing_new: str
    watch: str
    #: Before a colon: "" in English, a space in French ("Regroupement familial : …").
    colon: str
    was: str
    now: str
    kinds: Mapping[str, tuple[str, str]]
    labels: Mapping[str, str]
    change_kinds: Mapping[str, str]
    months: tuple[str, ...]


ENGLISH = Words(
    title="Vigie daily digest",
    subject="Vigie digest",
    to="to",
    no_story="No new relevant story in this period.",
    other_topic="Other",
    also_topics="also",
    also_covered="also covered by",
    figures="Figure changes",
    edits="Edits",
    updates="Other updates",
    sent_at_once="already sent at once",
    changed="changed",
    more="and {n} more",
    nothing_new="nothing new",
    watch="Watch",
    colon="",
    was="was",
    now="now",
    kinds={
        "new_relevant_article": ("new relevant story", "new relevant stories"),
        "article_edited": ("edit", "edits"),
        "figure_changed": ("figure change", "figure changes"),
        "cluster_growing": ("growing story", "growing stories"),
        "feed_flood": ("feed flood", "feed floods"),
        "feed_broken": ("feed broken", "feeds broken"),
        "feed_recovered": ("feed recovered", "feeds recovered"),
        "run_failed": ("failed run", "failed runs"),
        WATCH_KIND: ("watch match", "watch matches"),
    },
    labels={},
    change_kinds={},
    months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)
FRENCH = Words(
    title="Résumé quotidien de Vigie",
    subject="Résumé Vigie",
    to="au",
    no_story="Aucune nouvelle histoire pertinente dans cette période.",
    other_topic="Autres sujets",
    also_topics="aussi",
    also_covered="aussi couvert par",
    figures="Chiffres modifiés",
    edits="Articles modifiés",
    updates="Autres nouvelles",
    sent_at_once="déjà envoyé sur le coup",
    changed="modifié",
    more="et {n} autres",
    nothing_new="rien de nouveau",
    watch="Veille",
    colon=" ",
    was="avant",
    now="maintenant",
    kinds={
        "new_relevant_article": ("nouvelle histoire pertinente", "nouvelles histoires pertinentes"),
        "article_edited": ("modification", "modifications"),
        "figure_changed": ("chiffre modifié", "chiffres modifiés"),
        "cluster_growing": ("histoire qui s'étend", "histoires qui s'étendent"),
        "feed_flood": ("flux qui déborde", "flux qui débordent"),
        "feed_broken": ("flux en panne", "flux en panne"),
        "feed_recovered": ("flux rétabli", "flux rétablis"),
        "run_failed": ("exécution échouée", "exécutions échouées"),
        WATCH_KIND: ("résultat de veille", "résultats de veille"),
    },
    labels={
        "new_relevant_article": "Nouvel article",
        "article_edited": "Article modifié",
        "figure_changed": "Chiffre modifié",
        "cluster_growing": "Histoire qui s'étend",
        "feed_flood": "Flux qui déborde",
        "feed_broken": "Flux en panne",
        "feed_recovered": "Flux rétabli",
        "run_failed": "Exécution échouée",
    },
    change_kinds={
        "headline_changed": "titre modifié",
        "figures_changed": "chiffres modifiés",
        "quote_added": "citation ajoutée",
        "quote_removed": "citation retirée",
        "correction_notice": "avis de correction",
        "topic_added": "sujet ajouté",
        "topic_removed": "sujet retiré",
        "body_rewritten": "texte réécrit",
    },
    months=(
        "janv.", "févr.", "mars", "avr.", "mai", "juin",
        "juil.", "août", "sept.", "oct.", "nov.", "déc.",
    ),
)  # fmt: skip
LANGUAGES = {"en": ENGLISH, "fr": FRENCH}


def words_for(language: str) -> Words:
    """The digest's words in ``language`` ("en" or "fr"; anything else reads as English)."""
    return LANGUAGES.get(language, ENGLISH)


@dataclass(frozen=True)
class _Story:
    title: str
    link: str | None
    meta: str
    evidence: str
    #: Other outlets carrying the story: (outlet, link or None).
    also: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class _Change:
    title: str
    link: str | None
    meta: str
    #: "old → new" for figures, diff lines for edits.
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _View:
    words: Words
    period: str
    summary: str
    topics: list[tuple[str, int, list[_Story]]]
    figures: list[_Change]
    edits: list[_Change]
    updates: list[Card]
    more: int


def render_digest(payload: Mapping[str, Any], style: Style, language: str = "en") -> Rendered:
    """The digest in text, markdown and HTML, in ``language`` ("en" or "fr"); topic labels
    come from ``style`` (give it the labels of that language)."""
    words = words_for(language)
    since, until = _time(payload.get("since")), _time(payload.get("until"))
    zone = style.timezone
    view = _View(
        words=words,
        period=f"{_day_time(since, zone, words)} {words.to} {_day_time(until, zone, words)}",
        summary=summary_line(payload.get("counts") or {}, words),
        topics=[
            _topic(t, style, words) for t in payload.get("topics") or [] if isinstance(t, Mapping)
        ],
        figures=[_change_view(c, style, words) for c in _mappings(payload.get("figures"))],
        edits=[_change_view(c, style, words) for c in _mappings(payload.get("edits"))],
        updates=[_update_card(u, style, words) for u in _mappings(payload.get("updates"))],
        more=int(payload.get("more_updates") or 0),
    )
    watches = [_watch_view(w, style, words) for w in _mappings(payload.get("watches"))]
    local_day = until.astimezone(zone)
    day = f"{local_day.day} {words.months[local_day.month - 1]} {local_day.year}"
    return Rendered(
        subject=clean(f"{words.subject} · {day}{words.colon}: {view.summary}", 150),
        text=_text(view) + _watches_text(watches, words),
        markdown=_markdown(view) + _watches_markdown(watches, words),
        html=_with_watches_html(_html(view), watches, words),
    )


# --- watch sections ------------------------------------------------------------------------

Watches = list[tuple[str, int, list[_Story]]]


def _watch_view(
    section: Mapping[str, Any], style: Style, words: Words
) -> tuple[str, int, list[_Story]]:
    matches = [
        _story_view({**m, "evidence": m.get("passage")}, style, words)
        for m in section.get("matches") or []
        if isinstance(m, Mapping)
    ]
    return clean(section.get("watch"), 80), int(section.get("count") or 0), matches


def _watches_text(watches: Watches, words: Words) -> str:
    lines: list[str] = []
    for name, count, matches in watches:
        lines += ["", f"{words.watch.upper()}{words.colon}: {name} ({count})"]
        for match in matches:
            lines.append(f"• {match.title} ({match.meta})")
            lines += [f"  “{match.evidence}”"] if match.evidence else []
            lines += [f"  {match.link}"] if match.link else []
    return "\n".join(lines) + "\n" if lines else ""


def _watches_markdown(watches: Watches, words: Words) -> str:
    lines: list[str] = []
    for name, count, matches in watches:
        lines += ["", f"## {md_escape(words.watch)}{words.colon}: {md_escape(name)} ({count})", ""]
        lines += [_md_story(match, words) for match in matches]
    return "\n".join(lines) + "\n" if lines else ""


def _with_watches_html(html: str, watches: Watches, words: Words) -> str:
    parts: list[str] = []
    for name, count, matches in watches:
        heading = f"{html_escape(words.watch)}{words.colon}: {html_escape(name)} ({count})"
        parts.append(f'<h2 style="font-size:16px;margin:14px 0 4px">{heading}</h2>')
        parts.append('<ul style="margin:0;padding-left:18px">')
        parts += [_html_story(match, words) for match in matches]
        parts.append("</ul>")
    if not parts:
        return html
    body, _, _ = html.rpartition("</div>")  # the digest's closing tag
    return body + "\n".join(parts) + "\n</div>"


def summary_line(counts: Mapping[str, Any], words: Words = ENGLISH) -> str:
    """``12 new relevant stories, 3 edits``; "nothing new" when there is nothing."""
    parts = []
    for kind, (one, many) in words.kinds.items():
        n = counts.get(kind)
        if isinstance(n, int) and n > 0:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or words.nothing_new


def _mappings(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


def _day_time(moment: datetime, zone: tzinfo, words: Words) -> str:
    local = moment.astimezone(zone)
    month = words.months[local.month - 1]
    return f"{local.day} {month} {local.year} {local:%H:%M} {local.tzname() or ''}".strip()


def _topic(topic: Mapping[str, Any], style: Style, words: Words) -> tuple[str, int, list[_Story]]:
    key = str(topic.get("topic") or "")
    label = topic_label(key, style) if key else words.other_topic
    stories = [_story_view(s, style, words) for s in _mappings(topic.get("stories"))]
    return label, int(topic.get("count") or 0), stories


def _story_view(story: Mapping[str, Any], style: Style, words: Words) -> _Story:
    published = story.get("published_at")
    when = published_time(_time(published), style.timezone) if published else ""
    topics = story.get("topics")
    others = topic_list(topics[1:], style, 3) if isinstance(topics, list) else ""
    also = f"{words.also_topics} {others}" if others else ""
    meta = " · ".join(part for part in (clean(story.get("source"), 60), when, also) if part)
    return _Story(
        title=clean(story.get("title"), 200) or "(untitled)",
        link=safe_link(story.get("url")),
        meta=meta,
        evidence=clean(story.get("evidence"), 240),
        also=tuple(
            (clean(c.get("outlet"), 60), safe_link(c.get("url")))
            for c in _mappings(story.get("also"))[:5]
        ),
    )


def _change_view(change: Mapping[str, Any], style: Style, words: Words) -> _Change:
    kinds = [
        words.change_kinds.get(k, str(k).replace("_", " "))
        for k in change.get("change_kinds") or []
    ]
    meta = [clean(change.get("source"), 60)]
    if kinds and change.get("kind") == EDIT_KIND:
        meta.append(f"{words.changed}{words.colon}: {', '.join(kinds)}")
    if change.get("sent_at_once"):
        meta.append(words.sent_at_once)
    figure = change.get("figure")
    if isinstance(figure, Mapping) and figure:
        lines: tuple[str, ...] = (_figure_text(figure, style, words),)
        if sentence := clean(change.get("sentence"), 280):
            lines += (f"« {sentence} »" if words is FRENCH else f"“{sentence}”",)
    else:
        lines = diff_lines(change.get("diff_excerpt"), max_lines=2)
    return _Change(
        title=clean(change.get("title"), 200) or "(untitled)",
        link=safe_link(change.get("url")),
        meta=" · ".join(part for part in meta if part),
        lines=lines,
    )


def _figure_text(figure: Mapping[str, Any], style: Style, words: Words) -> str:
    """``Topic: old (was: source) → new (now: source)``, in the digest's language."""
    old, new = clean(figure.get("old"), 60) or "?", clean(figure.get("new"), 60) or "?"
    if old_source := clean(figure.get("old_source"), 140):
        old += f" ({words.was}{words.colon}: {old_source})"
    if new_source := clean(figure.get("new_source"), 140):
        new += f" ({words.now}{words.colon}: {new_source})"
    topic = topic_label(str(figure.get("topic") or ""), style) if figure.get("topic") else ""
    return f"{topic}{words.colon}: {old} → {new}" if topic else f"{old} → {new}"


def _update_card(update: Mapping[str, Any], style: Style, words: Words) -> Card:
    kind = str(update.get("kind"))
    content = AlertContent(
        kind=kind,
        severity=str(update.get("severity") or "info"),
        payload=update.get("payload") or {},
        created_at=_time(update.get("created_at")),
    )
    card = card_for(content, style)
    return replace(card, label=words.labels.get(kind, card.label))


def _text(view: _View) -> str:
    w = view.words
    lines = [f"{w.title}, {view.period}", f"{view.summary}.", ""]
    if not view.topics:
        lines += [w.no_story, ""]
    for label, count, stories in view.topics:
        lines.append(f"{label.upper()} ({count})")
        for story in stories:
            lines.append(f"• {story.title} ({story.meta})")
            if story.link:
                lines.append(f"  {story.link}")
            if story.also:
                covered = ", ".join(f"{o} {link}" if link else o for o, link in story.also)
                lines.append(f"  {w.also_covered} {covered}")
        lines.append("")
    for heading, changes in ((w.figures, view.figures), (w.edits, view.edits)):
        if not changes:
            continue
        lines.append(heading.upper())
        for change in changes:
            lines.append(f"• {change.title} ({change.meta})")
            lines += [f"  {line}" for line in change.lines]
            if change.link:
                lines.append(f"  {change.link}")
        lines.append("")
    if view.updates:
        lines.append(w.updates.upper())
        lines += [
            f"• {c.label}: {c.headline}" + (f" {c.link}" if c.link else "") for c in view.updates
        ]
        lines += [f"• … {w.more.format(n=view.more)}"] if view.more else []
    return "\n".join(lines).strip() + "\n"


def _markdown(view: _View) -> str:
    w = view.words
    lines = [f"# {md_escape(w.title)}", "", md_escape(f"{view.period}. {view.summary}."), ""]
    if not view.topics:
        lines += [md_escape(w.no_story), ""]
    for label, count, stories in view.topics:
        lines += [f"## {md_escape(label)} ({count})", ""]
        lines += [_md_story(story, w) for story in stories]
        lines.append("")
    for heading, changes in ((w.figures, view.figures), (w.edits, view.edits)):
        if changes:
            lines += [f"## {md_escape(heading)}", ""]
            lines += [_md_change(change) for change in changes]
            lines.append("")
    if view.updates:
        lines += [f"## {md_escape(w.updates)}", ""]
        lines += [
            f"- **{md_escape(c.label)}:** {_md_link(c.headline, c.link)}" for c in view.updates
        ]
        lines += [f"- … {md_escape(w.more.format(n=view.more))}"] if view.more else []
    return "\n".join(lines).strip() + "\n"


def _md_story(story: _Story, words: Words) -> str:
    line = f"- {_md_link(story.title, story.link)} ({md_escape(story.meta)})"
    if story.also:
        covered = ", ".join(_md_link(outlet, link) for outlet, link in story.also)
        line += f"  \n  {md_escape(words.also_covered)} {covered}"
    return f"{line}  \n  > {md_escape(story.evidence)}" if story.evidence else line


def _md_change(change: _Change) -> str:
    line = f"- {_md_link(change.title, change.link)} ({md_escape(change.meta)})"
    return "".join([line, *(f"  \n  {md_escape(text)}" for text in change.lines)])


def _md_link(text: str, link: str | None) -> str:
    return f"[{md_escape(text)}]({md_link(link)})" if link else md_escape(text)


_H2 = '<h2 style="font-size:16px;margin:14px 0 4px">'
_SMALL = '<br><span style="color:#555;font-size:13px">'


def _html(view: _View) -> str:
    w = view.words
    parts = [
        '<div style="font-family:-apple-system,Segoe UI,Roboto,Arial,sans-serif;max-width:640px">',
        f'<h1 style="font-size:20px;margin:0 0 4px">{html_escape(w.title)}</h1>',
        f'<p style="margin:0 0 12px;color:#555">{html_escape(view.period)}. '
        f"{html_escape(view.summary)}.</p>",
    ]
    if not view.topics:
        parts.append(f"<p>{html_escape(w.no_story)}</p>")
    for label, count, stories in view.topics:
        parts.append(f"{_H2}{html_escape(label)} ({count})</h2>")
        parts.append('<ul style="margin:0;padding-left:18px">')
        parts += [_html_story(story, w) for story in stories]
        parts.append("</ul>")
    for heading, changes in ((w.figures, view.figures), (w.edits, view.edits)):
        if changes:
            parts.append(f'{_H2}{html_escape(heading)}</h2><ul style="margin:0;padding-left:18px">')
            parts += [_html_change(change) for change in changes]
            parts.append("</ul>")
    if view.updates:
        parts.append(f"{_H2}{html_escape(w.updates)}</h2><ul>")
        parts += [
            f"<li>{html_escape(c.label)}: {_html_link(c.headline, c.link)}</li>"
            for c in view.updates
        ]
        parts += [f"<li>… {html_escape(w.more.format(n=view.more))}</li>"] if view.more else []
        parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)


def _html_story(story: _Story, words: Words) -> str:
    parts = [f'<li style="margin-bottom:8px">{_html_link(story.title, story.link)}']
    parts.append(f"{_SMALL}{html_escape(story.meta)}</span>")
    if story.also:
        covered = ", ".join(_html_link(outlet, link) for outlet, link in story.also)
        parts.append(f"{_SMALL}{html_escape(words.also_covered)} {covered}</span>")
    if story.evidence:
        parts.append(f'<br><i style="font-size:13px">{html_escape(story.evidence)}</i>')
    if story.link:
        # Shown as text too: the plain-text part of the email is derived from this HTML.
        link = html_escape(story.link)
        parts.append(f'<br><a style="font-size:12px" href="{link}">{link}</a>')
    return "".join(parts) + "</li>"


def _html_change(change: _Change) -> str:
    parts = [f'<li style="margin-bottom:8px">{_html_link(change.title, change.link)}']
    parts.append(f"{_SMALL}{html_escape(change.meta)}</span>")
    parts += [
        f'<br><span style="font-size:13px">{html_escape(line)}</span>' for line in change.lines
    ]
    return "".join(parts) + "</li>"


def _html_link(text: str, link: str | None) -> str:
    if not link:
        return html_escape(text)
    return f'<a href="{html_escape(link)}">{html_escape(text)}</a>'
