"""The seeds: kept word for word, ingested through the real flow, tagged as specified."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.app import app
from db.models import Alert, Article
from flows import context
from flows.settings import SEEDS_DIR
from parsers.seeds import load_seeds

# SHA-256 of the seed files as supplied: any edit to a seed text fails here.
SEED_SHA256 = {
    "000_e1b8015c5445bc90.txt": (
        "403faf530de1a0327b8c7a7eb5c75f68baaaf137fe07f2150d5c9ae5898ddd99"
    ),
    "004_070607473756bd18.txt": (
        "f53273e31334d5706ace8719169b94335bf19868526102db3f536e391a139ee2"
    ),
}
SEED_TOPICS = {
    "000_e1b8015c5445bc90": ["asylum_refugees", "jurisdiction", "visas"],
    "004_070607473756bd18": [
        "asylum_refugees",
        "economic_immigration",
        "family_reunification",
        "immigration_levels",
        "integration_french",
        "jurisdiction",
    ],
}
# What each seed is mainly about: its topics list leads with it.
SEED_PRIMARY = {
    "000_e1b8015c5445bc90": "asylum_refugees",
    "004_070607473756bd18": "immigration_levels",
}
runner = CliRunner()
VIGIE = str(Path(sys.executable).parent / "vigie")


@pytest.mark.parametrize("name", sorted(SEED_SHA256))
def test_seed_files_are_kept_word_for_word(name: str) -> None:
    digest = hashlib.sha256((SEEDS_DIR / name).read_bytes()).hexdigest()
    assert digest == SEED_SHA256[name]


def test_seed_metadata() -> None:
    seeds = {seed.key: seed for seed in load_seeds(SEEDS_DIR)}
    assert set(seeds) == set(SEED_TOPICS)
    legault = seeds["000_e1b8015c5445bc90"]
    assert legault.published_on is not None and legault.published_on.isoformat() == "2024-06-14"
    assert legault.text.startswith("June 14, 2024")
    caq = seeds["004_070607473756bd18"]
    assert caq.published_on is None  # no date line; the note explains late 2018
    assert "2018" in caq.source_note and "Dec. 7" in caq.source_note
    assert all(seed.language == "en" for seed in seeds.values())


@pytest.mark.usefixtures("prefect_server")
def test_vigie_seed_stores_and_tags_both_seeds_once(
    vigie_env: pytest.MonkeyPatch, database_url: str
) -> None:
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)
    context.reset()

    first = runner.invoke(app, ["seed"])
    second = runner.invoke(app, ["seed"])
    listed = runner.invoke(app, ["articles", "--format", "json"])

    assert first.exit_code == 0, first.output
    assert "2 new" in first.output
    assert second.exit_code == 0 and "0 new, 2 already stored" in second.output
    rows = {row["canonical_url"].rsplit(":", 1)[1]: row for row in json.loads(listed.stdout)}
    assert {key: sorted(row["topics"]) for key, row in rows.items()} == SEED_TOPICS
    assert {key: row["topics"][0] for key, row in rows.items()} == SEED_PRIMARY
    assert all(row["relevant"] and row["versions"] == 1 for row in rows.values())
    assert rows["000_e1b8015c5445bc90"]["published_at"].startswith("2024-06-14")
    with context.sessions().begin() as session:
        texts = {a.canonical_url: a.current_version.text for a in session.scalars(select(Article))}
        alerts = session.scalars(select(Alert)).all()
    for seed in load_seeds(SEEDS_DIR):
        assert texts[seed.url] == Path(SEEDS_DIR / f"{seed.key}.txt").read_text(encoding="utf-8")
    assert sorted(a.kind for a in alerts) == ["new_relevant_article"] * 2


@pytest.mark.usefixtures("prefect_server")
def test_show_prints_text_with_evidence(vigie_env: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["seed"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["articles", "--format", "json"]).stdout)
    caq = next(row for row in listed if row["canonical_url"].endswith("004_070607473756bd18"))

    shown = runner.invoke(app, ["show", str(caq["id"])])

    assert shown.exit_code == 0, shown.output
    assert "Jolin-Barrette is set to table the annual immigration plan" in shown.output
    assert "family_reunification" in shown.output
    assert "40,000" in shown.output  # the figure, as evidence
    missing = runner.invoke(app, ["show", "9999"])
    assert missing.exit_code == 1 and "no article 9999" in missing.output


@pytest.mark.usefixtures("prefect_server")
def test_tables_piped_keep_whole_cells_and_times_to_the_minute(
    vigie_env: pytest.MonkeyPatch,
) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["seed"]).exit_code == 0

    # The real executable, its output piped, as in a script: not the test's own stdout.
    alerts, feeds = (
        subprocess.run([VIGIE, *command], capture_output=True, text=True, check=True).stdout
        for command in (["alerts", "list"], ["feeds", "list"])
    )

    # Outside a terminal every command writes 160 columns: no kind is cut to "new_rel…".
    assert alerts.count("new_relevant_article") == 2, alerts
    # Times in VIGIE_TIMEZONE, to the minute: "7 Dec 2026 08:03 EST".
    assert re.search(r"\b\d{1,2} [A-Z][a-z]{2} 20\d\d \d\d:\d\d [A-Z]{3,4}\b", alerts), alerts
    assert "next check" in feeds and "now" in feeds, feeds
