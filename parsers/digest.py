"""The daily digest: per topic, how many stories are mainly about it and the best of them, plus
what else happened.

``build_digest`` turns the alerts of a window into a JSON-able payload (stored on the digest's
outbox row, so a retry sends the same digest); ``render_digest`` writes that payload as text,
markdown and HTML. Both are pure; all feed text is escaped per markup as in ``messages``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parsers.alert_rules import WATCH_KIND, DigestRule, payload_topics
from parsers.inert import clean, html_escape, md_escape, md_link, safe_link
from parsers.messages import (
    AlertContent,
    Card,
    Rendered,
    Style,
    card_for,
    topic_label,
    topic_list,
)
from parsers.times import local_time, published_time

STORY_KIND = "new_relevant_article"
#: Topic under which stories without a topic are listed.
NO_TOPIC = ""
MAX_UPDATES = 30
_KIND_WORDS = {
    "new_relevant_article": ("new relevant story", "new relevant stories"),
    "article_edited": ("edit", "edits"),
    "figure_changed": ("figure change", "figure changes"),
    "cluster_growing": ("growing story", "growing stories"),
    "feed_flood": ("feed flood", "feed floods"),
    "feed_broken": ("feed broken", "feeds broken"),
    "feed_recovered": ("feed recovered", "feeds recovered"),
    "run_failed": ("failed run", "failed runs"),
    WATCH_KIND: ("watch match", "watch matches"),
}
#: Matches listed under each watch (the count covers them all).
WATCH_TOP = 10


@dataclass(frozen=True)
class DigestInput:
    """An alert as the digest sees it."""

    kind: str
    severity: str
    payload: Mapping[str, Any]
    created_at: datetime


# --- building ------------------------------------------------------------------------------


def build_digest(
    in_window: Sequence[DigestInput],
    kept_for_digest: Sequence[DigestInput],
    *,
    since: datetime,
    until: datetime,
    rule: DigestRule,
) -> dict[str, Any]:
    """The digest payload: topics with counts and top stories, updates, counts by kind."""
    stories = _stories(in_window, rule)
    updates = [a for a in kept_for_digest if a.kind not in (STORY_KIND, WATCH_KIND)][:MAX_UPDATES]
    counts: dict[str, int] = {}
    for alert in in_window:
        counts[alert.kind] = counts.get(alert.kind, 0) + 1
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "story_count": len(stories),
        "topics": _by_topic(stories, rule.top_per_topic),
        "updates": [_update_payload(a) for a in updates],
        "more_updates": max(len(kept_for_digest) - len(updates), 0),
        "counts": counts,
        "watches": watch_sections(in_window),
    }


def is_empty(payload: Mapping[str, Any]) -> bool:
    """True when the digest has no story, no update and no watch match to tell."""
    return not (payload.get("story_count") or payload.get("updates") or payload.get("watches"))


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


def _stories(alerts: Sequence[DigestInput], rule: DigestRule) -> list[dict[str, Any]]:
    seen: set[str] = set()
    stories = []
    for alert in alerts:
        if alert.kind != STORY_KIND or not _wanted(alert.payload, rule):
            continue
        key = str(alert.payload.get("url") or alert.payload.get("title"))
        if key in seen:
            continue
        seen.add(key)
        stories.append(_story(alert))
    return stories


def _wanted(payload: Mapping[str, Any], rule: DigestRule) -> bool:
    relevance = payload.get("relevance")
    if isinstance(relevance, int | float) and relevance < rule.min_relevance:
        return False
    topics = payload_topics(payload) or ()
    return not rule.topics or bool(rule.topics & set(topics))


def _story(alert: DigestInput) -> dict[str, Any]:
    payload = alert.payload
    relevance = payload.get("relevance")
    return {
        "title": clean(payload.get("title"), 200),
        "url": payload.get("url") if isinstance(payload.get("url"), str) else None,
        "source": clean(payload.get("source"), 60),
        "published_at": payload.get("published_at") or alert.created_at.isoformat(),
        "relevance": float(relevance) if isinstance(relevance, int | float) else 0.0,
        "topics": list(payload_topics(payload) or ()),
        "evidence": clean(payload.get("evidence"), 240),
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
class _Story:
    title: str
    link: str | None
    meta: str
    evidence: str


def render_digest(payload: Mapping[str, Any], style: Style) -> Rendered:
    """The digest in text, markdown and HTML."""
    since, until = _time(payload.get("since")), _time(payload.get("until"))
    period = f"{local_time(since, style.timezone)} to {local_time(until, style.timezone)}"
    summary = summary_line(payload.get("counts") or {})
    topics = [_topic(t, style) for t in payload.get("topics") or [] if isinstance(t, Mapping)]
    updates = [_update_card(u, style) for u in payload.get("updates") or []]
    more = int(payload.get("more_updates") or 0)
    local_day = until.astimezone(style.timezone)
    subject = f"Vigie digest · {local_day.day} {local_day:%b %Y}: {summary}"
    watches = [
        _watch_view(w, style) for w in payload.get("watches") or [] if isinstance(w, Mapping)
    ]
    return Rendered(
        subject=clean(subject, 150),
        text=_text(period, summary, topics, updates, more) + _watches_text(watches),
        markdown=_markdown(period, summary, topics, updates, more) + _watches_markdown(watches),
        html=_with_watches_html(_html(period, summary, topics, updates, more), watches),
    )


# --- watch sections ------------------------------------------------------------------------

Watches = list[tuple[str, int, list[_Story]]]


def _watch_view(section: Mapping[str, Any], style: Style) -> tuple[str, int, list[_Story]]:
    matches = [
        _story_view({**m, "evidence": m.get("passage")}, style)
        for m in section.get("matches") or []
        if isinstance(m, Mapping)
    ]
    return clean(section.get("watch"), 80), int(section.get("count") or 0), matches


def _watches_text(watches: Watches) -> str:
    lines: list[str] = []
    for name, count, matches in watches:
        lines += ["", f"WATCH: {name} ({count})"]
        for match in matches:
            lines.append(f"• {match.title} ({match.meta})")
            lines += [f"  “{match.evidence}”"] if match.evidence else []
            lines += [f"  {match.link}"] if match.link else []
    return "\n".join(lines) + "\n" if lines else ""


def _watches_markdown(watches: Watches) -> str:
    lines: list[str] = []
    for name, count, matches in watches:
        lines += ["", f"## Watch: {md_escape(name)} ({count})", ""]
        lines += [_md_story(match) for match in matches]
    return "\n".join(lines) + "\n" if lines else ""


def _with_watches_html(html: str, watches: Watches) -> str:
    parts: list[str] = []
    for name, count, matches in watches:
        heading = f"Watch: {html_escape(name)} ({count})"
        parts.append(f'<h2 style="font-size:16px;margin:14px 0 4px">{heading}</h2>')
        parts.append('<ul style="margin:0;padding-left:18px">')
        parts += [_html_story(match) for match in matches]
        parts.append("</ul>")
    if not parts:
        return html
    body, _, _ = html.rpartition("</div>")  # the digest's closing tag
    return body + "\n".join(parts) + "\n</div>"


def summary_line(counts: Mapping[str, Any]) -> str:
    """``12 new relevant stories, 3 edits``; "nothing new" when there is nothing."""
    parts = []
    for kind, (one, many) in _KIND_WORDS.items():
        n = counts.get(kind)
        if isinstance(n, int) and n > 0:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "nothing new"


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


def _topic(topic: Mapping[str, Any], style: Style) -> tuple[str, int, list[_Story]]:
    key = str(topic.get("topic") or "")
    label = topic_label(key, style) if key else "Other"
    stories = [_story_view(s, style) for s in topic.get("stories") or []]
    return label, int(topic.get("count") or 0), stories


def _story_view(story: Mapping[str, Any], style: Style) -> _Story:
    published = story.get("published_at")
    when = published_time(_time(published), style.timezone) if published else ""
    topics = story.get("topics")
    others = topic_list(topics[1:], style, 3) if isinstance(topics, list) else ""
    also = f"also {others}" if others else ""
    meta = " · ".join(part for part in (clean(story.get("source"), 60), when, also) if part)
    return _Story(
        title=clean(story.get("title"), 200) or "(untitled)",
        link=safe_link(story.get("url")),
        meta=meta,
        evidence=clean(story.get("evidence"), 240),
    )


def _update_card(update: Mapping[str, Any], style: Style) -> Card:
    content = AlertContent(
        kind=str(update.get("kind")),
        severity=str(update.get("severity") or "info"),
        payload=update.get("payload") or {},
        created_at=_time(update.get("created_at")),
    )
    return card_for(content, style)


Topics = list[tuple[str, int, list[_Story]]]


def _text(period: str, summary: str, topics: Topics, updates: list[Card], more: int) -> str:
    lines = [f"Vigie daily digest, {period}", f"{summary}.", ""]
    if not topics:
        lines += ["No new relevant story in this period.", ""]
    for label, count, stories in topics:
        lines.append(f"{label.upper()} ({count})")
        for story in stories:
            lines.append(f"• {story.title} ({story.meta})")
            if story.link:
                lines.append(f"  {story.link}")
        lines.append("")
    if updates:
        lines.append("UPDATES")
        lines += [f"• {c.label}: {c.headline}" + (f" {c.link}" if c.link else "") for c in updates]
        lines += [f"• … and {more} more"] if more else []
    return "\n".join(lines).strip() + "\n"


def _markdown(period: str, summary: str, topics: Topics, updates: list[Card], more: int) -> str:
    lines = ["# Vigie daily digest", "", md_escape(f"{period}. {summary}."), ""]
    if not topics:
        lines += ["No new relevant story in this period.", ""]
    for label, count, stories in topics:
        lines += [f"## {md_escape(label)} ({count})", ""]
        lines += [_md_story(story) for story in stories]
        lines.append("")
    if updates:
        lines += ["## Updates", ""]
        lines += [f"- **{md_escape(c.label)}:** {_md_link(c.headline, c.link)}" for c in updates]
        lines += [f"- … and {more} more"] if more else []
    return "\n".join(lines).strip() + "\n"


def _md_story(story: _Story) -> str:
    line = f"- {_md_link(story.title, story.link)} ({md_escape(story.meta)})"
    return f"{line}  \n  > {md_escape(story.evidence)}" if story.evidence else line


def _md_link(text: str, link: str | None) -> str:
    return f"[{md_escape(text)}]({md_link(link)})" if link else md_escape(text)


def _html(period: str, summary: str, topics: Topics, updates: list[Card], more: int) -> str:
    parts = [
        '<div style="font-family:-apple-system,Segoe UI,Roboto,Arial,sans-serif;max-width:640px">',
        '<h1 style="font-size:20px;margin:0 0 4px">Vigie daily digest</h1>',
        f'<p style="margin:0 0 12px;color:#555">{html_escape(f"{period}. {summary}.")}</p>',
    ]
    if not topics:
        parts.append("<p>No new relevant story in this period.</p>")
    for label, count, stories in topics:
        parts.append(
            f'<h2 style="font-size:16px;margin:14px 0 4px">{html_escape(label)} ({count})</h2>'
        )
        parts.append('<ul style="margin:0;padding-left:18px">')
        parts += [_html_story(story) for story in stories]
        parts.append("</ul>")
    if updates:
        parts.append('<h2 style="font-size:16px;margin:14px 0 4px">Updates</h2><ul>')
        parts += [
            f"<li>{html_escape(c.label)}: {_html_link(c.headline, c.link)}</li>" for c in updates
        ]
        parts += [f"<li>… and {more} more</li>"] if more else []
        parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)


def _html_story(story: _Story) -> str:
    parts = [f'<li style="margin-bottom:8px">{_html_link(story.title, story.link)}']
    parts.append(f'<br><span style="color:#555;font-size:13px">{html_escape(story.meta)}</span>')
    if story.evidence:
        parts.append(f'<br><i style="font-size:13px">{html_escape(story.evidence)}</i>')
    if story.link:
        # Shown as text too: the plain-text part of the email is derived from this HTML.
        link = html_escape(story.link)
        parts.append(f'<br><a style="font-size:12px" href="{link}">{link}</a>')
    return "".join(parts) + "</li>"


def _html_link(text: str, link: str | None) -> str:
    if not link:
        return html_escape(text)
    return f'<a href="{html_escape(link)}">{html_escape(text)}</a>'
