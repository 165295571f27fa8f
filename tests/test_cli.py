"""The ``vigie`` command line: help everywhere, feeds management, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cli.app import app
from flows.settings import get_settings

runner = CliRunner()


def _command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*prefix, name))
    return paths


@pytest.mark.parametrize("path", _command_paths(get_command(app)), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    summary = result.output.split("Usage:", 1)[1]
    assert len(summary.strip().splitlines()) >= 2  # usage line plus a description


def test_feeds_add_list_remove(vigie_env: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0
    feed = "https://example.org/feed.xml"
    added = runner.invoke(app, ["feeds", "add", feed, "--name", "Example", "--interval", "30"])
    again = runner.invoke(app, ["feeds", "add", feed])
    listed = json.loads(runner.invoke(app, ["feeds", "list", "--format", "json"]).stdout)

    assert "Added." in added.output and "Already there." in again.output
    assert [(f["name"], f["health"], f["next_check_at"]) for f in listed] == [
        ("Example", "healthy", None)
    ]
    removed = runner.invoke(app, ["feeds", "remove", str(listed[0]["id"])])
    assert removed.exit_code == 0
    assert json.loads(runner.invoke(app, ["feeds", "list", "--format", "json"]).stdout) == []
    missing = runner.invoke(app, ["feeds", "remove", "42"])
    assert missing.exit_code == 1 and "no feed '42'" in missing.output


def test_init_adds_the_curated_feeds_once(vigie_env: pytest.MonkeyPatch) -> None:
    first = runner.invoke(app, ["init"])
    second = runner.invoke(app, ["init"])
    listed = json.loads(runner.invoke(app, ["feeds", "list", "--format", "json"]).stdout)

    assert first.exit_code == 0 and second.exit_code == 0
    assert "0 curated feeds added" in second.output
    assert len(listed) >= 20
    assert {f["language"] for f in listed} == {"en", "fr"}


def test_feeds_add_refuses_non_http(vigie_env: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["feeds", "add", "file:///etc/passwd"])
    assert result.exit_code == 2 and "only http and https" in result.output


def test_feeds_add_takes_a_url_as_typed_and_only_languages_vigie_tags(
    vigie_env: pytest.MonkeyPatch,
) -> None:
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0
    shouted = runner.invoke(app, ["feeds", "add", "HTTPS://Example.org/feed.xml"])
    german = runner.invoke(app, ["feeds", "add", "https://example.de/feed", "--language", "de"])
    listed = json.loads(runner.invoke(app, ["feeds", "list", "--format", "json"]).stdout)

    assert shouted.exit_code == 0, shouted.output
    assert german.exit_code == 2 and "'de' is not one of 'en', 'fr'" in german.output
    assert [f["url"] for f in listed] == ["HTTPS://Example.org/feed.xml"]


def test_bad_settings_stop_with_one_clear_line(vigie_env: pytest.MonkeyPatch) -> None:
    vigie_env.setenv("VIGIE_READ_TIMEOUT", "soon")
    vigie_env.setenv("VIGIE_DATABASE_URL", "mysql://x")
    result = runner.invoke(app, ["articles"])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "VIGIE_READ_TIMEOUT" in line and "VIGIE_DATABASE_URL" in line


def test_unknown_setting_in_dotenv_is_refused(vigie_env: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("VIGIE_DATABSE_URL=sqlite:///x.db\n")  # cwd: the test's tmp dir
    result = runner.invoke(app, ["articles"])
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert "unknown setting: VIGIE_DATABSE_URL (in .env; did you mean VIGIE_DATABASE_URL?)" in line


def test_dotenv_keys_of_other_tools_are_left_alone(vigie_env: pytest.MonkeyPatch) -> None:
    # One .env often serves several tools: only VIGIE_ names are Vigie's to judge.
    Path(".env").write_text("OTHER_TOOL_TOKEN=abc\nvigie_feed_interval_minutes=7\n")
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert get_settings().feed_interval_minutes == 7


def test_database_without_tables_says_to_run_init(
    vigie_env: pytest.MonkeyPatch, database_url: str
) -> None:
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)  # a fresh, empty database
    result = runner.invoke(app, ["feeds", "list"])
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert "run `vigie init` to create Vigie's tables" in line
    assert "Traceback" not in result.output and "LINE" not in result.output


def test_misspelt_setting_in_environment_gets_a_suggestion(vigie_env: pytest.MonkeyPatch) -> None:
    vigie_env.setenv("VIGIE_DATABSE_URL", "sqlite:///x.db")
    result = runner.invoke(app, ["articles"])
    assert result.exit_code == 2
    assert "VIGIE_DATABSE_URL" in result.output and "VIGIE_DATABASE_URL" in result.output
