"""Run summaries: counted during a run, shown as Prefect artifacts and in the CLI.

Feed-supplied text is untrusted: everything that reaches markdown goes through ``md_escape``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.context import get_run_context

from db.intents import StoreCounts

# Inline markdown that could turn feed text into links, images, emphasis, tables or HTML.
# Text is flattened to one line first, so line-start syntax (lists, headings) cannot occur.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~!#])")


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def md_escape(text: str, limit: int = 300) -> str:
    """Text made inert in markdown and HTML: no links, images, tags or tables from a feed."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text, limit).replace("&", "&amp;"))


def cell_escape(text: str, limit: int = 300) -> str:
    """Text for a table artifact cell: one line, HTML-inert (cells are not markdown)."""
    return html.escape(_one_line(text, limit), quote=False)


@dataclass(frozen=True)
class FeedReport:
    """What happened to one feed in a run."""

    feed_id: int
    name: str
    url: str
    #: fetched, not_modified, unchanged_body or failed.
    outcome: str
    entries: int = 0
    error: str | None = None
    health_before: str = "healthy"
    health_after: str = "healthy"


@dataclass(frozen=True)
class NewArticle:
    """A new relevant article, as listed in the run summary."""

    id: int
    title: str
    source: str
    topics: tuple[str, ...]
    url: str


@dataclass
class RunSummary:
    """Counts and timings of one monitor or seed run."""

    kind: str
    started_at: datetime
    feeds: list[FeedReport] = field(default_factory=list)
    counts: StoreCounts = field(default_factory=StoreCounts)
    in_feed_duplicates: int = 0
    #: Article pages fetched for summary-only entries.
    pages_fetched: int = 0
    new_relevant: list[NewArticle] = field(default_factory=list)
    #: Seconds spent per stage (fetch, parse+tag, store).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    finished_at: datetime | None = None

    def feeds_with(self, outcome: str) -> int:
        """How many feeds ended with ``outcome``."""
        return sum(1 for feed in self.feeds if feed.outcome == outcome)

    def add_stage_time(self, stage: str, seconds: float) -> None:
        """Add time spent in a stage."""
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def as_counts(self) -> dict[str, object]:
        """Flat counts for the runs table and JSON output."""
        counts = asdict(self.counts)
        counts.pop("new_relevant")
        return {
            "feeds_polled": len(self.feeds),
            "feeds_fetched": self.feeds_with("fetched"),
            "feeds_not_modified": self.feeds_with("not_modified"),
            "feeds_unchanged_body": self.feeds_with("unchanged_body"),
            "feeds_failed": self.feeds_with("failed"),
            "in_feed_duplicates": self.in_feed_duplicates,
            "pages_fetched": self.pages_fetched,
            **counts,
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }


def summary_markdown(summary: RunSummary) -> str:
    """A summary a person reads first: totals, failures with reasons, new relevant stories."""
    c = summary.counts
    lines = [
        f"# Vigie {summary.kind} run",
        "",
        f"Started {summary.started_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
        "| | count |",
        "|---|---:|",
        f"| feeds polled | {len(summary.feeds)} |",
        f"| feeds with new content | {summary.feeds_with('fetched')} |",
        f"| feeds unchanged (304 or same body) | "
        f"{summary.feeds_with('not_modified') + summary.feeds_with('unchanged_body')} |",
        f"| feeds failed | {summary.feeds_with('failed')} |",
        f"| article pages fetched | {summary.pages_fetched} |",
        f"| new articles | {c.new_articles} |",
        f"| new versions | {c.new_versions} |",
        f"| duplicates dropped | {c.duplicates + summary.in_feed_duplicates} |",
        f"| extractions not trusted (consent wall, shrank, churn) | {c.suspect} |",
        f"| alerts written | {c.alerts} |",
        "",
    ]
    lines += _failures_section(summary) + _new_relevant_section(summary) + _timing_section(summary)
    return "\n".join(lines)


def _failures_section(summary: RunSummary) -> list[str]:
    failed = [feed for feed in summary.feeds if feed.outcome == "failed"]
    if not failed:
        return []
    lines = ["## Feeds that failed", "", "| feed | reason | health |", "|---|---|---|"]
    lines += [
        f"| {md_escape(f.name, 80)} | {md_escape(f.error or '', 200)} | {f.health_after} |"
        for f in failed
    ]
    return [*lines, ""]


def _new_relevant_section(summary: RunSummary) -> list[str]:
    if not summary.new_relevant:
        return ["No new relevant article.", ""]
    lines = ["## New relevant articles", ""]
    lines += [
        f"- **{md_escape(a.title, 160)}** ({md_escape(a.source, 60)}; "
        f"{', '.join(a.topics) or 'no topic'}) `vigie show {a.id}`"
        for a in summary.new_relevant
    ]
    return [*lines, ""]


def _timing_section(summary: RunSummary) -> list[str]:
    if not summary.stage_seconds:
        return []
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in summary.stage_seconds.items())
    return [f"Time per stage: {stages}.", ""]


def run_name(prefix: str) -> Callable[[], str]:
    """A flow-run namer giving readable names such as ``monitor-2026-11-21T14:15``."""

    def name() -> str:
        return f"{prefix}-{datetime.now(UTC):%Y-%m-%dT%H:%M}"

    return name


async def publish_artifacts(summary: RunSummary, key_prefix: str) -> None:
    """Attach the summary (and the new relevant articles) to the current Prefect run."""
    if not in_prefect_run():
        return
    await acreate_markdown_artifact(
        summary_markdown(summary), key=f"{key_prefix}-summary", description="Run summary"
    )
    if summary.new_relevant:
        rows = [
            {
                "title": cell_escape(a.title, 160),
                "outlet": cell_escape(a.source, 60),
                "topics": ", ".join(a.topics),
                "link": cell_escape(a.url, 300),
            }
            for a in summary.new_relevant
        ]
        await acreate_table_artifact(
            rows, key=f"{key_prefix}-new-relevant", description="New relevant articles"
        )


def in_prefect_run() -> bool:
    """True inside a flow or task run (artifacts need one; plain function calls have none)."""
    try:
        get_run_context()
    except RuntimeError:
        return False
    return True
