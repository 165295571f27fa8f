"""The ``vigie`` command line."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, TypeVar, get_type_hints

# Before Prefect is imported: its temporary server logs "database is locked" tracebacks when
# analytics are on, and at INFO every task prints several lines that bury Vigie's own output.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# The temporary server's first start on a fresh PREFECT_HOME (migrations) can pass Prefect's
# 20 s default on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
if "PREFECT_API_URL" not in os.environ:
    # The temporary server dies with this process; its shutdown cancels its own event recorder
    # and prints tracebacks about records nobody can see any more. Keep only critical lines.
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")

import typer
from rich.table import Table
from typer.core import TyperGroup

from cli import listing, search
from cli.errors import clear_errors
from cli.output import Format, fail, format_option, out, print_json, shown_time
from parsers.inert import clean
from parsers.text import counted
from parsers.urls import feed_url_refusal

# The database (SQLAlchemy), the settings (pydantic) and the flows (Prefect) load inside the
# commands that use them: `vigie --help` needs none of them, and a reading command no flow.
if TYPE_CHECKING:
    from db.queries import ArticleRow
    from flows.report import RunCounts


class _Commands(TyperGroup):
    """Vigie's commands: whatever a command does, a failure of the database (a corrupt file,
    a server gone, bad URL options, a read-only directory) ends it with one line, and so
    does an argument that is not UTF-8."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for position, arg in enumerate(args, start=1):
            if _SURROGATE.search(arg):  # how Python keeps the bytes it could not decode
                raw = arg.encode("utf-8", "surrogateescape")
                fail(f"argument {position} is not valid UTF-8 ({raw!r}); Vigie reads its "
                     "arguments as UTF-8")  # fmt: skip
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        with clear_errors():
            return super().invoke(ctx)


_SURROGATE = re.compile("[\udc80-\udcff]")


app = typer.Typer(
    cls=_Commands,
    help="Vigie: scheduled monitoring of Canadian and Quebec immigration-policy news.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
feeds_app = typer.Typer(
    help="List, add and remove the feeds Vigie polls.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(feeds_app, name="feeds")

T = TypeVar("T")


FormatOption = Annotated[Format, format_option()]


class FeedLanguage(StrEnum):
    """The languages Vigie tags."""

    en = "en"
    fr = "fr"


def _now() -> datetime:
    return datetime.now(UTC)


def _run_flow(flow_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    import asyncio  # here: only the commands that run a flow need its event loop

    from flows import context

    with clear_errors():
        # Settings, database and taxonomy are checked before Prefect starts, so that a bad
        # one is a single line here rather than a flow-run traceback first.
        _preflight()
        context.start_temporary_prefect_server()
        return asyncio.run(flow_fn())


def _preflight() -> None:
    """Settings, database, taxonomy and alert rules, each checked (raises ConfigError)."""
    from flows import context
    from flows.settings import get_settings
    from parsers.alert_rules import load_rules

    context.ensure_schema()
    context.tagger()
    load_rules(get_settings().resolved_alert_rules_path)


# --- setup -----------------------------------------------------------------------------------


@app.command()
def init(
    curated: Annotated[
        bool, typer.Option(help="Also add the curated feed list from seeds/feeds.toml.")
    ] = True,
) -> None:
    """Create or upgrade the database schema (and add the curated feeds)."""
    from db import repo
    from flows import context
    from flows.settings import get_settings
    from parsers.seeds import load_feed_list

    with clear_errors():
        context.ensure_schema()
        settings = get_settings()
        added = 0
        if curated:
            listings = load_feed_list(settings.seeds_dir / "feeds.toml")
            specs = [repo.FeedSpec(f.url, f.name, f.language) for f in listings]
            with context.sessions().begin() as session:
                added = repo.add_feeds(session, specs, _now())
    url = context.engine().url.render_as_string(hide_password=True)
    out.print(f"Database ready at {url}; {added} curated feeds added.")


@app.command()
def seed() -> None:
    """Store the seed articles (idempotent)."""
    from flows.seeds import ingest_seeds

    counts = _run_flow(ingest_seeds)
    out.print(
        f"Seeds: {counts['new_articles']} new, {counts['unchanged']} already stored, "
        f"{counted(counts['alerts'], 'alert')} written."
    )


@app.command()
def run(
    all_feeds: Annotated[
        bool, typer.Option("--all", help="Poll every enabled feed, not only those due.")
    ] = False,
) -> None:
    """Set up the database, store the seeds, run one monitor pass and list what is stored."""
    from flows.monitor import run_monitor

    with clear_errors():
        _preflight()  # before anything is printed: a bad setting is then the only line
    init(curated=True)
    seed()
    counts = _run_flow(lambda: run_monitor(due_only=not all_feeds))
    _print_monitor_counts(counts)
    articles(format=Format.table, relevant=False, limit=20)


def _print_monitor_counts(counts: RunCounts) -> None:
    duplicates = counts["duplicates"] + counts["in_feed_duplicates"]
    out.print(
        f"Monitor: {counted(counts['feeds_polled'], 'feed')} polled, "
        f"{counts['feeds_failed']} failed, "
        f"{counts['feeds_not_modified'] + counts['feeds_unchanged_body']} unchanged; "
        f"{counted(counts['new_articles'], 'new article')}, "
        f"{counted(counts['new_versions'], 'new version')}, "
        f"{counted(duplicates, 'duplicate')} dropped, {counted(counts['alerts'], 'alert')} written."
    )
    if counts["feeds_failed"]:
        # The run's own state message: which feeds failed and why (feed text, made printable).
        out.print(f"{clean(counts.get('failures'), 600)}.")
    if counts.get("feeds_postponed"):
        out.print(
            f"{counted(counts['feeds_postponed'], 'feed')} not polled: the pass reached its "
            "deadline (VIGIE_PASS_DEADLINE_SECONDS); they stay due for the next pass."
        )
    if counts.get("items_left"):
        out.print(
            f"{counted(counts['items_left'], 'new item')} left for the next pass "
            "(more than VIGIE_MAX_NEW_ITEMS_PER_FEED from one feed)."
        )
    if counts.get("pages_left"):
        out.print(
            f"{counted(counts['pages_left'], 'article page')} left to a re-check "
            "(VIGIE_MAX_PAGES_PER_FEED, or the pass deadline)."
        )


@app.command()
def monitor(
    all_feeds: Annotated[
        bool, typer.Option("--all", help="Poll every enabled feed, not only those due.")
    ] = False,
) -> None:
    """Run one monitor pass over the feeds that are due."""
    from flows.monitor import run_monitor

    _print_monitor_counts(_run_flow(lambda: run_monitor(due_only=not all_feeds)))


# --- feeds -----------------------------------------------------------------------------------


class _FeedRow(TypedDict):
    id: int
    name: str
    url: str
    language: str | None
    health: str
    failures: int
    last_error: str | None
    next_check_at: str | None


@feeds_app.command("list")
def feeds_list(format: FormatOption = Format.table) -> None:
    """Show every feed with its health, last error and next check."""
    from db import queries
    from flows import context

    with clear_errors(), context.reading() as connection:
        feeds = queries.list_feeds(connection)
        rows: list[_FeedRow] = [
            {
                "id": f.id,
                "name": f.name,
                "url": f.url,
                "language": f.language,
                "health": f.health,
                "failures": f.consecutive_failures,
                "last_error": f.last_error,
                "next_check_at": f.next_check_at.isoformat() if f.next_check_at else None,
            }
            for f in feeds
        ]
    if format is Format.json:
        print_json(rows)
        return
    table = Table("id", "name", "lang", "health", "last error", "next check")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["language"] or "",
            row["health"],
            clean(row["last_error"], 300),
            shown_time(row["next_check_at"]) or "now",
        )
    out.print(table)


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's URL (http or https).")],
    name: Annotated[str | None, typer.Option(help="Display name; defaults to the URL.")] = None,
    language: Annotated[
        FeedLanguage | None, typer.Option(help="The feed's language, when known.")
    ] = None,
    interval: Annotated[
        int | None, typer.Option(help="Minutes between polls for this feed.", min=1)
    ] = None,
) -> None:
    """Add a feed to poll."""
    from db import repo
    from flows import context

    if refusal := feed_url_refusal(url):
        fail(f"{refusal}: {url}")
    spec = repo.FeedSpec(url, name or url, language.value if language else None, interval)
    with clear_errors(), context.sessions().begin() as session:
        added = repo.add_feeds(session, [spec], _now())
    out.print("Added." if added else "Already there.")


@feeds_app.command("remove")
def feeds_remove(
    feed: Annotated[str, typer.Argument(help="The feed's id or URL.")],
) -> None:
    """Stop polling a feed (its articles stay)."""
    from db import repo
    from flows import context

    with clear_errors(), context.sessions().begin() as session:
        removed = repo.remove_feed(session, feed)
    if not removed:
        fail(f"no feed {feed!r}", 1)
    out.print("Removed.")


# --- articles --------------------------------------------------------------------------------


@app.command()
def articles(
    format: search.FormatOption = Format.table,
    topic: listing.TopicOption = None,
    since: listing.SinceOption = None,
    until: listing.UntilOption = None,
    outlet: listing.OutletOption = None,
    language: listing.LanguageOption = None,
    relevant: listing.RelevantOption = False,
    limit: listing.LimitOption = None,
) -> None:
    """List stored articles, newest first, with topics and version counts."""
    from db import queries
    from flows import context

    filters = listing.filters_from(topic, since, until, outlet, language, relevant)
    with clear_errors(), context.reading() as connection:
        rows = queries.list_articles(connection, filters=filters, limit=limit)
    if format in (Format.json, Format.jsonl):
        search.write([_article_json(row) for row in rows], format, ())
        return
    if format is Format.csv:
        search.write([search.article_record(row) for row in rows], format, search.CSV_COLUMNS)
        return
    table = Table("id", "published", "source", "lang", "relevant", "topics", "v", "title", "link")
    for row in rows:
        table.add_row(
            str(row.id),
            shown_time(row.published_at, published=True),
            row.source[:24],
            row.language or "",
            "yes" if row.relevant else "",
            ", ".join(row.topics),
            str(row.versions),
            row.title,
            row.canonical_url,
        )
    out.print(table)


def _article_json(row: ArticleRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "canonical_url": row.canonical_url,
        "source": row.source,
        "byline": row.byline,
        "language": row.language,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "first_seen_at": row.first_seen_at.isoformat(),
        "topics": list(row.topics),
        "relevant": row.relevant,
        "relevance": row.relevance,
        "versions": row.versions,
    }


@app.command()
def show(
    article_id: Annotated[int, typer.Argument(help="The article's id (see `vigie articles`).")],
    versions: Annotated[
        bool, typer.Option("--versions", help="List the article's versions and what changed.")
    ] = False,
) -> None:
    """Show an article's text with its tags and evidence snippets."""
    from cli.render import render_article, render_versions
    from db import queries, story_queries
    from flows import context

    with clear_errors(), context.reading() as connection:
        article = queries.article_view(connection, article_id)
        if article is None or article.current_version is None:
            fail(f"no article {article_id}", 1)
        if versions:
            render_versions(out, article)
        else:
            render_article(out, article, story_queries.cluster_of(connection, article_id))


@app.command()
def diff(
    article_id: Annotated[int, typer.Argument(help="The article's id.")],
    old: Annotated[int | None, typer.Argument(help="Older version (default: previous).")] = None,
    new: Annotated[int | None, typer.Argument(help="Newer version (default: current).")] = None,
) -> None:
    """Word diff between two versions: coloured in a terminal, [-old-]{+new+} elsewhere."""
    from cli.render import render_diff
    from db import queries
    from flows import context

    with clear_errors(), context.reading() as connection:
        article = queries.article_view(connection, article_id)
        if article is None or not article.versions:
            fail(f"no article {article_id}", 1)
        numbers = [v.n for v in article.versions]
        new_n = new or numbers[-1]
        old_n = old or (numbers[-2] if len(numbers) > 1 else numbers[-1])
        by_n = {v.n: v for v in article.versions}
        if old_n not in by_n or new_n not in by_n:
            fail(f"article {article_id} has versions {numbers}", 1)
        render_diff(out, by_n[old_n], by_n[new_n], colour=sys.stdout.isatty())


@app.command()
def recheck(
    all_watched: Annotated[
        bool, typer.Option("--all", help="Re-check every watched article, not only those due.")
    ] = False,
) -> None:
    """Fetch watched article pages again and record what their publishers edited."""
    from flows.recheck import recheck_articles

    counts = _run_flow(lambda: recheck_articles(due_only=not all_watched))
    failures = counts.pop("failures", [])
    out.print("Re-check: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for failure in failures[:_FAILURES_SHOWN]:
        reason = clean(failure["error"], 200)
        out.print(f"  article {failure['article_id']} failed: {reason}")
    if len(failures) > _FAILURES_SHOWN:
        more = len(failures) - _FAILURES_SHOWN
        out.print(f"  … and {more} more: each is a warning in the run's log.")


#: Failed re-checks printed one by one; the rest are counted (each is a warning in the log).
_FAILURES_SHOWN = 5


@app.command()
def reprocess() -> None:
    """Re-extract and re-tag every stored article from archived bytes; fetches nothing."""
    from flows.reprocess import reprocess as reprocess_flow

    counts = _run_flow(reprocess_flow)
    out.print(
        f"Reprocess: {counted(counts['versions'], 'article')} read again; "
        f"{counts.get('re-extracted', 0)} with a new text, {counts.get('retagged', 0)} re-tagged, "
        f"{counts.get('relevant', 0)} newly relevant, {counts.get('unchanged', 0)} unchanged."
    )


def _register_extensions() -> None:
    """Commands that live beside the features they belong to."""
    from cli import (
        alerting,
        extract,
        feed_debug,
        figures,
        limits,
        opml,
        search,
        server,
        stories,
        tagging,
        watch,
    )

    for module in (
        feed_debug,
        opml,
        limits,
        tagging,
        extract,
        stories,
        figures,
        alerting,
        server,
        search,
        watch,
    ):
        module.register(app)


_register_extensions()


def _resolve_annotations(typer_app: typer.Typer) -> None:
    """Turn each command's annotations, strings under ``from __future__ import annotations``,
    into the types they name, once. Typer builds every command to run any one of them, and
    evaluates each string four times (two signatures, two ``get_type_hints``): 17 ms of CPU
    per run, 10 ms with the types resolved here first (measured; ``docs/cli.md``)."""
    callbacks = [info.callback for info in typer_app.registered_commands]
    if typer_app.registered_callback is not None:
        callbacks.append(typer_app.registered_callback.callback)
    for callback in callbacks:
        if callback is not None:
            callback.__annotations__ = get_type_hints(callback, include_extras=True)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _resolve_annotations(group.typer_instance)


_resolve_annotations(app)


if __name__ == "__main__":  # pragma: no cover - `python -m cli.app`, as the tests run it
    app(prog_name="vigie")
