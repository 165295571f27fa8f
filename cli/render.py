"""``vigie show``: an article's text with its evidence highlighted.

Everything from a feed is printed as ``Text``, never as markup, so that these renderers are
safe on any console; ``cli.output``'s also replace control characters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.output import shown_time
from db.queries import ArticleView, MentionView, VersionView
from db.story_queries import ClusterRow
from parsers.inert import clean

_STYLE_BY_KIND = {
    "topic": "bold yellow",
    "actor": "bold cyan",
    "organisation": "cyan",
    "place": "green",
    "programme": "magenta",
    "figure": "bold red",
}


def render_article(
    console: Console, article: ArticleView, cluster: ClusterRow | None = None
) -> None:
    """Print header, story, highlighted text and an evidence table for the current version."""
    version = article.current_version
    assert version is not None
    console.print(Text(version.title or article.title, style="bold"))
    published = (
        f" · {shown_time(article.published_at, published=True)}" if article.published_at else ""
    )
    byline = f" · by {article.byline}" if article.byline else ""
    console.print(Text(f"{article.source}{byline} · {article.canonical_url}{published}"))
    console.print(Text(_standing(version, len(article.versions))))
    if cluster is not None and cluster.size > 1:
        outlets = ", ".join(f"{o.outlet} ({shown_time(o.first_seen_at)})" for o in cluster.outlets)
        others = ", ".join(str(i) for i in cluster.article_ids if i != article.id)
        console.print(
            Text(f"Story {cluster.id}: {cluster.size} articles from {outlets}; see also {others}"),
            highlight=False,
        )
    console.print()
    console.print(highlighted(version.text, [m for m in version.mentions if m.field == "text"]))
    console.print()
    console.print(evidence_table(version.mentions))


def _standing(version: VersionView, count: int) -> str:
    topics = version.topic_keys
    passing = sorted({m.key for m in version.mentions if m.kind == "topic"} - set(topics))
    relevant = "relevant" if version.relevant else "not relevant"
    lines = [
        f"{relevant} (score {version.relevance:.2f}) · topics: {', '.join(topics) or 'none'} · "
        f"version {version.n} of {count} · taxonomy {version.taxonomy_version}"
    ]
    if passing:
        lines.append(f"mentioned in passing: {', '.join(passing)}")
    if version.tag_note:
        lines.append(f"tagged in part: {version.tag_note}")
    return "\n".join(lines)


def highlighted(text: str, mentions: list[MentionView]) -> Text:
    """``text`` with each mention styled by its kind (overlaps keep the first)."""
    rich_text = Text(text)
    taken_until = -1
    for mention in sorted(mentions, key=lambda m: (m.start, -m.end)):
        if mention.start < taken_until:
            continue
        rich_text.stylize(_STYLE_BY_KIND.get(mention.kind, "bold"), mention.start, mention.end)
        taken_until = mention.end
    return rich_text


def evidence_table(mentions: Sequence[MentionView]) -> Table:
    """One row per concept: kind, how often, and the first sentence that shows it."""
    by_concept: dict[tuple[str, str], list[MentionView]] = defaultdict(list)
    for mention in mentions:
        # Figures share one tag; each distinct number is its own line of evidence.
        key = mention.matched if mention.kind == "figure" else mention.key
        by_concept[(mention.kind, key)].append(mention)
    table = Table("kind", "concept", "n", "evidence", title="Evidence")
    for (kind, key), found in sorted(by_concept.items()):
        table.add_row(kind, Text(key), str(len(found)), Text(clean(found[0].sentence, 160)))
    return table


def render_versions(console: Console, article: ArticleView) -> None:
    """One row per version: when, where the text came from, what changed."""
    table = Table(
        "v", "fetched", "origin", "relevant", "changes", "title", title=Text(article.title)
    )
    for version in article.versions:
        table.add_row(
            str(version.n),
            shown_time(version.fetched_at),
            version.origin + (" (fallback)" if version.fallback_reason else ""),
            "yes" if version.relevant else "",
            version.change_kinds,
            Text(version.title),
        )
    console.print(table)
    if article.suspect_reason:
        console.print(Text(f"Last extraction not trusted: {article.suspect_reason}"))


_DIFF_STYLE = {"equal": "", "delete": "red strike", "insert": "bold green"}


def render_diff(console: Console, old: VersionView, new: VersionView, *, colour: bool) -> None:
    """Title line, then the word diff of the texts (coloured, or with [-/-] {+/+} marks)."""
    from parsers.diffs import plain_diff, spaced, word_diff  # `vigie show` needs no differ

    console.print(Text(f"v{old.n} → v{new.n}: {new.change_kinds}"))
    if old.title != new.title:
        console.print(Text(f"title: {plain_diff(word_diff(old.title, new.title))}"))
    runs = word_diff(old.text, new.text)
    if not colour:
        console.print(Text(plain_diff(runs)))
        return
    text, before = Text(), ""
    for op, words in runs:
        text.append(" " if spaced(before, words) else "")
        text.append(words, style=_DIFF_STYLE[op])
        before = words
    console.print(text)
