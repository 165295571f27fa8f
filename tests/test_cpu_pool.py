"""The worker processes that parse feeds and extract pages (``flows.cpu``): real processes.

They must give what the flow's own process gives, turn a dead worker into a readable error
for the documents it held, and never outlive the process that started them.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from db.intents import ArticleIntent, FeedForUpdate, RecheckTarget
from flows import cpu
from flows.cpu import (
    CpuPool,
    ParsedFeed,
    page_intent,
    page_intents,
    parse_feed_document,
    recheck_intent,
)
from parsers.dedup import sketch
from parsers.exceptions import ParseError
from parsers.tagging import Tagger

ROOT = Path(__file__).resolve().parent.parent
TAXONOMY = ROOT / "seeds" / "taxonomy.toml"
FEEDS = Path(__file__).resolve().parent / "feeds"
PAGES = sorted((Path(__file__).resolve().parent / "pages").glob("*.html"))
FEED = FeedForUpdate(
    id=1,
    url="https://news.example/rss",
    name="news.example",
    language=None,
    etag=None,
    last_modified=None,
    body_hash=None,
    interval_minutes=None,
    health="healthy",
    consecutive_failures=0,
    failure_weight=0.0,
)
HEADERS = {"content-type": "application/rss+xml"}


async def _parse_all(pool: CpuPool, tagger: Tagger) -> list[ParsedFeed]:
    async with pool:
        jobs = [
            pool.parse(FEED, FEED.url, path.read_bytes(), HEADERS, tagger)
            for path in sorted(FEEDS.iterdir())
        ]
        return list(await asyncio.gather(*jobs))


def test_workers_give_what_the_flow_process_gives(tagger: Tagger) -> None:
    in_workers = asyncio.run(_parse_all(CpuPool(2, TAXONOMY), tagger))
    in_process = asyncio.run(_parse_all(CpuPool(0, TAXONOMY), tagger))
    expected = [
        parse_feed_document(FEED, FEED.url, path.read_bytes(), HEADERS, tagger)
        for path in sorted(FEEDS.iterdir())
    ]
    assert in_workers == in_process == expected
    assert sum(len(parsed.intents) for parsed in expected) > 0


def _target(page: Path) -> RecheckTarget:
    url = f"https://news.example/{page.stem}"
    return RecheckTarget(1, url, "news.example", None, None, None, None)


async def _recheck_all(pool: CpuPool, tagger: Tagger) -> list[object]:
    async with pool:
        jobs = [
            pool.recheck(_target(page), _target(page).url, page.read_bytes(), {}, tagger)
            for page in PAGES
        ]
        return list(await asyncio.gather(*jobs, return_exceptions=True))


def test_rechecked_pages_come_back_from_workers_as_from_the_flow_process(
    tagger: Tagger,
) -> None:
    in_workers = asyncio.run(_recheck_all(CpuPool(2, TAXONOMY), tagger))
    expected = [
        recheck_intent(_target(page), _target(page).url, page.read_bytes(), {}, tagger)
        for page in PAGES
    ]
    assert in_workers == expected
    assert len(expected) >= 8 and all(intent.text and intent.raw_compressed for intent in expected)


def test_relevant_intents_come_with_the_sketch_of_their_own_text(tagger: Tagger) -> None:
    parsed = asyncio.run(_parse_all(CpuPool(2, TAXONOMY), tagger))
    rechecked = asyncio.run(_recheck_all(CpuPool(2, TAXONOMY), tagger))
    intents = [intent for feed in parsed for intent in feed.intents]
    intents += [intent for intent in rechecked if isinstance(intent, ArticleIntent)]
    relevant = [intent for intent in intents if intent.tags.relevant]
    assert relevant and len(relevant) < len(intents)
    assert all(i.sketch == sketch(i.text, i.content_hash) for i in relevant)
    assert all(intent.sketch is None for intent in intents if not intent.tags.relevant)


def test_a_page_brings_the_sketch_of_its_own_text(tagger: Tagger) -> None:
    news = (FEEDS / "news.rss").read_bytes()
    summary = next(
        intent
        for intent in parse_feed_document(FEED, FEED.url, news, HEADERS, tagger).intents
        if intent.sketch is not None
    )
    paged = [page_intent(summary, summary.url, page.read_bytes(), {}, tagger) for page in PAGES]
    replaced = [intent for intent in paged if intent.origin == "page"]
    assert replaced and all(intent.text != summary.text for intent in replaced)
    for intent in paged:  # pages, and summaries kept when a page is distrusted
        expected = sketch(intent.text, intent.content_hash) if intent.tags.relevant else None
        assert intent.sketch == expected


# A main module as the flow's process has one, then a driver that asks a worker what it loaded.
_DRIVER = """
if __name__ == "__main__":
    import asyncio
    import json
    import sys
    from pathlib import Path

    from flows.cpu import CpuPool

    import probe

    async def ask() -> list[str]:
        async with CpuPool(1, Path(sys.argv[1])) as pool:
            return await pool._run(probe.loaded_modules, None)

    print(json.dumps(asyncio.run(ask())))
"""
_PROBE = "import sys\n\ndef loaded_modules(_tagger):\n    return sorted(sys.modules)\n"
_VIGIE = entry_points(group="console_scripts")["vigie"]


@pytest.mark.parametrize(
    "main_imports",
    [
        # the installed `vigie` script, once it runs a command (`vigie monitor`, and the runs
        # `vigie serve` starts): its entry point, and the command line it then loads
        f"from {_VIGIE.module} import {_VIGIE.attr}\nimport cli.app",
        # what a Prefect worker's flow-run process runs (`python -m prefect.engine`)
        "import prefect.engine",
    ],
)
def test_workers_do_not_load_the_main_module_of_the_flow_process(
    tmp_path: Path, main_imports: str
) -> None:
    (tmp_path / "probe.py").write_text(_PROBE)
    script = tmp_path / "main.py"
    script.write_text(f"{main_imports}\n{_DRIVER}")
    done = subprocess.run(
        [sys.executable, str(script), str(TAXONOMY)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    modules = set(json.loads(done.stdout))
    assert "flows.cpu" in modules  # the answer came from a worker
    assert not {"prefect", "sqlalchemy", "typer"} & modules


def test_documents_in_flight_when_a_worker_dies_are_tried_again(tagger: Tagger) -> None:
    news = (FEEDS / "news.rss").read_bytes()

    async def scenario() -> int:
        async with CpuPool(1, TAXONOMY) as pool:
            await pool.parse(FEED, FEED.url, b"<rss/>", HEADERS, tagger)  # starts the worker
            assert pool._pool is not None
            [worker] = pool._pool._processes  # pid -> process
            os.kill(worker, signal.SIGKILL)
            parsed = await pool.parse(FEED, FEED.url, news, HEADERS, tagger)
            return len(parsed.intents)

    assert asyncio.run(scenario()) > 0


def test_workers_started_ahead_are_the_ones_that_parse(tagger: Tagger) -> None:
    news = (FEEDS / "news.rss").read_bytes()

    async def scenario() -> tuple[set[int], set[int], int]:
        async with CpuPool(2, TAXONOMY) as pool:
            await pool.start()
            assert pool._pool is not None
            started = set(pool._pool._processes)
            parsed = await pool.parse(FEED, FEED.url, news, HEADERS, tagger)
            return started, set(pool._pool._processes), len(parsed.intents)

    started, after, intents = asyncio.run(scenario())
    assert len(started) == 2 and after == started and intents > 0


def test_a_run_reads_small_work_itself_and_starts_workers_once_worth_it(
    tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``start_when_worth_it``, documents are read in the run's process (no worker
    started) until they add up to ``WORKERS_WORTH_BYTES``; then the workers start, and the
    documents after them go to the workers."""
    news = (FEEDS / "news.rss").read_bytes()
    monkeypatch.setattr(cpu, "WORKERS_WORTH_BYTES", 3 * len(news))
    expected = parse_feed_document(FEED, FEED.url, news, HEADERS, tagger)

    async def scenario() -> tuple[list[ParsedFeed], bool, set[int], bool]:
        async with CpuPool(2, TAXONOMY) as pool:
            pool.start_when_worth_it()
            read = [await pool.parse(FEED, FEED.url, news, HEADERS, tagger) for _ in range(2)]
            none_started = pool._pool is None
            read.append(await pool.parse(FEED, FEED.url, news, HEADERS, tagger))  # worth it now
            assert pool._starting is not None
            await asyncio.to_thread(pool._starting.join)
            assert pool._pool is not None
            workers = set(pool._pool._processes)
            read.append(await pool.parse(FEED, FEED.url, news, HEADERS, tagger))
            to_workers = not pool._read_here(len(news)) and set(pool._pool._processes) == workers
            return read, none_started, workers, to_workers

    read, none_started, workers, to_workers = asyncio.run(scenario())
    assert none_started and len(workers) == 2 and to_workers
    assert read == [expected] * 4


def test_workers_to_keep_start_with_the_first_document_and_serve_the_next_run(
    tagger: Tagger,
) -> None:
    """Kept workers are started once for all the runs of the process: a run starts them with
    its first document, however little it has to read, and reads here until they are up."""
    news = (FEEDS / "news.rss").read_bytes()
    pool = CpuPool(1, TAXONOMY, keep=True)

    async def one_run() -> ParsedFeed:
        async with pool:
            pool.start_when_worth_it()
            return await pool.parse(FEED, FEED.url, news, HEADERS, tagger)

    try:
        first = asyncio.run(one_run())
        assert pool._starting is not None
        pool._starting.join()
        assert pool._up and pool._pool is not None
        workers = set(pool._pool._processes)
        second = asyncio.run(one_run())
        assert set(pool._pool._processes) == workers and len(workers) == 1
    finally:
        pool.close()
    assert first == second == parse_feed_document(FEED, FEED.url, news, HEADERS, tagger)


def test_a_document_as_big_as_the_workers_start_is_worth_goes_to_a_worker(
    tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However small the run's work so far, a big document is read in a worker, which a
    document that exhausts memory kills instead of the run's process."""
    news = (FEEDS / "news.rss").read_bytes()
    monkeypatch.setattr(cpu, "WORKERS_WORTH_BYTES", len(news))

    async def scenario() -> bool:
        async with CpuPool(1, TAXONOMY) as pool:
            pool.start_when_worth_it()
            await pool.parse(FEED, FEED.url, news, HEADERS, tagger)
            return pool._pool is not None and len(pool._pool._processes) == 1

    assert asyncio.run(scenario())


def test_pages_as_big_as_the_workers_start_is_worth_go_to_a_worker_whatever_they_weigh(
    tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's bytes weigh a third in the run's count, but the rule that keeps big documents
    out of the run's process counts every byte."""
    news = (FEEDS / "news.rss").read_bytes()
    summary = parse_feed_document(FEED, FEED.url, news, HEADERS, tagger).intents[0]
    page = PAGES[0].read_bytes()
    monkeypatch.setattr(cpu, "WORKERS_WORTH_BYTES", len(page))

    async def scenario() -> tuple[bool, list[ArticleIntent | ParseError]]:
        async with CpuPool(1, TAXONOMY) as pool:
            pool.start_when_worth_it()
            read = await pool.pages([(summary, summary.url, page, {})], tagger)
            return pool._pool is not None and len(pool._pool._processes) == 1, read

    in_a_worker, read = asyncio.run(scenario())
    assert in_a_worker
    assert read == [page_intent(summary, summary.url, page, {}, tagger)]


def test_a_run_that_extracts_pages_waits_for_its_workers_once_they_are_worth_it(
    tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``start_when_worth_it(pages=True)`` a small run reads here as any other, but
    once its documents make the workers worth starting, the next ones wait for them
    instead of being read here while they start: read here, they slowed the fetching of
    the pages the workers then waited for. The pool's next run decides again."""
    news = (FEEDS / "news.rss").read_bytes()
    monkeypatch.setattr(cpu, "WORKERS_WORTH_BYTES", 2 * len(news))
    expected = parse_feed_document(FEED, FEED.url, news, HEADERS, tagger)
    pool = CpuPool(1, TAXONOMY)

    async def one_run() -> tuple[list[ParsedFeed], bool, bool]:
        async with pool:
            pool.start_when_worth_it(pages=True)
            read = [await pool.parse(FEED, FEED.url, news, HEADERS, tagger)]
            first_read_here = pool._pool is None
            read.append(await pool.parse(FEED, FEED.url, news, HEADERS, tagger))  # worth it
            # Read by a worker, so only once the workers were up.
            second_waited = pool._up
            return read, first_read_here, second_waited

    try:
        read, first_read_here, second_waited = asyncio.run(one_run())
        assert not pool._all_to_workers  # reset when the run left
    finally:
        pool.close()
    assert first_read_here and second_waited
    assert read == [expected] * 2


def test_work_read_in_the_run_process_and_work_taking_turns_never_overlap(
    tagger: Tagger,
) -> None:
    spans: list[tuple[float, float]] = []

    def busy(_tagger: object = None) -> None:
        began = time.perf_counter()
        while time.perf_counter() < began + 0.05:
            pass
        spans.append((began, time.perf_counter()))

    async def scenario() -> bool:
        async with CpuPool(2, TAXONOMY) as pool:
            pool.start_when_worth_it()
            read = [pool._run(busy, tagger) for _ in range(3)]
            stored = [asyncio.to_thread(pool.taking_turns, busy) for _ in range(3)]
            await asyncio.gather(*read, *stored)
            return pool._pool is None

    assert asyncio.run(scenario())  # read in this process: no worker started
    spans.sort()
    assert len(spans) == 6
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(spans))


_PRELOAD_PROBE = """
import asyncio, json, os, shutil, sys
from pathlib import Path
from flows.cpu import CpuPool

# In a worker: whether its tagger is the one its fork server built.
PRELOADED = (
    "(lambda c: c._worker_tagger is not None and "
    "any(t is c._worker_tagger for t in c._PRELOADED_TAGGERS.values()))"
    "(__import__('flows.cpu', fromlist=['cpu']))"
)

async def answers(taxonomy):
    async with CpuPool(2, taxonomy) as pool:
        await pool.start()
        return [await pool._submit(eval, PRELOADED) for _ in range(4)]

taxonomy = Path(sys.argv[2]) / "taxonomy.toml"
shutil.copy(sys.argv[1], taxonomy)
first = asyncio.run(answers(taxonomy))
os.utime(taxonomy, ns=(0, 0))  # edited since the fork server read it
second = asyncio.run(answers(taxonomy))
print(json.dumps([first, second]))
"""


def test_workers_have_the_tagger_their_fork_server_built_unless_the_file_changed(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PRELOAD_PROBE, str(TAXONOMY), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "_VIGIE_WORKER_TAXONOMY"},
        check=True,
    )
    first, second = json.loads(done.stdout)
    assert first == [True] * 4  # built once, in the fork server
    assert second == [False] * 4  # an edited taxonomy is read again by each worker


_FEEDS_FIRST_PROBE = """
import asyncio, pickle, sys
from pathlib import Path
from flows.cpu import CpuPool

LOADED = "'trafilatura' in __import__('sys').modules"
job, taxonomy, first_run = pickle.loads(Path(sys.argv[1]).read_bytes()), sys.argv[2], sys.argv[3]

async def runs():
    pool = CpuPool(2, Path(taxonomy), keep=True)
    try:
        async with pool:
            pool.start_when_worth_it(pages=first_run == "pages")
            await pool.start()
            before = [await pool._submit(eval, LOADED) for _ in range(4)]
        async with pool:  # a later run that reads a page, on the same workers
            pool.start_when_worth_it(pages=True)
            paged = await pool.pages([job], None)  # no tagger here: a worker's or a failure
        return before, paged
    finally:
        pool.close()

sys.stdout.buffer.write(pickle.dumps(asyncio.run(runs())))
"""


@pytest.mark.parametrize("first_run", ["feeds", "pages"])
def test_workers_first_started_for_feeds_only_load_page_extraction_when_a_page_comes(
    tmp_path: Path, first_run: str, tagger: Tagger
) -> None:
    news = (FEEDS / "news.rss").read_bytes()
    summary = parse_feed_document(FEED, FEED.url, news, HEADERS, tagger).intents[0]
    page = next(  # one that replaces the summary: read by trafilatura
        body
        for body in (path.read_bytes() for path in PAGES)
        if page_intent(summary, summary.url, body, {}, tagger).origin == "page"
    )
    job = tmp_path / "job.pickle"
    job.write_bytes(pickle.dumps((summary, summary.url, page, {})))
    done = subprocess.run(
        [sys.executable, "-c", _FEEDS_FIRST_PROBE, str(job), str(TAXONOMY), first_run],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "_VIGIE_WORKER_TAXONOMY"},
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    before, paged = pickle.loads(done.stdout)
    # A fork server started for a run that reads feeds only leaves trafilatura out.
    assert before == [first_run == "pages"] * 4
    # A later page is read in a worker (with its own tagger: the pool was given none), which
    # imports page extraction then if it has to: what this process reads.
    assert paged == [page_intent(summary, summary.url, page, {}, tagger)]
    assert paged[0].origin == "page"


def test_kept_workers_serve_the_next_runs_and_stop_when_told(
    vigie_env: pytest.MonkeyPatch, tagger: Tagger
) -> None:
    """With VIGIE_KEEP_WORKERS, a run leaves its workers to the next run of the process;
    without, each run stops its own."""
    from flows import context

    news = (FEEDS / "news.rss").read_bytes()
    vigie_env.setenv("VIGIE_CPU_WORKERS", "1")

    async def one_run() -> tuple[CpuPool, set[int]]:
        async with context.cpu_pool() as pool:
            parsed = await pool.parse(FEED, FEED.url, news, HEADERS, tagger)
            assert parsed.intents and pool._pool is not None
            return pool, set(pool._pool._processes)

    own, _ = asyncio.run(one_run())
    assert own._pool is None  # stopped with its run
    vigie_env.setenv("VIGIE_KEEP_WORKERS", "true")
    context.reset()
    first, first_workers = asyncio.run(one_run())
    second, second_workers = asyncio.run(one_run())

    assert second is first and second_workers == first_workers
    assert all(_running(pid) for pid in first_workers)
    context.reset()  # also what tests and settings changes do: stops kept workers
    assert first._pool is None and not any(_running(pid) for pid in first_workers)


def test_a_document_that_kills_its_worker_twice_fails_with_a_reason(tagger: Tagger) -> None:
    async def scenario() -> tuple[str, int]:
        async with CpuPool(1, TAXONOMY) as pool:
            with pytest.raises(ParseError) as failed:
                await pool._submit(os._exit, 9)  # stands for a page that exhausts memory
            again = await pool.parse(
                FEED, FEED.url, (FEEDS / "news.rss").read_bytes(), HEADERS, tagger
            )
            return str(failed.value), len(again.intents)

    reason, parsed = asyncio.run(scenario())
    assert "worker process reading this document died twice" in reason
    assert parsed > 0


POISON = "https://news.example/exhausts-memory"


class _PoisonedPagePool(CpuPool):
    """Kills its worker, twice, on any job holding the POISON page, as a page that exhausts
    memory would; the other jobs run as usual."""

    async def _run(self, function: Any, tagger: Tagger, *args: Any) -> Any:
        if function is page_intents and any(url == POISON for _, url, _, _ in args[0]):
            await self._submit(os._exit, 9)  # raises ParseError once the worker died twice
        return await super()._run(function, tagger, *args)


def test_a_page_that_kills_its_worker_fails_alone_and_its_feeds_other_pages_are_read(
    tagger: Tagger,
) -> None:
    news = (FEEDS / "news.rss").read_bytes()
    summary = parse_feed_document(FEED, FEED.url, news, HEADERS, tagger).intents[0]
    pages = [(summary, summary.url, page.read_bytes(), {}) for page in PAGES[:3]]
    poisoned = [*pages[:1], (summary, POISON, b"<html></html>", {}), *pages[1:]]

    async def scenario() -> list[ArticleIntent | ParseError]:
        async with _PoisonedPagePool(1, TAXONOMY) as pool:
            return await pool.pages(poisoned, tagger)

    read = asyncio.run(scenario())
    assert len(read) == 4
    failed = read.pop(1)
    assert isinstance(failed, ParseError)
    assert "worker process reading this document died twice" in str(failed)
    expected = [page_intent(*page, tagger) for page in pages]
    assert read == expected  # the same as read in this process, in the same order


_HOLDER = """
import asyncio, json, sys
from pathlib import Path
from db.intents import FeedForUpdate
from flows.cpu import CpuPool
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy

async def main():
    pool = CpuPool(2, Path(sys.argv[1]))
    feed = FeedForUpdate(1, "https://n.example/rss", "n", None, None, None, None, None,
                         "healthy", 0, 0.0)
    tagger = Tagger(load_taxonomy(Path(sys.argv[1])))
    await asyncio.gather(*(pool.parse(feed, feed.url, b"<rss/>", {}, tagger) for _ in range(4)))
    print(json.dumps(sorted(pool._pool._processes)), flush=True)
    await asyncio.sleep(600)  # killed before this ends

asyncio.run(main())
"""


def test_workers_exit_when_the_flow_process_is_killed() -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(TAXONOMY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    workers = json.loads(holder.stdout.readline())
    assert len(workers) == 2 and all(_running(pid) for pid in workers)
    holder.kill()  # SIGKILL: no shutdown, no atexit
    holder.wait()
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; its parent has yet to reap it
