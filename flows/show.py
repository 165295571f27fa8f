"""``vigie show``: an article's text with its evidence highlighted."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from db.models import Article, ArticleVersion, Mention

_STYLE_BY_KIND = {
    "topic": "bold yellow",
    "actor": "bold cyan",
    "organisation": "cyan",
    "place": "green",
    "programme": "magenta",
    "figure": "bold red",
}


def render_article(console: Console, article: Article) -> None:
    """Print header, highlighted text and an evidence table for the current version."""
    version = article.current_version
    assert version is not None
    console.print(Text(version.title or article.title, style="bold"))
    published = f" · {article.published_at:%Y-%m-%d}" if article.published_at else ""
    console.print(f"{article.source} · {article.canonical_url}{published}", highlight=False)
    console.print(_standing(version, len(article.versions)), highlight=False)
    console.print()
    console.print(highlighted(version.text, [m for m in version.mentions if m.field == "text"]))
    console.print()
    console.print(evidence_table(version.mentions))


def _standing(version: ArticleVersion, count: int) -> str:
    topics = sorted({m.tag.key for m in version.mentions if m.tag.kind == "topic"})
    relevant = "relevant" if version.relevant else "not relevant"
    return (
        f"{relevant} (score {version.relevance:.1f}) · topics: {', '.join(topics) or 'none'} · "
        f"version {version.n} of {count} · taxonomy {version.taxonomy_version}"
    )


def highlighted(text: str, mentions: list[Mention]) -> Text:
    """``text`` with each mention styled by its kind (overlaps keep the first)."""
    rich_text = Text(text)
    taken_until = -1
    for mention in sorted(mentions, key=lambda m: (m.start, -m.end)):
        if mention.start < taken_until:
            continue
        rich_text.stylize(_STYLE_BY_KIND.get(mention.tag.kind, "bold"), mention.start, mention.end)
        taken_until = mention.end
    return rich_text


def evidence_table(mentions: list[Mention]) -> Table:
    """One row per concept: kind, how often, and the first sentence that shows it."""
    by_concept: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for mention in mentions:
        # Figures share one tag; each distinct number is its own line of evidence.
        key = mention.matched if mention.tag.kind == "figure" else mention.tag.key
        by_concept[(mention.tag.kind, key)].append(mention)
    table = Table("kind", "concept", "n", "evidence", title="Evidence")
    for (kind, key), found in sorted(by_concept.items()):
        table.add_row(kind, key, str(len(found)), found[0].sentence[:160])
    return table
