"""Guarantee 2, concurrent runs: passes started at the same moment store everything once.

Three worker processes (forked from a warm fork server, so that they really start together)
are released by one barrier and run the real flows against one database and the shared Prefect
server, over one loopback site: first ``monitor_feeds`` over a fresh site (new articles,
pages, evidence, alerts), then ``monitor_feeds`` + ``recheck_articles`` after the site moved
on (new items, edited stories and pages: new versions and edit alerts). On PostgreSQL the
runs interleave row by row; on SQLite (WAL, busy timeout) they take turns per transaction.

Afterwards: no duplicate article, entry, version, mention or alert (``GROUP BY … HAVING
COUNT(*) > 1``), the database holds exactly what one run alone stores (compared with a
reference database, natural keys, clocks aside), and the runs' own counts add up to that: each
article and alert was created by exactly one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import consistency
from bench.chaos_site import Site, SiteState, first_state, next_state, running_site
from db import repo
from tests.guarantees import T0, database, job, migrated_sqlite, run_together

RUNS = 3
pytestmark = [pytest.mark.prefect_server, pytest.mark.usefixtures("prefect_server")]


@dataclass(frozen=True)
class Reference:
    """The site's two states and what one run alone stores after each."""

    first: SiteState
    second: SiteState
    after_first: consistency.Snapshot
    after_second: consistency.Snapshot


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with running_site() as site:
        yield site


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the prefect_server fixture sets the API URL"
    return str(url)


def _prepare(url: str, state: SiteState) -> None:
    with database(url) as (_engine, sessions), sessions.begin() as session:
        specs = [repo.FeedSpec(f.url, f.name, f.language) for f in state.feeds]
        repo.add_feeds(session, specs, T0)


def _snapshot(url: str) -> consistency.Snapshot:
    with database(url) as (engine, _sessions):
        return consistency.snapshot(engine, timeless=True)


@pytest.fixture(scope="module")
def reference(
    site: Site, prefect_server: None, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    """One run alone over each state, on a SQLite file of its own."""
    workdir = tmp_path_factory.mktemp("reference")
    first = first_state(feeds=3, items=3, seed=11, port=site.port)
    second = next_state(first, seed=11)
    url = migrated_sqlite(workdir / "reference.db")
    _prepare(url, first)
    env = {"VIGIE_DATABASE_URL": url, "VIGIE_FETCH_PAGES": "true"}
    site.serve(first)
    run_together([job(workdir / "first", _api_url(), env, ["monitor"])])
    after_first = _snapshot(url)
    site.serve(second)
    run_together([job(workdir / "second", _api_url(), env, ["monitor", "recheck"])])
    return Reference(first, second, after_first, _snapshot(url))


def _round(site: Site, state: SiteState, url: str, workdir: Path, steps: list[str]) -> list[Any]:
    site.serve(state)
    env = {"VIGIE_DATABASE_URL": url, "VIGIE_FETCH_PAGES": "true"}
    jobs = [job(workdir / f"run{n}", _api_url(), env, steps) for n in range(RUNS)]
    results = run_together(jobs)
    starts = [r["started"] for r in results]
    # Released by one barrier: the passes overlap (each began before any other finished).
    assert max(starts) < min(r["finished"] for r in results)
    return results


def _created(results: list[Any], step: str, count: str) -> int:
    return sum(int(r[step].get(count, 0)) for r in results)


def _assert_stored_once(url: str, expected: consistency.Snapshot) -> dict[str, int]:
    with database(url) as (engine, _sessions):
        duplicates = consistency.duplicates(engine)
        rows = consistency.counts(engine)
    assert duplicates == dict.fromkeys(consistency.DUPLICATE_QUERIES, 0)
    found = _snapshot(url)
    assert found == expected, "\n".join(consistency.diff(expected, found))
    return rows


def test_passes_started_together_store_everything_once(
    database_url: str, site: Site, reference: Reference, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        database_url = migrated_sqlite(Path(database_url.removeprefix("sqlite:///")))
    else:
        with database(database_url) as (engine, _sessions):
            from db.migrate import upgrade

            upgrade(engine)
    _prepare(database_url, reference.first)

    first = _round(site, reference.first, database_url, tmp_path / "first", ["monitor"])
    rows = _assert_stored_once(database_url, reference.after_first)
    assert _created(first, "monitor", "new_articles") == rows["articles"] > 0
    assert _created(first, "monitor", "alerts") == rows["alerts"] > 0

    steps = ["monitor", "recheck"]
    second = _round(site, reference.second, database_url, tmp_path / "second", steps)
    after = _assert_stored_once(database_url, reference.after_second)
    assert _created(second, "monitor", "new_articles") == after["articles"] - rows["articles"]
    alerts = _created(second, "monitor", "alerts") + _created(second, "recheck", "alert")
    assert alerts == after["alerts"] - rows["alerts"] > 0
    assert (
        after["article_versions"] > rows["article_versions"] + after["articles"] - rows["articles"]
    )  # the edits made versions, not only the new stories
