"""``extract`` command: JSON lines per file, clean failures, a table view, a helpful --help."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli.extract import register

PAGES = Path(__file__).resolve().parent / "pages"
ROXHAM = PAGES / "en_roxham_road.html"
PEQ = PAGES / "fr_peq_changements.html"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """A group, so that "extract" is a sub-command as in the real ``vigie`` app."""

    register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(app, ["extract", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.stdout


def test_one_json_object_per_file(app: typer.Typer) -> None:
    code, lines, _ = run(app, str(ROXHAM), str(PEQ))
    assert code == 0
    assert [line["file"] for line in lines] == [str(ROXHAM), str(PEQ)]
    roxham, peq = lines
    assert roxham["ok"] is True
    assert roxham["title"].startswith("Asylum claims at Quebec's southern border")
    assert roxham["language"] == "en"
    assert roxham["published_at"] == "2024-03-24T13:15:00+00:00"
    assert roxham["author"] == "Hannah Whitcombe, Yves Thibodeau"
    assert "Roxham Road was shut" in roxham["text"]
    # Without --url the page's own absolute canonical URL is the best name it has.
    assert roxham["canonical_url"].startswith("https://www.northernledger.example/news/")
    assert peq["language"] == "fr"
    expected_keys = {"file", "ok", "title", "text", "published_at", "modified_at", "language"}
    assert expected_keys | {"canonical_url", "author"} <= set(peq)


def test_url_option_is_used_to_vet_the_canonical_url(app: typer.Typer) -> None:
    # A page claiming another site's URL as canonical keeps the URL it was fetched from.
    code, (line,), _ = run(app, str(ROXHAM), "--url", "https://mirror.example/copy?utm_source=x")
    assert code == 0
    assert line["canonical_url"] == "https://mirror.example/copy"


def test_bad_files_are_reported_not_raised(app: typer.Typer, tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "scan.html"
    binary.write_bytes(b"%PDF-1.4 binary")
    missing = tmp_path / "missing.html"
    code, lines, out = run(app, str(missing), str(ROXHAM), str(empty), str(tmp_path), str(binary))
    assert code == 1
    assert "Traceback" not in out
    assert [line["ok"] for line in lines] == [False, True, False, False, False]
    assert "cannot read file" in lines[0]["error"]
    assert "empty" in lines[2]["error"]
    assert "cannot read file" in lines[3]["error"]
    assert "not an HTML document" in lines[4]["error"]


def test_table_format(app: typer.Typer, tmp_path: Path) -> None:
    missing = tmp_path / "missing.html"
    result = CliRunner().invoke(app, ["extract", "--format", "table", str(PEQ), str(missing)])
    assert result.exit_code == 1
    assert "PEQ" in result.stdout and "cannot read file" in result.stdout
    assert "Traceback" not in result.stdout


def test_help_explains_the_output(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["extract", "--help"])
    assert result.exit_code == 0
    for word in ("FILE.html", "--url", "--format", "published_at", "exit code"):
        assert word in result.stdout
