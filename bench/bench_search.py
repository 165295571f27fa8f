"""Full-text search at 100,000 stored articles, on SQLite and PostgreSQL.

Run from the repository root::

    python bench/bench_search.py [--articles 100000] [--repeat 5] [--seed 3]
                                 [--postgres-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Articles are template stories from ``bench.corpus.Writer`` (English and French, every topic
of the corpus, relevant or not), bulk-inserted with SQLAlchemy Core as articles and current
versions; the search index is written by ``db.search.index_articles``, the function a
monitor pass calls. Each query of ``QUERIES`` (words common and rare, phrases, OR, NOT,
NEAR, with and without the shared filters) then runs ``--repeat`` times as ``vigie search``
runs it: ``search_ids`` for the best 20, then ``articles_by_id`` for their rows and text.
Reported: each query's median, and the median and slowest of those; the target is a median
under 100 ms on each database. PostgreSQL runs in a fresh database made on the server that
``--postgres-url`` (or ``VIGIE_TEST_POSTGRES_URL``) names, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from sqlalchemy import Engine, insert, text, update

from bench.corpus import TOPICS, Writer
from bench.harness import RESULTS, code_version, scratch_postgres

_NOW = datetime(2026, 12, 1, tzinfo=UTC)
_CHUNK = 2_000
_OUTLETS = ("La Gazette du Nord", "Le Quotidien", "Northern Times", "Prairie Post", "Sports Daily")
#: (query, filters): what an analyst types, common and rare terms, every operator.
QUERIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("immigration", {}),
    ("demandeurs d'asile", {}),
    ('"demandeurs d\'asile"', {}),
    ("Quebec", {}),
    ("Ottawa OR Québec", {}),
    ("asylum NOT Ottawa", {}),
    ("permanent residents", {"language": "en"}),
    ("immigration NEAR/5 seuils", {}),
    ("réfugiés", {"since": _NOW - timedelta(days=30)}),
    ("profit", {"outlet": "northern"}),
    ("Bruins OR Canadiens", {}),
    ("Roxham", {"relevant": True}),
)


def _stories(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = Random(seed)
    writers = {lang: Writer(rng, lang) for lang in ("en", "fr")}
    topics = {lang: sorted(TOPICS[lang]) for lang in ("en", "fr")}
    for i in range(count):
        language = "en" if i % 2 == 0 else "fr"
        story = writers[language].story(rng.choice(topics[language]))
        when = _NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
        outlet = _OUTLETS[i % len(_OUTLETS)]
        yield {
            "id": i + 1,
            "url": f"https://{outlet.lower().replace(' ', '-')}.example/{i}",
            "title": story.title,
            "text": "\n\n".join(story.paragraphs),
            "language": language,
            "source": outlet,
            "site": f"{outlet.lower().replace(' ', '-')}.example",
            "when": when,
            "relevant": i % 3 == 0,
        }


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def populate(engine: Engine, count: int, seed: int) -> float:
    """Store ``count`` articles with their current version and index rows; seconds taken."""
    from sqlalchemy.orm import Session

    from db.models import Article, ArticleVersion
    from db.search import IndexedText, index_articles

    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        for chunk in _chunks(_stories(count, seed)):
            session.execute(insert(Article), [_article(a) for a in chunk])
            session.execute(insert(ArticleVersion), [_version(a) for a in chunk])
            index_articles(session, [IndexedText(a["id"], a["title"], a["text"]) for a in chunk])
        session.execute(update(Article).values(current_version_id=Article.id))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))  # as a long-lived database would have been
        conn.commit()
    return time.perf_counter() - started


def _article(a: dict[str, Any]) -> dict[str, Any]:
    return {"id": a["id"], "canonical_url": a["url"], "title": a["title"], "source": a["source"],
            "site": a["site"], "language": a["language"], "published_at": a["when"],
            "first_seen_at": a["when"]}  # fmt: skip


def _version(a: dict[str, Any]) -> dict[str, Any]:
    return {"id": a["id"], "article_id": a["id"], "n": 1, "content_hash": str(a["id"]),
            "title": a["title"], "text": a["text"], "origin": "feed", "fetched_at": a["when"],
            "change_kinds": "new", "relevance": 0.8 if a["relevant"] else 0.0,
            "relevant": a["relevant"], "topics": "immigration_levels" if a["relevant"] else "",
            "taxonomy_version": "bench"}  # fmt: skip


def measure(engine: Engine, repeat: int) -> dict[str, Any]:
    """Each query's median time (ms) and match count, as ``vigie search`` runs it."""
    from sqlalchemy.orm import Session

    from db import repo
    from db.search import ArticleFilters, search_ids
    from parsers.search_query import parse

    per_query: dict[str, Any] = {}
    for query, filters in QUERIES:
        label = query + "".join(f" --{k} {v}" for k, v in filters.items())
        node, wanted = parse(query), ArticleFilters(**filters)
        times = []
        for _ in range(repeat):
            with Session(engine) as session:
                began = time.perf_counter()
                rows = repo.articles_by_id(session, search_ids(session, node, wanted, 20))
                times.append((time.perf_counter() - began) * 1000)
        with Session(engine) as session:
            matches = len(search_ids(session, node, wanted, None))
        per_query[label] = {"median_ms": statistics.median(times), "matches": matches,
                            "shown": len(rows)}  # fmt: skip
    medians = [q["median_ms"] for q in per_query.values()]
    return {"queries": per_query, "median_ms": statistics.median(medians),
            "slowest_ms": max(medians)}  # fmt: skip


def run_sqlite(count: int, seed: int, repeat: int) -> dict[str, Any]:
    from db.engine import make_engine
    from db.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/search.db")
        upgrade(engine)
        seconds = populate(engine, count, seed)
        result = measure(engine, repeat) | {"populate_seconds": seconds}
        engine.dispose()
    return result


def run_postgres(admin_url: str, count: int, seed: int, repeat: int) -> dict[str, Any]:
    from db.migrate import upgrade

    with scratch_postgres(admin_url, "search") as engine:
        upgrade(engine)
        seconds = populate(engine, count, seed)
        return measure(engine, repeat) | {"populate_seconds": seconds}


def report(results: dict[str, Any], database: str) -> None:
    r = results[database]
    stored = f"{results['articles']:,} articles stored and indexed in {r['populate_seconds']:.0f} s"
    print(f"\n{database}: {stored}")
    for label, q in r["queries"].items():
        print(f"  {q['median_ms']:7.1f} ms  {q['matches']:>7,} matches  {label}")
    verdict = "met" if r["median_ms"] < 100 else "NOT met"
    print(f"  median {r['median_ms']:.1f} ms, slowest {r['slowest_ms']:.1f} ms; "
          f"target median < 100 ms: {verdict}", flush=True)  # fmt: skip


def save(results: dict[str, Any]) -> None:
    """A timestamped file, and the ``search`` section of latest.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"search-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    latest = RESULTS / "latest.json"
    document = json.loads(latest.read_text()) if latest.exists() else {}
    document["search"] = results
    latest.write_text(json.dumps(document, indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Search time at 100,000 stored articles.")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--postgres-url", default=os.environ.get("VIGIE_TEST_POSTGRES_URL"))
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"articles": args.articles, "code": code_version()}
    results["sqlite"] = run_sqlite(args.articles, args.seed, args.repeat)
    report(results, "sqlite")  # each database's figures as soon as they are measured
    if args.postgres_url:
        results["postgresql"] = run_postgres(
            args.postgres_url, args.articles, args.seed, args.repeat
        )
        report(results, "postgresql")
    else:
        print("no --postgres-url (or VIGIE_TEST_POSTGRES_URL): PostgreSQL not measured")
    if not args.no_save:
        save(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
