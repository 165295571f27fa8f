"""``vigie watch list|add|remove|test``: saved searches that alert, kept in the rules file.

``add`` and ``remove`` edit the rules file in place keeping its comments
(``parsers.watch_file``), and replace it whole only once the new text reads as valid
rules, so an interrupted or refused edit leaves the file as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli import listing
from cli.errors import clear_errors
from cli.output import Format, format_option, out, print_json
from cli.search import FormatOption, search_command
from parsers.exceptions import ConfigError
from parsers.inert import printable

if TYPE_CHECKING:  # the rules parser loads with the commands that read the rules
    from parsers.alert_rules import AlertRules, Mode

watch_app = typer.Typer(
    help="Watches: saved searches; every new article or version one matches is an alert.",
    no_args_is_help=True,
)


def _rules_path() -> Path:
    from flows.settings import get_settings

    return get_settings().resolved_alert_rules_path


def _rules() -> AlertRules:
    from parsers.alert_rules import load_rules, parse_rules

    path = _rules_path()
    return load_rules(path) if path.exists() else parse_rules("")


@watch_app.command("list")
def watch_list(
    format: Annotated[Format, format_option()] = Format.table,
) -> None:
    """The watches in the rules file, with their query, channels and mode."""
    with clear_errors():
        watches = list(_rules().watches.values())
    if format is not Format.table:
        print_json([{"name": w.name, "query": w.query, "channels": list(w.channels),
                     "mode": w.mode} for w in watches])  # fmt: skip
        return
    if not watches:
        out.print("No watch yet: `vigie watch add NAME QUERY` adds one.")
        return
    table = Table("name", "query", "channels", "mode")
    for watch in watches:
        table.add_row(printable(watch.name), printable(watch.query), ", ".join(watch.channels),
                      watch.mode)  # fmt: skip
    out.print(table)


@watch_app.command("add")
def watch_add(
    name: Annotated[str, typer.Argument(help="What alerts will call it, e.g. Roxham.")],
    query: Annotated[str, typer.Argument(help="A search, as `vigie search` takes it.")],
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", "-c", help="A channel of the rules file (repeat for more)."),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="immediate, or digest (listed in the daily digest).")
    ] = None,
) -> None:
    """Add a watch to the rules file (or replace the one of that name), keeping its comments."""
    from parsers.watch_file import add_watch  # tomlkit: only the commands that edit load it

    if mode not in (None, "immediate", "digest"):
        raise typer.BadParameter("must be immediate or digest", param_hint="--mode")
    chosen: Mode | None = "digest" if mode == "digest" else "immediate" if mode else None
    with clear_errors():
        replaced = name in _rules().watches
        _edit(lambda text, source: add_watch(text, name, query, channels=channel, mode=chosen,
                                             source=source))  # fmt: skip
    out.print(
        f"{'Replaced' if replaced else 'Added'} watch {printable(name)!r} in {_rules_path()}."
    )


@watch_app.command("remove")
def watch_remove(name: Annotated[str, typer.Argument(help="The watch's name.")]) -> None:
    """Remove a watch from the rules file (its past alerts stay)."""
    from parsers.watch_file import remove_watch

    with clear_errors():
        _edit(lambda text, source: remove_watch(text, name, source=source))
    out.print(f"Removed watch {printable(name)!r}.")


@watch_app.command("test")
def watch_test(
    query: Annotated[str, typer.Argument(help="A search, or the name of a watch.")],
    format: FormatOption = Format.table,
    topic: listing.TopicOption = None,
    since: listing.SinceOption = None,
    until: listing.UntilOption = None,
    outlet: listing.OutletOption = None,
    language: listing.LanguageOption = None,
    relevant: listing.RelevantOption = False,
    limit: listing.LimitOption = 20,
) -> None:
    """The stored articles a watch (or a query) would have matched, best first."""
    with clear_errors():
        watch = _rules().watches.get(query)
    search_command(
        watch.query if watch else query,
        format=format,
        topic=topic,
        since=since,
        until=until,
        outlet=outlet,
        language=language,
        relevant=relevant,
        limit=limit,
    )


def _edit(change: Callable[[str, str], str]) -> None:
    """Apply ``change(text, source) -> text`` to the rules file, replacing it atomically."""
    path = _rules_path()
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read alert rules {path}: {exc}") from exc
    new = change(text, path.name)
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(new)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise ConfigError(f"cannot write alert rules {path}: {exc.strerror or exc}") from exc


def register(app: typer.Typer) -> None:
    """Add the ``watch`` commands to ``app``."""
    app.add_typer(watch_app, name="watch")
