"""The floor: the least a pipeline must do with the corpus's feeds, measured beside reader.

httpx fetches each feed, two worker processes parse it with feedparser and tag its items
with Vigie's tagger, and one row per item is inserted; no deduplication, versions, evidence,
story clusters or alerts. Measured in plain Python, then as an async Prefect flow, the
second bounds what Vigie's feed-only pass can reach (bench/README.md, "floor.py").
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from multiprocessing import get_context
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import feedparser
import httpx
import sqlalchemy as sa

from bench.harness import tree_cpu_seconds
from parsers.feeds import PARSE_OPTIONS
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from parsers.text import html_to_text

TAXONOMY = Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml"
WORKERS = 2

#: Feed URLs in, items stored out.
Ingest = Callable[[list[str]], int]

_tagger: Tagger | None = None


def start_worker(ready: Barrier) -> None:
    """Load the tagger, then wait for the other workers: the pool is warm once one answers."""
    global _tagger
    _tagger = Tagger(load_taxonomy(TAXONOMY))
    ready.wait()


def floor_pool() -> ProcessPoolExecutor:
    """``WORKERS`` processes, each with its tagger loaded once the first task comes back."""
    context = get_context("forkserver")  # as Vigie's pool: no copy of this process's threads
    ready = context.Barrier(WORKERS)
    return ProcessPoolExecutor(WORKERS, context, initializer=start_worker, initargs=(ready,))


def feed_rows(body: bytes) -> list[dict[str, Any]]:
    """A feed's items as rows: link, title, text and how many mentions the tagger found."""
    assert _tagger is not None, "runs in a floor_pool() worker"
    rows = []
    for entry in feedparser.parse(body, **PARSE_OPTIONS).entries:
        title = html_to_text(entry.get("title", ""))
        contents = entry.get("content") or [{}]
        text = html_to_text(contents[0].get("value") or entry.get("summary", ""))
        mentions = len(_tagger.tag(title, text).mentions)
        rows.append({"url": entry.get("link"), "title": title, "text": text, "mentions": mentions})
    return rows


class Floor:
    """The floor's pipeline: an HTTP client, the workers, and a table to store into."""

    def __init__(self, pool: ProcessPoolExecutor, database: Path) -> None:
        self.pool = pool
        self.client = httpx.Client()
        self.engine = sa.create_engine(f"sqlite:///{database}")
        metadata = sa.MetaData()
        self.table = sa.Table(
            "items",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("url", sa.Text),
            sa.Column("title", sa.Text),
            sa.Column("text", sa.Text),
            sa.Column("mentions", sa.Integer),
        )
        metadata.create_all(self.engine)

    def ingest(self, urls: list[str]) -> int:
        """Fetch the feeds, handing each to a worker as it arrives, and store each feed's
        rows, in order, once its worker is done; how many rows were stored."""
        parsing = [self.pool.submit(feed_rows, self._get(url)) for url in urls]
        stored = 0
        with self.engine.begin() as connection:
            for future in parsing:
                rows = future.result()
                connection.execute(self.table.insert(), rows)
                stored += len(rows)
        return stored

    def as_flow(self, batch_size: int) -> Ingest:
        """``ingest`` as an async Prefect flow, one task run per batch of feeds.

        Async as Vigie's flows are: the sync engine waits up to a second at the end of a run
        for its heartbeat thread (4.2 s for this flow sync, 3.2 s async). Batches run one
        after the other; one batch of every feed measured the same (3.21 s against 3.22 s).
        """
        from prefect import flow, task
        from prefect.cache_policies import NO_CACHE

        ingest = task(name="floor-ingest", cache_policy=NO_CACHE)(self.ingest)

        @flow(name="bench-floor")
        async def floor_flow(urls: list[str]) -> int:
            batches = [urls[i : i + batch_size] for i in range(0, len(urls), batch_size)]
            return sum(ingest(batch) for batch in batches)

        return lambda urls: asyncio.run(floor_flow(urls))

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()

    def _get(self, url: str) -> bytes:
        response = self.client.get(url)
        response.raise_for_status()  # a missing feed must not pass for an empty one
        return response.content


def run_floor(
    corpus: Path, workdir: Path, batch_size: int, server_pid: int | None
) -> dict[str, Any]:
    """The floor's items, wall time and CPU, in plain Python and as a Prefect flow."""
    urls = [feed["url"] for feed in json.loads((corpus / "manifest.json").read_text())["feeds"]]
    with floor_pool() as pool:
        list(pool.map(abs, range(WORKERS)))
        with closing(Floor(pool, workdir / "floor-plain.sqlite")) as floor:
            plain = _measured(floor.ingest, urls, server_pid)
        with closing(Floor(pool, workdir / "floor-flow.sqlite")) as floor:
            as_flow = _measured(floor.as_flow(batch_size), urls, server_pid)
    return {"plain": plain, "prefect": as_flow}


def _measured(ingest: Ingest, urls: list[str], server_pid: int | None) -> dict[str, Any]:
    """Items, wall seconds, CPU seconds of this process and its workers, and the Prefect
    server's CPU seconds meanwhile."""
    cpu, server = _cpu_of(os.getpid()), _cpu_of(server_pid)
    started = time.perf_counter()
    items = ingest(urls)
    return {
        "items": items,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": _cpu_of(os.getpid()) - cpu,
        "prefect_server_cpu_seconds": _cpu_of(server_pid) - server,
    }


def _cpu_of(pid: int | None) -> float:
    """CPU seconds of a process and its children so far (0 when there is none to read)."""
    return (tree_cpu_seconds(pid) if pid else None) or 0.0
