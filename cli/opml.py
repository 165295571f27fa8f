"""``vigie feeds import FILE.opml`` and ``vigie feeds export``: subscription lists in OPML.

Import reads the file with the hostile-input parser (``parsers.opml``) and adds each http(s)
feed through ``repo.add_feeds``, reporting, feed by feed, whether it was added, was already
there, or was skipped and why. Export writes every feed as OPML 2.0, to stdout by default.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from cli.output import err, fail, out
from parsers.exceptions import ParseError, VigieError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from parsers.opml import OpmlData, OutlineData

EXPORT_TITLE = "Vigie feeds"

_OUTCOME_STYLES = {"added": "green", "already there": "dim", "skipped": "yellow"}


@dataclass(frozen=True)
class ImportLine:
    """What importing one outline did."""

    #: The feed's URL.
    url: str
    #: Its name from the file.
    title: str
    #: added, already there, or skipped.
    outcome: str
    #: Why it was skipped; empty otherwise.
    reason: str = ""


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``export`` to the ``feeds`` group of ``app``."""
    feeds = feeds_group(app)
    feeds.command("import")(import_command)
    feeds.command("export")(export_command)


def feeds_group(app: typer.Typer) -> typer.Typer:
    """The ``feeds`` sub-app that ``cli.app`` registered."""
    for group in app.registered_groups:
        if group.name == "feeds" and group.typer_instance is not None:
            return group.typer_instance
    raise RuntimeError("the `feeds` command group must be registered before its extensions")


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Vigie's own errors (settings, database) as one red line and exit code 2."""
    try:
        yield
    except VigieError as exc:
        fail(str(exc))


def import_command(
    file: Annotated[Path, typer.Argument(help="An OPML 1.0 or 2.0 file.", metavar="FILE.opml")],
) -> None:
    """Add the feeds of an OPML subscription list (those already there are left as they are).

    Nested folders are read too. Outlines whose URL is not http or https (file:, feed:,
    javascript:...), or that repeat a URL, are skipped and listed with the reason.
    """
    from flows import context

    document = _read_opml(file)
    with _one_line_errors():
        context.ensure_schema()
        with context.sessions().begin() as session:
            lines = _add_all(session, document.feeds, datetime.now(UTC))
    lines += [ImportLine(s.url, s.title, "skipped", s.reason) for s in document.skipped]
    _print_import(file, lines)


def _read_opml(file: Path) -> OpmlData:
    from parsers.opml import parse_opml  # here: only `feeds import` parses OPML

    try:
        content = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        return parse_opml(content)
    except ParseError as exc:
        fail(f"{file}: {exc}")


def _add_all(session: Session, feeds: Sequence[OutlineData], now: datetime) -> list[ImportLine]:
    from db import repo

    lines = []
    for feed in feeds:
        spec = repo.FeedSpec(feed.url, feed.title, feed.language)
        added = repo.add_feeds(session, [spec], now)  # one at a time, to say which were new
        lines.append(ImportLine(feed.url, feed.title, "added" if added else "already there"))
    return lines


def _print_import(file: Path, lines: Sequence[ImportLine]) -> None:
    counts = {kind: sum(1 for x in lines if x.outcome == kind) for kind in _OUTCOME_STYLES}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    out.print(Text(f"{file.name}: {summary}."))
    for line in lines:
        reason = f": {line.reason}" if line.reason else ""
        out.print(
            Text.assemble(
                (f"{line.outcome:<13}", _OUTCOME_STYLES[line.outcome]),
                f" {line.title} <{line.url}>{reason}",
            )
        )


def export_command(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """Write every feed as an OPML 2.0 subscription list (to standard output by default)."""
    from db import queries
    from flows import context
    from parsers.opml import OutlineData, export_opml

    with _one_line_errors():
        context.ensure_schema()  # a fresh database exports an empty list, not a traceback
        with context.sessions().begin() as session:
            feeds = [OutlineData(f.url, f.name, f.language) for f in queries.list_feeds(session)]
    document = export_opml(feeds, title=EXPORT_TITLE, created=datetime.now(UTC))
    if output is None:
        typer.echo(document, nl=False)
        return
    try:
        output.write_bytes(document)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    err.print(Text(f"Exported {len(feeds)} feeds to {output}."))
