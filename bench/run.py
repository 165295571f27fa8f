"""The benchmark: Vigie against lemon24/reader on one generated corpus, served on loopback.

    python bench/run.py [--quick] [--feeds N --items M] [--seed S] [--reader-workers W]

Order of a run (each measured step in its own child process, on a fresh SQLite database):

    generate the corpus (default 200 feeds x 50 items; --quick 40 x 25)
    serve it on loopback (bench.serve: ETag / Last-Modified, 304s)
    reader: update_feeds() first pass, then again with nothing changed
    start `prefect server` once (its start-up is reported, not counted in items/s)
    Vigie: monitor_feeds feed-only first pass, an empty flow (Prefect's fixed cost), re-run,
        then two passes of every item, each on a fresh database, on one event loop as
        `vigie serve` runs its flow runs: the second is the warm serve-like pass
    the floor (bench/floor.py): fetch, parse, tag, one row per item; plain, then as a flow
    20 feeds moved to one host: a feed-only pass without, then with per-host Prefect limits
    Vigie: full pipeline with article pages, if monitor_feeds has a fetch_pages parameter
    score Vigie's database against the manifest (exact duplicates, relevance)
    print a table; write bench/results/latest.json (and a timestamped copy, not committed)

Items/s is the corpus's feed items divided by the wall time of the update call alone
(``monitor_feeds(...)`` or ``update_feeds()``), so imports and set-up count for neither.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from bench.corpus import CorpusSpec, build, write
from bench.corpus_text import OUTLETS
from bench.harness import (
    RESULTS,
    PrefectServer,
    clean_env,
    code_version,
    free_port,
    load_average,
    loopback_hosts,
    prefect_server,
    run_worker,
    served_corpus,
    server_stats,
    tree_peak_rss_mb,
    vigie_env,
)
from bench.score import score_dedup, score_near_clusters, score_relevance
from bench.store_size import measure as measure_store

# The goals of the benchmark issue; bench/README.md explains each.
# Parity with reader at every size (issue 26; feedparser bounds any pipeline near 2x).
TARGET_FEED_RATIO = 1.0
TARGET_FULL_ITEMS_PER_S = 300.0
TARGET_FULL_ITEMS_PER_S_QUICK = 150.0
#: A nothing-changed re-run may take reader's time plus this.
TARGET_RERUN_MARGIN_S = 0.1
TARGET_SCALE_RATIO = 1.2
TARGET_PEAK_RSS_MB = 400.0
TARGET_RSS_ITEMS = 10_000


@dataclass(frozen=True)
class Options:
    feeds: int
    items: int
    seed: int
    quick: bool
    reader_workers: int
    batch_size: int
    #: Feeds the full pipeline runs over (the first ones); None for all.
    full_feeds: int | None


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description="Benchmark Vigie against reader.")
    parser.add_argument("--quick", action="store_true", help="40 feeds x 25 items")
    parser.add_argument("--feeds", type=int, help="feeds (default 200, quick 40)")
    parser.add_argument("--items", type=int, help="items per feed (default 50, quick 25)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reader-workers", type=int, default=1, help="reader's fetch threads (its default: 1)"
    )
    parser.add_argument("--batch-size", type=int, default=50, help="monitor_feeds batch_size")
    parser.add_argument(
        "--full-feeds",
        type=int,
        help="feeds the full pipeline runs over (default 50, quick 10; 0 = all): it fetches "
        "and extracts a page per item, far slower than the feed-only pass",
    )
    args = parser.parse_args(argv)
    full_feeds = args.full_feeds if args.full_feeds is not None else (10 if args.quick else 50)
    return Options(
        feeds=args.feeds or (40 if args.quick else 200),
        items=args.items or (25 if args.quick else 50),
        seed=args.seed,
        quick=args.quick,
        reader_workers=args.reader_workers,
        batch_size=args.batch_size,
        full_feeds=full_feeds or None,
    )


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(after) if k != "bytes"}


def measure_vigie(
    tmp: Path, corpus: Path, server: PrefectServer, mode: str, opts: Options
) -> dict[str, Any]:
    workdir = tmp / f"vigie-{mode}"
    workdir.mkdir()
    args = ["vigie", "--corpus", str(corpus), "--mode", mode]
    args += ["--batch-size", str(opts.batch_size), "--server-pid", str(server.pid)]
    if mode == "full":
        args.append("--no-rerun")
        if opts.full_feeds:
            args += ["--feeds-limit", str(opts.full_feeds)]
    env = vigie_env(workdir, server.api_url, tmp / "prefect-client")
    result = run_worker(args, env, cwd=workdir)
    result["db"] = str(workdir / "vigie.db")
    return result


def measure_floor(tmp: Path, corpus: Path, server: PrefectServer, opts: Options) -> dict[str, Any]:
    workdir = tmp / "floor"
    workdir.mkdir()
    args = ["floor", "--corpus", str(corpus), "--batch-size", str(opts.batch_size)]
    args += ["--server-pid", str(server.pid)]
    return run_worker(args, vigie_env(workdir, server.api_url, tmp / "prefect-client"), cwd=workdir)


ONE_HOST_FEEDS = 20
#: Bytes per stored article of the quick corpus before mentions pointed into their text.
TODAY_BYTES_PER_ARTICLE = 6_039
TARGET_HOST_LIMIT_RATIO = 1.5


def measure_one_host(tmp: Path, corpus: Path, server: PrefectServer) -> dict[str, Any]:
    """The same feed-only pass over 20 feeds on one host, without then with the per-host
    Prefect limits (``VIGIE_HOST_LIMIT_PREFIX``), each on a fresh database."""
    out: dict[str, Any] = {"feeds": ONE_HOST_FEEDS}
    for key, prefix in (("unlimited", ""), ("limited", "bench-host-")):
        workdir = tmp / f"onehost-{key}"
        workdir.mkdir()
        args = ["onehost", "--corpus", str(corpus), "--feeds-limit", str(ONE_HOST_FEEDS)]
        args += ["--limit-prefix", prefix]
        out[key] = run_worker(
            args, vigie_env(workdir, server.api_url, tmp / "prefect-client"), workdir
        )
    out["ratio"] = out["limited"]["seconds"] / out["unlimited"]["seconds"]
    return out


def measure_reader(tmp: Path, corpus: Path, opts: Options) -> dict[str, Any]:
    workdir = tmp / "reader"
    workdir.mkdir()
    args = ["reader", "--corpus", str(corpus), "--db", str(workdir / "reader.sqlite")]
    args += ["--workers", str(opts.reader_workers)]
    return run_worker(args, clean_env({}), cwd=workdir)


# --- scoring Vigie's database ------------------------------------------------------------------

_ENTRIES = """
    SELECT f.url, e.guid, e.article_id, {cluster}, v.relevant
    FROM entries e
    JOIN feeds f ON f.id = e.feed_id
    JOIN articles a ON a.id = e.article_id
    LEFT JOIN article_versions v ON v.id = a.current_version_id
    {join}
"""


def _entries_query(connection: sqlite3.Connection) -> str:
    """Story clusters live in ``cluster_members`` since migration 0004; before, in a column."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "cluster_members" in tables:
        join = "LEFT JOIN cluster_members cm ON cm.article_id = a.id"
        return _ENTRIES.format(cluster="cm.cluster_id", join=join)
    return _ENTRIES.format(cluster="a.cluster_id", join="")


def _rows_written(connection: sqlite3.Connection) -> int:
    """Rows of articles and what is derived from them: every table but the set-up ones
    (feeds, tags) and the poll log, which the re-run adds to."""
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    aside = {"alembic_version", "feeds", "tags", "fetches"}
    tables = [name for (name,) in connection.execute(query) if name not in aside]
    return sum(connection.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)


def score_vigie(db: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Dedup, near-duplicate clustering and relevance, read straight from Vigie's tables."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute(_entries_query(connection)).fetchall()
        articles = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        rows_written = _rows_written(connection)

    dedup = score_dedup(manifest, [(url, guid, art) for url, guid, art, _, _ in rows])
    return {
        "entries": len(rows),
        "articles": articles,
        "rows_written": rows_written,
        # Vacuumed, per table with its indexes (bench/store_size.py).
        **measure_store(db).as_dict(),
        "dedup": dedup.as_dict(),
        "near_duplicates": score_near_clusters(manifest, [(u, g, a, c) for u, g, a, c, _ in rows]),
        "relevance": score_relevance(manifest, [(u, g, r) for u, g, _, _, r in rows]),
    }


# --- the run ------------------------------------------------------------------------------------


def _near(scores: dict[str, Any], key: str) -> Any:
    full = scores.get("full_pipeline")
    return full["near_duplicates"][key] if full else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def run(opts: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp_name:
        tmp = Path(tmp_name)
        hosts = loopback_hosts(len(OUTLETS))
        port = free_port(hosts[0])
        spec = CorpusSpec(opts.feeds, opts.items, opts.seed, port, tuple(hosts))
        print(f"corpus: {opts.feeds} feeds x {opts.items} items on {len(hosts)} loopback hosts")
        started = time.perf_counter()
        manifest = write(build(spec), tmp / "corpus")
        generate_seconds = time.perf_counter() - started
        with served_corpus(tmp / "corpus", hosts, port) as stats_url:
            print("reader: first pass and re-run ...")
            before, load = server_stats(stats_url), load_average()
            reader = measure_reader(tmp, tmp / "corpus", opts)
            reader["http"] = _delta(before, server_stats(stats_url))
            reader["load_average_before"] = load
            print("prefect server: starting ...")
            with prefect_server(tmp / "prefect-server", tmp / "prefect-server.log") as server:
                print(f"prefect server: up in {server.start_seconds:.1f} s; Vigie feed-only ...")
                before, load = server_stats(stats_url), load_average()
                vigie = measure_vigie(tmp, tmp / "corpus", server, "feed", opts)
                vigie["http"] = _delta(before, server_stats(stats_url))
                vigie["load_average_before"] = load
                print("the floor: plain, then as a Prefect flow ...")
                floor = measure_floor(tmp, tmp / "corpus", server, opts)
                print(f"per-host limits: {ONE_HOST_FEEDS} feeds on one host, without and with ...")
                vigie["one_host"] = measure_one_host(tmp, tmp / "corpus", server)
                full = None
                if vigie["has_fetch_pages"]:
                    print("Vigie: full pipeline ...")
                    full = measure_vigie(tmp, tmp / "corpus", server, "full", opts)
                else:
                    print("full pipeline: not available yet")
                server_rss = tree_peak_rss_mb(server.pid)
        scores = score_vigie(Path(vigie["db"]), manifest)
        if full and full.get("available"):
            scores["full_pipeline"] = score_vigie(Path(full["db"]), manifest)
    return assemble(
        opts,
        manifest,
        generate_seconds,
        hosts,
        server,
        server_rss,
        vigie,
        full,
        reader,
        floor,
        scores,
    )


def _warm_cpu_seconds(vigie: dict[str, Any]) -> float:
    """CPU seconds of the warm pass: the serving process's and its workers'."""
    return float(vigie["warm"]["cpu_seconds"] + vigie["warm"]["workers_cpu_seconds"])


def _pass_cpu_seconds(run: dict[str, Any]) -> float:
    """CPU seconds of a first pass: the run's process, its workers, the Prefect server."""
    return float(
        run["first_cpu_seconds"]
        + run.get("workers_cpu_seconds", 0.0)
        + (run.get("prefect_server_cpu_seconds") or 0.0)
    )


def assemble(
    opts: Options,
    manifest: dict[str, Any],
    generate_seconds: float,
    hosts: list[str],
    server: PrefectServer,
    server_rss: float | None,
    vigie: dict[str, Any],
    full: dict[str, Any] | None,
    reader: dict[str, Any],
    floor: dict[str, Any],
    scores: dict[str, Any],
) -> dict[str, Any]:
    """The results document: headline keys first, details under their own keys."""
    items = int(manifest["items_total"])
    vigie_ips = items / vigie["first_seconds"]
    reader_ips = items / reader["first_seconds"]
    floor_ips = floor["plain"]["items"] / floor["plain"]["seconds"]
    floor_flow_ips = floor["prefect"]["items"] / floor["prefect"]["seconds"]
    full_items = (
        full["feeds"] * int(manifest["items_per_feed"]) if full and full.get("available") else 0
    )
    full_ips = full_items / full["first_seconds"] if full_items else None
    rerun = vigie["rerun_counts"]
    vigie_cpu = _pass_cpu_seconds(vigie)
    full_cpu = _pass_cpu_seconds(full) if full_items else None
    cores = os.cpu_count() or 1
    # The run's memory: its own process's peak RSS and its worker processes' (flows.cpu)
    # peak PSS, which counts the code they share with their fork server once.
    vigie_rss = vigie["peak_rss_mb"] + vigie.get("workers_peak_pss_mb", 0.0)
    overhead = vigie["noop_flow_seconds"]
    return {
        "vigie_feed_only_items_per_s": vigie_ips,
        "reader_items_per_s": reader_ips,
        "ratio_feed_only_vs_reader": vigie_ips / reader_ips,
        "full_items_per_s": full_ips,
        # The least a pipeline does with these feeds (bench/floor.py): a bound on Vigie's.
        "floor_items_per_s": floor_ips,
        "ratio_floor_vs_reader": floor_ips / reader_ips,
        "floor_flow_items_per_s": floor_flow_ips,
        "ratio_floor_flow_vs_reader": floor_flow_ips / reader_ips,
        "vigie_rows_per_item": scores["rows_written"] / items,
        "host_limit_ratio": vigie["one_host"]["ratio"],
        "bytes_per_article": scores["bytes_per_article"],
        "bytes_per_article_by_table": scores["bytes_per_article_by_table"],
        "rows_per_article_by_table": scores["rows_per_article_by_table"],
        "warm_items_per_s": items / vigie["warm"]["seconds"],
        "ratio_warm_vs_reader": items / vigie["warm"]["seconds"] / reader_ips,
        "warm_cpu_ms_per_item": 1000 * _warm_cpu_seconds(vigie) / items,
        "vigie_feed_only_cpu_ms_per_item": 1000 * vigie_cpu / items,
        "reader_cpu_ms_per_item": 1000 * reader["first_cpu_seconds"] / items,
        "rerun_parses": rerun["feeds_fetched"],
        "rerun_seconds": vigie["rerun_seconds"],
        "reader_rerun_seconds": reader["rerun_seconds"],
        "vigie_rerun_vs_reader_ratio": _ratio(vigie["rerun_seconds"], reader["rerun_seconds"]),
        "prefect_flow_overhead_seconds": overhead,
        "peak_rss_mb": vigie_rss,
        "run_process_peak_rss_mb": vigie["peak_rss_mb"],
        "workers_peak_pss_mb": vigie.get("workers_peak_pss_mb"),
        "reader_peak_rss_mb": reader["peak_rss_mb"],
        "prefect_server_peak_rss_mb": server_rss,
        "dedup_precision": scores["dedup"]["precision"],
        "dedup_recall": scores["dedup"]["recall"],
        # Story clusters need article text: scored on the full pipeline's database.
        "near_dup_precision": _near(scores, "precision"),
        "near_dup_recall": _near(scores, "recall"),
        "near_dup_planted_pairs": _near(scores, "planted_pairs"),
        "relevance_precision": scores["relevance"]["precision"],
        "relevance_recall": scores["relevance"]["recall"],
        "prefect_server_start_seconds": server.start_seconds,
        # CPU seconds are less sensitive than wall time to other work on a shared machine;
        # Vigie's include what the Prefect server spent recording the run.
        "vigie_feed_only_cpu_seconds": vigie_cpu,
        "reader_cpu_seconds": reader["first_cpu_seconds"],
        "ratio_feed_only_vs_reader_cpu": reader["first_cpu_seconds"] / vigie_cpu,
        # The rate if every core were busy for the whole pass: overlapping stages can approach
        # it, only spending less CPU per item can pass it.
        "vigie_feed_only_ceiling_items_per_s": items * cores / vigie_cpu,
        "full_cpu_seconds": full_cpu,
        "full_ceiling_items_per_s": full_items * cores / full_cpu if full_cpu else None,
        "vigie_feed_only_seconds": vigie["first_seconds"],
        "reader_seconds": reader["first_seconds"],
        "full_seconds": full["first_seconds"] if full_items else None,
        "full_items": full_items or None,
        "feeds_unaccounted": unaccounted_feeds(vigie, full),
        "targets": _targets(items, vigie_ips / reader_ips, full_ips, vigie_rss, vigie, reader),
        "corpus": {
            "feeds": opts.feeds,
            "items_per_feed": opts.items,
            "items_total": items,
            "seed": opts.seed,
            "exact_duplicate_pairs": len(manifest["exact_duplicates"]),
            "near_duplicate_groups": len(manifest["near_duplicate_groups"]),
            "relevant_items": len(manifest["relevant_items"]),
            "loopback_hosts": len(hosts),
            "generate_seconds": generate_seconds,
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "run": {
            "mode": "quick" if opts.quick else "default",
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reader_workers": opts.reader_workers,
            "batch_size": opts.batch_size,
            "full_feeds": opts.full_feeds,
        },
        "vigie": {k: v for k, v in vigie.items() if k != "db"},
        "vigie_full": {k: v for k, v in full.items() if k != "db"} if full else None,
        "reader": reader,
        "floor": floor,
        "vigie_scores": scores,
    }


def _targets(
    items: int,
    ratio: float,
    full_ips: float | None,
    rss: float,
    vigie: dict[str, Any],
    reader: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    rerun_budget = reader["rerun_seconds"] + TARGET_RERUN_MARGIN_S
    full_goal = (
        TARGET_FULL_ITEMS_PER_S_QUICK if items < TARGET_RSS_ITEMS else TARGET_FULL_ITEMS_PER_S
    )
    rerun_ok = (
        vigie["rerun_counts"]["feeds_fetched"] == 0 and vigie["rerun_seconds"] <= rerun_budget
    )
    return {
        "feed_only_vs_reader": {
            "value": ratio,
            "goal": f">= {TARGET_FEED_RATIO}x",
            "met": ratio >= TARGET_FEED_RATIO,
        },
        "full_items_per_s": {
            "value": full_ips,
            "goal": f">= {full_goal:.0f} items/s on 2 cores",
            "met": None if full_ips is None else full_ips >= full_goal,
        },
        "rerun": {
            "value": vigie["rerun_seconds"],
            "goal": f"0 parses, <= {rerun_budget:.2f} s (reader + {TARGET_RERUN_MARGIN_S} s)",
            "met": rerun_ok,
        },
        "host_limits": {
            "value": vigie["one_host"]["ratio"],
            "goal": f"<= {TARGET_HOST_LIMIT_RATIO}x the pass without them",
            "met": vigie["one_host"]["ratio"] <= TARGET_HOST_LIMIT_RATIO,
        },
        "peak_rss_mb": {
            "value": rss,
            "goal": f"<= {TARGET_PEAK_RSS_MB:.0f} MB at {TARGET_RSS_ITEMS:,} items",
            # Only a run of that size can tell; a smaller one says nothing either way.
            "met": rss <= TARGET_PEAK_RSS_MB if items >= TARGET_RSS_ITEMS else None,
        },
    }


# --- output --------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "-"}[met]


def table_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(measure, Vigie, reader, Vigie/reader, target) rows of the summary table."""
    t, v = r["targets"], r["vigie"]
    full = r["full_items_per_s"]
    rerun_http = v["http"]
    return [
        (
            "feed-only first pass, items/s",
            _fmt(r["vigie_feed_only_items_per_s"], 0),
            _fmt(r["reader_items_per_s"], 0),
            _fmt(r["ratio_feed_only_vs_reader"], 2, "x"),
            f"{t['feed_only_vs_reader']['goal']}: {_verdict(t['feed_only_vs_reader']['met'])}",
        ),
        (
            "  wall time of the update call",
            _fmt(r["vigie_feed_only_seconds"], 2, " s"),
            _fmt(r["reader_seconds"], 2, " s"),
            "",
            "",
        ),
        (
            "  CPU s (Vigie: + workers + Prefect server)",
            _fmt(r["vigie_feed_only_cpu_seconds"], 2, " s"),
            _fmt(r["reader_cpu_seconds"], 2, " s"),
            _fmt(1 / r["ratio_feed_only_vs_reader_cpu"], 2, "x"),
            f"items/CPU-s ratio: {r['ratio_feed_only_vs_reader_cpu']:.2f}x",
        ),
        (
            "  if all cores were busy at that CPU cost",
            _fmt(r["vigie_feed_only_ceiling_items_per_s"], 0, " items/s"),
            "",
            _fmt(r["vigie_feed_only_ceiling_items_per_s"] / r["reader_items_per_s"], 2, "x"),
            "",
        ),
        (
            "  rows written per item",
            _fmt(r["vigie_rows_per_item"], 1),
            "",
            "",
            "",
        ),
        (
            "  CPU ms per item",
            _fmt(r["vigie_feed_only_cpu_ms_per_item"], 2),
            _fmt(r["reader_cpu_ms_per_item"], 2),
            _fmt(r["vigie_feed_only_cpu_ms_per_item"] / r["reader_cpu_ms_per_item"], 2, "x"),
            "",
        ),
        (
            "  bytes stored per article (pages in use)",
            _fmt(r["bytes_per_article"], 0),
            "",
            "",
            f"{TODAY_BYTES_PER_ARTICLE:,} before the compact evidence (-30%: "
            f"{0.7 * TODAY_BYTES_PER_ARTICLE:,.0f})",
        ),
        (
            "second pass, warm serve-like process",
            _fmt(r["warm_items_per_s"], 0, " items/s"),
            _fmt(r["reader_items_per_s"], 0, " items/s"),
            _fmt(r["ratio_warm_vs_reader"], 2, "x"),
            f">= 2x: {_verdict(r['ratio_warm_vs_reader'] >= 2)}",
        ),
        (
            "  wall s; CPU s (process + workers)",
            f"{_fmt(v['warm']['seconds'], 2, ' s')}; {_fmt(_warm_cpu_seconds(v), 2, ' s')}",
            "",
            "",
            f"stages: {v['warm']['stage_seconds']}",
        ),
        (
            "  CPU ms per item",
            _fmt(r["warm_cpu_ms_per_item"], 2),
            _fmt(r["reader_cpu_ms_per_item"], 2),
            _fmt(r["warm_cpu_ms_per_item"] / r["reader_cpu_ms_per_item"], 2, "x"),
            f"first pass in that loop: {_fmt(v['warm'].get('first_in_loop_seconds'), 2, ' s')}",
        ),
        (
            "  its Prefect server CPU s (not in the above)",
            _fmt(v["warm"].get("server_cpu_seconds"), 2, " s"),
            "",
            "",
            "the first pass counts its server's",
        ),
        (
            "the floor: fetch, parse, tag, 1 row/item",
            _fmt(r["floor_items_per_s"], 0, " items/s"),
            "",
            _fmt(r["ratio_floor_vs_reader"], 2, "x"),
            "bench/floor.py, plain Python",
        ),
        (
            "  the same as a Prefect flow",
            _fmt(r["floor_flow_items_per_s"], 0, " items/s"),
            "",
            _fmt(r["ratio_floor_flow_vs_reader"], 2, "x"),
            "one task run per batch: bounds Vigie's ratio",
        ),
        (
            f"full pipeline (pages), items/s on {r['full_items'] or 0:,}",
            _fmt(full, 1) if full is not None else "not available yet",
            "-",
            "",
            f"{t['full_items_per_s']['goal']}: {_verdict(t['full_items_per_s']['met'])}",
        ),
        (
            "  CPU s (run + workers); if all busy",
            f"{_fmt(r['full_cpu_seconds'], 2, ' s')}; "
            f"{_fmt(r['full_ceiling_items_per_s'], 0, ' items/s')}",
            "",
            "",
            "",
        ),
        (
            "re-run, nothing changed",
            _fmt(r["rerun_seconds"], 2, " s"),
            _fmt(r["reader_rerun_seconds"], 2, " s"),
            _fmt(r["vigie_rerun_vs_reader_ratio"], 2, "x"),
            f"{t['rerun']['goal']}: {_verdict(t['rerun']['met'])}",
        ),
        (
            "  parses / 304s on re-run",
            f"{r['rerun_parses']} / {v['rerun_counts']['feeds_not_modified']}",
            f"- / {r['reader']['http'].get('304', 0) or 0}",
            "",
            f"(server saw {rerun_http.get('304', 0)} 304s for Vigie)",
        ),
        (
            "  Prefect empty-flow overhead",
            _fmt(r["prefect_flow_overhead_seconds"], 2, " s"),
            "",
            "",
            "",
        ),
        (
            f"{v['one_host']['feeds']} feeds on one host: limits on / off",
            f"{_fmt(v['one_host']['limited']['seconds'], 2, ' s')} / "
            f"{_fmt(v['one_host']['unlimited']['seconds'], 2, ' s')}",
            "",
            _fmt(r["host_limit_ratio"], 2, "x"),
            f"{t['host_limits']['goal']}: {_verdict(t['host_limits']['met'])}",
        ),
        (
            "  their fetch stage: limits on / off",
            f"{_fmt(v['one_host']['limited']['fetch_seconds'], 2, ' s')} / "
            f"{_fmt(v['one_host']['unlimited']['fetch_seconds'], 2, ' s')}",
            "",
            "",
            "",
        ),
        (
            "peak memory: run RSS + workers' PSS",
            _fmt(r["peak_rss_mb"], 0, " MB"),
            _fmt(r["reader_peak_rss_mb"], 0, " MB"),
            _fmt(_ratio(r["peak_rss_mb"], r["reader_peak_rss_mb"]), 2, "x"),
            f"{t['peak_rss_mb']['goal']}: {_verdict(t['peak_rss_mb']['met'])}",
        ),
        (
            "  Prefect server peak RSS",
            _fmt(r["prefect_server_peak_rss_mb"], 0, " MB"),
            "",
            "",
            "",
        ),
        (
            "exact dedup precision / recall",
            f"{_fmt(r['dedup_precision'], 3)} / {_fmt(r['dedup_recall'], 3)}",
            "none across feeds",
            "",
            f"{r['vigie_scores']['dedup']['planted_pairs']} planted pairs",
        ),
        (
            "near-duplicate clusters P / R (pages)",
            f"{_fmt(r['near_dup_precision'], 3)} / {_fmt(r['near_dup_recall'], 3)}",
            "-",
            "",
            f"{r['near_dup_planted_pairs']} planted pairs in the full pipeline's feeds",
        ),
        (
            "relevance precision / recall",
            f"{_fmt(r['relevance_precision'], 3)} / {_fmt(r['relevance_recall'], 3)}",
            "-",
            "",
            "",
        ),
        (
            "start-up: prefect server / imports",
            f"{_fmt(r['prefect_server_start_seconds'], 1, ' s')} / "
            f"{_fmt(v['import_seconds'], 1, ' s')}",
            f"- / {_fmt(r['reader']['import_seconds'], 1, ' s')}",
            "",
            "not in items/s",
        ),
    ]


def unaccounted_feeds(vigie: dict[str, Any], full: dict[str, Any] | None) -> dict[str, list[str]]:
    """Each measured pass's feeds that ended with no entries and no recorded reason
    (``bench.accounting``): empty lists, or Vigie lost a feed silently."""
    passes = {"feed_only": vigie, "full": full or {}}
    one_host = vigie.get("one_host", {})
    passes.update({f"one_host_{key}": one_host.get(key) for key in ("unlimited", "limited")})
    return {
        name: run["feed_account"]["unaccounted"]
        for name, run in passes.items()
        if isinstance(run, dict) and "feed_account" in run
    }


def print_table(r: dict[str, Any]) -> None:
    corpus = r["corpus"]
    title = (
        f"Vigie vs reader: {corpus['feeds']} feeds x {corpus['items_per_feed']} items "
        f"= {corpus['items_total']:,} items, {r['machine']['cores']} cores"
    )
    stages = r["vigie"]["first_counts"].get("stage_seconds", {})
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is a dependency of Vigie, but the table must not need it
        print(title)
        for row in table_rows(r):
            print(" | ".join(row))
    else:
        table = Table(title=title)
        for name in ("measure", "Vigie", "reader", "Vigie/reader", "target"):
            table.add_column(name, justify="left" if name in ("measure", "target") else "right")
        for row in table_rows(r):
            table.add_row(*row)
        # Wide enough for the table when the output is a file or a pipe (CI logs).
        Console(width=max(Console().width, 150)).print(table)
    print(f"Vigie stage seconds (first pass): {stages}")
    by_table = r.get("bytes_per_article_by_table") or {}
    print("bytes per article by table, indexes included: " + ", ".join(
        f"{name} {size:,}" for name, size in by_table.items() if size >= 20
    ))  # fmt: skip
    lost = {name: len(urls) for name, urls in r.get("feeds_unaccounted", {}).items()}
    print(f"feeds with no entries and no recorded reason, by pass: {lost}")
    loads = [r["reader"].get("load_average_before"), r["vigie"].get("load_average_before")]
    busy = any(load is not None and load > r["machine"]["cores"] for load in loads)
    note = " (above the core count: other work competed, wall times are inflated)" if busy else ""
    print(f"1-min load average before reader / Vigie: {loads[0]} / {loads[1]}{note}")


def write_results(r: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(r, indent=2, sort_keys=False, default=str) + "\n"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"run-{r['run']['mode']}-{stamp}.json").write_text(text)
    latest = RESULTS / "latest.json"
    previous = json.loads(latest.read_text()) if latest.exists() else {}
    if "scale" in previous:  # bench/scale.py's section, with its own timestamp
        text = json.dumps({**r, "scale": previous["scale"]}, indent=2, default=str) + "\n"
    latest.write_text(text)
    return latest


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    started, code = time.perf_counter(), code_version()
    results = run(opts)
    results["run"]["total_seconds"] = time.perf_counter() - started
    results["code"] = {"at_start": code, "at_end": code_version()}
    if results["code"]["at_start"] != results["code"]["at_end"]:
        print("warning: Vigie's code changed during the run; its numbers mix two versions")
    print_table(results)
    path = write_results(results)
    print(f"results: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"total: {results['run']['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
