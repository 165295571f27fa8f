"""Figures tracked across articles: a new immigration target in another article alerts once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent
from db.migrate import upgrade
from db.models import Alert, TrackedFigure
from flows.pipeline import tag_specs
from flows.settings import SEEDS_DIR
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from parsers.text import content_hash
from parsers.tracking import tracked_key

TAGGER = Tagger(load_taxonomy(SEEDS_DIR / "taxonomy.toml"))
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def _keys(title: str, text: str) -> set[str | None]:
    return {tracked_key(m, title) for m in TAGGER.tag(title, text).figures}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Quebec will cut its immigration target to 40,000 immigrants per year.",
            "immigration_levels|people|per_year|quebec",
        ),
        (
            "Le Québec abaissera son seuil à 45 000 immigrants par année.",
            "immigration_levels|people|per_year|quebec",
        ),
        (
            "Ottawa's plan targets 395,000 immigrants per year for Canada.",
            "immigration_levels|people|per_year|canada",
        ),
        ("Last year, Quebec accepted around 52,000 immigrants.", None),  # a count, not a target
        ("The plan admits 40,000 immigrants per year.", None),  # whose plan? not said
    ],
)
def test_tracked_key(text: str, expected: str | None) -> None:
    assert _keys("", text) == {expected}


def test_seed_004_target_is_tracked_as_quebecs() -> None:
    text = (SEEDS_DIR / "004_070607473756bd18.txt").read_text(encoding="utf-8")
    title = "CAQ seeks control over immigration and a cut to 40,000 immigrants a year"
    assert "immigration_levels|people|per_year|quebec" in _keys(title, text)


@pytest.fixture
def session(database_url: str) -> Session:
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        yield session
    engine.dispose()


def _article(url: str, text: str, published: datetime) -> ArticleIntent:
    title = "Quebec immigration target"
    return ArticleIntent(
        canonical_url=url,
        url=url,
        title=title,
        text=text,
        content_hash=content_hash(title, text),
        language="en",
        published_at=published,
        source="test",
        site="news.example",
        origin="feed",
        tags=TAGGER.tag(title, text),
    )


def test_a_new_target_in_another_article_alerts_once(session: Session) -> None:
    tag_ids = repo.sync_tags(session, tag_specs(TAGGER.taxonomy))
    old = _article(
        "https://a.example/1",
        "Quebec will cut its immigration target to 40,000 immigrants per year, the minister said.",
        NOW - timedelta(days=30),
    )
    new = _article(
        "https://b.example/2",
        "Quebec raises its immigration target to 50,000 immigrants per year, the minister said.",
        NOW,
    )
    stale = _article(
        "https://c.example/3",
        "Quebec set its immigration target at 45,000 immigrants per year, a report recalled.",
        NOW - timedelta(days=60),
    )
    for intent in (old, new, new, stale):
        repo.store_articles(session, [intent], tag_ids, NOW)

    alerts = session.scalars(select(Alert).where(Alert.kind == "figure_changed")).all()
    assert [(a.payload["old"], a.payload["new"]) for a in alerts] == [
        ("40,000 immigrants per year", "50,000 immigrants per year")
    ]
    tracked = session.scalars(select(TrackedFigure)).one()
    assert tracked.value == 50_000  # the older statement did not move it back
