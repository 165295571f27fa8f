"""``vigie tag`` and ``vigie eval-tagging``: the tagger on local files, and its gold scores.

Neither command touches the database. ``tag`` reads files, tags them and prints one result
per file; a file it cannot read is reported as a result (``"ok": false``), never as a
traceback, and makes the exit code 1 once every file is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.output import Format, fail, format_option, line, out, print_json, styled
from parsers.exceptions import ParseError, VigieError

if TYPE_CHECKING:  # the tagger, trafilatura and the database load with the commands only
    from parsers.evaluation import EvalReport
    from parsers.tagging import Mention, Tagger, TagResult

#: Where ``eval-tagging`` finds the gold examples by default.
DEFAULT_GOLD_DIR = Path(__file__).resolve().parent.parent / "tests" / "gold"


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
        Format, format_option(help="json (one object per line) or table.")
    ] = Format.json,
    taxonomy: TaxonomyOption = None,
) -> None:
    """Tag local files with the taxonomy, without the database.

    Each file is read as `vigie import` reads it, so it tags what an
    import would store: text (.txt, .md; front matter and a first-line
    title are understood), an HTML page (its article, as for a fetched
    page) or JSON with "title" and "text". Folders are read whole.

    With --format json, each file prints one line: file, ok, title, relevant,
    score, why (what decided the score), topics (primary first),
    primary_topic, mentioned (topics named only in passing), evidence (each
    topic's weight and role), cut (why only part of the text was tagged),
    actors, organisations, places, programmes, figures and mentions
    (concept, kind, field, start, end, text, sentence).

    A file that cannot be read prints {"file": ..., "ok": false,
    "error": ...}; the command then exits with code 1 after the others.
    """
    from flows.importer import collect_files

    tagger = _tagger(taxonomy)
    rows = [_tag_one(tagger, path) for path in collect_files(files)]
    if output_format is Format.json:
        for row in rows:
            print_json(row, indent=None)
    else:
        out.print(_results_table(rows))
    if any(not row["ok"] for row in rows):
        raise typer.Exit(1)


def eval_tagging(
    gold: Annotated[
        Path,
        typer.Option(
            "--gold",
            help="Folder of labelled examples: gold *.toml files, or a development set of "
            "*.json items (title, text, language, relevant, topics, topics_borderline).",
            show_default=False,
        ),
    ] = DEFAULT_GOLD_DIR,
    split: Annotated[
        str | None,
        typer.Option(
            help="Score only one half of the set, as named in its split.json (tune, check).",
            show_default=False,
        ),
    ] = None,
    taxonomy: TaxonomyOption = None,
    min_micro_f1: Annotated[
        float, typer.Option(help="Exit with code 1 when micro-F1 is below this.")
    ] = 0.0,
) -> None:
    """Score the tagger on labelled examples: per-topic P/R/F1, micro-F1,
    relevance precision and recall.

    Lists every example called relevant that is not, and every relevant
    example missed, with its score and the evidence that decided it; then
    the hard negatives (stories built to fool a naive matcher) and every
    other example the tagger gets wrong. Topics labelled borderline
    (passing mentions) count neither way.

    Exits with code 1 when a hard negative is called relevant, or when
    micro-F1 is below --min-micro-f1.
    """
    from flows.settings import get_settings
    from parsers.evaluation import evaluate, load_gold

    tagger = _tagger(taxonomy)
    try:
        examples = load_gold(gold, get_settings().seeds_dir, split)
    except VigieError as exc:
        fail(exc)
    report = evaluate(tagger, examples)
    out.print(_topic_table(report))
    out.print(_summary_line(report, split))
    _print_relevance_errors(report)
    if any(example.hard_negative for example in report.examples):
        out.print(_hard_negative_table(report))
    for failure in report.failures:
        if failure.relevant == failure.expected_relevant:
            out.print(line((failure.id, "yellow"), f": {'; '.join(failure.problems)}"))
    if report.hard_negative_false_positives or report.micro_f1 < min_micro_f1:
        raise typer.Exit(1)


# --- tag -------------------------------------------------------------------------------------


def _tagger(taxonomy: Path | None) -> Tagger:
    from flows.settings import get_settings
    from parsers.tagging import Tagger
    from parsers.taxonomy import load_taxonomy

    try:
        path = taxonomy or get_settings().resolved_taxonomy_path
        return Tagger(load_taxonomy(path))
    except VigieError as exc:
        fail(exc)


def _tag_one(tagger: Tagger, path: Path) -> dict[str, Any]:
    from flows.importer import read_document

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
        "why": result.why,
        "topics": list(result.topics),
        "primary_topic": result.primary_topic,
        "mentioned": list(result.mentioned),
        "evidence": [e._asdict() for e in result.evidence],
        "cut": result.cut,
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


def _summary_line(report: EvalReport, split: str | None) -> str:
    called = sum(e.relevant for e in report.examples)
    relevant = sum(e.expected_relevant for e in report.examples)
    found = sum(e.relevant and e.expected_relevant for e in report.examples)
    half = f" ({split} half)" if split else ""
    return (
        f"micro-F1 {report.micro_f1:.3f} (P {report.micro_precision:.3f}, "
        f"R {report.micro_recall:.3f}); relevance precision {report.relevance_precision:.3f} "
        f"({found} of {called} called relevant), recall {report.relevance_recall:.3f} "
        f"({found} of {relevant}), accuracy {report.relevance_accuracy:.3f}; "
        f"{len(report.examples)} examples{half}; taxonomy {report.taxonomy_version}"
    )


def _print_relevance_errors(report: EvalReport) -> None:
    for title, examples in (
        ("Called relevant, but not", report.false_relevant),
        ("Relevant, but missed", report.missed),
    ):
        if not examples:
            continue
        out.print(line((title, "bold"), f" ({len(examples)}):"))
        for example in examples:
            topics = "; ".join(p for p in example.problems if p.startswith("topics"))
            extra = f" [{topics}]" if topics else ""
            out.print(line("  ", (example.id, "yellow"), f" {example.why}{extra}"))


def _hard_negative_table(report: EvalReport) -> Table:
    table = Table("Hard negative", "Relevant", "Score", "Topics", title="Hard negatives")
    for example in report.examples:
        if example.hard_negative:
            verdict = styled("YES (false positive)", "red") if example.relevant else "no"
            topics = ", ".join(sorted(example.found_topics)) or "-"
            table.add_row(example.id, verdict, f"{example.score:.2f}", topics)
    return table
