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
    if server_cpu is not None and server_after is not None:
        out["prefect_server_cpu_seconds"] = server_after - server_cpu
    out.update(workers_cpu_seconds=workers.cpu_seconds, workers_peak_pss_mb=workers.peak_pss_mb)
    if rerun:
        out["noop_flow_seconds"] = _noop_flow_seconds()
        wall, cpu, counts = _timed(lambda: asyncio.run(run_monitor(**kwargs)))
        out.update(rerun_seconds=wall, rerun_cpu_seconds=cpu, rerun_counts=counts)
    out["peak_rss_mb"] = own_peak_rss_mb()
    return out


def _noop_flow_seconds() -> float:
    """Wall time of an empty async flow in this (warm) process: Prefect's fixed cost of a
    run (create it, set states, close), which a re-run can never go below."""
    from prefect import flow

    async def noop() -> None:
        return None

    bench_noop = flow(name="bench-noop")(noop)
    asyncio.run(bench_noop())  # the first one also loads what later runs reuse
    return min(_timed(lambda: asyncio.run(bench_noop()))[0] for _ in range(3))


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
    parser.add_argument("peer", choices=("vigie", "reader", "floor"))
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--mode", choices=("feed", "full"), default="feed")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--db", type=Path, help="reader's database file")
    parser.add_argument("--workers", type=int, default=1, help="reader's fetch threads")
    parser.add_argument("--no-rerun", action="store_true")
    parser.add_argument("--feeds-limit", type=int, help="Vigie: only the first N feeds")
    parser.add_argument("--server-pid", type=int, help="the Prefect server's process")
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
    elif args.peer == "floor":
        from bench.floor import run_floor  # here: the other peers' runs need none of it

        out = run_floor(args.corpus, Path.cwd(), args.batch_size, args.server_pid)
    else:
        out = run_reader(args.corpus, args.db, args.workers, not args.no_rerun)
    args.result.write_text(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
