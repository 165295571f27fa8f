"""``vigie feed ...``: look at one feed the way the pipeline sees it.

``feed fetch URL`` fetches with the pipeline's own ``Fetcher`` (same User-Agent, limits and
allow-list) and parses with ``parse_feed``; ``feed parse FILE...`` parses saved files. Both
report failures as one readable line, never a traceback.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.output import Format, fail, format_option, json_text, out
from parsers.exceptions import ConfigError, FetchError, ParseError

if TYPE_CHECKING:  # httpx and feedparser load with the commands that use them
    from fetching.fetcher import FetchPolicy, FetchResult
    from parsers.feeds import FeedData

#: Response headers worth showing when debugging a feed's caching and politeness.
HEADERS_OF_INTEREST = (
    "content-type",
    "content-length",
    "content-encoding",
    "etag",
    "last-modified",
    "cache-control",
    "expires",
    "age",
    "retry-after",
    "date",
)

feed_app = typer.Typer(
    help="Debug feeds: fetch one over HTTP, or parse saved files.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def register(app: typer.Typer) -> None:
    """Add the ``feed`` command group to ``app``."""
    app.add_typer(feed_app, name="feed")


@feed_app.command("fetch")
def fetch_command(
    url: Annotated[str, typer.Argument(help="Feed URL (http or https).")],
    etag: Annotated[
        str | None, typer.Option(help="Send If-None-Match with this ETag, as a re-poll would.")
    ] = None,
    last_modified: Annotated[
        str | None, typer.Option(help="Send If-Modified-Since with this HTTP date.")
    ] = None,
) -> None:
    """Fetch URL as the pipeline would, then show the exchange and the entry count."""
    import asyncio  # here: reading commands need no event loop

    from fetching.fetcher import FetchPolicy
    from flows.settings import get_settings
    from parsers.feeds import parse_feed

    try:
        policy = FetchPolicy.from_settings(get_settings())
    except ConfigError as exc:
        fail(exc)
    try:
        sent, result = asyncio.run(_fetch(policy, url, etag, last_modified))
    except FetchError as exc:
        kind = "fetch failed (transient)" if exc.transient else "fetch failed"
        fail(f"{kind}: {exc}", 1)
    out.print(_exchange_table(sent, result))
    if result.not_modified:
        out.print("not modified: the stored copy is current, nothing to parse")
        return
    try:
        feed = parse_feed(result.final_url, result.content, result.headers)
    except ParseError as exc:
        fail(f"parse failed: {exc}", 1)
    out.print(Text(f"entries: {len(feed.entries)} in {feed.title or '(untitled feed)'}"))
    if feed.warning:
        out.print(Text(f"warning: {feed.warning}", style="yellow"))


@feed_app.command("parse")
def parse_command(
    files: Annotated[list[Path], typer.Argument(help="Saved feed files (RSS, Atom, JSON).")],
    output_format: Annotated[
        Format, format_option(help="table for people; json for one object per file per line.")
    ] = Format.table,
    url: Annotated[
        str | None,
        typer.Option(help="URL the files came from, to resolve relative links against."),
    ] = None,
) -> None:
    """Parse saved feed files with the pipeline's parser; exit 1 if any file failed."""
    failed = False
    for path in files:
        record = parse_file(path, url=url)
        failed = failed or not record["ok"]
        if output_format is Format.json:
            typer.echo(json_text(record, default=_json_default))
        else:
            _print_record(record)
    if failed:
        raise typer.Exit(1)


def parse_file(path: Path, *, url: str | None = None) -> dict[str, Any]:
    """Parse one file into the JSON-ready record ``feed parse --format json`` prints."""
    from parsers.feeds import parse_feed

    try:
        content = path.read_bytes()
    except OSError as exc:
        return {"file": str(path), "ok": False, "error": f"cannot read: {exc}"}
    try:
        feed = parse_feed(url or path.resolve().as_uri(), content)
    except ParseError as exc:
        return {"file": str(path), "ok": False, "error": str(exc) or type(exc).__name__}
    except Exception as exc:  # a debugging tool reports parser bugs too, not a traceback
        return {"file": str(path), "ok": False, "error": f"parser bug: {type(exc).__name__}: {exc}"}
    return _ok_record(path, feed)


def _ok_record(path: Path, feed: FeedData) -> dict[str, Any]:
    return {
        "file": str(path),
        "ok": True,
        "title": feed.title,
        "language": feed.language,
        "entries": [asdict(entry) for entry in feed.entries],
        "warning": feed.warning,
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _print_record(record: dict[str, Any]) -> None:
    if not record["ok"]:
        out.print(Text(f"{record['file']}: {record['error']}", style="red"))
        return
    entries = record["entries"]
    table = Table(title=f"{record['file']}: {len(entries)} entries", title_justify="left")
    for column in ("published", "title", "url"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        published = entry["published_at"].isoformat() if entry["published_at"] else ""
        table.add_row(published, Text(entry["title"]), Text(entry["url"]))
    out.print(table)
    if record["warning"]:
        out.print(Text(f"warning: {record['warning']}", style="yellow"))


async def _fetch(
    policy: FetchPolicy, url: str, etag: str | None, last_modified: str | None
) -> tuple[dict[str, str], FetchResult]:
    from fetching.fetcher import Fetcher

    async with Fetcher(policy) as fetcher:
        sent = fetcher.request_headers(etag=etag, last_modified=last_modified)
        return sent, await fetcher.fetch(url, etag=etag, last_modified=last_modified)


def _exchange_table(sent: dict[str, str], result: FetchResult) -> Table:
    from parsers.schedule import hints_from_headers

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in sent.items():
        table.add_row("sent", Text(f"{name}: {value}"))
    table.add_row(
        "status", Text(f"{result.status}" + (" not modified" if result.not_modified else ""))
    )
    if result.final_url != result.url:
        table.add_row("redirected", Text(result.final_url))
    for name in HEADERS_OF_INTEREST:
        if name in result.headers:
            table.add_row("received", Text(f"{name}: {result.headers[name]}"))
    table.add_row("time", f"{result.elapsed_ms} ms")
    table.add_row("bytes", f"{len(result.content):,} (decompressed)")
    not_before = hints_from_headers(result.headers, datetime.now(UTC)).not_before
    if not_before:
        table.add_row(
            "server asks", f"no new poll for {not_before} (Retry-After/Cache-Control/Expires)"
        )
    return table
