"""Guarantee 1, idempotent runs: running a pass again over the same inputs changes nothing.

Two proofs:

- a property: for any sequence of feed states (items added, edited, moved to another URL,
  duplicated within and across feeds, removed), storing each state once gives the same
  database as storing each state several times over. It drives the monitor's storage path
  (``parse_feed`` -> ``intents_from_feed`` -> ``repo.store_articles``, one transaction per
  feed) without I/O, on SQLite files;
- the flows themselves, against a real Prefect server, a loopback site and both databases:
  ``ingest_seeds``, ``monitor_feeds`` (with article pages), ``recheck_articles`` and
  ``deliver_alerts`` each run twice, and full snapshots of the content tables (every row, every
  column but the re-check schedule) are compared.

The fetch log (``fetches``) grows with every poll by design and is left out.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bench import consistency
from bench.chaos_site import Site, first_state, running_site
from bench.consistency import Snapshot
from db import repo
from flows import context
from tests.guarantees import (
    T0,
    FeedItem,
    add_feeds,
    copy_sqlite,
    database,
    hours,
    migrated_sqlite,
    rss,
    store_feed,
)

EXAMPLES = int(os.environ.get("VIGIE_TEST_PROPERTY_EXAMPLES", "15"))

# --- the property ------------------------------------------------------------------------------

FEEDS = ("http://feeds.example/one.rss", "http://feeds.example/two.rss")
TITLES = (
    "Immigration levels plan tabled",
    "Plan d'immigration du Québec",
    "Canadiens win in overtime",
    "Asylum seekers: Quebec asks Ottawa for help",
)
# Long texts (over 25 words) are matched across URLs by content hash; 485,000 and 500,000
# make an edit that moves a tracked figure.
LONG = (
    "Ottawa will admit 485,000 permanent residents in 2025 under the immigration levels plan, "
    "Immigration Minister Marc Miller said on Tuesday. Quebec asks for more control over asylum "
    "seekers and temporary foreign workers as the plan is debated in Parliament this week.",
    "Le Québec accueillera 50 000 immigrants permanents en 2025, a annoncé le ministre de "
    "l'Immigration. Les demandeurs d'asile et les travailleurs étrangers temporaires sont au "
    "cœur du plan pluriannuel déposé à l'Assemblée nationale par le gouvernement Legault.",
    "The Canadiens won in overtime on Saturday night at the Bell Centre after a late goal by "
    "their captain, and the coach praised the young defence for a strong third period against "
    "the visiting Maple Leafs in front of a sold-out crowd.",
)
EDITED = {"485,000": "500,000", "50 000": "55 000", "overtime": "a shootout"}

#: (story, URL spelling, title, text version) indexes of one feed item.
items = st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2))
#: What both feeds list at one moment.
feed_states = st.tuples(st.lists(items, max_size=5), st.lists(items, max_size=5))


def _story_text(story: int, version: int, guid: str) -> str:
    """A summary stub, the story, or the story edited; each story's texts are its own."""
    if version == 0:
        return "Read more."
    text = f"{LONG[story]} Reference {guid}."
    if version == 2:
        for old, new in EDITED.items():
            text = text.replace(old, new)
    return text


def _story_url(feed: int, story: int, spelling: int) -> str:
    """The story's URL as spelled in the feed: plain, tracked, mobile, or moved for good."""
    path = f"news.example/{feed}/story-{story}"
    return (
        f"http://{path}",
        f"http://{path}?utm_source=rss",
        f"http://m.{path}",
        f"http://{path}-moved",
    )[spelling]


def _own_stories(feed: int, listed: list[tuple[int, int, int, int]]) -> bytes:
    """A feed whose stories (guids, URLs, texts) belong to it alone."""
    entries = []
    for story, spelling, title, version in listed:
        guid = f"feed{feed}-story{story}"
        entries.append(
            FeedItem(guid, _story_url(feed, story, spelling), TITLES[title],
                     _story_text(story, version, guid), published=T0 - hours(20 - story))
        )  # fmt: skip
    return rss(f"Feed {feed}", entries)


def _cross_posted(feed: int, listed: list[tuple[int, int, int, int]]) -> bytes:
    """A feed whose items may carry another feed's URL or text (syndication, re-posts)."""
    entries = [
        FeedItem(f"g{story}-{spelling % 2}", _story_url(0, title % 2, spelling), TITLES[title],
                 _story_text(title % 3, version, "shared"), published=T0 - hours(20 - story))
        for story, spelling, title, version in listed
    ]  # fmt: skip
    return rss(f"Feed {feed}", entries)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the two feeds, copied for every example."""
    path = tmp_path_factory.mktemp("idempotency") / "template.db"
    url = migrated_sqlite(path)
    with database(url) as (_engine, sessions):
        add_feeds(sessions, FEEDS)
    return path


Render = Callable[[int, list[tuple[int, int, int, int]]], bytes]


def _process(url: str, render: Render, steps: list[Any], repeats: list[int]) -> Snapshot:
    with database(url) as (engine, sessions):
        with sessions.begin() as session:
            feeds = {f.url: f for f in repo.feeds_to_poll(session, T0, due_only=False)}
        for k, state in enumerate(steps):
            for again in range(repeats[k]):
                # A repeat comes a little later, as a re-run would, but inside the hour.
                now = T0 + hours(k) + again * hours(0.01)
                for n, listed in enumerate(state):
                    store_feed(sessions, feeds[FEEDS[n]], render(n, listed), now)
        return consistency.snapshot(engine)


def _once_equals_repeated(
    workdir: Path, template: Path, render: Render, steps: list[Any], repeats: list[int]
) -> None:
    once = _process(copy_sqlite(template, workdir / "once.db"), render, steps, [1] * len(steps))
    repeated = _process(copy_sqlite(template, workdir / "repeated.db"), render, steps, repeats)
    assert repeated == once, "\n".join(consistency.diff(once, repeated))


PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STEPS = st.lists(feed_states, min_size=1, max_size=4)
REPEATS = st.lists(st.integers(1, 3), min_size=4, max_size=4)


@PROPERTY
@given(steps=STEPS, repeats=REPEATS)
def test_storing_each_state_again_changes_nothing(
    template: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[Any], repeats: list[int]
) -> None:
    """Items added, edited (a figure moved), removed, re-added, listed twice, respelt (tracking
    parameters, mobile host) or moved to a new URL: repeats change nothing."""
    workdir = tmp_path_factory.mktemp("example")
    _once_equals_repeated(workdir, template, _own_stories, steps, repeats)


@PROPERTY
@example(steps=[([(0, 0, 0, 1)], [(1, 1, 0, 2)])], repeats=[2, 1, 1, 1])
@given(steps=STEPS, repeats=REPEATS)
def test_storing_cross_posted_stories_again_changes_nothing(
    template: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[Any], repeats: list[int]
) -> None:
    """As above, but one story may appear in both feeds, under one URL or one text."""
    workdir = tmp_path_factory.mktemp("example")
    _once_equals_repeated(workdir, template, _cross_posted, steps, repeats)


def _latest_offered(steps: list[Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(feed URL, guid) -> the (title, text) its feed offered last.

    Within one document a guid counts once, first listing first, as ``intents_from_feed``
    keeps it.
    """
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for state in steps:
        for n, listed in enumerate(state):
            seen: set[str] = set()
            for story, _spelling, title, version in listed:
                guid = f"feed{n}-story{story}"
                if guid not in seen:
                    seen.add(guid)
                    latest[(FEEDS[n], guid)] = (TITLES[title], _story_text(story, version, guid))
    return latest


def _current_texts(url: str) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    """(feed URL, guid) -> the current version's (title, text) and the article's suspect reason."""
    query = text(
        "SELECT f.url, e.guid, v.title, v.text, a.suspect_reason FROM entries e "
        "JOIN feeds f ON f.id = e.feed_id JOIN articles a ON a.id = e.article_id "
        "JOIN article_versions v ON v.id = a.current_version_id"
    )
    with database(url) as (engine, _sessions), engine.connect() as connection:
        return {
            (f, g): (title, body, reason) for f, g, title, body, reason in connection.execute(query)
        }


@PROPERTY
@example(steps=[([(0, 0, 0, 1)], []), ([(0, 0, 0, 2)], []), ([(0, 0, 0, 1)], [])], repeats=[1] * 4)
@given(steps=STEPS, repeats=REPEATS)
def test_each_article_says_what_its_feed_said_last(
    template: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[Any], repeats: list[int]
) -> None:
    """Nothing a feed offered is lost: each article's current version is the text its own feed
    item offered last, unless the article records why not (a shrunken text is suspect)."""
    url = copy_sqlite(template, tmp_path_factory.mktemp("example") / "latest.db")
    _process(url, _own_stories, steps, [1] * len(steps))
    current = _current_texts(url)
    for key, (title, body) in _latest_offered(steps).items():
        stored_title, stored_text, reason = current[key]
        assert (stored_title, stored_text) == (title, body) or reason is not None, key


# --- the flows -----------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[Site]:
    with running_site() as site:
        yield site


def _run(flow: Any, **parameters: Any) -> Any:
    return asyncio.run(flow(**parameters))


def _same(before: Snapshot, after: Snapshot, what: str) -> None:
    assert after == before, f"{what} changed the database:\n" + "\n".join(
        consistency.diff(before, after)
    )


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_every_flow_run_twice_changes_nothing_the_second_time(
    vigie_env: pytest.MonkeyPatch, database_url: str, site: Site
) -> None:
    from flows.alerts import deliver_alerts
    from flows.monitor import monitor_feeds
    from flows.recheck import recheck_articles
    from flows.seeds import ingest_seeds

    state = first_state(feeds=3, items=4, seed=5, port=site.port)
    site.serve(state)
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)  # a SQLite file, then PostgreSQL
    vigie_env.setenv("VIGIE_ALERT_URLS", site.hook_url("idempotency"))
    context.reset()
    context.ensure_schema()
    with context.sessions().begin() as session:
        specs = [repo.FeedSpec(f.url, f.name, f.language) for f in state.feeds]
        repo.add_feeds(session, specs, T0)
    engine = context.engine()

    _run(ingest_seeds)
    seeded = consistency.snapshot(engine)
    _run(ingest_seeds)
    _same(seeded, consistency.snapshot(engine), "a second ingest_seeds")

    _run(monitor_feeds, due_only=False)
    _run(recheck_articles, due_only=False)
    polled = consistency.snapshot(engine)
    assert len(polled["articles"]) > len(seeded["articles"]) and polled["mentions"]
    # Same content in new bytes: the feeds are parsed and stored again, not skipped.
    site.vary_feeds = True
    again = _run(monitor_feeds, due_only=False)
    assert again["feeds_fetched"] == 3 and again["new_articles"] == 0
    _same(polled, consistency.snapshot(engine), "a second monitor pass")
    rechecked = _run(recheck_articles, due_only=False)
    assert rechecked["checked"] > 0 and rechecked.get("changed", 0) == 0
    _same(polled, consistency.snapshot(engine), "a second re-check pass")

    _run(deliver_alerts)
    delivered = consistency.snapshot(engine)
    hits = site.hook_hits("idempotency")
    _run(deliver_alerts)
    _same(delivered, consistency.snapshot(engine), "a second delivery pass")
    assert site.hook_hits("idempotency") == hits and set(hits.values()) == {1}
    sent = [row for row in delivered["alerts"] if ("status", "sent") in row]
    assert len(sent) == len(hits) > 0
