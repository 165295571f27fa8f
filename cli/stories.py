"""``vigie clusters`` (stories seen on several outlets) and ``vigie import PATH...``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.output import Format, err, fail, format_option, out, print_json
from parsers.exceptions import VigieError
from parsers.text import counted

if TYPE_CHECKING:  # the import pipeline (trafilatura, the tagger) loads with `vigie import`
    from db.story_queries import ClusterRow
    from flows.importer import ImportOutcome

#: From this many files on, ``import`` shows a progress bar (on a terminal).
PROGRESS_MIN_FILES = 20


def register(app: typer.Typer) -> None:
    """Add ``clusters`` and ``import`` to ``app``."""

    app.command("clusters")(clusters_command)
    app.command("import")(import_command)


# --- clusters ------------------------------------------------------------------------------


def clusters_command(
    output: Annotated[Format, format_option()] = Format.table,
    limit: Annotated[int | None, typer.Option(help="At most this many.", min=1)] = None,
    min_size: Annotated[
        int, typer.Option(help="Only stories with at least this many articles.", min=1)
    ] = 2,
) -> None:
    """List stories that several articles tell, with their outlets, most recently grown first.

    Outlets are named as their feed or source is, with the site where there is no name.
    With --format json: a list of {id, title, size, outlets: [{outlet, site, first_seen_at}],
    article_ids, topics}.
    """
    from db import story_queries
    from flows import context

    try:
        with context.reading() as connection:
            rows = story_queries.list_clusters(connection, limit=limit, min_size=min_size)
    except VigieError as exc:
        fail(exc)
    if output is Format.json:
        print_json([_cluster_json(row) for row in rows])
        return
    table = Table("id", "size", "outlets", "topics", "title")
    for row in rows:
        outlets = ", ".join(o.outlet for o in row.outlets)
        # Text cells: a headline with [brackets] must print as written, not as markup.
        table.add_row(
            str(row.id), str(row.size), Text(outlets), ", ".join(row.topics), Text(row.title)
        )
    out.print(table)


def _cluster_json(row: ClusterRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "size": row.size,
        "outlets": [
            {"outlet": o.outlet, "site": o.site, "first_seen_at": o.first_seen_at.isoformat()}
            for o in row.outlets
        ],
        "article_ids": list(row.article_ids),
        "topics": list(row.topics),
    }


# --- import --------------------------------------------------------------------------------


def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Article files (.txt, .md, .html, .json) or folders of them.", metavar="PATH"
        ),
    ],
    output: Annotated[
        Format, format_option(help="table: a summary; json: one per file.")
    ] = Format.table,
) -> None:
    """Import local article files: stored, tagged and clustered like fetched articles.

    Text and Markdown files may start with front matter between two --- lines (title, url,
    date, language, source); JSON files hold one object with title and text (and url,
    date, language, source). A file that cannot be imported is named with the reason and
    the others are imported; the exit code is then 1. Importing the same files again
    changes nothing.
    """
    from flows import context
    from flows.importer import collect_files

    files = collect_files(paths)
    try:
        context.ensure_schema()
        outcomes = _import_with_progress(files)
    except VigieError as exc:
        fail(exc)
    if output is Format.json:
        print_json([_outcome_json(o) for o in outcomes])
    else:
        _print_summary(outcomes)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


def _import_with_progress(files: list[Path]) -> list[ImportOutcome]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from flows import context
    from flows.importer import import_files

    options: dict[str, Any] = {
        "sessions": context.sessions(),
        "tagger": context.tagger(),
        "now": datetime.now(UTC),
    }
    if len(files) < PROGRESS_MIN_FILES or not err.is_terminal:
        return import_files(files, **options)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("import", total=len(files))
        return import_files(files, advance=lambda n: progress.advance(task, n), **options)


def _outcome_json(outcome: ImportOutcome) -> dict[str, Any]:
    return {
        "file": str(outcome.path),
        "status": outcome.status,
        "article_id": outcome.article_id,
        "cluster_id": outcome.cluster_id,
        "error": outcome.reason,
    }


def _print_summary(outcomes: list[ImportOutcome]) -> None:
    for outcome in outcomes:
        if outcome.status == "failed":
            err.print(Text.assemble(("failed: ", "red"), outcome.reason or ""))
    counts = Counter(o.status for o in outcomes)
    out.print(
        f"Import of {counted(len(outcomes), 'file')}: {counts['new']} new, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"{counted(counts['duplicate'], 'duplicate')}, {counts['failed']} failed."
    )
