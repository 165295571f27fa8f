"""A command line that answers at once: what each command loads, the time zone of the times it
shows, one ``--format`` option, and a diff in paragraphs.

Speed itself is measured in ``bench/cli_startup.py``, not asserted here: what is asserted is
what makes it fast, that ``--help`` and the reading commands never load Prefect or the flows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from cli.app import app
from cli.output import Format, format_option
from db import repo
from flows import context
from parsers.times import local_time

runner = CliRunner()
VIGIE = Path(sys.executable).parent / "vigie"

#: What only a command that runs a flow, fetches, sends or extracts may load.
FLOW_MACHINERY = ("prefect", "flows.monitor", "trafilatura", "httpx", "apprise", "alembic")

#: What only a command that writes may load: the store and versioning path, clustering, the
#: tagger, NumPy and language identification, TOML and OPML editing, and the PostgreSQL
#: dialect on a SQLite database.
WRITE_PATH = (
    "db.repo",
    "db.store",
    "db.upsert",
    "db.versions",
    "db.story_filing",
    "db.figures",
    "parsers.tagging",
    "numpy",
    "py3langid",
    "tomlkit",
    "parsers.opml",
    "sqlalchemy.dialects.postgresql",
)

#: What no reading command may load: the ORM and the classes mapped with it. They read the
#: tables of ``db.schema`` through SQLAlchemy Core; loading the ORM and mapping the classes
#: cost each of them about 0.1 CPU-s (``docs/cli.md``).
ORM = ("sqlalchemy.orm", "db.models", "db.cluster_models", "db.base")

#: What ``--help`` and the listings need none of (each loads with the command that uses it:
#: ``diff``, ``search``, and the alert rules for ``alerts list`` and ``watch list``): the HTML
#: parser, the word differ, the alert rules, the search language.
NOT_FOR_LISTINGS = ("lxml", "parsers.diffs", "parsers.alert_rules", "parsers.search_query")

READING_COMMANDS = (
    ("articles",),
    ("show", "1"),
    ("diff", "1"),
    ("feeds", "list"),
    ("alerts", "list"),
    ("clusters",),
    ("figures",),
    ("search", "Ottawa"),
    ("watch", "list"),
)

_ARTICLE = """---
title: Levels plan
url: https://news.example.org/levels
date: 2026-11-03
language: en
---
{body}
"""

OLD = "Ottawa set the target at 395,000.\n\nEmployers welcomed the plan."
NEW = (
    "Ottawa set the target at 485,000.\n\nEmployers welcomed the plan.\n\n"
    "The minister confirmed it."
)


@pytest.fixture
def stored(vigie_env: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    """One article in two versions (paragraphs edited and added) and one feed, on SQLite
    and PostgreSQL."""
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)
    context.reset()
    page = tmp_path / "levels.md"
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0
    for body in (OLD, NEW):
        page.write_text(_ARTICLE.format(body=body), encoding="utf-8")
        imported = runner.invoke(app, ["import", str(page)])
        assert imported.exit_code == 0, imported.output
    assert runner.invoke(app, ["feeds", "add", "https://example.org/feed.xml"]).exit_code == 0
    return tmp_path


def loaded_modules(*args: str) -> set[str]:
    """Every module the real ``vigie`` executable imports to run ``args`` (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(VIGIE), *args],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def _flow_machinery(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in FLOW_MACHINERY or m in FLOW_MACHINERY)


def test_help_loads_no_flow_no_database_and_no_settings(vigie_env: pytest.MonkeyPatch) -> None:
    modules = loaded_modules("--help")

    assert "cli.app" in modules  # the measurement sees Vigie's own modules
    assert _flow_machinery(modules) == []
    assert {"sqlalchemy", "pydantic", "flows.settings", "asyncio"} & modules == set()
    assert sorted(set(NOT_FOR_LISTINGS) & modules) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_reading_commands_load_no_flow_machinery(stored: Path, command: tuple[str, ...]) -> None:
    modules = loaded_modules(*command)

    assert "sqlalchemy" in modules  # they did read the database
    assert _flow_machinery(modules) == []
    assert sorted(set(WRITE_PATH) & modules) == []
    assert sorted(set(ORM) & modules) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "command",
    [c for c in READING_COMMANDS if c[0] not in ("diff", "search", "alerts", "watch")],
    ids=" ".join,
)
def test_listings_load_neither_the_differ_nor_the_rules_nor_lxml(
    stored: Path, command: tuple[str, ...]
) -> None:
    assert sorted(set(NOT_FOR_LISTINGS) & loaded_modules(*command)) == []


def test_the_import_check_sees_a_heavy_library_when_a_command_loads_one(
    vigie_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><article><p>Text.</p></article></body></html>")

    assert "trafilatura" in _flow_machinery(loaded_modules("extract", str(page)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_import_check_sees_the_write_path_when_a_command_writes(stored: Path) -> None:
    modules = loaded_modules("feeds", "add", "https://example.org/other.xml")

    assert {"db.repo", "db.upsert"} <= set(WRITE_PATH) & modules
    assert set(ORM) <= modules  # and the check sees the ORM where it is used


# --- one time zone ---------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/Toronto", "Asia/Tokyo"])
def test_times_shown_are_in_vigie_timezone(
    stored: Path, vigie_env: pytest.MonkeyPatch, zone: str
) -> None:
    with context.sessions().begin() as session:
        article = repo.get_article(session, 1)
        assert article is not None
        fetched = [version.fetched_at for version in article.versions]
    vigie_env.setenv("VIGIE_TIMEZONE", zone)
    context.reset()

    result = runner.invoke(app, ["show", "1", "--versions"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for moment in fetched:
        assert local_time(moment, ZoneInfo(zone)) in result.output
    assert ("JST" in result.output) == (zone == "Asia/Tokyo")


def test_an_unknown_timezone_stops_with_one_line(vigie_env: pytest.MonkeyPatch) -> None:
    vigie_env.setenv("VIGIE_TIMEZONE", "Mars/Olympus")
    result = runner.invoke(app, ["articles"])

    assert result.exit_code == 2
    assert "VIGIE_TIMEZONE" in result.output and "America/Toronto" in result.output


def test_the_former_alert_timezone_setting_points_to_the_new_one(
    vigie_env: pytest.MonkeyPatch,
) -> None:
    vigie_env.setenv("VIGIE_ALERT_TIMEZONE", "America/Toronto")
    result = runner.invoke(app, ["articles"])

    assert result.exit_code == 2
    assert "did you mean VIGIE_TIMEZONE?" in " ".join(result.output.split())


# --- one format option -----------------------------------------------------------------------


def test_format_option_refuses_what_a_command_does_not_offer() -> None:
    small = typer.Typer()

    @small.command()
    def export(output: Annotated[Format, format_option(Format.json)] = Format.json) -> None:
        print(f"wrote {output}")

    refused = runner.invoke(small, ["--format", "table"])
    chosen = runner.invoke(small, ["-f", "json"])

    assert refused.exit_code == 2 and "table is not offered here; use json." in refused.output
    assert chosen.exit_code == 0 and chosen.output == "wrote json\n"


# --- diff in paragraphs ----------------------------------------------------------------------


def test_diff_keeps_the_articles_paragraphs(stored: Path) -> None:
    result = runner.invoke(app, ["diff", "1"])

    assert result.exit_code == 0, result.output
    body = result.output.split("\n", 1)[1]  # after the "v1 → v2: …" line
    assert body == (
        "Ottawa set the target at [-395,000.-] {+485,000.+}\n\n"
        "Employers welcomed the plan.{+\n\nThe minister confirmed it.+}\n"
    )
