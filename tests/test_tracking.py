"""Figures tracked across articles: only a government's own targets, each with its source; a
new target in another article alerts once, naming both sources; an analyst can set a wrong
statement aside."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cli.app import app
from db import repo
from db.engine import make_engine, make_sessions
from db.figures import list_statements, mark_wrong
from db.intents import ArticleIntent
from db.migrate import upgrade
from db.models import Alert, FigureStatement, TrackedFigure
from flows import context
from flows.pipeline import tag_specs
from flows.settings import SEEDS_DIR
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from parsers.text import content_hash
from parsers.tracking import not_a_target, tracked_key

TAGGER = Tagger(load_taxonomy(SEEDS_DIR / "taxonomy.toml"))
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
QUEBEC = "immigration_levels|people|per_year|quebec"
CANADA = "immigration_levels|people|per_year|canada"


def _keys(title: str, text: str) -> set[str | None]:
    return {tracked_key(m, title) for m in TAGGER.tag(title, text).figures}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quebec will cut its immigration target to 40,000 immigrants per year.", QUEBEC),
        ("Le Québec abaissera son seuil à 45 000 immigrants par année.", QUEBEC),
        ("Ottawa's plan targets 395,000 immigrants per year for Canada.", CANADA),
        # An adjective between the number and its noun, in either language.
        ("The Quebec government plans 40,000 permanent immigrants per year.", QUEBEC),
        ("Le gouvernement du Québec vise 45 000 immigrants permanents par année.", QUEBEC),
        # A government proposing its own plan is stating a target.
        ("The Quebec government proposes to admit 42,000 immigrants per year.", QUEBEC),
        # Each way a yearly target is written: newcomers, permanent residents, admissions, a
        # threshold before a bare number; the verb "plans" is no topic word of its own.
        ("Ottawa will admit 395,000 newcomers per year under the federal plan.", CANADA),
        ("The federal government plans 380,000 permanent residents per year.", CANADA),
        ("Canada's levels plan targets 395,000 admissions a year, IRCC said.", CANADA),
        ("Le gouvernement du Québec accueillera 50 000 nouveaux arrivants par année.", QUEBEC),
        ("Le gouvernement Legault fixe un seuil d'immigration de 50 000 par année.", QUEBEC),
        ("Last year, Quebec accepted around 52,000 immigrants.", None),  # a count
        ("The plan admits 40,000 immigrants per year.", None),  # whose plan? not said
    ],
)
def test_tracked_key(text: str, expected: str | None) -> None:
    assert _keys("", text) == {expected}


@pytest.mark.parametrize(
    ("text", "figure", "reason"),
    [
        (
            "Le regroupement des employeurs réclame plutôt un seuil de 70 000 immigrants "
            "par année pour le Québec.",
            "70 000 immigrants par année",
            "demand",
        ),
        (
            "A business lobby urges a Quebec target of 65,000 immigrants per year.",
            "65,000 immigrants per year",
            "demand",
        ),
        (
            "Québec fixera son seuil à 46 000 immigrants par année, par rapport à 61 000 "
            "immigrants par année l'an dernier.",
            "61 000 immigrants par année",
            "baseline",
        ),
        (
            "Quebec will lower its target from 60,000 to 47,000 immigrants per year.",
            "60,000",
            "baseline",
        ),
        (
            "Last year Quebec welcomed 59,000 immigrants per year under its plan.",
            "59,000 immigrants per year",
            "past",
        ),
        (
            "The Conservatives would cut immigration to 250,000 newcomers a year for Canada, "
            "Pierre Poilievre said.",
            "250,000 newcomers a year",
            "pledge",
        ),
        (
            "Un gouvernement péquiste ramènerait l'immigration à 35 000 immigrants par année au "
            "Québec, a promis son chef.",
            "35 000 immigrants par année",
            "pledge",
        ),
        (
            "Au cours des dernières années, la cible du Québec était fixée à 50 000 "
            "immigrants par année.",
            "50 000 immigrants par année",
            "past",
        ),
    ],
)
def test_demands_baselines_and_past_totals_are_not_targets(
    text: str, figure: str, reason: str
) -> None:
    mentions = {m.text: m for m in TAGGER.tag("", text).figures}
    assert tracked_key(mentions[figure]) is None
    assert reason in (not_a_target(mentions[figure]) or "").replace("former", "past")


def test_the_target_beside_a_baseline_is_the_one_tracked() -> None:
    text = (
        "Le gouvernement Legault réduira les seuils à 45 000 immigrants permanents par année, "
        "par rapport à 64 000 immigrants par année en 2024."
    )
    tracked = {m.text: tracked_key(m) for m in TAGGER.tag("", text).figures}
    assert tracked == {
        "45 000 immigrants permanents par année": QUEBEC,
        "64 000 immigrants par année": None,
    }


def test_seed_004_target_is_tracked_as_quebecs() -> None:
    text = (SEEDS_DIR / "004_070607473756bd18.txt").read_text(encoding="utf-8")
    title = "CAQ seeks control over immigration and a cut to 40,000 immigrants a year"
    assert QUEBEC in _keys(title, text)


# --- storage --------------------------------------------------------------------------------


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        yield session
    engine.dispose()


def _article(
    url: str, text: str, published: datetime, title: str = "Quebec immigration target"
) -> ArticleIntent:
    return ArticleIntent(
        canonical_url=url,
        url=url,
        title=title,
        text=text,
        content_hash=content_hash(title, text),
        language="en",
        published_at=published,
        source=url.split("/")[2],
        site=url.split("/")[2],
        origin="feed",
        tags=TAGGER.tag(title, text),
    )


OLD = _article(
    "https://a.example/1",
    "Quebec will cut its immigration target to 40,000 immigrants per year, the minister said.",
    NOW - timedelta(days=30),
)
NEW = _article(
    "https://b.example/2",
    "Quebec raises its immigration target to 50,000 immigrants per year, the minister said.",
    NOW,
)


def _store(session: Session, *intents: ArticleIntent) -> None:
    tag_ids = repo.sync_tags(session, tag_specs(TAGGER.taxonomy))
    for intent in intents:
        repo.store_articles(session, [intent], tag_ids, NOW)


def test_a_new_target_in_another_article_alerts_once_naming_both_sources(
    session: Session,
) -> None:
    stale = _article(
        "https://c.example/3",
        "Quebec set its immigration target at 45,000 immigrants per year, a report recalled.",
        NOW - timedelta(days=60),
    )
    _store(session, OLD, NEW, NEW, stale)

    alerts = session.scalars(select(Alert).where(Alert.kind == "figure_changed")).all()
    assert [(a.payload["old"], a.payload["new"]) for a in alerts] == [
        ("40,000 immigrants per year", "50,000 immigrants per year")
    ]
    payload = alerts[0].payload
    assert payload["old_source"] == "a.example, “Quebec immigration target”, 2026-10-22"
    assert payload["new_source"] == "b.example, “Quebec immigration target”, 2026-11-21"
    assert payload["sentence"] == NEW.text  # the sentence with the new value
    assert payload["old_sentence"] == OLD.text
    tracked = session.scalars(select(TrackedFigure)).one()
    assert tracked.value == 50_000  # the older statement did not move it back
    assert session.scalars(select(FigureStatement.value)).all() == [40_000, 50_000, 45_000]


def test_a_statement_marked_wrong_is_ignored_and_can_be_restored(session: Session) -> None:
    _store(session, OLD, NEW)
    new_statement = session.scalars(
        select(FigureStatement).where(FigureStatement.value == 50_000)
    ).one()

    assert mark_wrong(session, new_statement.id, NOW)
    tracked = session.scalars(select(TrackedFigure)).one()
    assert (tracked.value, tracked.matched) == (40_000, "40,000 immigrants per year")
    _store(session, NEW)  # the same article again: its wrong statement stays ignored
    assert session.scalars(select(TrackedFigure.value)).one() == 40_000
    listed = list_statements(session, everything=True)
    assert [(row.value, row.current, row.wrong_at is not None) for row in listed] == [
        (50_000, False, True),
        (40_000, True, False),
    ]

    assert mark_wrong(session, new_statement.id, NOW, wrong=False)
    assert session.scalars(select(TrackedFigure.value)).one() == 50_000
    assert not mark_wrong(session, 9_999, NOW)
    # Marking changes no alert: the one from the first store is still the only one.
    assert len(session.scalars(select(Alert).where(Alert.kind == "figure_changed")).all()) == 1


def test_an_article_that_is_not_relevant_states_no_tracked_figure(session: Session) -> None:
    foreign = _article(
        "https://d.example/4",
        "Germany's government plans 200,000 immigrants per year, the interior minister said "
        "in Berlin, after Canada set its own target.",
        NOW,
        title="Germany sets immigration target",
    )
    assert not foreign.tags.relevant
    _store(session, foreign)
    assert session.scalars(select(FigureStatement)).all() == []


# --- vigie figures ------------------------------------------------------------------------


def test_vigie_figures_lists_sources_and_marks_one_wrong(vigie_env: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0
    with context.sessions().begin() as session:
        _store(session, OLD, NEW)

    listed = runner.invoke(app, ["figures", "--format", "json"])
    rows = json.loads(listed.stdout)
    assert [(r["value"], r["source"], r["sentence"]) for r in rows] == [
        (50_000, "b.example", NEW.text)
    ]
    assert rows[0]["name"] == "Quebec · immigration levels · people per year"
    table = runner.invoke(app, ["figures"], env={"COLUMNS": "200"})
    assert "b.example" in table.output and "50,000" in table.output

    wrong = runner.invoke(app, ["figures", "wrong", str(rows[0]["id"])])
    assert wrong.exit_code == 0, wrong.output
    assert "marked wrong" in wrong.output
    after = json.loads(runner.invoke(app, ["figures", "--format", "json"]).stdout)
    assert [(r["value"], r["source"]) for r in after] == [(40_000, "a.example")]
    everything = json.loads(runner.invoke(app, ["figures", "--all", "-f", "json"]).stdout)
    assert {r["value"]: r["wrong_at"] is not None for r in everything} == {
        50_000: True,
        40_000: False,
    }
    missing = runner.invoke(app, ["figures", "wrong", "999"])
    assert missing.exit_code == 1 and "no figure statement 999" in missing.output


def test_an_edit_that_moves_a_figure_names_both_versions(session: Session) -> None:
    first = _article(
        "https://e.example/5",
        "Quebec will cut its immigration target to 40,000 immigrants per year, the minister "
        "said on Monday.",
        NOW - timedelta(days=1),
    )
    edited_text = first.text.replace("40,000", "45,000")
    edited = _article("https://e.example/5", edited_text, NOW - timedelta(days=1))
    _store(session, first, edited)

    alert = session.scalars(
        select(Alert).where(Alert.kind == "figure_changed", Alert.dedup_key.contains("v2"))
    ).one()
    assert (alert.payload["old"], alert.payload["new"]) == (
        "40,000 immigrants per year",
        "45,000 immigrants per year",
    )
    assert alert.payload["old_source"].endswith("version 1")
    assert alert.payload["new_source"].endswith("version 2")
    assert alert.payload["sentence"] == edited_text and alert.payload["old_sentence"] == first.text
