"""Story clusters on a real SQLite file and a real PostgreSQL: assign, merge, alert, list.

Articles go through the real store path (``repo.store_articles`` with the real tagger), then
``story_filing.assign``, the way the monitor flow files them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bench.wire_copies import CASES, NEW_LEDE, WIRE, Case
from db import repo, story_filing, story_queries
from db.base import Base
from db.cluster_models import ArticlePassage, ArticleSignature, Cluster, ClusterMember, LshBand
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent, StoreCounts
from db.migrate import alembic_config, upgrade
from db.models import Alert, Article
from db.story_filing import ClusterAssignment
from flows.pipeline import tag_specs
from parsers import dedup
from parsers.tagging import Tagger
from parsers.text import content_hash
from parsers.urls import host_of
from tests.test_dedup import (
    CTV_TEXT,
    CTV_TITLE,
    EDITED_TEXT,
    EDITED_TITLE,
    GLOBAL_TEXT,
    GLOBAL_TITLE,
    NATIONAL_POST_TEXT,
    NATIONAL_POST_TITLE,
    OWN_STORY_TEXT,
    OWN_STORY_TITLE,
    WIRE_EN,
    WIRE_FR,
    WIRE_FR_TITLE,
    WIRE_WITH_BUSINESS,
    WIRE_WITH_QUEBEC,
)

NOON = datetime(2025, 11, 4, 17, 0, tzinfo=UTC)
CLUSTER_TABLES = (
    "article_signatures",
    "article_passages",
    "lsh_bands",
    "clusters",
    "cluster_members",
)


@dataclass(frozen=True)
class Story:
    """One outlet's copy of a story, as the store path receives it."""

    url: str
    title: str
    text: str
    published_at: datetime
    language: str = "en"


CTV = Story("https://www.ctvnews.ca/politics/levels-plan-1.7100001", CTV_TITLE, CTV_TEXT, NOON)
GLOBAL = Story(
    "https://globalnews.ca/news/11100002/immigration-levels-plan/",
    GLOBAL_TITLE,
    GLOBAL_TEXT,
    NOON + timedelta(minutes=20),
)
NATIONAL_POST = Story(
    "https://nationalpost.com/news/politics/liberals-cut-immigration-targets",
    NATIONAL_POST_TITLE,
    NATIONAL_POST_TEXT,
    NOON + timedelta(minutes=45),
)
EDITED = Story(
    "https://www.msn.com/en-ca/news/canada/immigration-levels-plan/ar-AA1",
    EDITED_TITLE,
    EDITED_TEXT,
    NOON + timedelta(hours=2),
)
OWN_STORY = Story(
    "https://www.cbc.ca/news/canada/montreal/levels-plan-quebec-1.7100003",
    OWN_STORY_TITLE,
    OWN_STORY_TEXT,
    NOON + timedelta(hours=1),
)
FRENCH = Story(
    "https://www.lapresse.ca/actualites/politique/2025-11-04/plan-des-niveaux.php",
    WIRE_FR_TITLE,
    WIRE_FR,
    NOON + timedelta(minutes=30),
    language="fr",
)


def _copy(story: Story, url: str, text: str, minutes: int, *, credit: str = "") -> Story:
    # A credit line of its own keeps a copy's content hash apart from the original's, as
    # outlets' furniture does: exact copies never reach clustering (the store merges them).
    text = f"{text}\n\n{credit}" if credit else text
    return Story(url, story.title, text, NOON + timedelta(minutes=minutes))


# The wire story with a Quebec paragraph, and with a business paragraph: each close to the
# bare wire copy, but not to each other.
QUEBEC_VERSION = _copy(CTV, "https://www.ledevoir.com/en/levels-plan", WIRE_WITH_QUEBEC, 10)
BUSINESS_VERSION = _copy(CTV, "https://financialpost.com/levels-plan", WIRE_WITH_BUSINESS, 20)
BARE_WIRE = _copy(CTV, "https://www.thecanadianpress.com/levels-plan", WIRE_EN, 5)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


Store = Callable[[Sequence[Story]], list[ClusterAssignment]]


#: Feed names of the outlets: what people see, while sites are what outlets are counted by.
OUTLET_NAMES = {
    "www.ctvnews.ca": "CTV News",
    "globalnews.ca": "Global News",
    "nationalpost.com": "National Post",
}
NAMED = ["CTV News", "Global News", "National Post"]


def _intent(story: Story, tagger: Tagger) -> ArticleIntent:
    return ArticleIntent(
        canonical_url=story.url,
        url=story.url,
        title=story.title,
        text=story.text,
        content_hash=content_hash(story.title, story.text),
        language=story.language,
        published_at=story.published_at,
        source=OUTLET_NAMES.get(host_of(story.url), host_of(story.url)),
        site=host_of(story.url),
        origin="feed",
        tags=tagger.tag(story.title, story.text),
    )


def _store_and_assign(
    session: Session, stories: Sequence[Story], tagger: Tagger, now: datetime
) -> list[ClusterAssignment]:
    """What the store path does: store each article, then file it in its cluster."""
    tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    assigned = []
    for story in stories:
        counts = repo.store_articles(session, [_intent(story, tagger)], tag_ids, now)
        # The store path files new relevant articles itself; an unchanged re-store or an
        # article the tagger finds irrelevant is filed here, as a backfill would.
        assigned += counts.clustered or [_assign(session, story, now)]
    return assigned


def _assign(session: Session, story: Story, now: datetime) -> ClusterAssignment:
    article_id = session.scalars(select(Article.id).where(Article.canonical_url == story.url)).one()
    assignment = story_filing.assign(
        session,
        article_id,
        text=story.text,
        title=story.title,
        outlet=dedup.outlet_of(story.url, host_of(story.url)),
        language=story.language,
        published_at=story.published_at,
        now=now,
    )
    story_filing.cluster_growth_alert(session, assignment.cluster_id, now=now)
    return assignment


def _store_at_once(
    session: Session, stories: Sequence[Story], tagger: Tagger, now: datetime
) -> list[ClusterAssignment]:
    """What a monitor batch does: one ``store_articles`` call for all the items."""
    tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    intents = [_intent(story, tagger) for story in stories]
    counts = repo.store_articles(session, intents, tag_ids, now)
    by_article = {assignment.article_id: assignment for assignment in counts.clustered}
    urls = [story.url for story in stories]
    ids = dict(
        session.execute(
            select(Article.canonical_url, Article.id).where(Article.canonical_url.in_(urls))
        )
        .tuples()
        .all()
    )
    # Irrelevant articles are not filed by the store path; they are filed here, afterwards.
    return [by_article.get(ids[story.url]) or _assign(session, story, now) for story in stories]


@pytest.fixture(params=["one_batch", "one_call", "separate_runs"])
def store(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tagger: Tagger) -> Store:
    """Store stories in one transaction (an article per call, or all in one call, as a feed's
    items are), or each in its own run (transaction) an hour apart."""

    def one_batch(stories: Sequence[Story]) -> list[ClusterAssignment]:
        with sessions.begin() as session:
            return _store_and_assign(session, stories, tagger, NOON + timedelta(hours=3))

    def one_call(stories: Sequence[Story]) -> list[ClusterAssignment]:
        with sessions.begin() as session:
            return _store_at_once(session, stories, tagger, NOON + timedelta(hours=3))

    runs = itertools.count(3)

    def separate_runs(stories: Sequence[Story]) -> list[ClusterAssignment]:
        assigned = []
        for story in stories:
            with sessions.begin() as session:
                now = NOON + timedelta(hours=next(runs))
                assigned += _store_and_assign(session, [story], tagger, now)
        return assigned

    return {"one_batch": one_batch, "one_call": one_call, "separate_runs": separate_runs}[
        request.param
    ]


def _count(sessions: sessionmaker[Session], model: type[Base]) -> int:
    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _growth_alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions.begin() as session:
        query = select(Alert).where(Alert.kind == story_filing.ALERT_KIND).order_by(Alert.id)
        return list(session.scalars(query))


# --- schema --------------------------------------------------------------------------------


def test_migration_creates_exactly_the_modelled_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if any(t in repr(d) for t in CLUSTER_TABLES)] == []


def test_upgrade_re_signs_stored_articles_so_new_copies_still_find_them(
    database_url: str, tagger: Tagger
) -> None:
    """Signatures made by another MinHash (datasketch, before revision 0006) are made again."""
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        [first] = _store_and_assign(session, [CTV], tagger, NOON)
    command.downgrade(alembic_config(engine), "0005")  # today's code writes today's schema
    with sessions.begin() as session:
        # What the older MinHash left: other values, so other band keys.
        session.execute(update(ArticleSignature).values(minhash=bytes(4 * dedup.NUM_PERM)))
        session.execute(update(LshBand).values(hash=LshBand.hash + 1))
    upgrade(engine)

    fresh = dedup.sketch(CTV_TEXT)
    with sessions.begin() as session:
        stored = session.scalars(select(ArticleSignature)).one()
        keys = session.execute(select(LshBand.band, LshBand.hash)).tuples().all()
        assert stored.minhash == fresh.signature and stored.words == fresh.words
        outlet = dedup.outlet_of(CTV.url, host_of(CTV.url))
        ctv = dedup.fingerprint(CTV_TITLE, CTV_TEXT, language="en", outlet=outlet, seen_at=NOON)
        expected = dedup.band_keys(ctv)
        assert sorted(keys) == sorted((k.band, k.hash) for k in expected)
        [copy] = _store_and_assign(session, [GLOBAL], tagger, NOON + timedelta(hours=1))
    assert (copy.outcome, copy.cluster_id) == ("joined", first.cluster_id)
    engine.dispose()


def test_upgrade_to_0009_gives_stored_articles_their_passages(
    database_url: str, tagger: Tagger
) -> None:
    """An article filed before revision 0009 gets its passages, so a copy under a new lede
    arriving after the upgrade finds it."""
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        [first] = _store_and_assign(session, [ORIGINAL], tagger, NOON)
    command.downgrade(alembic_config(engine), "0008")  # today's code writes today's schema
    upgrade(engine)

    with sessions.begin() as session:
        stored = session.execute(select(ArticlePassage.hash, ArticlePassage.shape)).all()
        assert sorted(stored) == sorted((p.hash, p.shape) for p in dedup.text_passages(WIRE.body))
        [copy] = _store_and_assign(session, [RELEDE], tagger, NOON + timedelta(hours=1))
    assert (copy.outcome, copy.cluster_id) == ("joined", first.cluster_id)
    engine.dispose()


def test_candidate_lookup_probes_the_band_index(engine: Engine) -> None:
    keys = [dedup.BandKey(band, 12345 + band) for band in range(3)]
    query = story_queries.candidate_query(keys, exclude=7)
    with engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        if engine.dialect.name == "sqlite":
            plan = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        else:
            # An empty table is cheaper to scan: forbid that to see whether the index serves.
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(text(f"EXPLAIN {compiled}")).all()
    assert "ix_lsh_bands_band_hash" in " ".join(str(row) for row in plan)


def test_batched_lookup_probes_the_band_and_passage_indexes(engine: Engine) -> None:
    bands = story_queries._bands_probe_statement((dedup.TITLE_BAND, 0, 1))
    passages = story_queries._passages_probe_statement()
    params = {"hashes_0": [5], "hashes_1": [6, 7], "hashes_2": [8], "hashes": [9, 10]}
    plans = []
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            connection.execute(text("SET enable_seqscan = off"))
        for query in (bands, passages):
            bound = query.params({k: v for k, v in params.items() if k in str(query)})
            literal = {"literal_binds": True, "render_postcompile": True}
            sql = str(bound.compile(connection, compile_kwargs=literal))
            explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
            plans.append(" ".join(str(row) for row in connection.execute(text(f"{explain} {sql}"))))
    assert "ix_lsh_bands_band_hash" in plans[0]
    assert "ix_article_passages_hash" in plans[1]


#: Every story of these tests, each stored in a run of its own: copies, lookalikes, a
#: translation, short items sharing a title.
STORED = [
    CTV,
    GLOBAL,
    NATIONAL_POST,
    OWN_STORY,
    FRENCH,
    QUEBEC_VERSION,
    BARE_WIRE,
    Story("https://www.capitalledger.ca/news/1", WIRE.title, WIRE.body, NOON),
    *(
        Story(
            f"https://outlet{n}.ca/brief", "Ottawa lowers its immigration targets", "Brief.", NOON
        )
        for n in range(3)
    ),
]


@pytest.mark.parametrize("most_candidates", [story_queries.MAX_CANDIDATES, 1, 2])
@pytest.mark.parametrize("most_values", [story_queries.MAX_PROBED_VALUES, 40])
def test_a_batch_looked_up_together_finds_what_each_lookup_finds(
    sessions: sessionmaker[Session],
    tagger: Tagger,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    most_candidates: int,
    most_values: int,
) -> None:
    for story in STORED:
        with sessions.begin() as session:
            _store_and_assign(session, [story], tagger, NOON)
    # Fewer candidates keep only those sharing the most; fewer values split the batch.
    monkeypatch.setattr(story_queries, "MAX_CANDIDATES", most_candidates)
    monkeypatch.setattr(story_queries, "MAX_PROBED_VALUES", most_values)
    built_with_the_limit = (story_queries._probe_statement, story_queries._passage_probe_statement)
    for statement in built_with_the_limit:
        statement.cache_clear()
        request.addfinalizer(statement.cache_clear)
    arriving = [
        *STORED,
        EDITED,
        BUSINESS_VERSION,
        *(
            Story(f"https://variant.ca/{c.kind}", c.variant.title, c.variant.body, NOON)
            for c in CASES
        ),
    ]
    probes = []
    for n, story in enumerate(arriving):
        fp = dedup.fingerprint(
            story.title,
            story.text,
            language=story.language,
            outlet=dedup.outlet_of(story.url, host_of(story.url)),
            seen_at=story.published_at,
        )
        probes.append(story_queries.Probe(n + 1, fp, dedup.band_keys(fp)))
    with sessions.begin() as session:
        together = story_queries.stored_matches_each(session, probes)
        each = [story_queries.stored_matches(session, p.fp, p.keys, p.article_id) for p in probes]
    assert [set(found) for found in together] == [set(found) for found in each]
    assert [len(found) for found in together] == [len(found) for found in each]
    assert any(together) and not all(together)  # some copies, some stories of their own


# --- clustering ----------------------------------------------------------------------------


def test_one_wire_story_on_three_outlets_is_one_cluster(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    ctv, global_, post = store([CTV, GLOBAL, NATIONAL_POST])
    assert ctv.outcome == "created"
    assert (global_.outcome, post.outcome) == ("joined", "joined")
    assert ctv.cluster_id == global_.cluster_id == post.cluster_id
    assert (post.outlets_before, post.outlets_after, post.size) == (2, 3, 3)
    assert post.similarity is not None and post.similarity >= dedup.DEFAULT_THRESHOLD
    with sessions.begin() as session:
        [row] = story_queries.list_clusters(session)
    assert [o.outlet for o in row.outlets] == NAMED
    assert [o.site for o in row.outlets] == ["ctvnews.ca", "globalnews.ca", "nationalpost.com"]
    assert row.title == CTV_TITLE  # the earliest copy represents the story
    assert row.size == 3 and len(row.article_ids) == 3


def test_lightly_edited_copy_joins_the_story(store: Store) -> None:
    *_, edited = store([CTV, GLOBAL, NATIONAL_POST, EDITED])
    assert edited.outcome == "joined"
    assert (edited.outlets_before, edited.outlets_after, edited.size) == (3, 4, 4)


def test_other_newsrooms_story_about_the_same_event_stays_apart(store: Store) -> None:
    ctv, global_, own = store([CTV, GLOBAL, OWN_STORY])
    assert own.outcome == "created"
    assert own.cluster_id != ctv.cluster_id == global_.cluster_id


def test_french_translation_stays_apart(store: Store) -> None:
    ctv, french = store([CTV, FRENCH])
    assert french.outcome == "created" and french.cluster_id != ctv.cluster_id


def test_french_copies_cluster_among_themselves(store: Store) -> None:
    copy = Story(
        "https://www.ledevoir.com/politique/canada/plan-des-niveaux",
        "Plan des niveaux : Ottawa réduit ses cibles",
        WIRE_FR + "\n\nAvec La Presse Canadienne",
        NOON + timedelta(hours=1),
        language="fr",
    )
    french, french_copy, ctv = store([FRENCH, copy, CTV])
    assert french_copy.cluster_id == french.cluster_id != ctv.cluster_id
    assert french_copy.outlets_after == 2


def test_the_store_files_a_story_by_the_sketch_made_for_its_text(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    """The sketch a worker made is what the store files; one made for another text is not."""
    own = _intent(OWN_STORY, tagger)
    # Another newsroom's story, sketched as the wire copy: filed by the sketch, it joins CTV.
    disguised = replace(own, sketch=dedup.sketch(CTV.text, own.content_hash))
    # A wire copy carrying a sketch made for another text: sketched again, it joins CTV too.
    national_post = _intent(NATIONAL_POST, tagger)
    stale = replace(national_post, sketch=dedup.sketch(OWN_STORY.text, "another text"))
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        intents = [_intent(CTV, tagger), disguised, stale]
        counts = repo.store_articles(session, intents, tag_ids, NOON + timedelta(hours=3))
    assert len(counts.clustered) == 3
    assert len({assignment.cluster_id for assignment in counts.clustered}) == 1


def test_a_changed_article_is_refiled_by_the_sketch_made_for_its_new_text(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    with sessions.begin() as session:
        ctv, own = _store_and_assign(session, [CTV, OWN_STORY], tagger, NOON)
        assert own.cluster_id != ctv.cluster_id
        edited = _intent(replace(OWN_STORY, text=f"{OWN_STORY.text}\n\nUpdated at 3 p.m."), tagger)
        # Its new text sketched as the wire copy: refiled by the sketch, it joins CTV's story.
        disguised = replace(edited, sketch=dedup.sketch(CTV.text, edited.content_hash))
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        counts = repo.store_articles(session, [disguised], tag_ids, NOON + timedelta(hours=2))
        assert counts.new_versions == 1
        members = [story_queries.cluster_of(session, a.article_id) for a in (ctv, own)]
    assert [a.article_id for a in counts.clustered] == [own.article_id]
    assert members[0] is not None and members[0] == members[1]


def test_article_bridging_two_clusters_merges_them(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    quebec, business, bare = store([QUEBEC_VERSION, BUSINESS_VERSION, BARE_WIRE])
    assert quebec.cluster_id != business.cluster_id
    assert bare.outcome == "merged"
    assert bare.cluster_id == quebec.cluster_id  # the older cluster's id survives
    assert bare.merged_ids == (business.cluster_id,)
    assert (bare.outlets_before, bare.outlets_after, bare.size) == (1, 3, 3)
    with sessions.begin() as session:
        assert session.get(Cluster, business.cluster_id) is None
        row = story_queries.cluster_of(session, business.article_id)
        assert row is not None and row.id == quebec.cluster_id
        assert set(row.article_ids) == {quebec.article_id, business.article_id, bare.article_id}
        # Earliest published wins: the bare wire copy went out first.
        assert row.representative_article_id == bare.article_id
        pointers = session.scalars(select(Article.cluster_id).distinct()).all()
        assert pointers == [quebec.cluster_id]


def test_representative_ties_go_to_the_longest_text(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    short = _copy(CTV, "https://a.example/wire", WIRE_EN, 0)
    longer = _copy(CTV, "https://b.example/wire", WIRE_EN, 0, credit="With files from Reuters.")
    _, second = store([short, longer])
    assert second.outcome == "joined"
    with sessions.begin() as session:
        row = story_queries.cluster_of(session, second.article_id)
    assert row is not None and row.representative_article_id == second.article_id


def test_reassigning_the_same_text_changes_nothing(
    store: Store, sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    first = store([CTV, GLOBAL])
    before = {t.__table__.name: _count(sessions, t) for t in (Cluster, ClusterMember, LshBand)}
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        intents = [_intent(story, tagger) for story in (CTV, GLOBAL)]
        stored_again = repo.store_articles(session, intents, tag_ids, NOON + timedelta(days=1))
        again = [
            story_filing.assign(
                session,
                assignment.article_id,
                text=story.text,
                title=story.title,
                outlet=dedup.outlet_of(story.url, host_of(story.url)),
                language=story.language,
                published_at=story.published_at,
                now=NOON + timedelta(days=1),
            )
            for assignment, story in zip(first, (CTV, GLOBAL), strict=True)
        ]
    assert stored_again.clustered == []  # unchanged articles are not refiled
    assert [a.outcome for a in again] == ["unchanged", "unchanged"]
    assert [a.cluster_id for a in again] == [a.cluster_id for a in first]
    after = {t.__table__.name: _count(sessions, t) for t in (Cluster, ClusterMember, LshBand)}
    assert after == before


def test_new_version_that_no_longer_matches_keeps_its_cluster(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    with sessions.begin() as session:
        ctv, global_ = _store_and_assign(session, [CTV, GLOBAL], tagger, NOON)
        rewritten = story_filing.assign(
            session,
            global_.article_id,
            text=OWN_STORY_TEXT,
            title=GLOBAL_TITLE,
            outlet="globalnews.ca",
            language="en",
            published_at=GLOBAL.published_at,
            now=NOON + timedelta(hours=1),
        )
        # Clusters never split: the story it was part of stays its story.
        assert rewritten.outcome == "unchanged" and rewritten.cluster_id == ctv.cluster_id
        stored = session.get_one(ArticleSignature, global_.article_id)
        expected = dedup.fingerprint(
            GLOBAL_TITLE, OWN_STORY_TEXT, language="en", outlet="globalnews.ca", seen_at=NOON
        )
        assert stored.minhash == expected.signature and stored.words == expected.words


def test_short_items_cluster_by_title_within_the_window(store: Store) -> None:
    title = "Ottawa cuts immigration targets in new levels plan"
    brief = Story(
        "https://www.ctvnews.ca/politics/brief-1",
        f"{title} - CTV News",
        "The federal government tabled its levels plan on Tuesday.",
        NOON,
    )
    same_day = Story(
        "https://globalnews.ca/news/brief-2",
        f"{title} | Globalnews.ca",
        "Ottawa will admit fewer permanent residents next year.",
        NOON + timedelta(hours=6),
    )
    next_week = Story(
        "https://nationalpost.com/news/brief-3",
        title,
        "Ottawa will admit fewer permanent residents next year.",
        NOON + timedelta(days=7),
    )
    first, second, third = store([brief, same_day, next_week])
    assert second.outcome == "joined" and second.cluster_id == first.cluster_id
    assert second.similarity == 1.0
    assert third.outcome == "created"


# --- growth alerts -------------------------------------------------------------------------


def test_growth_alert_fires_once_at_three_outlets(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    ctv, *_ = store([CTV, GLOBAL])
    assert _growth_alerts(sessions) == []
    store([NATIONAL_POST])
    [alert] = _growth_alerts(sessions)
    assert alert.dedup_key == f"cluster_growing:cluster:{ctv.cluster_id}:outlets:3"
    assert alert.payload["outlets"] == NAMED
    assert alert.payload["size"] == 3 and alert.payload["title"] == CTV_TITLE
    assert "immigration_levels" in alert.payload["topics"]
    store([EDITED, CTV, NATIONAL_POST])  # a fourth outlet, and re-runs
    assert len(_growth_alerts(sessions)) == 1


def test_growth_alert_is_not_repeated_when_an_alerted_story_merges(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    # The business version runs first (older cluster) on two outlets; the Quebec version then
    # reaches three outlets and alerts under its own, younger cluster id.
    business = [
        BUSINESS_VERSION,
        _copy(BUSINESS_VERSION, "https://www.msn.com/b", WIRE_WITH_BUSINESS, 21, credit="MSN"),
    ]
    quebec = [
        QUEBEC_VERSION,
        _copy(QUEBEC_VERSION, "https://www.cp24.com/q", WIRE_WITH_QUEBEC, 11, credit="CP24"),
        _copy(QUEBEC_VERSION, "https://www.ctvnews.ca/q", WIRE_WITH_QUEBEC, 12, credit="CTV"),
    ]
    older, *_ = store(business)
    younger, *_ = store(quebec)
    [alert] = _growth_alerts(sessions)
    assert alert.dedup_key.startswith(f"cluster_growing:cluster:{younger.cluster_id}:")
    [bridge] = store([BARE_WIRE])
    assert bridge.outcome == "merged" and bridge.cluster_id == older.cluster_id
    assert bridge.outlets_after == 6
    assert len(_growth_alerts(sessions)) == 1


def test_growth_alert_fires_when_a_merge_crosses_the_threshold(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    quebec, _ = store([QUEBEC_VERSION, BUSINESS_VERSION])
    assert _growth_alerts(sessions) == []
    store([BARE_WIRE])
    [alert] = _growth_alerts(sessions)
    assert alert.dedup_key == f"cluster_growing:cluster:{quebec.cluster_id}:outlets:3"
    store([BARE_WIRE, BUSINESS_VERSION])
    assert len(_growth_alerts(sessions)) == 1


@pytest.mark.parametrize("runs", ["one_batch", "separate_runs"])
def test_exact_copies_on_other_outlets_count_as_outlets(
    sessions: sessionmaker[Session], tagger: Tagger, runs: str
) -> None:
    # The wire text verbatim on three sites: exact dedup files it as one article with three
    # entries, and the story still counts three outlets (and alerts once).
    hosts = ("www.ctvnews.ca", "globalnews.ca", "nationalpost.com")
    with sessions.begin() as session:
        specs = [repo.FeedSpec(f"https://{h}/rss", OUTLET_NAMES[h]) for h in hosts]
        repo.add_feeds(session, specs, NOON)
        feeds = repo.feeds_to_poll(session, NOON, due_only=False)
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    copies = [
        replace(
            _intent(_copy(CTV, f"https://{host}/levels-plan", CTV_TEXT, n), tagger),
            feed_id=feed.id,
            guid=f"guid-{n}",
        )
        for n, (host, feed) in enumerate(
            (host, next(f for f in feeds if f.url == f"https://{host}/rss")) for host in hosts
        )
    ]
    batches = [copies] if runs == "one_batch" else [[copy] for copy in copies]
    for _ in range(2):  # and a re-run
        for batch in batches:
            with sessions.begin() as session:
                repo.store_articles(session, batch, tag_ids, NOON + timedelta(hours=1))

    with sessions.begin() as session:
        [story] = story_queries.list_clusters(session, min_size=1)
    assert [o.outlet for o in story.outlets] == NAMED
    assert story.size == 1 and _count(sessions, Article) == 1
    [alert] = _growth_alerts(sessions)
    assert alert.payload["outlets"] == NAMED


def test_growth_alert_waits_for_a_relevant_story(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    hockey = (
        "The Canadiens beat the Maple Leafs 4-2 on Saturday night at the Bell Centre, with "
        "two goals in the third period. The goaltender stopped 31 shots and the coach praised "
        "the penalty kill, which held Toronto scoreless on five power plays. "
    ) * 3
    copies = [
        Story(f"https://{site}/sports/habs-leafs", "Canadiens beat Leafs", f"{hockey}{site}", NOON)
        for site in ("www.ctvnews.ca", "globalnews.ca", "nationalpost.com")
    ]
    with sessions.begin() as session:
        *_, last = _store_and_assign(session, copies, tagger, NOON)
        assert last.outlets_after == 3
    assert _growth_alerts(sessions) == []


@pytest.mark.parametrize(
    ("outlets", "alerted", "relevant", "due"),
    [(3, 0, True, True), (2, 0, True, False), (3, 0, False, False), (5, 3, True, False)],
)
def test_growth_alert_decider(outlets: int, alerted: int, relevant: bool, due: bool) -> None:
    decided = story_filing.growth_alert_due(
        outlets=outlets, alerted_outlets=alerted, relevant=relevant, threshold=3
    )
    assert decided is due


# --- reading -------------------------------------------------------------------------------


def test_list_clusters_shows_stories_with_their_outlets_and_topics(
    store: Store, sessions: sessionmaker[Session]
) -> None:
    store([CTV, GLOBAL, OWN_STORY, FRENCH])
    with sessions.begin() as session:
        listed = story_queries.list_clusters(session)
        everything = story_queries.list_clusters(session, min_size=1)
        limited = story_queries.list_clusters(session, min_size=1, limit=2)
    assert len(listed) == 1 and len(everything) == 3 and len(limited) == 2
    [story] = listed
    assert story.size == 2
    assert [o.outlet for o in story.outlets] == NAMED[:2]
    assert all(o.first_seen_at.tzinfo is not None for o in story.outlets)
    assert "immigration_levels" in story.topics


def test_cluster_of_an_unassigned_article_is_none(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert story_queries.cluster_of(session, 12345) is None


# --- wire copies as editors rework them ------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_reworked_wire_copies_join_the_story_and_lookalikes_stay_apart(
    sessions: sessionmaker[Session], tagger: Tagger, case: Case
) -> None:
    original = Story(
        "https://www.capitalledger.ca/news/1", case.original.title, case.original.body, NOON
    )
    variant = Story(
        "https://www.harbourgazette.ca/local/2",
        case.variant.title,
        case.variant.body,
        NOON + timedelta(hours=2),
    )
    with sessions.begin() as session:
        [first] = _store_and_assign(session, [original], tagger, NOON)
    with sessions.begin() as session:  # another run, as the copy comes from another feed
        [second] = _store_and_assign(session, [variant], tagger, NOON + timedelta(hours=2))
    assert (second.cluster_id == first.cluster_id) is case.copy
    assert second.outcome == ("joined" if case.copy else "created")
    with sessions.begin() as session:
        passages = session.scalars(
            select(func.count())
            .select_from(ArticlePassage)
            .where(ArticlePassage.article_id == second.article_id)
        ).one()
    assert passages == len(dedup.text_passages(case.variant.body))


# --- one alert per story -----------------------------------------------------------------------

ORIGINAL = Story("https://www.ctvnews.ca/caregivers-1", WIRE.title, WIRE.body, NOON)
RELEDE = Story("https://globalnews.ca/caregivers-2", NEW_LEDE.title, NEW_LEDE.body, NOON)


def _store_in_run(
    sessions: sessionmaker[Session], tagger: Tagger, story: Story, now: datetime, **kw: object
) -> StoreCounts:
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        return repo.store_articles(session, [_intent(story, tagger)], tag_ids, now, **kw)  # type: ignore[arg-type]


def _new_article_alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions.begin() as session:
        query = select(Alert).where(Alert.kind == "new_relevant_article").order_by(Alert.id)
        alerts = list(session.scalars(query))
        session.expunge_all()
        return alerts


def test_a_copy_joining_a_recent_story_is_named_in_the_story_alert(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    _store_in_run(sessions, tagger, ORIGINAL, NOON)
    counts = _store_in_run(sessions, tagger, RELEDE, NOON + timedelta(hours=2))
    assert counts.joined_stories == 1 and counts.alerts == 0
    [alert] = _new_article_alerts(sessions)
    assert alert.payload["source"] == "CTV News"
    [named] = alert.payload["also_covered_by"]
    assert (named["outlet"], named["url"]) == ("Global News", RELEDE.url)
    # A re-run of the copy's feed names it no second time.
    _store_in_run(sessions, tagger, RELEDE, NOON + timedelta(hours=3))
    [alert] = _new_article_alerts(sessions)
    assert len(alert.payload["also_covered_by"]) == 1


def test_a_copy_after_the_story_window_alerts_on_its_own(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    _store_in_run(sessions, tagger, ORIGINAL, NOON)
    late = NOON + timedelta(hours=7)
    counts = _store_in_run(sessions, tagger, RELEDE, late, story_window=timedelta(hours=6))
    assert counts.joined_stories == 0 and counts.clustered[0].outcome == "joined"
    assert [a.payload["source"] for a in _new_article_alerts(sessions)] == [
        "CTV News",
        "Global News",
    ]


def test_after_the_story_alert_went_out_the_next_message_names_the_other_outlets(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    _store_in_run(sessions, tagger, ORIGINAL, NOON)
    with sessions.begin() as session:
        session.execute(update(Alert).values(status="sent"))
    counts = _store_in_run(sessions, tagger, RELEDE, NOON + timedelta(hours=1))
    assert counts.joined_stories == 1 and counts.alerts == 0
    [alert] = _new_article_alerts(sessions)
    assert "also_covered_by" not in alert.payload  # sent: it is not rewritten
    # The original is edited: its alert, an edit still alerting per article, names the copy.
    edited_text = WIRE.body.replace("300 additional officers", "450 additional officers")
    edited = replace(ORIGINAL, text=edited_text)
    assert _store_in_run(sessions, tagger, edited, NOON + timedelta(hours=2)).alerts == 1
    with sessions.begin() as session:
        [edit] = session.scalars(select(Alert).where(Alert.kind != "new_relevant_article"))
        assert edit.kind in ("article_edited", "figure_changed")
        [named] = edit.payload["also_covered_by"]
        assert (named["outlet"], named["url"]) == ("Global News", RELEDE.url)


def test_a_story_and_its_copy_in_one_batch_make_one_alert_naming_the_copy(
    sessions: sessionmaker[Session], tagger: Tagger
) -> None:
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        intents = [_intent(ORIGINAL, tagger), _intent(RELEDE, tagger)]
        counts = repo.store_articles(session, intents, tag_ids, NOON)
    assert counts.joined_stories == 1 and counts.alerts == 1
    [alert] = _new_article_alerts(sessions)
    assert [n["outlet"] for n in alert.payload["also_covered_by"]] == ["Global News"]
