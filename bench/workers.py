"""What each measured child process runs: ``python -m bench.workers vigie|reader ...``.

The parent (``bench/run.py``) sets the environment (database, Prefect API URL, loopback
allow-list) and reads back the JSON written to ``--result``. Timings here cover the update
call only; set-up (imports, schema, adding feeds) is timed separately, the same way for both
peers.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import resource
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import DescendantSampler, own_peak_rss_mb, tree_cpu_seconds


def _feeds(corpus: Path) -> list[dict[str, Any]]:
    feeds: list[dict[str, Any]] = json.loads((corpus / "manifest.json").read_text())["feeds"]
    return feeds


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of ``call()``."""
    cpu, started = _cpu_seconds(), time.perf_counter()
    value = call()
    return time.perf_counter() - started, _cpu_seconds() - cpu, value


# --- Vigie -----------------------------------------------------------------------------------


def run_vigie(
    corpus: Path,
    mode: str,
    batch_size: int,
    rerun: bool,
    feeds_limit: int | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Vigie's monitor flow over the corpus's feeds (the first ``feeds_limit`` of them) on a
    fresh database.

    ``mode`` is "feed" (feed-only) or "full" (with article pages, when the flow can).
    ``server_pid`` is the Prefect server's: its CPU during the first pass is part of the pass.
    """
    started = time.perf_counter()
    from db import repo
    from flows import context
    from flows.monitor import monitor_feeds, run_monitor

    out: dict[str, Any] = {"import_seconds": time.perf_counter() - started}
    parameters = inspect.signature(monitor_feeds.fn).parameters
    out["has_fetch_pages"] = "fetch_pages" in parameters
    if mode == "full" and not out["has_fetch_pages"]:
        return {**out, "available": False}
    kwargs: dict[str, Any] = {"due_only": False, "batch_size": batch_size}
    if out["has_fetch_pages"]:
        kwargs["fetch_pages"] = mode == "full"

    if rerun:
        # Run as a long-lived process does (``vigie serve``): the worker processes the first
        # pass starts serve the warm pass too; the first pass is then spared only their stop.
        import os

        os.environ["VIGIE_KEEP_WORKERS"] = "1"
        context.reset()
    setup = time.perf_counter()
    context.ensure_schema()
    feeds = _feeds(corpus)[:feeds_limit]
    specs = [repo.FeedSpec(f["url"], f["name"], f["language"]) for f in feeds]
    out["feeds"] = len(specs)
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))
    out["setup_seconds"] = time.perf_counter() - setup

    # Parsing and extraction run in worker processes (flows.cpu): their CPU and memory count.
    server_cpu = tree_cpu_seconds(server_pid) if server_pid else None
    with DescendantSampler() as workers:
        wall, cpu, counts = _timed(lambda: asyncio.run(run_monitor(**kwargs)))
    server_after = tree_cpu_seconds(server_pid) if server_pid else None
    out.update(available=True, first_seconds=wall, first_cpu_seconds=cpu, first_counts=counts)
    out["feed_account"] = _account(counts)
    if server_cpu is not None and server_after is not None:
        out["prefect_server_cpu_seconds"] = server_after - server_cpu
    out.update(workers_cpu_seconds=workers.cpu_seconds, workers_peak_pss_mb=workers.peak_pss_mb)
    if rerun:
        out["noop_flow_seconds"] = _noop_flow_seconds()
        wall, cpu, counts = _timed(lambda: asyncio.run(run_monitor(**kwargs)))
        out.update(rerun_seconds=wall, rerun_cpu_seconds=cpu, rerun_counts=counts)
        out["warm"] = _warm_pass(specs, kwargs, server_pid)
    out["peak_rss_mb"] = own_peak_rss_mb()
    return out


def _warm_pass(
    specs: list[Any], kwargs: dict[str, Any], server_pid: int | None = None
) -> dict[str, Any]:
    """The second pass through a warm ``vigie serve``-like process: this process (which has
    run passes already) runs two passes over every item, each on a fresh database, on one
    event loop inside ``context.warm_loop``, as ``vigie serve`` runs its flow runs
    (``flows.serving``); the second is measured. Kept from one pass to the next, as in
    serve: the worker processes (each with its tagger), the tagger and database engine, the
    Prefect client, and the fetcher with its HTTP clients and open connections. The Prefect
    server's CPU during the measured pass is given apart (``server_cpu_seconds``).
    """
    from flows import context

    async def two_passes() -> tuple[dict[str, Any], dict[str, Any]]:
        async with context.warm_loop():
            first = await _pass_on_fresh_database("serve-1.db", specs, kwargs)
            return first, await _pass_on_fresh_database("serve-2.db", specs, kwargs, server_pid)

    first, second = asyncio.run(two_passes())
    return {**second, "first_in_loop_seconds": first["seconds"]}


async def _pass_on_fresh_database(
    name: str, specs: list[Any], kwargs: dict[str, Any], server_pid: int | None = None
) -> dict[str, Any]:
    """A timed monitor pass over ``specs`` on a new database file ``name``."""
    import os

    from db import repo
    from flows import context
    from flows.monitor import monitor_feeds

    os.environ["VIGIE_DATABASE_URL"] = "sqlite:///" + str(Path.cwd() / name)
    context.forget_database()
    context.ensure_schema()
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))
    server = tree_cpu_seconds(server_pid) if server_pid else None
    with DescendantSampler() as workers:
        cpu, started = _cpu_seconds(), time.perf_counter()
        counts = await monitor_feeds(**kwargs)
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    server_after = tree_cpu_seconds(server_pid) if server_pid else None
    return {
        "server_cpu_seconds": (
            server_after - server if server is not None and server_after is not None else None
        ),
        "seconds": wall,
        "cpu_seconds": cpu,
        "workers_cpu_seconds": workers.cpu_seconds,
        "stage_seconds": counts.get("stage_seconds"),
        "new_articles": counts.get("new_articles"),
    }


def _noop_flow_seconds() -> float:
    """Wall time of an empty async flow in this (warm) process: Prefect's fixed cost of a
    run (create it, set states, close), which a re-run can never go below."""
    from prefect import flow

    async def noop() -> None:
        return None

    bench_noop = flow(name="bench-noop")(noop)
    asyncio.run(bench_noop())  # the first one also loads what later runs reuse
    return min(_timed(lambda: asyncio.run(bench_noop()))[0] for _ in range(3))


def run_one_host(corpus: Path, feeds: int, limit_prefix: str) -> dict[str, Any]:
    """A feed-only pass over ``feeds`` of the corpus's feeds all moved to one host (the
    server answers any of its addresses alike), with the per-host Prefect limit on when
    ``limit_prefix`` is given: what politeness across workers costs one host's batch."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    if limit_prefix:
        os.environ["VIGIE_HOST_LIMIT_PREFIX"] = limit_prefix
    from db import repo
    from fetching.fetcher import host_limit_name
    from flows import context
    from flows.monitor import monitor_feeds
    from flows.settings import get_settings

    chosen = _feeds(corpus)[:feeds]
    netloc = urlsplit(chosen[0]["url"]).netloc
    urls = [urlunsplit(urlsplit(f["url"])._replace(netloc=netloc)) for f in chosen]
    context.ensure_schema()
    with context.sessions().begin() as session:
        repo.add_feeds(session, [repo.FeedSpec(u, u, None) for u in urls], datetime.now(UTC))
    if limit_prefix:
        from prefect import get_client

        async def create_limit() -> None:
            async with get_client() as client:
                name = host_limit_name(limit_prefix, urls[0])
                await client.upsert_global_concurrency_limit_by_name(
                    name, get_settings().per_host_concurrency
                )

        asyncio.run(create_limit())
    wall, cpu, counts = _timed(
        lambda: asyncio.run(monitor_feeds(due_only=False, fetch_pages=False))
    )
    fetch = counts.get("stage_seconds", {}).get("fetch feeds")
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "fetch_seconds": fetch,
        "feeds": len(urls),
        "feeds_failed": counts.get("feeds_failed"),
        "feed_account": _account(counts),
    }


def _account(counts: dict[str, Any]) -> dict[str, Any]:
    """Where each feed of the pass just run ended (``bench.accounting``)."""
    from bench.accounting import account_feeds
    from flows.settings import get_settings

    return account_feeds(get_settings().resolved_database_url, counts).as_dict()


# --- reader ----------------------------------------------------------------------------------


def run_reader(corpus: Path, db: Path, workers: int, rerun: bool) -> dict[str, Any]:
    """lemon24/reader's ``update_feeds`` over the same feeds, on a fresh database."""
    started = time.perf_counter()
    from reader import make_reader

    out: dict[str, Any] = {"import_seconds": time.perf_counter() - started}
    setup = time.perf_counter()
    reader = make_reader(str(db))
    for feed in _feeds(corpus):
        reader.add_feed(feed["url"])
    out["setup_seconds"] = time.perf_counter() - setup

    # scheduled=False: poll every feed, as Vigie's due_only=False does (reader >= 3.21 would
    # otherwise skip feeds not yet due, which a same-minute re-run would measure as nothing).
    def update() -> None:
        reader.update_feeds(scheduled=False, workers=workers)

    wall, cpu, _ = _timed(update)
    out.update(first_seconds=wall, first_cpu_seconds=cpu, entries=reader.get_entry_counts().total)
    out["broken_feeds"] = reader.get_feed_counts(broken=True).total
    if rerun:
        wall, cpu, _ = _timed(update)
        out.update(rerun_seconds=wall, rerun_cpu_seconds=cpu)
        out["entries_after_rerun"] = reader.get_entry_counts().total
    reader.close()
    out["peak_rss_mb"] = own_peak_rss_mb()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One measured benchmark run.")
    parser.add_argument("peer", choices=("vigie", "reader", "floor", "onehost"))
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--mode", choices=("feed", "full"), default="feed")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--db", type=Path, help="reader's database file")
    parser.add_argument("--workers", type=int, default=1, help="reader's fetch threads")
    parser.add_argument("--no-rerun", action="store_true")
    parser.add_argument("--feeds-limit", type=int, help="Vigie: only the first N feeds")
    parser.add_argument("--server-pid", type=int, help="the Prefect server's process")
    parser.add_argument("--limit-prefix", default="", help="onehost: per-host limits on")
    args = parser.parse_args(argv)
    if args.peer == "vigie":
        out = run_vigie(
            args.corpus,
            args.mode,
            args.batch_size,
            not args.no_rerun,
            args.feeds_limit,
            args.server_pid,
        )
    elif args.peer == "onehost":
        out = run_one_host(args.corpus, args.feeds_limit or 20, args.limit_prefix)
    elif args.peer == "floor":
        from bench.floor import run_floor  # here: the other peers' runs need none of it

        out = run_floor(args.corpus, Path.cwd(), args.batch_size, args.server_pid)
    else:
        out = run_reader(args.corpus, args.db, args.workers, not args.no_rerun)
    args.result.write_text(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
