"""The CPU-bound stages of a run, in worker processes: feed parsing and page extraction.

Parsing a feed (feedparser, canonical URLs, tagging) and extracting a page (trafilatura,
lxml, tagging), for a new item or a re-check, are pure functions of bytes, and together
take most of a run's CPU. In the flow's process they would share one core with fetching
and storing; a pool of ``VIGIE_CPU_WORKERS`` processes (default: one per core) runs them
beside it.

Workers start from a fresh interpreter through a fork server, not by forking the flow's
process, whose Prefect and HTTP threads may hold locks at the moment of a fork. Each worker
imports only ``parsers`` and ``flows.pipeline`` (no Prefect, no database) and builds the
tagger once. ``VIGIE_CPU_WORKERS=0`` keeps everything in the flow's process.

A worker that dies (killed, out of memory) breaks the whole pool and every document in
flight with it. Those are tried once more on a new pool; a document that kills its worker
again fails with a reason, and the feed or page is recorded as failed.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import select
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from db.intents import ArticleIntent, FeedForUpdate, RecheckTarget
from flows.pipeline import (
    entries_within_cap,
    intent_from_page,
    intents_from_feed,
    sketched,
    with_page,
)
from parsers.articles import extract_article
from parsers.exceptions import ParseError
from parsers.feeds import parse_feed, read_feed
from parsers.inert import clean
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy

T = TypeVar("T")

# Where pidfds are missing, how often a worker checks that its flow process is still there.
_PARENT_CHECK_S = 1.0
# What a worker process imports before it is forked (once, in the fork server, whose pages
# the workers then share).
_PRELOAD = [
    "flows.pipeline",
    "parsers.articles",
    "parsers.feeds",
    "parsers.tagging",
    "parsers.dedup",
    "flows.worker_preload",
]


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document's entries as tagged intents."""

    #: Entries with a link, as intents.
    intents: list[ArticleIntent]
    #: Entries in the document.
    entries: int
    #: Entries dropped as duplicates of another entry of the same feed.
    dropped: int
    #: New entries left for the next pass by the per-pass cap (``entries_within_cap``).
    left: int = 0


#: What reading one feed document is given: the cap on its new entries, and the guids it
#: brought before (empty unless its last document was longer than the cap).
Cap = tuple[int, frozenset[str]]


def parse_feed_document(
    feed: FeedForUpdate, url: str, content: bytes, headers: Mapping[str, str], tagger: Tagger
) -> ParsedFeed:
    """Parse a fetched feed into tagged intents; ``ParseError`` when it is not a feed."""
    return parse_capped_document(feed, url, content, headers, None, tagger)


def parse_capped_document(
    feed: FeedForUpdate,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    cap: Cap | None,
    tagger: Tagger,
) -> ParsedFeed:
    """``parse_feed_document`` reading at most what ``cap`` allows (all when it is None)."""
    if cap is None:
        data = parse_feed(url, content, headers)
        total, left = len(data.entries), 0
    else:
        data, entries = read_feed(url, content, headers)
        chosen, left, total = entries_within_cap(entries, *cap)
        data = replace(data, entries=chosen)
    intents, dropped = intents_from_feed(feed, data, tagger)
    return ParsedFeed([sketched(intent) for intent in intents], total, dropped, left)


def page_intent(
    intent: ArticleIntent, url: str, content: bytes, headers: Mapping[str, str], tagger: Tagger
) -> ArticleIntent:
    """The intent with its extracted page (``ParseError`` when the page cannot be read)."""
    page = extract_article(url, content, headers)
    return sketched(with_page(intent, page, content, dict(headers), tagger))


#: A fetched article page to read: the feed item's intent, the page's URL, body and headers.
PageToRead = tuple[ArticleIntent, str, bytes, Mapping[str, str]]


def page_intents(pages: list[PageToRead], tagger: Tagger) -> list[ArticleIntent | ParseError]:
    """``page_intent`` of each page, or the reason it could not be read."""
    out: list[ArticleIntent | ParseError] = []
    for intent, url, content, headers in pages:
        try:
            out.append(page_intent(intent, url, content, headers, tagger))
        except ParseError as exc:
            out.append(exc)
        except Exception as exc:  # a library's own error on a page nobody foresaw: that page only
            out.append(unreadable(exc))
    return out


def unreadable(exc: Exception) -> ParseError:
    """A ``ParseError`` for what a parsing library raised on a document it choked on."""
    reason = clean(exc, 300) or "no message"
    return ParseError(f"could not read this document ({type(exc).__name__}: {reason})")


def recheck_intent(
    target: RecheckTarget, url: str, content: bytes, headers: Mapping[str, str], tagger: Tagger
) -> ArticleIntent:
    """A re-checked page as a candidate version (``ParseError`` when it cannot be read)."""
    page = extract_article(url, content, headers)
    return sketched(intent_from_page(target, page, content, dict(headers), tagger))


class CpuPool:
    """Runs ``parse_feed_document``, ``page_intents`` and ``recheck_intent`` in worker
    processes, or, with no workers, in a thread of this process with the caller's tagger.

    One per run: ``async with CpuPool(workers, taxonomy) as cpu:``. The workers start on
    first use and stop when the run ends, so no process outlives the run that needed it;
    unless ``keep``: then they stay for the process's next runs (``context.cpu_pool``), which
    saves each run the workers' start (a fork server, then in each worker the tagger and the
    language model), and stop with ``close`` or when the process ends.
    """

    def __init__(self, workers: int, taxonomy: Path, *, keep: bool = False) -> None:
        self.workers = workers
        self.taxonomy = taxonomy
        self.keep = keep
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    async def __aenter__(self) -> CpuPool:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if not self.keep:
            await asyncio.to_thread(self.close)

    async def start(self) -> None:
        """Start the workers now (the fork server, then in each worker the tagger and the
        language model: about a second), so that they are ready when the first document
        comes, instead of starting then. Errors are left to the jobs that follow."""
        if self.workers <= 0 or multiprocessing.current_process().daemon:
            return
        # In a thread: starting the fork server blocks for as long as it imports, and the
        # run's event loop is meanwhile fetching.
        with suppress(Exception):
            await asyncio.to_thread(self._start_workers)

    def start_fork_server(self) -> None:
        """Start the process the workers are forked from (it imports the parsers and loads
        the language model: about a second of its own), without waiting for it.

        A run that will read new documents calls this before Prefect sets the run up, which
        is mostly waiting on the API: the fork server loads meanwhile, and ``start`` then
        only forks the workers. Errors are left to the jobs that follow.
        """
        if self.workers <= 0 or multiprocessing.current_process().daemon:
            return
        from multiprocessing import forkserver

        # The preload names no ``__main__``: the fork server never runs the main module,
        # so it needs no ``_main_module_hidden`` (the workers it forks do).
        with suppress(Exception):
            multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
            forkserver.ensure_running()  # spawns it and returns; it loads on its own

    def _start_workers(self) -> None:
        pool = self._executor()
        with _main_module_hidden():
            ready = [pool.submit(_ready) for _ in range(self.workers)]
        for future in ready:
            future.result()

    async def parse(
        self,
        feed: FeedForUpdate,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        tagger: Tagger,
        cap: Cap | None = None,
    ) -> ParsedFeed:
        """``parse_capped_document``, in a worker."""
        args = (feed, url, content, dict(headers), cap)
        return await self._run(parse_capped_document, tagger, *args)

    async def pages(
        self, pages: list[PageToRead], tagger: Tagger
    ) -> list[ArticleIntent | ParseError]:
        """``page_intents``, in a worker.

        A feed's pages go to a worker as one job: a job a page cost more in handing work to
        the workers than the extraction itself (2.9 ms a page), and left the workers idle
        while this process, busy storing, passed the next page on. If the job kills its
        worker twice, each page is tried alone, so that only the page at fault fails.
        """
        if not pages:
            return []
        jobs: list[PageToRead] = [(i, url, body, dict(headers)) for i, url, body, headers in pages]
        try:
            return await self._run(page_intents, tagger, jobs)
        except ParseError as exc:
            if len(jobs) == 1:
                return [exc]
        return [page for job in jobs for page in await self.pages([job], tagger)]

    async def recheck(
        self,
        target: RecheckTarget,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        tagger: Tagger,
    ) -> ArticleIntent:
        """``recheck_intent``, in a worker."""
        args = (target, url, content, dict(headers))
        return await self._run(recheck_intent, tagger, *args)

    async def _run(self, function: Callable[..., T], tagger: Tagger, *args: Any) -> T:
        """``function(*args, tagger)`` in a worker, with the worker's own tagger, else in a
        thread of this process with the caller's."""
        # A daemonic process (a multiprocessing harness's) may not have children.
        if self.workers <= 0 or multiprocessing.current_process().daemon:
            return await asyncio.to_thread(function, *args, tagger)
        return await self._submit(_with_worker_tagger, function, *args)

    def close(self) -> None:
        """Stop the workers (the next call starts new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def _submit(self, job: Callable[..., T], *args: object) -> T:
        for attempt in (1, 2):
            pool = self._executor()
            try:
                with _main_module_hidden():  # submit starts the workers it needs
                    future = pool.submit(job, *args)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool as exc:
                self._discard(pool)
                if attempt == 2:
                    raise ParseError(
                        "the worker process reading this document died twice "
                        "(out of memory, or killed)"
                    ) from exc
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(_PRELOAD)
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(str(self.taxonomy), os.getpid()),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


_MAIN_SWAP = threading.Lock()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start worker processes without the parent's main module.

    A worker first runs its parent's main module again (multiprocessing does, for functions
    defined there). Every job here lives in an importable module, and the parent's main is
    the ``vigie`` script or, for a flow run a Prefect worker starts, ``prefect.engine``:
    running it loaded Prefect, SQLAlchemy and Typer into each worker (175 MB of RSS instead
    of 88, measured). multiprocessing reads the main module from ``sys.modules`` as it starts
    a process, so an empty one stands in meanwhile: under a second the first time (while the
    fork server loads), a few milliseconds after. Nothing else in a flow's process reads the
    main module, and the lock keeps two pools from swapping it at once.
    """
    with _MAIN_SWAP:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


# --- in the worker process ------------------------------------------------------------------

_worker_tagger: Tagger | None = None


def _init_worker(taxonomy: str, flow_process: int) -> None:
    global _worker_tagger
    _worker_tagger = Tagger(load_taxonomy(Path(taxonomy)))
    # Leave what the worker has loaded out of garbage collection: a full collection would
    # walk it again each time, and write to (so copy) the pages shared with the fork server.
    gc.freeze()
    # A flow process killed outright (SIGKILL, OOM) never shuts its pool down, and a worker
    # waiting on the pool's queue (whose pipes it holds itself) would wait forever.
    threading.Thread(target=_exit_with, args=(flow_process,), daemon=True).start()


def _exit_with(pid: int) -> None:
    """Exit this worker when process ``pid`` ends."""
    try:
        # Linux: a pidfd becomes readable when the process ends, zombie or not.
        with os.fdopen(os.pidfd_open(pid), "rb", buffering=0) as handle:
            select.select([handle], [], [])
    except (AttributeError, OSError):  # elsewhere, ask every second
        while _exists(pid):
            time.sleep(_PARENT_CHECK_S)
    os._exit(0)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ready() -> None:
    """A job that only waits for its worker to be up (``CpuPool.start``)."""


def _with_worker_tagger(function: Callable[..., T], *args: Any) -> T:
    assert _worker_tagger is not None, "the pool's initializer builds the tagger"
    return function(*args, _worker_tagger)
