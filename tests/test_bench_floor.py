"""The benchmark's floor does what the bench says it does, over a corpus served on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bench.corpus import CorpusSpec, build, write
from bench.floor import Floor, floor_pool, run_floor
from bench.harness import free_port, served_corpus

SPEC = CorpusSpec(feeds=4, items=6, seed=5)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("floor") / "corpus"
    spec = CorpusSpec(SPEC.feeds, SPEC.items, SPEC.seed, port=free_port())
    manifest = write(build(spec), root)
    with served_corpus(root, spec.hosts, spec.port):
        yield root, manifest


def test_the_floor_stores_every_feed_item_once_tagged(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Every item of every feed, fetched over HTTP, parsed and tagged, is one row."""
    _, manifest = corpus
    urls = [feed["url"] for feed in manifest["feeds"]]
    with floor_pool() as pool, closing(Floor(pool, tmp_path / "floor.sqlite")) as floor:
        assert floor.ingest(urls) == SPEC.feeds * SPEC.items
        with floor.engine.connect() as connection:
            query = sa.select(floor.table.c.url, floor.table.c.mentions)
            mentions = dict(connection.execute(query).tuples().all())
    assert set(mentions) == {item["url"] for item in manifest["items"]}
    # The tagger ran on each item: immigration stories mention more of its concepts.
    by_kind: dict[bool, list[int]] = {True: [], False: []}
    for item in manifest["items"]:
        by_kind[item["relevant"]].append(mentions[item["url"]])
    assert min(by_kind[True]) > 0
    assert sum(by_kind[True]) / len(by_kind[True]) > 2 * sum(by_kind[False]) / len(by_kind[False])


@pytest.mark.usefixtures("prefect_server")
def test_the_floor_runs_plain_and_as_a_flow_of_one_task_run_per_batch(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, manifest = corpus
    result = run_floor(root, tmp_path, batch_size=3, server_pid=None)
    for name, database in (("plain", "floor-plain.sqlite"), ("prefect", "floor-flow.sqlite")):
        assert result[name]["items"] == len(manifest["items"])
        assert result[name]["seconds"] > 0 and result[name]["cpu_seconds"] > 0
        engine = sa.create_engine(f"sqlite:///{tmp_path / database}")
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT COUNT(*) FROM items")) == len(
                manifest["items"]
            )
        engine.dispose()
    assert json.dumps(result)  # what the bench writes to latest.json
    assert asyncio.run(_floor_task_runs(finished=2)) == 2  # 4 feeds in batches of 3


async def _floor_task_runs(finished: int) -> int:
    """Task runs of the last ``bench-floor`` flow run, once ``finished`` of them are
    recorded as finished (task run states reach the server as events, after the flow)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        flows = FlowFilter(name=FlowFilterName(any_=["bench-floor"]))
        [flow_run] = await client.read_flow_runs(
            flow_filter=flows, sort=FlowRunSort.START_TIME_DESC, limit=1
        )
        of_run = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
        for _ in range(100):
            runs = await client.read_task_runs(flow_run_filter=of_run)
            if sum(1 for run in runs if run.end_time) >= finished:
                return len(runs)
            await asyncio.sleep(0.1)
    raise AssertionError(f"task runs still unfinished: {[(r.name, r.state_name) for r in runs]}")
