"""How every command writes: one standard output and one error stream, one ``--format``
option, one way to fail.

- ``Format`` lists every output format; a command offers some of them with ``format_option``
  (a new format is a new member, offered by the commands that write it);
- ``fail`` ends a command with ``error: <message>`` on the error stream and an exit code
  (``cli.errors.clear_errors`` turns Vigie's errors and the database's failures into one);
- ``shown_time`` shows a time in ``VIGIE_TIMEZONE``, as alerts and the digest do.

The terminal gets text, never markup or control characters, whatever a feed put in a title,
a name or an error:

- both consoles read no markup: a string is printed as written (``[/x]`` in a title is
  text, not a closing tag that crashes the command; ``[link=…]`` is not a hidden link).
  Styles come only from ``Text`` objects (``styled``, ``error``);
- every piece of text a renderable produces passes ``parsers.inert.printable`` on its way
  out (a render hook): C0/C1 controls, ESC sequences and bidi overrides are replaced, in
  tables, titles and plain lines alike;
- JSON output (``print_json``) escapes the characters JSON leaves raw (C1 controls, bidi
  overrides, line separators), so the data is unchanged and the terminal still safe.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook, RenderResult
from rich.segment import Segment
from rich.text import Text

from parsers.inert import printable
from parsers.times import local_time, published_time

# What json.dumps(ensure_ascii=False) leaves raw that a terminal would act on.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class _Printable:
    """A renderable whose text segments are made printable (Rich's own control segments,
    cursor moves and the like, are kept)."""

    def __init__(self, renderable: ConsoleRenderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.renderable, options):
            if segment.control:
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)


class _PrintableOnly(RenderHook):
    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Printable(renderable) for renderable in renderables]


def _console(**options: Any) -> Console:
    console = Console(highlight=False, markup=False, soft_wrap=True, **options)
    console.push_render_hook(_PrintableOnly())
    return console


#: Standard output. Outside a terminal (make run, pipes) Rich would draw tables 80 columns
#: wide and break their rows, so they are as wide as a log line can reasonably be. Lines of
#: text are never broken: one line per item, as scripts that grep them expect.
out = _console(width=None if sys.stdout.isatty() else 160)
#: Errors, one line each however narrow the terminal, so that scripts can grep them.
err = _console(stderr=True)


def styled(text: object, style: str = "") -> Text:
    """``text`` as printable text in ``style`` (never read as markup)."""
    return Text(printable(text), style=style)


def line(*parts: str | tuple[object, str]) -> Text:
    """One line made of plain strings and ``(text, style)`` pieces."""
    return Text.assemble(*(_piece(part) for part in parts))


def _piece(part: str | tuple[object, str]) -> str | tuple[str, str]:
    if isinstance(part, tuple):
        return printable(part[0]), part[1]
    return printable(part)


def error(message: object) -> Text:
    """``error: <message>`` for the error stream, the word in red."""
    return line(("error:", "red"), " ", str(message))


def print_json(data: Any, *, indent: int | None = 2) -> None:
    """``data`` as JSON on standard output, with nothing a terminal would act on left raw."""
    sys.stdout.write(json_text(data, indent=indent) + "\n")


def json_text(data: Any, *, indent: int | None = None, default: Any = None) -> str:
    """``data`` as JSON (non-ASCII kept readable), C1 controls and bidi overrides escaped."""
    dumped = json.dumps(data, ensure_ascii=False, indent=indent, default=default)
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


def shown_time(moment: datetime | str | None, *, published: bool = False) -> str:
    """A stored time (or its ISO text) as people read it, in ``VIGIE_TIMEZONE``:
    ``21 Nov 2026 09:15 EST``, as alerts and the digest show it; a ``published`` time with no
    time of day is its date alone (``14 Jun 2024``). JSON output keeps ISO times in UTC."""
    if not moment:
        return ""
    from flows.settings import get_settings  # loaded by then: every command reads a setting

    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    zone = get_settings().zone
    return published_time(when, zone) if published else local_time(when, zone)


class Format(StrEnum):
    """Every output format of the command line; each command offers some (``format_option``)."""

    table = "table"
    json = "json"
    #: One JSON object a line (``articles``, ``search``).
    jsonl = "jsonl"
    #: UTF-8 with a BOM, for spreadsheets (``articles``, ``search``).
    csv = "csv"


def format_option(*offered: Format, help: str | None = None) -> Any:
    """``--format``/``-f`` for a command that writes the ``offered`` formats (default: table
    and json); any other member of ``Format`` is refused with one line and exit code 2."""
    offered = offered or (Format.table, Format.json)
    names = " or ".join(offered)

    def check(value: Format | None) -> Format | None:
        if value is not None and value not in offered:
            raise typer.BadParameter(f"{value} is not offered here; use {names}.")
        return value

    return typer.Option("--format", "-f", help=help or f"{names}.", callback=check)


def fail(message: object, code: int = 2) -> NoReturn:
    """End the command: ``error: <message>`` on the error stream, then exit ``code`` (2: bad
    input, settings or database; 1: what was asked for does not exist or did not work)."""
    err.print(error(message))
    raise typer.Exit(code)
