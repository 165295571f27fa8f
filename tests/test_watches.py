"""Watch terms: saved searches in the rules file, edited by command without losing comments,
and one alert per new article or version they match, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent
from db.migrate import upgrade
from db.models import Alert
from db.versions import VersionPolicy
from flows.pipeline import tag_specs
from parsers.alert_rules import WATCH_KIND, parse_rules, route
from parsers.exceptions import ConfigError
from parsers.messages import AlertContent, Style, card_for
from parsers.tagging import Tagger
from parsers.text import content_hash
from parsers.watch_file import add_watch, remove_watch

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

RULES = """\
# Who gets what. (This comment must survive every edit.)
[defaults]
channels = ["default"]

[channels.team]
url_env = "VIGIE_TEAM_URL"  # the team's chat

[watches."Chemin Roxham"]
# the border crossing
query = 'Roxham NEAR/5 fermeture OR "chemin Roxham"'
channels = ["team"]

[watches.permits]
query = "(permis OR permits) NOT hockey"
mode = "digest"
"""


def _rules_watches() -> VersionPolicy:
    return VersionPolicy(watches=tuple(parse_rules(RULES).watches.values()))


def _intent(
    tagger: Tagger, key: str, title: str, text: str, *, origin: str = "feed"
) -> ArticleIntent:
    url = f"https://news.example/{key}"
    return ArticleIntent(
        canonical_url=url, url=url, title=title, text=text,
        content_hash=content_hash(title, text), language="fr",
        published_at=NOW - timedelta(hours=2), source="News Example", site="news.example",
        origin=origin, tags=tagger.tag(title, text),
    )  # fmt: skip


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        yield session
    engine.dispose()


def _watch_alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.kind == WATCH_KIND).order_by(Alert.id)))


def test_a_matching_article_is_one_alert_naming_the_watch_and_quoting_the_passage(
    session: Session, tagger: Tagger
) -> None:
    tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    intents = [
        _intent(tagger, "a", "Frontière", "Des passages irréguliers ont repris. Ottawa confirme "
                "la fermeture prochaine du chemin Roxham, selon le ministre."),
        _intent(tagger, "b", "Étudiants", "Le nombre de permis d'études baisse encore."),
        _intent(tagger, "c", "Hockey", "Les permis de stationnement près de l'aréna et le hockey."),
    ]  # fmt: skip
    policy = _rules_watches()
    repo.store_articles(session, intents, tag_ids, NOW, policy)
    alerts = _watch_alerts(session)
    assert [(a.payload["watch"], a.payload["title"]) for a in alerts] == [
        ("Chemin Roxham", "Frontière"),
        ("permits", "Étudiants"),
    ]
    roxham = alerts[0].payload["passage"]
    assert "fermeture prochaine du chemin Roxham" in roxham
    assert "Des passages" not in roxham or len(roxham) < 300
    card = card_for(AlertContent(WATCH_KIND, "info", alerts[0].payload, NOW), Style())
    assert card.label == "Watch: Chemin Roxham"
    assert "chemin Roxham" in card.quote

    # The same items again, and the same text under a page upgrade: nothing more.
    repo.store_articles(session, intents, tag_ids, NOW, policy)
    longer = intents[0].text + " Suite du texte intégral sur la page."
    upgraded = replace(intents[0], origin="page", text=longer, content_hash="page")
    repo.store_articles(session, [upgraded], tag_ids, NOW + timedelta(minutes=5), policy)
    assert len(_watch_alerts(session)) == 2

    # An edit that still matches is a new version: one alert for it.
    edited = replace(upgraded, text=upgraded.text + " Le chemin Roxham est désormais fermé.",
                     content_hash="edited")  # fmt: skip
    repo.store_articles(session, [edited], tag_ids, NOW + timedelta(hours=1), policy)
    alerts = _watch_alerts(session)
    assert len(alerts) == 3
    assert (alerts[-1].payload["watch"], alerts[-1].payload["version"]) == ("Chemin Roxham", 3)


def test_watch_alerts_follow_the_watch_channels_and_mode() -> None:
    rules = parse_rules(RULES)
    payload = {"watch": "Chemin Roxham", "topics": []}
    assert route(rules, WATCH_KIND, "info", payload).channels == ("team",)
    assert route(rules, WATCH_KIND, "info", payload).action == "send"
    assert route(rules, WATCH_KIND, "info", {"watch": "permits"}).action == "digest"
    gone = route(rules, WATCH_KIND, "info", {"watch": "removed since"})
    assert (gone.action, gone.reason) == ("skip", "its watch is no longer in the rules")


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('[watches.x]\nquery = "NOT asile"', "watches.x.query: NOT needs a word on each side"),
        ("[watches.x]\nchannels = []", "watches.x.query: must be a non-empty string"),
        ('[watches.x]\nquery = "a"\nchannels = ["nowhere"]', "unknown channel 'nowhere'"),
        ('[watches.x]\nquery = "a"\nmode = "weekly"', "watches.x.mode: must be immediate or"),
        ('[watches.x]\nquery = "a"\nqueries = "b"', "watches.x.queries: unknown key"),
    ],
)
def test_a_bad_watch_names_the_key_to_fix(table: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_rules(table)


def test_adding_and_removing_watches_keeps_the_file_as_written() -> None:
    added = add_watch(RULES, "Santé des réfugiés", '"réfugiés" santé', mode="digest")
    assert added.startswith(RULES.rstrip("\n"))  # comments, order and spacing kept
    watch = parse_rules(added).watches["Santé des réfugiés"]
    assert (watch.query, watch.mode, watch.channels) == ('"réfugiés" santé', "digest", ("default",))
    removed = remove_watch(added, "Chemin Roxham")
    assert "# Who gets what. (This comment must survive every edit.)" in removed
    assert "# the team's chat" in removed
    assert list(parse_rules(removed).watches) == ["permits", "Santé des réfugiés"]
    with pytest.raises(ConfigError, match="no watch named 'nothing'"):
        remove_watch(RULES, "nothing")
    with pytest.raises(ConfigError, match="unknown channel"):
        add_watch(RULES, "x", "asile", channels=["nowhere"])
    fresh = add_watch("[defaults]\n", "first", "asile")
    assert list(parse_rules(fresh).watches) == ["first"]


def test_the_digest_has_a_section_per_watch_and_the_run_summary_links_its_matches() -> None:
    from db.watches import WatchHit
    from flows.report import RunSummary, summary_markdown
    from parsers.alert_rules import DigestRule
    from parsers.digest import DigestInput, build_digest, render_digest

    def match(watch: str, title: str, n: int) -> DigestInput:
        payload = {
            "watch": watch,
            "title": title,
            "url": f"https://news.example/{n}",
            "source": "News Example",
            "passage": f"passage {n} [x](javascript:y)",
        }
        return DigestInput(WATCH_KIND, "info", payload, NOW)

    alerts = [
        match("Chemin Roxham", "Un", 1),
        match("permits", "Deux", 2),
        match("permits", "*Trois*", 3),
    ]
    payload = build_digest(
        alerts, alerts, since=NOW - timedelta(days=1), until=NOW, rule=DigestRule()
    )
    assert [(w["watch"], w["count"]) for w in payload["watches"]] == [
        ("Chemin Roxham", 1),
        ("permits", 2),
    ]
    assert payload["updates"] == []  # listed under their watch, not again as updates
    rendered = render_digest(payload, Style())
    assert (
        "WATCH: permits (2)" in rendered.text and "“passage 3 [x](javascript:y)”" in rendered.text
    )
    assert "## Watch: permits (2)" in rendered.markdown
    assert "[\\*Trois\\*](<https://news.example/3>)" in rendered.markdown
    assert "](javascript" not in rendered.markdown.replace("\\](javascript", "")
    assert (
        rendered.html.rstrip().endswith("</ul>\n</div>")
        and "Watch: Chemin Roxham (1)" in rendered.html
    )

    summary = RunSummary(kind="monitor", started_at=NOW)
    summary.counts.watched += [
        WatchHit("permits", 7, "[evil](https://x.example)", "https://news.example/7")
    ]
    markdown = summary_markdown(summary)
    assert "## Watches that matched" in markdown and "**permits** (1)" in markdown
    assert "(https://news.example/7) `vigie show 7`" in markdown
    assert "[evil](https://x.example)" not in markdown  # feed text stays text
    assert summary.as_counts()["watched"] == 1
