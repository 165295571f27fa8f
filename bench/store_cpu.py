"""What the store thread costs: its CPU seconds storing a generated corpus as a pass does.

    python bench/store_cpu.py [--feeds 40 --items 25] [--passes 2] [--again] [--count]
                              [--database-url URL] [--dump rows.json]
    python bench/store_cpu.py --compare a.json b.json

The corpus (``bench/corpus.py``) is parsed and tagged beforehand, as the workers do, outside
the measure. Each pass then stores every feed on a fresh database through the monitor's own
path (``flows.monitor._store_isolated``: one transaction a feed, its articles, stories, alerts
and poll), in this thread, whose CPU seconds (``time.thread_time``) are the measure: unlike
the run summary's "store" stage, which is wall time and counts the wait for each feed to be
read. Passes after the first run in the same process (the statements compiled already), as
``vigie serve`` runs them. ``--again`` stores the same feeds once more on the last pass's
database: every item is then a stored article compared with its current version, as a feed
that brought one new item brings its others. ``--count`` counts statements by table;
``--dump`` writes every table's rows, times masked, for ``--compare`` of two versions of the
code. With ``--database-url`` (PostgreSQL) that database's public schema is dropped first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from bench.corpus import CorpusSpec, build, render_feed

#: A time as SQLite or PostgreSQL rows print it: masked, since each run stores its own now.
_TIMES = re.compile(
    r"datetime\.datetime\([^)]*\)"
    r"|'\d{4}-\d\d-\d\d[ T][0-9:.+]+'"
    r"|\d{4}-\d\d-\d\d[ T][0-9:.]+(?:[+-]\d\d:\d\d)?"
)
_STATEMENT = re.compile(r"\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT|WITH)\s+(\S+)")
_FROM = re.compile(r"\bFROM\s+(\S+)")


def _fresh_database(url: str | None, workdir: Path, n: int) -> str:
    if url is None:
        return f"sqlite:///{workdir}/pass{n}.db"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:  # its functions and triggers too, as migrations made them
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _statement_key(sql: str) -> str:
    found = _STATEMENT.match(sql)
    if found is None:
        return sql.split(None, 1)[0]
    verb, table = found.groups()
    if verb in ("SELECT", "WITH"):
        source = _FROM.search(sql)
        table = source.group(1) if source else ""
    return f"{verb} {table.strip(chr(34))}"


def _dump(path: Path) -> None:
    from sqlalchemy import inspect, text

    from flows import context

    engine = context.engine()
    tables: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name in sorted(inspect(engine).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            tables[name] = sorted(_TIMES.sub("T", repr(tuple(row))) for row in rows)
    path.write_text(json.dumps(tables))
    print(f"dumped {sum(map(len, tables.values()))} rows of {len(tables)} tables")


def compare(first: Path, second: Path) -> int:
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    differing = [name for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
    for name in differing:
        print(f"{name}: {len(a.get(name, []))} rows against {len(b.get(name, []))}, differing")
    print(f"{len(a)} tables, {sum(map(len, a.values()))} rows: {len(differing)} tables differ")
    return 1 if differing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--again", action="store_true", help="store the last pass's feeds again")
    parser.add_argument("--count", action="store_true", help="count statements by table")
    parser.add_argument("--database-url", help="a PostgreSQL database to empty and use")
    parser.add_argument("--dump", type=Path, help="write the last pass's rows here")
    parser.add_argument("--compare", type=Path, nargs=2, help="two --dump files")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    workdir = Path(tempfile.mkdtemp(prefix="vigie-store-cpu-"))
    os.environ.setdefault("VIGIE_ALERT_ON_BACKFILL", "0")
    from sqlalchemy import event

    from db import repo
    from db.intents import PollOutcome
    from fetching.fetcher import FetchResult
    from flows import context, monitor
    from flows.cpu import parse_feed_document
    from flows.report import RunSummary

    corpus = build(CorpusSpec(feeds=args.feeds, items=args.items, seed=args.seed))
    for n in range(args.passes):
        os.environ["VIGIE_DATABASE_URL"] = _fresh_database(args.database_url, workdir, n)
        context.forget_database()
        context.ensure_schema()
        now = datetime.now(UTC)
        with context.sessions().begin() as session:
            specs = [repo.FeedSpec(p.url, p.name, p.language) for p in corpus.feeds]
            repo.add_feeds(session, specs, now)
            due = {feed.url: feed for feed in repo.feeds_to_poll(session, now, due_only=False)}
        polled = []
        for plan, items in zip(corpus.feeds, corpus.items, strict=True):
            feed, body = due[plan.url], render_feed(plan, items)
            headers = {"content-type": "application/xml"}
            parsed = parse_feed_document(feed, plan.url, body, headers, context.tagger())
            digest = hashlib.sha256(body).hexdigest()
            result = FetchResult(plan.url, plan.url, 200, b"", {}, False, None, None, 5, digest,
                                 len(body))  # fmt: skip
            item = monitor.Polled(feed, now, result, None, PollOutcome.FETCHED, parsed.entries,
                                  parsed.intents, parsed.dropped)  # fmt: skip
            polled.append(item)
        statements: Counter[str] = Counter()

        def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            statements[_statement_key(sql)] += 1  # noqa: B023 (this pass's counter)

        if args.count:
            event.listen(context.engine(), "before_cursor_execute", note)
        summary = RunSummary(kind="monitor", started_at=now)
        stored = sum(len(item.intents) for item in polled)
        rounds = ["first"] + (["again"] if args.again and n == args.passes - 1 else [])
        for round_ in rounds:
            statements.clear()
            cpu, wall = time.thread_time(), time.perf_counter()
            tag_ids = monitor._synced_tag_ids()
            for item in polled:
                monitor._store_isolated(item, tag_ids, summary)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            print(f"pass {n} {round_}: store CPU {cpu:.3f} s ({1000 * cpu / stored:.3f} ms an "
                  f"item), wall {wall:.3f} s, {stored} items")  # fmt: skip
            if args.count:
                for key, times in statements.most_common():
                    print(f"  {times:7d}  {key}")
                print(f"  {sum(statements.values()):7d}  statements")
        if args.count:
            event.remove(context.engine(), "before_cursor_execute", note)
    if args.dump:
        _dump(args.dump)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
