"""Full-text search on both databases: one query syntax, the same articles found, French and
English stemming and accents, and an index that follows each article's current version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from db import repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent
from db.migrate import upgrade
from db.models import Article, ArticleVersion
from db.search import ArticleFilters, matching_articles, search_ids
from flows.pipeline import tag_specs
from parsers.search_query import QueryError, parse
from parsers.tagging import Tagger
from parsers.text import content_hash

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

#: (key, language, outlet, days ago, title, text): written for these tests.
ARTICLES = (
    ("roxham", "fr", "La Gazette du Nord", 1, "Fermeture du chemin Roxham",
     "Ottawa a annoncé la fermeture du chemin Roxham, où les demandeurs d'asile traversaient "
     "la frontière à pied depuis l'État de New York."),
    ("quebec_levels", "fr", "Le Quotidien", 2, "Québec réduit ses seuils",
     "Le gouvernement du Québec fixe à 45 000 le nombre d'immigrants permanents admis l'an "
     "prochain, une baisse par rapport à cette année."),
    ("asylum_en", "en", "Northern Times", 3, "Asylum claims at the border",
     "Refugee claimants crossing at Roxham Road will now be turned back, the minister said, "
     "after the agreement with the United States was extended."),
    ("students", "en", "Northern Times", 4, "Study permits capped",
     "Ottawa capped international study permits for two years; colleges in Quebec and Ontario "
     "expect fewer students in the fall."),
    ("claimant_fr", "fr", "La Gazette du Nord", 5, "Un demandeur d'asile témoigne",
     "Un demandeur d'asile arrivé à Montréal raconte son attente d'une audience devant la "
     "Commission de l'immigration et du statut de réfugié."),
    ("hockey", "en", "Sports Daily", 6, "Canadiens win in overtime",
     "The Canadiens beat Boston 3-2 in overtime on a goal from the blue line."),
)  # fmt: skip

#: Each query of the shared set and the articles it must find, whichever the database.
SHARED_QUERIES = {
    "demandeur d'asile": {"roxham", "claimant_fr"},
    "demandeurs d'asile": {"roxham", "claimant_fr"},
    '"demandeur d\'asile"': {"roxham", "claimant_fr"},
    "Quebec": {"quebec_levels", "students"},
    "QUÉBEC": {"quebec_levels", "students"},
    "Roxham NEAR/3 fermeture": {"roxham"},
    "fermeture NEAR/3 Roxham": {"roxham"},
    "Roxham NEAR/1 asile": set(),  # eight words apart
    "Roxham NEAR/10 asile": {"roxham"},
    "Roxham NOT fermeture": {"asylum_en"},
    "Roxham OR hockey OR Canadiens": {"roxham", "asylum_en", "hockey"},
    "(Quebec OR Ottawa) permits": {"students"},
    '"study permit"': {"students"},
    '"permit study"': set(),
    "claimants crossed": {"asylum_en"},  # claimants / crossing / crossed share a stem
    "réfugiés": {"claimant_fr"},  # réfugié; the English "Refugee" is another stem
    "fermé": set(),  # fermeture is another word
    "immigrants": {"quebec_levels"},
    "immigration": {"claimant_fr"},  # a light stemmer keeps the two apart
    "nothing-like-this": set(),
}


def _intent(tagger: Tagger, key: str, language: str, outlet: str, days: int,
            title: str, text: str) -> ArticleIntent:  # fmt: skip
    url = f"https://{outlet.lower().replace(' ', '-')}.example/{key}"
    return ArticleIntent(
        canonical_url=url, url=url, title=title, text=text,
        content_hash=content_hash(title, text), language=language,
        published_at=NOW - timedelta(days=days), source=outlet,
        site=f"{outlet.lower().replace(' ', '-')}.example", origin="feed",
        tags=tagger.tag(title, text), byline=f"Reporter {key}",
    )  # fmt: skip


@pytest.fixture
def stored(database_url: str, tagger: Tagger) -> Iterator[tuple[Session, dict[str, int]]]:
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        intents = [_intent(tagger, *article) for article in ARTICLES]
        repo.store_articles(session, intents, tag_ids, NOW)
        ids = {a[0]: session.query(Article.id).filter_by(canonical_url=i.canonical_url).scalar()
               for a, i in zip(ARTICLES, intents, strict=True)}  # fmt: skip
        yield session, ids
    engine.dispose()


def _found(session: Session, ids: dict[str, int], query: str, **filters: object) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    found = search_ids(session, parse(query), ArticleFilters(**filters), None)  # type: ignore[arg-type]
    return {by_id[i] for i in found}


@pytest.mark.parametrize("query", list(SHARED_QUERIES))
def test_shared_queries_find_the_same_articles_on_both_databases(
    stored: tuple[Session, dict[str, int]], query: str
) -> None:
    session, ids = stored
    assert _found(session, ids, query) == SHARED_QUERIES[query]


def test_filters_narrow_a_search(stored: tuple[Session, dict[str, int]]) -> None:
    session, ids = stored
    query = "Roxham OR Quebec OR Canadiens"
    assert _found(session, ids, query, language="fr") == {"roxham", "quebec_levels"}
    assert _found(session, ids, query, outlet="northern") == {"asylum_en", "students"}
    assert _found(session, ids, query, outlet="sports-daily.example") == {"hockey"}
    assert _found(session, ids, query, since=NOW - timedelta(days=2, hours=1)) == {
        "roxham",
        "quebec_levels",
    }
    assert _found(session, ids, query, until=NOW - timedelta(days=3, hours=12)) == {
        "students",
        "hockey",
    }
    assert "hockey" not in _found(session, ids, query, relevant=True)
    assert _found(session, ids, query, topic="no_such_topic") == set()


def test_best_match_comes_first(stored: tuple[Session, dict[str, int]]) -> None:
    session, ids = stored
    found = search_ids(session, parse("Roxham OR fermeture"), ArticleFilters(), 1)
    assert found == [ids["roxham"]]  # both words, and one of them twice


def test_a_new_version_replaces_what_the_index_holds(
    stored: tuple[Session, dict[str, int]], tagger: Tagger
) -> None:
    session, ids = stored
    edited = _intent(tagger, *ARTICLES[5][:5], "The Canadiens lost to Toronto in a shootout.")
    tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    counts = repo.store_articles(session, [replace(edited, feed_id=None)], tag_ids, NOW)
    assert counts.new_versions == 1
    assert _found(session, ids, "shootout") == {"hockey"}
    assert _found(session, ids, "Boston") == set()
    assert matching_articles(session, parse("Toronto"), [ids["hockey"], ids["roxham"]]) == {
        ids["hockey"]
    }


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", "no words"),
        ("NOT asile", "NOT needs a word on each side"),
        ("asile OR", "ends after OR where a word was expected"),
        ("(asile", "not closed"),
        ("asile)", "unexpected"),
        ("asile NEAR/99 Roxham", "at most NEAR/50"),
        ("(a OR b) NEAR c", "NEAR joins two words or quoted phrases"),
        ("!!!", "no letters or digits"),
    ],
)
def test_a_query_that_cannot_be_read_says_how_to_write_it(query: str, problem: str) -> None:
    with pytest.raises(QueryError, match=problem):
        parse(query)


def test_upgrade_indexes_the_articles_already_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0010")
    with engine.begin() as connection:
        article = connection.execute(
            insert(Article.__table__).returning(Article.__table__.c.id),
            {"canonical_url": "https://old.example/1", "title": "Vieux", "source": "old",
             "site": "old.example", "first_seen_at": NOW},
        ).scalar_one()  # fmt: skip
        version = connection.execute(
            insert(ArticleVersion.__table__).returning(ArticleVersion.__table__.c.id),
            {"article_id": article, "n": 1, "content_hash": "x", "title": "Vieux",
             "text": "Les demandeurs d'asile du Québec.", "origin": "feed",
             "fetched_at": NOW, "change_kinds": "new", "relevance": 0.0, "relevant": False,
             "topics": "", "taxonomy_version": "t"},
        ).scalar_one()  # fmt: skip
        connection.execute(Article.__table__.update().values(current_version_id=version))
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        assert search_ids(session, parse("demandeur d'asile Quebec"), ArticleFilters(), None) == [
            article
        ]
    engine.dispose()


def test_reprocessing_a_current_text_reindexes_it(
    stored: tuple[Session, dict[str, int]], tagger: Tagger
) -> None:
    session, ids = stored
    article = session.get_one(Article, ids["hockey"])
    version = article.current_version
    assert version is not None
    text = "The Canadiens lost to Ottawa in a shootout."
    tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    repo.replace_evidence(
        session, version, version.title, text, tagger.tag(version.title, text), tag_ids
    )
    assert _found(session, ids, "shootout") == {"hockey"}
    assert _found(session, ids, "Boston") == set()
