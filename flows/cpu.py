"""The CPU-bound stages of a run, in worker processes: feed parsing and page extraction.

Parsing a feed (feedparser, canonical URLs, tagging) and extracting a page (trafilatura,
lxml, tagging), for a new item or a re-check, are pure functions of bytes, and together
take most of a run's CPU. In the flow's process they would share one core with fetching
and storing; a pool of ``VIGIE_CPU_WORKERS`` processes (default: one per core) runs them
beside it.

Workers start from a fresh interpreter through a fork server, not by forking the flow's
process, whose Prefect and HTTP threads may hold locks at the moment of a fork. Each worker
imports only ``parsers`` and ``flows.pipeline`` (no Prefect, no database) and has the
tagger its fork server built. ``VIGIE_CPU_WORKERS=0`` keeps everything in the flow's process.

A worker that dies (killed, out of memory) breaks the whole pool and every document in
flight with it. Those are tried once more on a new pool; a document that kills its worker
again fails with a reason, and the feed or page is recorded as failed.

Starting the workers costs more than a small pass's reading: 1.1-1.4 CPU-seconds (the fork
server's imports, language model and tagger, then each worker's start), where 1,000 feed
items take about 1.0 to parse and tag. A run that calls ``start_when_worth_it`` therefore reads its
documents in this process, one at a time, until they add up to ``WORKERS_WORTH_BYTES``; the
workers then start in the background and take the next documents as soon as they are up.
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
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from db.intents import ArticleIntent, FeedForUpdate, RecheckTarget
from flows.pipeline import (
    entries_within_cap,
    intent_from_page,
    intents_from_feed,
    sketched,
    tagged,
    with_page,
)
from parsers.exceptions import ParseError
from parsers.feeds import parse_feed, read_feed
from parsers.inert import clean
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy

T = TypeVar("T")
P = ParamSpec("P")

#: Bytes of documents a run reads in its own process before its workers are worth starting
#: (``CpuPool.start_when_worth_it``): about 1.5 CPU-seconds of feed parsing and tagging, the
#: workers' start. A job of this many bytes or more (unweighted) always goes to a worker,
#: which a document that exhausts memory kills instead of the run's process.
WORKERS_WORTH_BYTES = 2_000_000
#: An article page costs about two thirds of what a feed costs to read, byte for byte
#: (trafilatura and readability on 9 KB pages, with tagging and sketch: 6-9 ms;
#: feedparser and tagging on 1.2 KB items: 1 ms). It was a third with trafilatura alone.
PAGE_BYTES_WEIGHT = 2 / 3

# Where pidfds are missing, how often a worker checks that its flow process is still there.
_PARENT_CHECK_S = 1.0
# What a worker process imports before it is forked (once, in the fork server, whose pages
# the workers then share).
_PRELOAD = [
    "flows.pipeline",
    "parsers.feeds",
    "parsers.tagging",
    "parsers.dedup",
    "flows.worker_preload",
]
# Article pages' extraction (trafilatura, readability and what they import: 0.17 CPU-s of
# the fork server's 0.44), preloaded unless the pool's first run reads feeds only; a
# worker forked without it imports it at its first page.
_PRELOAD_PAGES = ["parsers.articles"]


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
    return parse_capped_document(feed, url, content, headers, None, None, tagger)


def parse_capped_document(
    feed: FeedForUpdate,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    cap: Cap | None,
    page_min_words: int | None,
    tagger: Tagger,
) -> ParsedFeed:
    """``parse_feed_document`` reading at most what ``cap`` allows (all when it is None),
    leaving untagged the entries whose page is to be read (``page_min_words``, see
    ``intents_from_feed``)."""
    if cap is None:
        data = parse_feed(url, content, headers)
        total, left = len(data.entries), 0
    else:
        data, entries = read_feed(url, content, headers)
        chosen, left, total = entries_within_cap(entries, *cap)
        data = replace(data, entries=chosen)
    intents, dropped = intents_from_feed(feed, data, tagger, page_min_words)
    return ParsedFeed([sketched(intent) for intent in intents], total, dropped, left)


def page_intent(
    intent: ArticleIntent, url: str, content: bytes, headers: Mapping[str, str], tagger: Tagger
) -> ArticleIntent:
    """The intent with its extracted page (``ParseError`` when the page cannot be read);
    the feed item's own text tagged if the page does not replace it."""
    from parsers.articles import extract_article  # preloaded unless the pool reads feeds only

    page = extract_article(url, content, headers)
    return tagged(sketched(with_page(intent, page, content, dict(headers), tagger)), tagger)


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
    from parsers.articles import extract_article  # preloaded unless the pool reads feeds only

    page = extract_article(url, content, headers)
    return sketched(intent_from_page(target, page, content, dict(headers), tagger))


class CpuPool:
    """Runs ``parse_feed_document``, ``page_intents`` and ``recheck_intent`` in worker
    processes, or, with no workers, in a thread of this process with the caller's tagger.

    One per run: ``async with CpuPool(workers, taxonomy) as cpu:``. The workers start on
    first use and stop when the run ends, so no process outlives the run that needed it;
    unless ``keep``: then they stay for the process's next runs (``context.cpu_pool``), which
    saves each run the workers' start (a fork server with the parsers, the language model and
    the tagger, then the workers), and stop with ``close`` or when the process ends. A run
    that calls ``start_when_worth_it`` reads small work in its own process instead.
    """

    def __init__(self, workers: int, taxonomy: Path, *, keep: bool = False) -> None:
        self.workers = workers
        self.taxonomy = taxonomy
        self.keep = keep
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        #: True once the workers have answered (a start, or a job, went through).
        self._up = False
        #: The background start of ``start_when_worth_it``, when one was begun.
        self._starting: threading.Thread | None = None
        #: With ``start_when_worth_it``: bytes handed to the pool this run, and the one
        #: document at a time read in this process meanwhile.
        self._handed: float | None = None
        self._here: asyncio.Lock | None = None
        #: With ``start_when_worth_it(pages=True)``: every document goes to the workers.
        self._all_to_workers = False
        #: Held while a document is read in this process (``taking_turns``).
        self._turn = threading.Lock()
        #: Whether the fork server, when this pool starts it, preloads page extraction: yes
        #: unless the pool's first run said it reads feeds only (``start_when_worth_it``).
        self._pages_expected = True

    async def __aenter__(self) -> CpuPool:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._handed, self._here = None, None  # the next run decides again
        self._all_to_workers = False
        if not self.keep:
            await asyncio.to_thread(self.close)

    def start_when_worth_it(self, *, pages: bool = False) -> None:
        """Read this run's documents in this process until the run has handed over
        ``WORKERS_WORTH_BYTES`` of them, then start the workers in the background and give
        them the next documents once they are up. Workers already up (kept from an earlier
        run) take every document at once; workers to keep (``keep``) start in the background
        with the run's first document, since the next runs will not pay for their start.
        A run that extracts article pages (``pages``) reads nothing more here once its
        workers are worth starting: its next documents wait for them. Read here while
        they started, its feeds and pages slowed the event loop that fetches the pages
        and kept the store waiting for its turn, so the workers waited for work.
        Lasts until the run leaves ``async with``.

        Workers first started for a run that reads feeds only leave page extraction out of
        what their fork server imports (0.17 CPU-s of a start); a later run's pages import
        it in each worker that reads one."""
        if self._handed is None:
            self._handed, self._here = 0.0, asyncio.Lock()
            self._all_to_workers = pages
        with self._lock:
            if self._pool is None:
                self._pages_expected = pages

    async def start(self) -> None:
        """Start the workers now (the fork server with the parsers, the language model and
        the tagger, then the workers: about a second), so that they are ready when the first
        document comes, instead of starting then. Errors are left to the jobs that follow."""
        if self.workers <= 0 or multiprocessing.current_process().daemon:
            return
        # In a thread: starting the fork server blocks for as long as it imports, and the
        # run's event loop is meanwhile fetching.
        with suppress(Exception):
            await asyncio.to_thread(self._start_workers)

    def taking_turns(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)``, never while a document is read in this process.

        For the run's other long work in a thread of this process (storing a feed). Two
        threads busy at once in one interpreter hand its lock over every 5 ms, and the one
        that waits on the database gives it up at each statement, then waits for it: a pass
        of 1,000 items read here while they were stored took 5.9 s, and 3.6 s taking turns
        (same load).
        """
        with self._turn:
            return function(*args, **kwargs)

    def _start_workers(self) -> None:
        pool = self._executor()
        with _main_module_hidden():
            ready = [pool.submit(_ready) for _ in range(self.workers)]
        for future in ready:
            future.result()
        self._up = True

    def _start_in_background(self) -> None:
        """Begin starting the workers in a thread of their own, unless begun already."""
        with self._lock:
            if self._starting is not None and self._starting.is_alive():
                return
            self._starting = threading.Thread(
                target=self._start_quietly, name="vigie-workers-start", daemon=True
            )
            self._starting.start()

    def _start_quietly(self) -> None:
        # A failed start is left to the next job, which starts the workers itself and
        # fails with the reason.
        with suppress(Exception):
            self._start_workers()

    def _read_here(self, size: int) -> bool:
        """Whether a job of ``size`` bytes is read in this process now (see
        ``start_when_worth_it``)."""
        if self._handed is None or self._up or size >= WORKERS_WORTH_BYTES:
            return False
        if self._all_to_workers and self._handed >= WORKERS_WORTH_BYTES:
            return False  # a run that extracts pages waits for its workers (``pages``)
        # A start that ended without the workers up failed: the next job starts them again,
        # in a worker, and says why if it fails.
        starting = self._starting
        return starting is None or starting.is_alive()

    async def parse(
        self,
        feed: FeedForUpdate,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        tagger: Tagger,
        cap: Cap | None = None,
        page_min_words: int | None = None,
    ) -> ParsedFeed:
        """``parse_capped_document``, in a worker."""
        args = (feed, url, content, dict(headers), cap, page_min_words)
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
        thread of this process with the caller's (no workers, or, after
        ``start_when_worth_it``, while the workers are not worth starting or not up yet)."""
        # A daemonic process (a multiprocessing harness's) may not have children.
        if self.workers <= 0 or multiprocessing.current_process().daemon:
            return await asyncio.to_thread(function, *args, tagger)
        if self._handed is not None and self._here is not None:
            size, weight = _work_size(function, args)
            self._handed += weight
            # Kept workers start once for every later run of the process: worth it at once.
            if (self.keep or self._handed >= WORKERS_WORTH_BYTES) and not self._up:
                self._start_in_background()
            # One document at a time in this process: the run's store thread and event loop
            # share its interpreter. Asked again once this one's turn comes, since the
            # workers may be up by then.
            while self._read_here(size):
                async with self._here:
                    if self._read_here(size):
                        return await asyncio.to_thread(
                            lambda: self.taking_turns(function, *args, tagger)
                        )
        return await self._submit(_with_worker_tagger, function, *args)

    def close(self) -> None:
        """Stop the workers (the next call starts new ones)."""
        starting = self._starting
        if starting is not None:
            starting.join()  # else the pool it is starting would outlive this close
        with self._lock:
            pool, self._pool, self._up = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def _submit(self, job: Callable[..., T], *args: object) -> T:
        for attempt in (1, 2):
            pool = self._executor()
            try:
                if _MAIN_SWAP.locked():
                    # The workers are being started in another thread, which holds the
                    # main module for as long as the fork server imports: wait in a thread,
                    # not in the event loop (0.6 s of a first pass's loop, measured).
                    future = await asyncio.to_thread(_submit_hidden, pool, job, *args)
                else:
                    future = _submit_hidden(pool, job, *args)
                result = await asyncio.wrap_future(future)
                self._up = True
                return result
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
                # Only the process's first pool starts the fork server: the preload it
                # chooses is the one every later pool's workers have.
                extra = _PRELOAD_PAGES if self._pages_expected else []
                context.set_forkserver_preload(_PRELOAD[:-1] + extra + _PRELOAD[-1:])
                # Read by ``flows.worker_preload`` in the fork server, if this pool starts it.
                os.environ.setdefault(_PRELOAD_TAXONOMY_ENV, str(self.taxonomy))
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
                self._pool, self._up = None, False
        pool.shutdown(wait=False, cancel_futures=True)


def _work_size(function: Callable[..., object], args: tuple[Any, ...]) -> tuple[int, float]:
    """A job of ``CpuPool._run`` for ``start_when_worth_it``: its bytes, and what they weigh
    (a page's bytes count for ``PAGE_BYTES_WEIGHT``)."""
    if function is page_intents:
        pages: list[PageToRead] = args[0]
        size = sum(len(body) for _, _, body, _ in pages)
        return size, PAGE_BYTES_WEIGHT * size
    if function is parse_capped_document:
        return len(args[2]), len(args[2])
    if function is recheck_intent:
        return len(args[2]), PAGE_BYTES_WEIGHT * len(args[2])
    return 0, 0


_MAIN_SWAP = threading.Lock()


def _submit_hidden(pool: ProcessPoolExecutor, job: Callable[..., T], *args: object) -> Future[T]:
    with _main_module_hidden():  # submit starts the workers it needs
        return pool.submit(job, *args)


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


# --- in the fork server, then the worker process ----------------------------------------------

#: Through this environment variable the flow's process names the taxonomy whose tagger the
#: fork server builds (not a ``VIGIE_`` name: it is no setting). Inherited by the fork
#: server when the first pool of the process starts it.
_PRELOAD_TAXONOMY_ENV = "_VIGIE_WORKER_TAXONOMY"
#: Taggers built by the fork server: (taxonomy path, its modification time, its size) -> tagger.
_PRELOADED_TAGGERS: dict[tuple[str, int, int], Tagger] = {}


def preload_tagger() -> None:
    """Build the tagger of the taxonomy the flow's process named, in the fork server
    (``flows.worker_preload``): each worker forked from it then has it at once, instead of
    reading the taxonomy and compiling its automaton at its start (0.25 CPU-s a worker)."""
    path = os.environ.get(_PRELOAD_TAXONOMY_ENV)
    stamp = _file_stamp(path) if path else None
    if path is None or stamp is None:
        return
    # A taxonomy that cannot be read is left to each worker, which says what is wrong.
    with suppress(Exception):
        _PRELOADED_TAGGERS[stamp] = Tagger(load_taxonomy(Path(path)))


def _file_stamp(path: str) -> tuple[str, int, int] | None:
    """What tells a file apart from an edited one; None when it cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return path, stat.st_mtime_ns, stat.st_size


# --- in the worker process ------------------------------------------------------------------

_worker_tagger: Tagger | None = None


def _init_worker(taxonomy: str, flow_process: int) -> None:
    global _worker_tagger
    # Built in the fork server when it is this taxonomy, not edited since (preload_tagger).
    stamp = _file_stamp(taxonomy)
    preloaded = _PRELOADED_TAGGERS.get(stamp) if stamp is not None else None
    _worker_tagger = preloaded or Tagger(load_taxonomy(Path(taxonomy)))
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
