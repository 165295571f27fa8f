"""Shared by the guarantee tests (``tests/test_guarantees_*.py``): databases, feeds, workers.

The guarantees are checked against real SQLite files, real PostgreSQL databases, real
loopback sites and real worker processes; this module only builds them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.chaos_worker import Job, read_status, run_job, worker_context
from db import repo
from db.engine import make_engine, make_sessions
from db.intents import FeedForUpdate
from db.migrate import upgrade
from flows.pipeline import intents_from_feed, tag_specs
from flows.settings import SEEDS_DIR
from parsers.feeds import parse_feed
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WORKER_TIMEOUT_S = 240.0


@lru_cache(maxsize=1)
def tagger() -> Tagger:
    """The tagger for the project's taxonomy, built once per test process."""
    return Tagger(load_taxonomy(SEEDS_DIR / "taxonomy.toml"))


# --- databases ---------------------------------------------------------------------------------


def migrated_sqlite(path: Path) -> str:
    """A SQLite file at ``path`` upgraded to head; its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def copy_sqlite(source: Path, target: Path) -> str:
    """A copy of a SQLite database (WAL included, through the backup API); its URL."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{target}"


@contextmanager
def database(url: str) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    """An engine and session factory on ``url``, disposed on exit."""
    engine = make_engine(url)
    try:
        yield engine, make_sessions(engine)
    finally:
        engine.dispose()


# --- feeds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One ``<item>`` of a generated RSS feed."""

    guid: str
    url: str
    title: str
    text: str
    published: datetime | None = None


def rss(title: str, items: Iterable[FeedItem]) -> bytes:
    """An RSS 2.0 document listing ``items``."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
             f"<title>{escape(title)}</title><link>http://news.example/</link>"]  # fmt: skip
    for item in items:
        date = f"<pubDate>{format_datetime(item.published)}</pubDate>" if item.published else ""
        parts.append(
            f'<item><guid isPermaLink="false">{escape(item.guid)}</guid>'
            f"<link>{escape(item.url)}</link><title>{escape(item.title)}</title>"
            f"<description>{escape(item.text)}</description>{date}</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def add_feeds(sessions: sessionmaker[Session], urls: Sequence[str]) -> list[FeedForUpdate]:
    """Add feeds by URL (named after their position) and return them as the monitor sees them."""
    with sessions.begin() as session:
        repo.add_feeds(session, [repo.FeedSpec(u, f"feed {n}") for n, u in enumerate(urls)], T0)
        by_url = {f.url: f for f in repo.feeds_to_poll(session, T0, due_only=False)}
    return [by_url[url] for url in urls]


def store_feed(
    sessions: sessionmaker[Session], feed: FeedForUpdate, body: bytes, now: datetime
) -> None:
    """The monitor's storage path without I/O: parse, tag, store in one transaction."""
    data = parse_feed(feed.url, body, {"content-type": "application/rss+xml"})
    intents, _dropped = intents_from_feed(feed, data, tagger())
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger().taxonomy))
        repo.store_articles(session, intents, tag_ids, now)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- worker processes ------------------------------------------------------------------------


def job(workdir: Path, api_url: str, env: dict[str, str], steps: Sequence[str], **kw: Any) -> Job:
    """A worker job whose files live in ``workdir`` (created)."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = {
        "VIGIE_DATA_DIR": str(workdir / "data"),
        "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "VIGIE_FETCH_RETRY_DELAY": "0.05",
        "VIGIE_ALERT_ON_BACKFILL": "true",  # the test feeds' dates are older than their feeds
    }
    return Job(
        env={**base, **env},
        api_url=api_url,
        log=str(workdir / "worker.log"),
        status=str(workdir / "status.json"),
        cwd=str(workdir),
        steps=tuple(steps),
        **kw,
    )


def run_together(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Start the jobs in processes of their own, released at one moment; their results.

    Fails with the log of any worker that did not finish cleanly.
    """
    context = worker_context()
    barrier = context.Barrier(len(jobs))
    processes = [context.Process(target=run_job, args=(j, barrier), daemon=True) for j in jobs]
    for process in processes:
        process.start()
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process, j in zip(processes, jobs, strict=True):
        if process.is_alive():
            process.kill()
            process.join()
        if process.exitcode != 0:
            raise AssertionError(f"worker exited with {process.exitcode}:\n{log_tail(j)}")
    return [read_status(j.status) for j in jobs]


def log_tail(j: Job, lines: int = 30) -> str:
    try:
        return "\n".join(Path(j.log).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
