"""``vigie search`` and ``vigie watch`` as an analyst runs them, on both databases: filters,
highlighted results, json/jsonl/csv exports, and watches edited in the rules file."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.search import csv_bytes
from db import repo
from db.engine import make_engine, make_sessions
from db.migrate import upgrade
from flows import context
from flows.pipeline import tag_specs
from parsers.tagging import Tagger
from tests.test_search import ARTICLES, NOW, _intent

runner = CliRunner()
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def desk(
    vigie_env: pytest.MonkeyPatch, database_url: str, tagger: Tagger, tmp_path: Path
) -> Iterator[Path]:
    """A database holding the search tests' articles, and a copy of the seeds' rules file."""
    rules = tmp_path / "alert_rules.toml"
    shutil.copy(SEEDS / "alert_rules.toml", rules)
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)
    vigie_env.setenv("VIGIE_ALERT_RULES_PATH", str(rules))
    context.reset()
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        repo.store_articles(session, [_intent(tagger, *a) for a in ARTICLES], tag_ids, NOW)
    engine.dispose()
    yield rules


def _json(args: list[str]) -> list[dict[str, object]]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_search_gives_the_best_matches_with_what_an_analyst_needs(desk: Path) -> None:
    found = _json(["search", "Roxham NEAR/10 fermeture", "--format", "json"])
    assert [f["title"] for f in found] == ["Fermeture du chemin Roxham"]
    hit = found[0]
    assert {"article_id", "title", "canonical_url", "outlet", "published_at", "topics",
            "snippet", "byline"} <= set(hit)  # fmt: skip
    assert hit["outlet"] == "La Gazette du Nord" and hit["byline"] == "Reporter roxham"
    assert "fermeture du chemin Roxham" in str(hit["snippet"])

    table = runner.invoke(app, ["search", "demandeurs d'asile", "--language", "fr"])
    assert table.exit_code == 0
    assert "Un demandeur d'asile témoigne" in table.stdout and "La Gazette du Nord" in table.stdout
    assert "https://la-gazette-du-nord.example/roxham" in table.stdout
    none = runner.invoke(app, ["search", "Boston", "--outlet", "gazette"])
    assert none.exit_code == 0 and "No stored article matches." in none.stdout


def test_show_names_the_byline_beside_the_outlet(desk: Path) -> None:
    [found] = _json(["search", "Roxham NEAR/10 fermeture", "--format", "json"])
    shown = runner.invoke(app, ["show", str(found["article_id"])])
    assert shown.exit_code == 0, shown.output
    assert "La Gazette du Nord · by Reporter roxham · " in shown.stdout


def test_search_filters_and_errors(desk: Path) -> None:
    query = "Roxham OR Quebec OR Canadiens"
    assert {f["outlet"] for f in _json(["search", query, "-f", "json", "--outlet", "TIMES"])} == {
        "Northern Times"
    }
    until = _json(["search", query, "-f", "json", "--until", "2026-11-28"])
    assert {f["title"] for f in until} == {"Study permits capped", "Canadiens win in overtime"}
    assert _json(["search", query, "-f", "json", "--since", "2026-11-29T00:00", "--topic",
                  "no_such_topic"]) == []  # fmt: skip
    bad_query = runner.invoke(app, ["search", "asile NOT"])
    assert bad_query.exit_code == 2 and "ends after NOT where a word" in bad_query.output
    bad_date = runner.invoke(app, ["search", "asile", "--since", "yesterday"])
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output


def test_exports_open_in_excel_and_line_by_line(desk: Path) -> None:
    result = runner.invoke(app, ["search", "Quebec", "--format", "csv"])
    assert result.exit_code == 0
    raw = result.stdout_bytes
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["link", "outlet", "date", "title", "byline", "topics", "relevance",
                       "snippet"]  # fmt: skip
    titles = {row[3] for row in rows[1:]}
    assert titles == {"Québec réduit ses seuils", "Study permits capped"}
    assert all(row[0].startswith("https://") for row in rows[1:])

    lines = runner.invoke(app, ["search", "Quebec", "--format", "jsonl"]).stdout.splitlines()
    assert {json.loads(line)["title"] for line in lines} == titles


def test_a_csv_cell_cannot_run_as_a_formula() -> None:
    record = {"canonical_url": "https://x.example/1", "outlet": "=HYPERLINK(\"evil\")",
              "published_at": "2026-12-01", "title": "@SUM(A1) \"quoted\"", "byline": None,
              "topics": ["a", "b"], "relevance": -1.5}  # fmt: skip
    columns = ("link", "outlet", "title", "byline", "topics", "relevance")
    rows = list(csv.reader(io.StringIO(csv_bytes([record], columns).decode("utf-8-sig"))))
    assert rows[1] == ["https://x.example/1", "'=HYPERLINK(\"evil\")", "'@SUM(A1) \"quoted\"",
                       "", "a b", "-1.5"]  # fmt: skip


def test_watch_add_list_test_remove_keep_the_rules_file_as_written(desk: Path) -> None:
    before = desk.read_text(encoding="utf-8")
    added = runner.invoke(app, ["watch", "add", "Roxham", "Roxham NEAR/10 fermeture",
                                "--mode", "digest"])  # fmt: skip
    assert added.exit_code == 0, added.output
    after = desk.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # every comment and key kept, in place
    listed = _json(["watch", "list", "--format", "json"])
    assert listed == [{"name": "Roxham", "query": "Roxham NEAR/10 fermeture",
                       "channels": ["default"], "mode": "digest"}]  # fmt: skip

    tested = _json(["watch", "test", "Roxham", "--format", "json"])  # by the watch's name
    assert [t["title"] for t in tested] == ["Fermeture du chemin Roxham"]
    by_query = _json(["watch", "test", "demandeur d'asile", "-f", "json", "--language", "fr"])
    assert len(by_query) == 2

    refused = runner.invoke(app, ["watch", "add", "x", "asile", "--channel", "nowhere"])
    assert refused.exit_code == 2 and "unknown channel 'nowhere'" in refused.output
    assert desk.read_text(encoding="utf-8") == after  # a refused edit changes nothing

    assert runner.invoke(app, ["watch", "remove", "Roxham"]).exit_code == 0
    assert desk.read_text(encoding="utf-8").rstrip("\n") == before.rstrip("\n")
    missing = runner.invoke(app, ["watch", "remove", "Roxham"])
    assert missing.exit_code == 2 and "no watch named 'Roxham'" in missing.output


def test_articles_take_the_same_filters_and_exports(desk: Path) -> None:
    french = _json(["articles", "--format", "json", "--language", "fr", "--outlet", "gazette"])
    assert [a["title"] for a in french] == [
        "Fermeture du chemin Roxham",
        "Un demandeur d'asile témoigne",
    ]
    assert french[0]["byline"] == "Reporter roxham"
    recent = _json(["articles", "-f", "json", "--since", "2026-11-29", "--until", "2026-12-01"])
    assert {a["title"] for a in recent} == {
        "Fermeture du chemin Roxham",
        "Québec réduit ses seuils",
    }
    relevant = _json(["articles", "-f", "json", "--relevant"])
    assert "Canadiens win in overtime" not in {a["title"] for a in relevant}

    lines = runner.invoke(
        app, ["articles", "-f", "jsonl", "--outlet", "sports"]
    ).stdout.splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["Canadiens win in overtime"]
    exported = runner.invoke(app, ["articles", "-f", "csv", "--outlet", "northern"]).stdout_bytes
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0] == ["link", "outlet", "date", "title", "byline", "topics", "relevance"]
    assert [(r[1], r[3], r[4]) for r in rows[1:]] == [
        ("Northern Times", "Asylum claims at the border", "Reporter asylum_en"),
        ("Northern Times", "Study permits capped", "Reporter students"),
    ]
    table = runner.invoke(app, ["articles", "--outlet", "sports"]).stdout
    assert "https://sports-daily.example/hockey" in table
