"""``vigie tag`` and ``vigie eval-tagging``: the tagger on local files, and its gold scores.

Neither command touches the database. ``tag`` reads files, tags them and prints one result
per file; a file it cannot read is reported as a result (``"ok": false``), never as a
traceback, and makes the exit code 1 once every file is done.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from flows.importer import collect_files, read_document
from flows.settings import PROJECT_ROOT, get_settings
from flows.terminal import err, error, line, out, styled
from parsers.evaluation import EvalReport, evaluate, load_gold
from parsers.exceptions import ParseError, VigieError
from parsers.tagging import Mention, Tagger, TagResult
from parsers.taxonomy import load_taxonomy

#: Where ``eval-tagging`` finds the gold examples by default.
DEFAULT_GOLD_DIR = PROJECT_ROOT / "tests" / "gold"


class Format(StrEnum):
    """Output format of ``tag``."""

    json = "json"
    table = "table"


TaxonomyOption = Annotated[
    Path | None,
    typer.Option(
        "--taxonomy",
        help="Taxonomy TOML file (default: the configured one, seeds/taxonomy.toml).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``tag`` and ``eval-tagging`` to the main ``vigie`` app."""
    app.command("tag")(tag_files)
    app.command("eval-tagging")(eval_tagging)


def tag_files(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files, or folders of files, read as `vigie import` reads them.",
            metavar="PATH",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="json (one object per line) or table.")
    ] = Format.json,
    taxonomy: TaxonomyOption = None,
) -> None:
    """Tag local files with the taxonomy, without the database.

    Each file is read as `vigie import` reads it, so it tags what an
    import would store: text (.txt, .md; front matter and a first-line
    title are understood), an HTML page (its article, as for a fetched
    page) or JSON with "title" and "text". Folders are read whole.

    With --format json, each file prints one line: file, ok, title, relevant,
    score, topics, actors, organisations, places, programmes, figures and
    mentions (concept, kind, field, start, end, text, sentence).

    A file that cannot be read prints {"file": ..., "ok": false,
    "error": ...}; the command then exits with code 1 after the others.
    """
    tagger = _tagger(taxonomy)
    rows = [_tag_one(tagger, path) for path in collect_files(files)]
    if output_format is Format.json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    else:
        out.print(_results_table(rows))
    if any(not row["ok"] for row in rows):
        raise typer.Exit(1)


def eval_tagging(
    gold: Annotated[
        Path,
        typer.Option("--gold", help="Folder of gold *.toml files.", show_default=False),
    ] = DEFAULT_GOLD_DIR,
    taxonomy: TaxonomyOption = None,
    min_micro_f1: Annotated[
        float, typer.Option(help="Exit with code 1 when micro-F1 is below this.")
    ] = 0.0,
) -> None:
    """Score the tagger on gold examples: per-topic P/R/F1 and micro-F1.

    Also lists the hard negatives (stories built to fool a naive matcher)
    and every example the tagger gets wrong.

    Exits with code 1 when a hard negative is called relevant, or when
    micro-F1 is below --min-micro-f1.
    """
    tagger = _tagger(taxonomy)
    try:
        examples = load_gold(gold, get_settings().seeds_dir)
    except VigieError as exc:
        _fail(exc)
    report = evaluate(tagger, examples)
    out.print(_topic_table(report))
    out.print(
        f"micro-F1 {report.micro_f1:.3f} (P {report.micro_precision:.3f}, "
        f"R {report.micro_recall:.3f}); relevance accuracy {report.relevance_accuracy:.3f} "
        f"on {len(report.examples)} examples; taxonomy {report.taxonomy_version}"
    )
    out.print(_hard_negative_table(report))
    for failure in report.failures:
        out.print(line((failure.id, "yellow"), f": {'; '.join(failure.problems)}"))
    if report.hard_negative_false_positives or report.micro_f1 < min_micro_f1:
        raise typer.Exit(1)


# --- tag -------------------------------------------------------------------------------------


def _tagger(taxonomy: Path | None) -> Tagger:
    try:
        path = taxonomy or get_settings().resolved_taxonomy_path
        return Tagger(load_taxonomy(path))
    except VigieError as exc:
        _fail(exc)


def _fail(exc: VigieError) -> NoReturn:
    err.print(error(exc))
    raise typer.Exit(2) from exc


def _tag_one(tagger: Tagger, path: Path) -> dict[str, Any]:
    try:
        document = read_document(path)
    except ParseError as exc:
        return {"file": str(path), "ok": False, "error": str(exc)}
    tagged = tagger.tag(document.title, document.text)
    return {"file": str(path), "ok": True, "title": document.title, **_result_json(tagged)}


def _result_json(result: TagResult) -> dict[str, Any]:
    return {
        "relevant": result.relevant,
        "score": result.score,
        "topics": list(result.topics),
        "actors": list(result.actors),
        "organisations": list(result.organisations),
        "places": list(result.places),
        "programmes": list(result.programmes),
        "figures": [_figure_json(m) for m in result.figures],
        "mentions": [_mention_json(m) for m in result.mentions],
        "taxonomy_version": result.taxonomy_version,
    }


def _mention_json(mention: Mention) -> dict[str, Any]:
    keys = ("concept", "kind", "field", "start", "end", "text", "sentence")
    return {key: getattr(mention, key) for key in keys}


def _figure_json(mention: Mention) -> dict[str, Any]:
    keys = ("text", "value", "unit", "topic", "scope", "field", "start", "end", "sentence")
    return {key: getattr(mention, key) for key in keys}


def _results_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("File", "Relevant", "Score", "Topics", "Actors", "Figures")
    for row in rows:
        if not row["ok"]:
            table.add_row(row["file"], styled(f"error: {row['error']}", "red"))
            continue
        figures = ", ".join(f["text"] for f in row["figures"])
        table.add_row(
            row["file"],
            "yes" if row["relevant"] else "no",
            f"{row['score']:.2f}",
            ", ".join(row["topics"]),
            ", ".join(row["actors"]),
            figures,
        )
    return table


# --- eval-tagging ----------------------------------------------------------------------------


def _topic_table(report: EvalReport) -> Table:
    table = Table("Topic", "Support", "TP", "FP", "FN", "Precision", "Recall", "F1")
    for score in report.topics:
        table.add_row(
            score.topic,
            str(score.support),
            str(score.tp),
            str(score.fp),
            str(score.fn),
            f"{score.precision:.3f}",
            f"{score.recall:.3f}",
            f"{score.f1:.3f}",
        )
    table.add_row(
        styled("micro", "bold"),
        str(sum(s.support for s in report.topics)),
        str(sum(s.tp for s in report.topics)),
        str(sum(s.fp for s in report.topics)),
        str(sum(s.fn for s in report.topics)),
        f"{report.micro_precision:.3f}",
        f"{report.micro_recall:.3f}",
        styled(f"{report.micro_f1:.3f}", "bold"),
    )
    return table


def _hard_negative_table(report: EvalReport) -> Table:
    table = Table("Hard negative", "Relevant", "Score", "Topics", title="Hard negatives")
    for example in report.examples:
        if example.hard_negative:
            verdict = styled("YES (false positive)", "red") if example.relevant else "no"
            topics = ", ".join(sorted(example.found_topics)) or "-"
            table.add_row(example.id, verdict, f"{example.score:.2f}", topics)
    return table
