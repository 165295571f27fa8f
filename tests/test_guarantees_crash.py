"""Guarantee 3, crash safety: a pass killed at any moment leaves nothing half-done.

``bench/chaos.py`` kills a worker process running the real flows (feeds with page fetching,
re-checks, delivery) with SIGKILL after a random delay, resumes, and checks the database;
the slow test below runs 20 short trials of it. The checker itself must be able to fail, so
the other tests break a healthy database in each way it looks for and expect to hear about it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bench import consistency
from bench.chaos_worker import STEPS
from tests.guarantees import (
    T0,
    FeedItem,
    add_feeds,
    database,
    migrated_sqlite,
    rss,
    store_feed,
    tagger,
)

ROOT = Path(__file__).resolve().parent.parent
TRIALS = int(os.environ.get("VIGIE_TEST_CHAOS_TRIALS", "20"))
FEED = "http://feeds.example/chaos.rss"
STORY = (
    "Ottawa will admit 485,000 permanent residents in 2025 under the immigration levels plan, "
    "Immigration Minister Marc Miller said. Quebec asks for more control over asylum seekers."
)
ITEMS = [
    FeedItem("a", "http://news.example/a", "Levels plan tabled", STORY),
    FeedItem("b", "http://news.example/b", "Canadiens win", "The Canadiens won in overtime."),
]


@pytest.mark.slow
@pytest.mark.prefect_server
@pytest.mark.timeout(1800)
def test_killed_passes_resume_without_loss_or_duplicates(prefect_server: None) -> None:
    from prefect.settings import PREFECT_API_URL

    command = [sys.executable, str(ROOT / "bench" / "chaos.py"), "--trials", str(TRIALS)]
    command += ["--short", "--api-url", str(PREFECT_API_URL.value())]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    if "VIGIE_TEST_POSTGRES_URL" in os.environ:
        env["VIGIE_TEST_POSTGRES_URL"] = os.environ["VIGIE_TEST_POSTGRES_URL"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1700)

    lines = done.stdout.strip().splitlines()
    print(done.stdout)  # the per-trial lines, for the CI log (pytest -s or -rA)
    assert lines and lines[-1] == f"{TRIALS} trials, 0 failures", done.stdout + done.stderr
    assert done.returncode == 0
    trials = [line for line in lines if line.startswith("trial ")]
    assert len(trials) == TRIALS and all(line.endswith(": ok") for line in trials)
    # Kills are planned across the pass's steps: with two trials per step or more, each step
    # must have been hit by one at least (a step the trials never kill is never tested).
    (during,) = [line for line in lines if line.startswith("killed during: ")]
    killed = {part.rsplit(" ", 1)[0] for part in during.removeprefix("killed during: ").split(", ")}
    if 2 * len(STEPS) <= TRIALS:
        assert killed >= set(STEPS), during
    assert killed - {"(finished first)"}, during


# --- the checker finds what it is meant to find -------------------------------------------------


@pytest.fixture
def healthy(tmp_path: Path) -> Iterator[str]:
    """A database where the feed's two items were stored, and one alert was sent once."""
    url = migrated_sqlite(tmp_path / "vigie.db")
    with database(url) as (_engine, sessions):
        (feed,) = add_feeds(sessions, [FEED])
        store_feed(sessions, feed, rss("Chaos", ITEMS), T0)
        with sessions.begin() as session:
            session.execute(text("UPDATE alerts SET status = 'sent'"))
    yield url


def _served() -> set[tuple[str, str, str]]:
    return {(FEED, item.guid, item.url) for item in ITEMS}


def _keys(url: str) -> list[str]:
    with database(url) as (engine, _sessions), engine.connect() as connection:
        return list(connection.execute(text("SELECT dedup_key FROM alerts")).scalars())


def _problems(
    url: str, hits: dict[str, int] | None = None, in_flight: frozenset[str] = frozenset()
) -> list[str]:
    """What the checker finds, the webhook having received ``hits`` (default: each once)."""
    received = Counter(hits if hits is not None else dict.fromkeys(_keys(url), 1))
    expected = consistency.Expectations(served=_served(), hits=received, in_flight=in_flight)
    with database(url) as (engine, _sessions):
        return consistency.check(engine, tagger(), expected)


def _break(url: str, *statements: str) -> None:
    with database(url) as (_engine, sessions), sessions.begin() as session:
        session.execute(text("PRAGMA foreign_keys = OFF"))
        for statement in statements:
            session.execute(text(statement))


def test_a_healthy_database_passes(healthy: str) -> None:
    assert _problems(healthy) == []


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["UPDATE articles SET current_version_id = NULL WHERE canonical_url LIKE '%/a'"],
         "has no current version"),
        (["DELETE FROM mentions WHERE id = (SELECT MIN(id) FROM mentions)"], "mentions missing"),
        (["UPDATE article_versions SET relevant = NOT relevant"], "re-tag says"),
        (["DELETE FROM articles WHERE canonical_url LIKE '%/a'"], "lost its subject"),
        (["DELETE FROM entries", "DELETE FROM articles WHERE canonical_url LIKE '%/b'"],
         "maps to no article"),
        (["UPDATE alerts SET status = 'sending'"], "still sending"),
        (["INSERT INTO alerts (dedup_key, kind, severity, article_id, payload, status, "
          "attempts, created_at) SELECT dedup_key || '-again', kind, severity, article_id, "
          "payload, status, attempts, created_at FROM alerts"],
         "duplicate new-article alerts by article"),
    ],
    ids=["no version", "mention lost", "relevance wrong", "subject gone", "item lost",
         "outbox stuck", "duplicated"],
)  # fmt: skip
def test_the_checker_finds_each_kind_of_damage(
    healthy: str, statements: list[str], expected: str
) -> None:
    _break(healthy, *statements)
    assert any(expected in problem for problem in _problems(healthy)), _problems(healthy)


def test_the_checker_allows_one_resend_only_for_an_alert_caught_in_flight(healthy: str) -> None:
    (key,) = _keys(healthy)

    assert _problems(healthy, {key: 2}, in_flight=frozenset({key})) == []
    assert any("2 times" in p for p in _problems(healthy, {key: 2}))
    assert any("never reached" in p for p in _problems(healthy, {}))


REPEATS = "versions repeating a text, not as a revert"


def _later_versions(url: str, history: list[tuple[str, str]]) -> None:
    """Give article a versions 2, 3, ... with (origin, text): "A" is version 1's text."""
    copy = (
        "INSERT INTO article_versions (article_id, n, content_hash, title, text, origin, "
        "fetched_at, change_kinds, relevance, relevant, taxonomy_version) "
        "SELECT article_id, {n}, {digest}, title, text, '{origin}', fetched_at, 'changed', "
        "relevance, relevant, taxonomy_version FROM article_versions WHERE n = 1 AND "
        "article_id = (SELECT id FROM articles WHERE canonical_url LIKE '%/a')"
    )
    digests = {"A": "content_hash", "B": "'" + "b" * 64 + "'"}
    _break(url, *(
        copy.format(n=n, digest=digests[text_], origin=origin)
        for n, (origin, text_) in enumerate(history, start=2)
    ))  # fmt: skip


@pytest.mark.parametrize(
    ("history", "repeats"),
    [
        ([("feed", "B"), ("feed", "A")], 0),  # the publisher reverted its edit in the feed
        ([("page", "B"), ("page", "A")], 0),  # ... or on its page
        ([("feed", "B"), ("page", "A")], 1),  # the page brought back what the feed had edited
        ([("page", "B"), ("feed", "A")], 1),  # the feed brought back what the page had edited
        ([("feed", "A")], 1),  # a version with the very text it replaces
    ],
    ids=["feed revert", "page revert", "page flip", "feed flip", "same text"],
)
def test_the_checker_tells_a_publishers_revert_from_a_repeated_text(
    healthy: str, history: list[tuple[str, str]], repeats: int
) -> None:
    _later_versions(healthy, history)
    with database(healthy) as (engine, _sessions):
        assert consistency.duplicates(engine)[REPEATS] == repeats
