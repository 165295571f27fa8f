"""``vigie figures``: the figures Vigie tracks across articles, with their sources, and how an
analyst sets a wrong one aside.

A tracked figure is an immigration target stated by a government (``parsers.tracking``); its
value is its latest statement not marked wrong (``db.figures``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.output import Format, fail, format_option, out, print_json, shown_time
from parsers.exceptions import VigieError
from parsers.inert import clean

if TYPE_CHECKING:
    from db.queries import StatementRow

figures_app = typer.Typer(
    help="Figures tracked across articles (immigration targets), with their sources; mark a "
    "wrong one so it is ignored.",
    invoke_without_command=True,
    rich_markup_mode="markdown",
)


def register(app: typer.Typer) -> None:
    """Add ``figures`` to ``app``."""
    app.add_typer(figures_app, name="figures")


@figures_app.callback()
def list_figures(
    ctx: typer.Context,
    everything: Annotated[
        bool,
        typer.Option("--all", help="Every statement of each figure, older and wrong ones too."),
    ] = False,
    output: Annotated[Format, format_option()] = Format.table,
) -> None:
    """List tracked figures: each current value with the article and sentence that state it.

    The first column is the statement's id: `vigie figures wrong ID` sets a
    statement aside (the figure goes back to the latest one still standing),
    `vigie figures right ID` restores it.
    """
    from db.queries import list_statements
    from flows import context

    if ctx.invoked_subcommand is not None:
        return
    try:
        with context.reading() as connection:
            rows = list_statements(connection, everything=everything)
    except VigieError as exc:
        fail(str(exc))
    if output is Format.json:
        print_json([_row_json(row) for row in rows])
        return
    if not rows:
        out.print("No tracked figure yet: none of the stored articles states a target.")
        return
    out.print(_table(rows))


@figures_app.command("wrong")
def wrong(
    statement_id: Annotated[
        int, typer.Argument(help="The statement's id, as `vigie figures` lists it.")
    ],
) -> None:
    """Mark a statement wrong: it is ignored, and its figure takes the latest other one."""
    _mark(statement_id, wrong=True)


@figures_app.command("right")
def right(
    statement_id: Annotated[int, typer.Argument(help="The statement's id.")],
) -> None:
    """Undo `wrong`: the statement counts again."""
    _mark(statement_id, wrong=False)


def _mark(statement_id: int, *, wrong: bool) -> None:
    from db.figures import list_statements, mark_wrong

    try:
        with _sessions().begin() as session:
            found = mark_wrong(session, statement_id, datetime.now(UTC), wrong=wrong)
            rows = list_statements(session)
    except VigieError as exc:
        fail(str(exc))
    if not found:
        fail(f"no figure statement {statement_id}; `vigie figures --all` lists them", 1)
    verb = "marked wrong, and ignored" if wrong else "counts again"
    out.print(Text(f"Statement {statement_id} {verb}. Tracked figures now:"))
    out.print(_table(rows) if rows else Text("none."))


def _sessions() -> Any:
    """Sessions for a command that writes, the schema upgraded first (the listings read
    through ``context.reading``: no Alembic, no ORM; no tables says `vigie init`)."""
    from flows import context

    context.ensure_schema()
    return context.sessions()


def figure_name(key: str) -> str:
    """A tracked key read aloud: "Quebec · immigration levels · people per year"."""
    topic, unit, scope, jurisdiction = ([*key.split("|"), "", "", ""])[:4]
    rate = f"{unit} per year" if scope == "per_year" else unit
    where = {"quebec": "Quebec", "canada": "Canada"}.get(jurisdiction, jurisdiction)
    return " · ".join(part for part in (where, topic.replace("_", " "), rate) if part)


def _row_json(row: StatementRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "figure": row.key,
        "name": figure_name(row.key),
        "value": row.value,
        "as_written": row.matched,
        "sentence": row.sentence,
        "stated_at": row.stated_at.isoformat(),
        "current": row.current,
        "wrong_at": row.wrong_at.isoformat() if row.wrong_at else None,
        "article_id": row.article_id,
        "source": row.source,
        "title": row.title,
        "url": row.url,
    }


def _table(rows: list[StatementRow]) -> Table:
    table = Table("id", "figure", "value", "stated", "source", "sentence")
    for row in rows:
        state = "" if row.current else " (wrong)" if row.wrong_at else " (earlier)"
        table.add_row(
            str(row.id),
            Text(figure_name(row.key)),
            Text(f"{row.value:,.0f}{state}"),
            shown_time(row.stated_at, published=True),
            Text(f"{clean(row.source, 40)} · {clean(row.title, 80)} (article {row.article_id})"),
            Text(clean(row.sentence, 200)),
        )
    return table
