"""``vigie extract FILE.html...``: run the article extractor on saved pages.

No database, no Prefect, no network: it reads files and calls ``extract_article``, the same
function the pipeline uses, so what it prints is what the pipeline would store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.output import Format, format_option, json_text, out
from parsers.exceptions import ParseError

if TYPE_CHECKING:  # trafilatura loads with the command, not with `vigie --help`
    from parsers.articles import ArticleData


def register(app: typer.Typer) -> None:
    """Add the ``extract`` command to ``app``."""
    app.command("extract")(extract_command)


def extract_command(
    files: Annotated[list[Path], typer.Argument(help="Saved HTML pages.", metavar="FILE.html")],
    url: Annotated[
        str | None,
        typer.Option(
            help="URL the pages were fetched from; used to resolve and vet their canonical "
            "URL. Without it, an absolute canonical URL declared by the page is trusted."
        ),
    ] = None,
    output: Annotated[
        Format, format_option(help="json: one object per file and line; table: a summary.")
    ] = Format.json,
) -> None:
    """Extract title, text, dates, language and canonical URL from saved article pages.

    With --format json (the default) each file gives one line: a JSON object with file, ok,
    title, text, published_at, modified_at (ISO 8601, UTC), language, canonical_url, author,
    publisher, extraction (trafilatura, readability, json-ld, fallback or empty) and suspect_reason
    (consent wall, paywall, stub). A file that cannot be read or parsed gives {"file": ...,
    "ok": false, "error": ...}. The exit code is 1 when any file failed.
    """
    results = [_extract_file(path, url) for path in files]
    if output is Format.table:
        out.print(_table(results))
    else:
        for result in results:
            typer.echo(json_text(result))
    if any(not result["ok"] for result in results):
        raise typer.Exit(1)


def _extract_file(path: Path, url: str | None) -> dict[str, Any]:
    from parsers.articles import extract_article

    try:
        content = path.read_bytes()
        # A file URI names the page when no URL is given; it is never taken for the site.
        article = extract_article(url or path.resolve().as_uri(), content)
    except (OSError, ParseError) as exc:
        return {"file": str(path), "ok": False, "error": _reason(exc)}
    return {"file": str(path), "ok": True, **_article_json(article)}


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot read file: {exc.strerror or exc}"
    return str(exc)


def _article_json(article: ArticleData) -> dict[str, Any]:
    return {
        "title": article.title,
        "text": article.text,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "modified_at": article.modified_at.isoformat() if article.modified_at else None,
        "language": article.language,
        "canonical_url": article.canonical_url,
        "author": article.author,
        "publisher": article.publisher,
        "extraction": article.extraction,
        "suspect_reason": article.suspect_reason,
    }


def _table(results: list[dict[str, Any]]) -> Table:
    table = Table("file", "lang", "published", "words", "title / problem")
    for result in results:
        # Text cells, not markup strings: a headline with [brackets] must print as written.
        if not result["ok"]:
            table.add_row(result["file"], "", "", "", Text(result["error"], style="red"))
            continue
        note = Text(result["title"] or "(no title)")
        if result["suspect_reason"]:
            note.append(f"\nsuspect: {result['suspect_reason']}", style="yellow")
        published = (result["published_at"] or "")[:16]
        words = str(len(result["text"].split()))
        table.add_row(result["file"], result["language"] or "?", published, words, note)
    return table
