"""The floor: the least any pipeline must do with the corpus's feeds, measured beside reader.

Fetch each feed with httpx, parse it with feedparser (Vigie's options), turn its items into
text and tag them with Vigie's tagger in two worker processes, and insert one row per item
with one SQLAlchemy Core ``executemany`` per feed. Nothing else: no deduplication, versions,
evidence, entry links, story clusters, alerts or feed health, which Vigie's issues require
and which make it write about 16 rows per item where this writes one.

It runs twice: in plain Python (one pass over every feed), and as a Prefect flow with one
task run per batch of feeds, as Vigie's. Vigie does everything this does and more, inside
a Prefect flow: the second figure, over reader's, bounds what the feed-only target can reach.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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

_tagger: Tagger | None = None

#: Feed URLs in, items stored out.
Ingest = Callable[[list[str]], int]


def _start_worker() -> None:
    global _tagger
    _tagger = Tagger(load_taxonomy(TAXONOMY))


def _rows(body: bytes) -> list[dict[str, Any]]:
    """A feed's items as rows: link, title, text and how many mentions the tagger found."""
    assert _tagger is not None
    rows = []
    for entry in feedparser.parse(body, **PARSE_OPTIONS).entries:
        title = html_to_text(entry.get("title", ""))
        contents = entry.get("content") or [{}]
        text = html_to_text(contents[0].get("value") or entry.get("summary", ""))
        mentions = len(_tagger.tag(title, text).mentions)
        rows.append({"url": entry.get("link"), "title": title, "text": text, "mentions": mentions})
    return rows


def _items_table(engine: sa.Engine) -> sa.Table:
    metadata = sa.MetaData()
    table = sa.Table(
        "items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, unique=True),
        sa.Column("title", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("mentions", sa.Integer),
    )
    metadata.create_all(engine)
    return table


class Floor:
    """Two parsing workers and a table to store into."""

    def __init__(self, pool: ProcessPoolExecutor, database: Path) -> None:
        self.pool = pool
        self.engine = sa.create_engine(f"sqlite:///{database}")
        self.table = _items_table(self.engine)

    def ingest(self, urls: list[str]) -> int:
        """Fetch, parse and store feeds, each stored as soon as a worker has parsed it."""
        stored = 0
        with httpx.Client() as client:
            parsing = [self.pool.submit(_rows, client.get(url).content) for url in urls]
            with self.engine.begin() as connection:
                for future in parsing:
                    rows = future.result()
                    connection.execute(self.table.insert(), rows)
                    stored += len(rows)
        return stored

    def as_flow(self, batch_size: int) -> Ingest:
        """``ingest`` as a Prefect flow: one task run per batch of feeds.

        An async flow, as Vigie's: Prefect's sync engine waits up to a second at the end of
        a run for its heartbeat thread, which would be measured here and not in Vigie.
        """
        from prefect import flow, task
        from prefect.cache_policies import NO_CACHE

        ingest = task(name="floor-ingest", cache_policy=NO_CACHE)(self.ingest)

        @flow(name="bench-floor")
        async def floor_flow(urls: list[str]) -> int:
            batches = [urls[i : i + batch_size] for i in range(0, len(urls), batch_size)]
            return sum(ingest(batch) for batch in batches)

        return lambda urls: asyncio.run(floor_flow(urls))


def run_floor(
    corpus: Path, workdir: Path, batch_size: int, server_pid: int | None
) -> dict[str, Any]:
    """The floor's items, wall time and CPU, in plain Python and as a Prefect flow."""
    urls = [feed["url"] for feed in json.loads((corpus / "manifest.json").read_text())["feeds"]]
    out: dict[str, Any] = {}
    with ProcessPoolExecutor(2, initializer=_start_worker) as pool:
        list(pool.map(abs, [1, 2]))  # both workers up with their tagger, as Vigie's are
        for name in ("plain", "prefect"):
            floor = Floor(pool, workdir / f"floor-{name}.sqlite")
            run = floor.ingest if name == "plain" else floor.as_flow(batch_size)
            out[name] = _measured(run, urls, server_pid)
            floor.engine.dispose()
    return out


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
