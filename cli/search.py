"""``vigie search``, and what it shares with ``vigie articles``: the export formats.

Formats: a table, ``json``, ``jsonl`` (one object a line) and ``csv`` (UTF-8 with a BOM so
that Excel reads accents, every cell quoted, and a cell that Excel would run as a formula
prefixed with an apostrophe). The filter options are ``cli.listing``'.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli import listing
from cli.errors import clear_errors
from cli.output import Format, format_option, out, print_json
from parsers.inert import printable

if TYPE_CHECKING:  # the query language loads with `vigie search`, not with every command
    from db import queries
    from parsers.search_text import Passage

FormatOption = Annotated[
    Format,
    format_option(
        Format.table,
        Format.json,
        Format.jsonl,
        Format.csv,
        help="table, json, jsonl (one object a line) or csv (Excel).",
    ),
]
#: Columns of a csv export, in order; a search adds its snippet.
CSV_COLUMNS = ("link", "outlet", "date", "title", "byline", "topics", "relevance")
#: Cells Excel would read as a formula (CSV injection) when they start with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- search -------------------------------------------------------------------------------


def search_command(
    query: Annotated[
        str,
        typer.Argument(
            help='Words (all of them), "a phrase", OR, NOT, NEAR/n and ( ): '
            "'Roxham NEAR/10 fermeture', '\"demandeur d'asile\" NOT Ontario'."
        ),
    ],
    format: FormatOption = Format.table,
    topic: listing.TopicOption = None,
    since: listing.SinceOption = None,
    until: listing.UntilOption = None,
    outlet: listing.OutletOption = None,
    language: listing.LanguageOption = None,
    relevant: listing.RelevantOption = False,
    limit: listing.LimitOption = 20,
) -> None:
    """Search stored articles: best matches first, with highlighted snippets."""
    from db import queries
    from db.search import search_ids
    from flows import context
    from parsers.search_query import parse, positive_terms

    with clear_errors():
        node = parse(query)
        filters = listing.filters_from(topic, since, until, outlet, language, relevant)
        with context.reading() as connection:
            found = search_ids(connection, node, filters, limit)
            rows = queries.articles_by_id(connection, found)
    wanted = positive_terms(node)
    hits = [(row, _snippet(row, wanted)) for row in rows]
    if format is Format.table:
        out.print(_search_table(hits) if hits else "No stored article matches.")
        return
    records = [article_record(row) | {"snippet": snip.text} for row, snip in hits]
    write(records, format, columns=(*CSV_COLUMNS, "snippet"))


def _snippet(row: queries.ArticleRow, wanted: frozenset[str]) -> Passage:
    from parsers.search_text import passage

    found = passage(row.text or "", wanted)
    return found if found.highlights else passage(row.title, wanted)


def _search_table(hits: Sequence[tuple[queries.ArticleRow, Passage]]) -> Table:
    table = Table("id", "article", show_lines=True)
    for row, snip in hits:
        cell = Text(printable(row.title), style="bold")
        when = (row.published_at or row.first_seen_at).strftime("%Y-%m-%d")
        details = " · ".join(p for p in (row.source, when, ", ".join(row.topics)) if p)
        cell.append("\n" + printable(details), style="dim")
        cell.append("\n")
        cell.append_text(highlighted(snip))
        cell.append("\n" + printable(row.canonical_url), style="blue")
        table.add_row(str(row.id), cell)
    return table


def highlighted(snip: Passage) -> Text:
    """A snippet with its matched words in bold yellow (as text: feed text is no markup)."""
    text = Text(printable(snip.text))
    for start, end in snip.highlights:
        text.stylize("bold yellow", start, end)
    return text


# --- exports ------------------------------------------------------------------------------


def article_record(row: queries.ArticleRow) -> dict[str, Any]:
    """An article as exported: the csv columns' data, under the names JSON readers expect."""
    return {
        "article_id": row.id,
        "title": row.title,
        "canonical_url": row.canonical_url,
        "outlet": row.source,
        "published_at": (row.published_at or row.first_seen_at).isoformat(),
        "byline": row.byline,
        "language": row.language,
        "topics": list(row.topics),
        "relevant": row.relevant,
        "relevance": round(row.relevance, 3),
    }


def write(records: Sequence[dict[str, Any]], format: Format, columns: Sequence[str]) -> None:
    """Write records to standard output as json, jsonl or csv."""
    if format is Format.json:
        print_json(list(records))
    elif format is Format.jsonl:
        for record in records:
            print_json(record, indent=None)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(csv_bytes(records, columns))
        sys.stdout.buffer.flush()


def csv_bytes(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """Records as a csv file Excel opens as it is: BOM, CRLF, every cell quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(column, record) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_CELLS: dict[str, Callable[[dict[str, Any]], object]] = {
    "link": lambda r: r["canonical_url"],
    "date": lambda r: r["published_at"],
    "topics": lambda r: " ".join(r["topics"]),
}


def _cell(column: str, record: dict[str, Any]) -> str:
    value = _CELLS[column](record) if column in _CELLS else record.get(column)
    text = printable("" if value is None else value).replace("\r\n", "\n")
    if column != "relevance" and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def register(app: typer.Typer) -> None:
    """Add the ``search`` command to ``app``."""
    app.command("search")(search_command)
