"""Does storing get slower as the archive grows? And how much memory does a 10k-item run take?

    python bench/scale.py [--quick] [--small 1000 --large 100000] [--batches 3]

1. Two fresh SQLite databases, pre-filled in bulk (SQLAlchemy Core, not the slow path) with
   ``--small`` and ``--large`` synthetic stored articles: articles, versions with realistic
   content hashes and canonical URLs, feed entries, mentions and sent alerts.
2. The same new batches (generated feeds, ``--batch-feeds`` x ``--items`` items each, with
   planted duplicates) go through Vigie's real path in each database, without Prefect:
   ``parse_feed`` -> ``intents_from_feed`` -> ``repo.store_articles`` in a
   ``sessions.begin()`` per feed. Batches alternate between the databases, so load from other
   work on the machine hits both alike; the median batch counts.
3. A child process runs the same path over a ``--rss-items`` corpus (10,000 by default) on a
   fresh database and reports its peak RSS.

``--quick`` compares 1k with 20k stored articles and measures RSS on 2,000 items.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from sqlalchemy import Engine, insert, text, update
from sqlalchemy.orm import Session, sessionmaker

from bench.corpus import CorpusSpec, build, iter_files, write
from bench.corpus_text import OUTLETS, SECTIONS
from bench.harness import RESULTS, clean_env, code_version, own_peak_rss_mb

_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_CHUNK = 5_000  # rows per executemany: big enough to be fast, small enough for memory
_PARAGRAPHS = (
    "Quebec received thousands of asylum claims this year, and shelters in Montreal say they "
    "are full. The premier asked Ottawa to spread asylum seekers across the country.",
    "The federal immigration levels plan lowers the number of permanent residents, while "
    "employers warn that the labour shortage will get worse in the regions.",
    "The Canadiens won in overtime on a goal by their captain, their third straight win at "
    "the Bell Centre, and host Boston on Saturday night.",
    "Environment Canada issued a snowfall warning for southern Quebec, with up to 25 "
    "centimetres expected by Thursday evening and strong winds along the river.",
    "The company reported a quarterly profit above analysts' expectations and said it would "
    "invest in its plant near Quebec City over the next three years.",
)


@dataclass(frozen=True)
class Level:
    """One database pre-filled with ``stored`` articles."""

    name: str
    stored: int
    url: str


# --- the database ----------------------------------------------------------------------------


def migrated_engine(url: str) -> Engine:
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _synthetic(i: int, rng: Random) -> dict[str, Any]:
    """Everything about stored article ``i`` (ids are ``i + 1`` in every table)."""
    slug, name, language = OUTLETS[i % len(OUTLETS)]
    section = SECTIONS[language][i % len(SECTIONS[language])][0]
    when = _NOW - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
    title = f"{name} archive story {i}: {_PARAGRAPHS[i % 5][:60]}"
    body = "\n\n".join(_PARAGRAPHS[(i + k) % 5] for k in range(3)) + f"\n\nRef. {i}."
    return {
        "id": i + 1,
        "url": f"https://www.{slug}.example/{section}/{when:%Y/%m/%d}/archive-story-{i}",
        "title": title,
        "text": body,
        "hash": hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
        "language": language,
        "source": name,
        "site": f"www.{slug}.example",
        "when": when,
        "relevant": i % 5 < 2,
        "feed": i % 100 + 1,
    }


def populate(engine: Engine, stored: int, tag_ids: Sequence[int], seed: int) -> float:
    """Insert ``stored`` synthetic articles with their rows in every table; seconds taken."""
    from db.models import Alert, Article, ArticleVersion, Entry, Feed, Mention

    started = time.perf_counter()
    rng = Random(seed)
    with engine.begin() as conn:
        conn.execute(insert(Feed), [_archive_feed(n) for n in range(1, 101)])
        for chunk in _chunks(_synthetic(i, rng) for i in range(stored)):
            conn.execute(insert(Article), [_article_row(a) for a in chunk])
            conn.execute(insert(ArticleVersion), [_version_row(a) for a in chunk])
            conn.execute(insert(Entry), [_entry_row(a) for a in chunk])
            relevant = [a for a in chunk if a["relevant"]]
            if relevant:
                conn.execute(insert(Alert), [_alert_row(a) for a in relevant])
                mentions = [_mention_row(a, k, tag_ids) for a in relevant for k in range(2)]
                conn.execute(insert(Mention), mentions)
        conn.execute(update(Article).values(current_version_id=Article.id))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))  # as a long-lived database would have been
    return time.perf_counter() - started


def _archive_feed(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "url": f"https://archive.example/feeds/{n}.xml",
        "name": f"archive feed {n}",
        "enabled": False,  # stored history only; never polled
        "health": "healthy",
        "consecutive_failures": 0,
        "failure_weight": 0.0,
        "created_at": _NOW,
    }


def _article_row(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "canonical_url": a["url"],
        "title": a["title"],
        "source": a["source"],
        "site": a["site"],
        "language": a["language"],
        "published_at": a["when"],
        "first_seen_at": a["when"],
    }


def _version_row(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "article_id": a["id"],
        "n": 1,
        "content_hash": a["hash"],
        "title": a["title"],
        "text": a["text"],
        "origin": "feed",
        "fetched_at": a["when"],
        "change_kinds": "new",
        "relevance": 0.8 if a["relevant"] else 0.0,
        "relevant": a["relevant"],
        "taxonomy_version": "2025.1",
    }


def _entry_row(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "feed_id": a["feed"],
        "guid": f"archive-{a['id']}",
        "article_id": a["id"],
        "url": a["url"],
        "first_seen_at": a["when"],
    }


def _alert_row(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "dedup_key": f"new_relevant_article:article:{a['id']}",
        "kind": "new_relevant_article",
        "severity": "info",
        "article_id": a["id"],
        "payload": {"title": a["title"], "url": a["url"], "topics": ["asylum_refugees"]},
        "status": "sent",
        "attempts": 1,
        "created_at": a["when"],
        "sent_at": a["when"],
    }


def _mention_row(a: dict[str, Any], k: int, tag_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "version_id": a["id"],
        "tag_id": tag_ids[(a["id"] + k) % len(tag_ids)],
        "field": "text",
        "start": 10 * k,
        "end": 10 * k + 8,
        "sentence_start": 0,
        "sentence_end": 120,
    }


# --- Vigie's path ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tagger() -> Any:
    """The tagger for the project's taxonomy, built once (its automaton takes a while)."""
    from flows.settings import SEEDS_DIR
    from parsers.tagging import Tagger
    from parsers.taxonomy import load_taxonomy

    return Tagger(load_taxonomy(SEEDS_DIR / "taxonomy.toml"))


class VigiePath:
    """Vigie's parse -> intents -> store path over one database, without Prefect."""

    def __init__(self, engine: Engine) -> None:
        from db import repo
        from db.engine import make_sessions
        from flows.pipeline import tag_specs

        self.sessions: sessionmaker[Session] = make_sessions(engine)
        self.tagger = _tagger()
        with self.sessions.begin() as session:
            self.tag_ids = repo.sync_tags(session, tag_specs(self.tagger.taxonomy))

    def add_feeds(self, feeds: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
        """Add (url, name, language) feeds; url -> FeedForUpdate."""
        from db import repo

        specs = [repo.FeedSpec(url, name, language) for url, name, language in feeds]
        with self.sessions.begin() as session:
            repo.add_feeds(session, specs, _NOW)
            polled = repo.feeds_to_poll(session, _NOW, due_only=False)
        return {feed.url: feed for feed in polled}

    def ingest(self, feed: Any, content: bytes, content_type: str) -> dict[str, float]:
        """Items of one feed document, and the wall and CPU seconds of parsing (with
        intents and tagging) and of storing them."""
        from db import repo
        from flows.pipeline import intents_from_feed
        from parsers.feeds import parse_feed

        wall, cpu = time.perf_counter(), time.process_time()
        data = parse_feed(feed.url, content, {"content-type": content_type})
        intents, _ = intents_from_feed(feed, data, self.tagger)
        parsed_wall, parsed_cpu = time.perf_counter(), time.process_time()
        with self.sessions.begin() as session:
            repo.store_articles(session, intents, self.tag_ids, datetime.now(UTC))
        return {
            "items": len(data.entries),
            "parse_wall": parsed_wall - wall,
            "parse_cpu": parsed_cpu - cpu,
            "store_wall": time.perf_counter() - parsed_wall,
            "store_cpu": time.process_time() - parsed_cpu,
        }


@dataclass(frozen=True)
class Batch:
    feeds: list[tuple[str, str, str]]
    #: (url, bytes, content type) per feed
    documents: list[tuple[str, bytes, str]]


def make_batches(count: int, feeds: int, items: int, seed: int) -> list[Batch]:
    spec = CorpusSpec(feeds=count * feeds, items=items, seed=seed)
    corpus = build(spec)
    by_path: dict[str, tuple[bytes, str]] = {}
    for path, name, data, kind in iter_files(corpus):
        if not name.startswith("feeds/"):
            break  # feeds come first; pages are not needed here
        by_path[path] = (data, kind)
    batches = []
    for b in range(count):
        plans = corpus.feeds[b * feeds : (b + 1) * feeds]
        documents = [(p.url, *by_path[p.path]) for p in plans]
        batches.append(Batch([(p.url, p.name, p.language) for p in plans], documents))
    return batches


def measure(path: VigiePath, batch: Batch) -> dict[str, float]:
    """Per-item milliseconds of one batch: CPU time of this process (what other work on a
    shared machine barely touches: the path is single-threaded and in-process) and wall."""
    feeds = path.add_feeds(batch.feeds)
    totals: dict[str, float] = defaultdict(float)
    for url, content, kind in batch.documents:
        for key, value in path.ingest(feeds[url], content, kind).items():
            totals[key] += value
    per_item = 1000 / totals["items"]
    return {
        "items": totals["items"],
        "store_cpu_ms_per_item": totals["store_cpu"] * per_item,
        "path_cpu_ms_per_item": (totals["parse_cpu"] + totals["store_cpu"]) * per_item,
        "store_wall_ms_per_item": totals["store_wall"] * per_item,
        "path_wall_ms_per_item": (totals["parse_wall"] + totals["store_wall"]) * per_item,
    }


_MEASURES = (
    "store_cpu_ms_per_item",
    "path_cpu_ms_per_item",
    "store_wall_ms_per_item",
    "path_wall_ms_per_item",
)


def compare(levels: Sequence[Level], batches: Sequence[Batch]) -> dict[str, Any]:
    paths = {level.name: VigiePath(migrated_engine(level.url)) for level in levels}
    samples: dict[str, list[dict[str, float]]] = {level.name: [] for level in levels}
    for number, batch in enumerate(batches, 1):
        for level in levels:  # alternate, so that a busy moment hits both levels alike
            sample = measure(paths[level.name], batch)
            samples[level.name].append(sample)
            print(
                f"  batch {number}, {level.stored:>7,} stored: store "
                f"{sample['store_cpu_ms_per_item']:.2f} CPU-ms/item "
                f"({sample['store_wall_ms_per_item']:.2f} wall)"
            )
    out: dict[str, Any] = {}
    for level in levels:
        runs = samples[level.name]
        medians = {key: statistics.median(r[key] for r in runs) for key in _MEASURES}
        out[level.name] = {"stored": level.stored, **medians, "batches": runs}
    return out


# --- peak RSS of a whole run -----------------------------------------------------------------


def rss_child(corpus: Path, db_url: str) -> dict[str, Any]:
    """In a child: every feed of ``corpus`` through the path on a fresh database."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    routes = json.loads((corpus / "routes.json").read_text())
    by_url = {f["url"]: f for f in manifest["feeds"]}
    path = VigiePath(migrated_engine(db_url))
    feeds = path.add_feeds([(u, f["name"], f["language"]) for u, f in by_url.items()])
    started, cpu, items = time.perf_counter(), time.process_time(), 0
    for url, feed in feeds.items():
        name, kind, _ = routes[urlsplit(url).path]
        items += int(path.ingest(feed, (corpus / "www" / name).read_bytes(), kind)["items"])
    return {
        "items": items,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "peak_rss_mb": own_peak_rss_mb(),
    }


def measure_rss(tmp: Path, items: int, seed: int) -> dict[str, Any]:
    feeds = max(1, items // 50)
    write(build(CorpusSpec(feeds=feeds, items=items // feeds, seed=seed)), tmp / "rss", pages=False)
    command = [sys.executable, "-m", "bench.scale", "--rss-child", str(tmp / "rss")]
    command += ["--db", f"sqlite:///{tmp / 'rss.db'}"]
    done = subprocess.run(command, env=clean_env({}), capture_output=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace")[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


# --- main ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vigie-scale-") as tmp_name:
        tmp = Path(tmp_name)
        levels = [
            Level("small", args.small, f"sqlite:///{tmp / 'small.db'}"),
            Level("large", args.large, f"sqlite:///{tmp / 'large.db'}"),
        ]
        fill_seconds = {}
        for level in levels:
            engine = migrated_engine(level.url)
            tag_ids = _tag_ids(engine)
            fill_seconds[level.name] = populate(engine, level.stored, tag_ids, args.seed)
            engine.dispose()
            seconds = fill_seconds[level.name]
            print(f"filled {level.name}: {level.stored:,} articles in {seconds:.1f} s")
        batches = make_batches(args.batches, args.batch_feeds, args.items, args.seed + 1000)
        levels_out = compare(levels, batches)
        print(f"peak RSS of a {args.rss_items:,}-item run ...")
        rss = measure_rss(tmp, args.rss_items, args.seed + 2000)
    small, large = levels_out["small"], levels_out["large"]
    return {
        "scale_store_ratio": large["store_cpu_ms_per_item"] / small["store_cpu_ms_per_item"],
        "scale_path_ratio": large["path_cpu_ms_per_item"] / small["path_cpu_ms_per_item"],
        "scale_store_ratio_wall": (
            large["store_wall_ms_per_item"] / small["store_wall_ms_per_item"]
        ),
        "scale_small_stored": args.small,
        "scale_large_stored": args.large,
        "scale_peak_rss_mb": rss["peak_rss_mb"],
        "scale_rss_items": rss["items"],
        "scale_rss_items_per_s": rss["items"] / rss["seconds"],
        "scale_rss_items_per_cpu_s": rss["items"] / rss["cpu_seconds"],
        "levels": levels_out,
        "fill_seconds": fill_seconds,
        "batch": {"batches": args.batches, "feeds": args.batch_feeds, "items": args.items},
        "mode": "quick" if args.quick else "default",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _tag_ids(engine: Engine) -> list[int]:
    return sorted(VigiePath(engine).tag_ids.values())


def report(r: dict[str, Any]) -> None:
    small, large = r["levels"]["small"], r["levels"]["large"]
    print(
        f"\n{'median of the batches':28}{small['stored']:>12,} stored{large['stored']:>12,} stored"
    )
    for key in _MEASURES:
        label = key.replace("_ms_per_item", "").replace("_", " ") + ", ms/item"
        ratio = large[key] / small[key]
        print(f"{label:28}{small[key]:>19.2f}{large[key]:>19.2f}{ratio:>9.2f}x")
    verdict = "met" if r["scale_store_ratio"] <= 1.2 else "NOT met"
    print(f"target: store CPU cost at the large size <= 1.2x the small one: {verdict}")
    rss_goal = "met" if r["scale_peak_rss_mb"] <= 400 else "NOT met"
    print(
        f"peak RSS of a {r['scale_rss_items']:,}-item run (no Prefect): "
        f"{r['scale_peak_rss_mb']:.0f} MB ({r['scale_rss_items_per_s']:.0f} items/s); "
        f"target <= 400 MB at 10,000 items: "
        f"{rss_goal if r['scale_rss_items'] >= 10_000 else 'n/a (smaller run)'}"
    )


def save(r: dict[str, Any]) -> None:
    """A timestamped file, and the ``scale`` section of latest.json (run.py keeps it)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"scale-{r['mode']}-{stamp}.json").write_text(json.dumps(r, indent=2) + "\n")
    latest = RESULTS / "latest.json"
    document = json.loads(latest.read_text()) if latest.exists() else {}
    document["scale"] = {k: v for k, v in r.items() if k != "levels"} | {
        "levels": {
            name: {k: v for k, v in lv.items() if k != "batches"}
            for name, lv in r["levels"].items()
        }
    }
    latest.write_text(json.dumps(document, indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Storage cost against archive size; peak RSS.")
    parser.add_argument("--quick", action="store_true", help="1k vs 20k, RSS on 2k items")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, help="default 100,000 (quick 20,000)")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--batch-feeds", type=int, default=10)
    parser.add_argument("--items", type=int, default=50, help="items per batch feed")
    parser.add_argument("--rss-items", type=int, help="default 10,000 (quick 2,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        print(json.dumps(rss_child(args.rss_child, args.db)))
        return 0
    args.large = args.large or (20_000 if args.quick else 100_000)
    args.rss_items = args.rss_items or (2_000 if args.quick else 10_000)
    started, code = time.perf_counter(), code_version()
    results = run(args)
    results["total_seconds"] = time.perf_counter() - started
    results["code"] = {"at_start": code, "at_end": code_version()}
    if results["code"]["at_start"] != results["code"]["at_end"]:
        print("warning: Vigie's code changed during the run; its numbers mix two versions")
    report(results)
    save(results)
    print(f"total: {results['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
