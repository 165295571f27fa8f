"""What does a pass cost when nothing changed? 200 feeds, all answering 304.

    python bench/rerun_304.py [--feeds 200] [--hosts 20] [--items 5] [--json FILE]

1. Writes ``--feeds`` small RSS feeds and serves them with ``bench.serve`` (a child process)
   on ``--hosts`` loopback addresses; it sends ETag and Last-Modified and answers 304 to a
   matching conditional request.
2. Starts a temporary ``prefect server`` with its own PREFECT_HOME.
3. In a child process (``bench.workers vigie``), adds the feeds to a fresh SQLite database
   and runs ``monitor_feeds`` twice, feeds only (no article pages): the first pass parses
   every feed and stores the validators, the second one should be all 304s and parse nothing.

Prints the second pass's wall time, its parse count (``feeds_fetched``, which must be 0), its
``stage_seconds``, and, for scale, the wall time of an empty Prefect flow in the same process
and of the same 200 conditional GETs sent by a bare ``Fetcher`` (no Prefect, no database).
Exits 1 when the second pass parsed anything or the server did not answer 304 to every feed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from bench.harness import (
    free_port,
    loopback_hosts,
    prefect_server,
    run_worker,
    served_corpus,
    server_stats,
    vigie_env,
)

_MODIFIED = format_datetime(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), usegmt=True)


def write_feeds(root: Path, hosts: Sequence[str], port: int, feeds: int, items: int) -> None:
    """``root/www/feeds/*.xml``, ``routes.json`` for ``bench.serve``, and the feed list."""
    (root / "www" / "feeds").mkdir(parents=True)
    routes: dict[str, list[str]] = {}
    listed = []
    for n in range(feeds):
        name = f"feeds/feed-{n:03d}.xml"
        host = hosts[n % len(hosts)]
        (root / "www" / name).write_bytes(_rss(n, items, f"http://{host}:{port}"))
        routes[f"/{name}"] = [name, "application/rss+xml", _MODIFIED]
        listed.append(
            {"url": f"http://{host}:{port}/{name}", "name": f"feed {n}", "language": "en"}
        )
    (root / "routes.json").write_text(json.dumps(routes))
    (root / "manifest.json").write_text(json.dumps({"feeds": listed}))


def _rss(n: int, items: int, base: str) -> bytes:
    entries = "".join(
        f"<item><title>{escape(f'Feed {n}: Quebec immigration levels, story {i}')}</title>"
        f"<link>{base}/stories/{n}-{i}</link><guid>feed-{n}-{i}</guid>"
        f"<description>Story {i} of feed {n} about permanent residents.</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>{base}/</link>{entries}</channel></rss>"
    ).encode()


def measure(feeds: int, host_count: int, items: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vigie-rerun304-") as tmp_name:
        tmp = Path(tmp_name)
        hosts = loopback_hosts(host_count)
        port = free_port(hosts[0])
        write_feeds(tmp / "corpus", hosts, port, feeds, items)
        print(f"{feeds} feeds x {items} items on {len(hosts)} loopback hosts; starting servers")
        with served_corpus(tmp / "corpus", hosts, port) as stats_url:
            with prefect_server(tmp / "prefect-server", tmp / "prefect.log") as server:
                print(f"prefect server up in {server.start_seconds:.1f} s; two passes ...")
                env = vigie_env(tmp, server.api_url, tmp / "prefect-client")
                result = run_worker(["vigie", "--corpus", str(tmp / "corpus")], env, cwd=tmp)
            result["http"] = server_stats(stats_url)
            result["bare_fetch_seconds"] = bare_fetch_seconds(tmp / "vigie.db")
        result["hosts"] = len(hosts)
    return result


def bare_fetch_seconds(db: Path) -> float:
    """Wall time of the feeds' conditional GETs through a bare ``Fetcher``, validators as
    stored by the flow: what the second pass would cost without tasks and storage."""
    from fetching.fetcher import Fetcher, FetchPolicy

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        feeds = connection.execute("SELECT url, etag, last_modified FROM feeds").fetchall()
    # Settings' defaults, spelled out: the parent must not read a developer's .env.
    policy = FetchPolicy(
        user_agent="Vigie/0.1 (benchmark)",
        connect_timeout=10.0,
        read_timeout=20.0,
        total_timeout=60.0,
        max_feed_bytes=10_000_000,
        max_page_bytes=5_000_000,
        max_redirects=5,
        per_host_concurrency=2,
        allow=("127.0.0.0/8",),
    )

    async def poll_all() -> None:
        async with Fetcher(policy) as fetcher:
            results = await asyncio.gather(
                *(fetcher.fetch(url, etag=etag, last_modified=lm) for url, etag, lm in feeds)
            )
        assert all(r.not_modified for r in results), "a bare fetch did not get a 304"

    started = time.perf_counter()
    asyncio.run(poll_all())
    return time.perf_counter() - started


def report(result: dict[str, Any], feeds: int) -> bool:
    first, second = result["first_counts"], result["rerun_counts"]
    http = result["http"]
    lines = [
        f"first pass:  {result['first_seconds']:.2f} s wall, {first['feeds_fetched']} parsed, "
        f"{first['new_articles']} new articles, stages {first['stage_seconds']}",
        f"second pass: {result['rerun_seconds']:.2f} s wall "
        f"({result['rerun_cpu_seconds']:.2f} s CPU in the flow's process), "
        f"{second['feeds_fetched']} parsed, {second['feeds_not_modified']} not modified, "
        f"{second['feeds_failed']} failed",
        f"second pass stage_seconds: {second['stage_seconds']}",
        f"an empty Prefect flow in the same process: {result['noop_flow_seconds']:.2f} s",
        f"the same conditional GETs from a bare Fetcher: {result['bare_fetch_seconds']:.2f} s",
        f"loopback server (both passes): {http.get('200', 0)} x 200, "
        f"{http.get('304', 0)} x 304, "
        f"{sum(v for k, v in http.items() if k not in ('200', '304', 'bytes'))} other",
    ]
    print("\n".join(lines))
    ok = bool(second["feeds_fetched"] == 0 and second["feeds_not_modified"] == feeds)
    ok = ok and http.get("304", 0) == feeds
    if not ok:
        print("FAILED: the second pass was not all 304s without a parse", file=sys.stderr)
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=20, help="loopback addresses to spread over")
    parser.add_argument("--items", type=int, default=5, help="items per feed")
    parser.add_argument("--json", type=Path, help="also write the raw result here")
    args = parser.parse_args(argv)
    result = measure(args.feeds, args.hosts, args.items)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return 0 if report(result, args.feeds) else 1


if __name__ == "__main__":
    raise SystemExit(main())
