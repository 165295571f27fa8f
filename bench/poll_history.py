"""Does choosing the feeds to poll get slower as the fetch log grows?

    python bench/poll_history.py [--feeds 200] [--fetches 3000] [--rounds 5]
                                 [--postgres-url postgresql+psycopg://postgres@127.0.0.1/postgres]

1. A fresh database (a SQLite file; and a PostgreSQL database, created in the server that
   ``--postgres-url`` or ``VIGIE_TEST_POSTGRES_URL`` names and dropped afterwards) holds
   ``--feeds`` feeds with ``--fetches`` fetches each, one every 15 minutes, filled in bulk.
   Most fetches found nothing (a 304 or an unchanged body): nine feeds in ten last found
   entries in their first day of fetches, the others somewhere in their history.
2. ``repo.feeds_to_poll`` runs on that database without and with the index of revision
   0016 (the schema at revision 0015, then at the head), alternating ``--rounds`` times; each
   round takes the fastest of three calls. The feeds chosen must be the same both ways.

It prints the query plan each way, and the median and range of the two calls' CPU (this
process, and the backends on PostgreSQL on the same machine) and wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from alembic import command
from sqlalchemy import Engine, event, insert, text

from bench.harness import load_average, scratch_postgres, tree_cpu_seconds
from db import repo, schema
from db.engine import make_engine, make_sessions
from db.migrate import alembic_config, upgrade

_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_POLL = timedelta(minutes=15)
_CHUNK = 10_000  # rows per executemany
_WITHOUT, _WITH = "0015", "head"

#: The due feeds and every enabled one, each as (id, entries of its last document).
Choice = tuple[list[tuple[int, int]], list[tuple[int, int]]]


def populate(engine: Engine, feeds: int, fetches: int, seed: int) -> None:
    """``feeds`` feeds with ``fetches`` polls each, most of which found nothing."""
    rng = Random(seed)
    start = _NOW - fetches * _POLL
    with engine.begin() as conn:
        conn.execute(
            insert(schema.feeds),
            [
                {
                    "url": f"https://feeds{n % 16}.example/{n}.xml",
                    "name": f"feed {n}",
                    "enabled": True,
                    "next_check_at": None if n % 10 == 0 else _NOW - timedelta(minutes=n % 30),
                    "created_at": start,
                }
                for n in range(feeds)
            ],
        )
        feed_ids = list(conn.execute(text("SELECT id FROM feeds ORDER BY id")).scalars())
        rows: list[dict[str, object]] = []
        for feed_id in feed_ids:
            # Most feeds last brought something in their first day; a tenth since then.
            quiet_since = rng.randrange(fetches) if rng.random() < 0.1 else rng.randrange(96)
            for n in range(fetches):
                found = rng.randrange(1, 40) if n <= quiet_since and rng.random() < 0.1 else 0
                rows.append(_fetch(feed_id, start + n * _POLL, found))
                if len(rows) >= _CHUNK:
                    conn.execute(insert(schema.fetches), rows)
                    rows.clear()
        if rows:
            conn.execute(insert(schema.fetches), rows)
        conn.execute(text("ANALYZE"))


def _fetch(feed_id: int, started_at: datetime, found: int) -> dict[str, object]:
    return {
        "feed_id": feed_id,
        "url": f"https://feeds.example/{feed_id}.xml",
        "started_at": started_at,
        "status": 200 if found else 304,
        "not_modified": not found,
        "entries_found": found,
    }


def chosen(engine: Engine) -> Choice:
    """The feeds ``feeds_to_poll`` chooses, with the entries of each one's last document."""
    with make_sessions(engine).begin() as session:
        due = repo.feeds_to_poll(session, _NOW)
        every = repo.feeds_to_poll(session, _NOW, due_only=False)
    return [(f.id, f.entries_last_seen) for f in due], [(f.id, f.entries_last_seen) for f in every]


def server_cpu(engine: Engine) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving this database (same machine);
    nothing for SQLite, whose work is in this process."""
    if engine.dialect.name != "postgresql":
        return {}
    query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    with engine.connect() as conn:
        pids = list(conn.exec_driver_sql(query).scalars())
    return {pid: cpu for pid in pids if (cpu := tree_cpu_seconds(pid)) is not None}


def timed(engine: Engine, call: Callable[[], object]) -> tuple[float, float]:
    """CPU (this process and the database server's backends) and wall seconds of the fastest
    of three calls."""
    best = (float("inf"), float("inf"))
    for _ in range(3):
        server = server_cpu(engine)
        cpu, wall = time.process_time(), time.perf_counter()
        call()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        spent = sum(now - server.get(pid, 0.0) for pid, now in server_cpu(engine).items())
        best = min(best, (cpu + spent, wall))
    return best


def plan(engine: Engine) -> list[str]:
    """The database's plan for the statement ``feeds_to_poll`` sends, with its parameters."""
    sent: list[tuple[str, object]] = []

    def keep(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with make_sessions(engine).begin() as session:
            repo.feeds_to_poll(session, _NOW, due_only=False)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    (statement, parameters), *_ = [s for s in sent if "FROM feeds" in s[0]]
    explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"{explain} {statement}", parameters).all()  # type: ignore[arg-type]
    return [str(row[-1]) for row in rows]


def compare(engine: Engine, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Time ``chosen`` at each revision, alternating; the choices must not differ."""
    config = alembic_config(engine)
    times: dict[str, list[tuple[float, float]]] = {_WITHOUT: [], _WITH: []}
    expected: Choice | None = None
    for _ in range(rounds):
        for revision in (_WITHOUT, _WITH):
            if revision == _WITHOUT:
                command.downgrade(config, _WITHOUT)
            else:
                upgrade(engine)
            result = chosen(engine)
            if expected is None:
                expected = result
            if result != expected:
                raise SystemExit(f"feeds_to_poll chose differently at revision {revision}")
            times[revision].append(timed(engine, lambda: chosen(engine)))
    return times


def report(name: str, engine: Engine, rounds: int) -> None:
    config = alembic_config(engine)
    command.downgrade(config, _WITHOUT)
    before_plan = plan(engine)
    upgrade(engine)
    after_plan = plan(engine)
    times = compare(engine, rounds)
    print(f"\n{name}")
    for label, lines in (("plan before", before_plan), ("plan after", after_plan)):
        print(f"  {label}:")
        for line in lines:
            print(f"    {line}")
    print("  feeds_to_poll (due, then every enabled feed), fastest of 3 a round;")
    print("  CPU is this process's and, on PostgreSQL, the server backends':")
    for label, revision in (("before (0015)", _WITHOUT), ("after  (0016)", _WITH)):
        cpu = [c for c, _ in times[revision]]
        wall = [w for _, w in times[revision]]
        print(
            f"    {label}: CPU median {statistics.median(cpu):.4f} s "
            f"(range {min(cpu):.4f}-{max(cpu):.4f}), wall median {statistics.median(wall):.4f} s"
            f" (range {min(wall):.4f}-{max(wall):.4f})"
        )


def run(name: str, engine: Engine, args: argparse.Namespace) -> None:
    upgrade(engine, _WITHOUT)
    started = time.perf_counter()
    populate(engine, args.feeds, args.fetches, args.seed)
    rows = args.feeds * args.fetches
    print(f"{name}: {rows:,} fetches filled in {time.perf_counter() - started:.0f} s", flush=True)
    report(name, engine, args.rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description="feeds_to_poll with a long fetch history.")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--fetches", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres-url", default=os.environ.get("VIGIE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"{args.feeds} feeds x {args.fetches:,} fetches; load average {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/poll.db")
        try:
            run("sqlite", engine, args)
        finally:
            engine.dispose()
    if args.postgres_url:
        with scratch_postgres(args.postgres_url, "poll") as engine:
            run("postgresql", engine, args)
    else:
        print("no --postgres-url (or VIGIE_TEST_POSTGRES_URL): PostgreSQL not measured")
    print(f"load average {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
