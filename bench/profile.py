"""Where does the feed-only pass spend its time? ``monitor_feeds`` under pyinstrument.

    python bench/profile.py [--feeds 40 --items 25] [--top 15] [--html FILE] [--rerun] [--pages]

Same set-up as ``bench/run.py`` (generated corpus served on loopback from a child process, a
``prefect server`` started once), but the flow runs in this process, under the sampling
profiler. It prints the top functions by own time (time with the function itself on top of
the stack), own time summed by package, and the inclusive time of Vigie's main steps.

This process's main thread is sampled, and the threads that store feeds or read documents
in this process (a small pass); the worker processes and the Prefect server's work
(recording task runs) happen in their own processes and show here only as waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # bench/ must leave the path: this file is named profile.py, like a standard module.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.corpus import CorpusSpec, build, write
from bench.corpus_text import OUTLETS
from bench.harness import (
    PREFECT_QUIET,
    free_port,
    loopback_hosts,
    prefect_server,
    served_corpus,
)

#: Vigie functions whose inclusive time is worth a line of its own.
STEPS = (
    "feeds_to_poll",
    "fetch_feed",
    "fetch",
    "parse_feeds",
    "parse_feed",
    "intents_from_feed",
    "html_to_text",
    "detect_language",
    "tag",
    "fetch_pages_task",
    "extract_article",
    "with_page",
    "store_feeds",
    "store_articles",
    "_insert_fresh",
    "assign_fresh",
    "add_evidence",
    "_alert_new_relevant",
    "record_poll",
    "record_polls",
    "sync_tags",
    "publish_artifacts",
)


def _set_environment(workdir: Path, api_url: str) -> None:
    """Settings for the in-process flow, set before Prefect or Vigie read them."""
    for name in [n for n in os.environ if n.startswith(("VIGIE_", "PREFECT_"))]:
        del os.environ[name]
    os.environ.update(PREFECT_QUIET)
    os.environ.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(workdir / "prefect-client"),
            "VIGIE_DATABASE_URL": f"sqlite:///{workdir / 'vigie.db'}",
            "VIGIE_DATA_DIR": str(workdir / "data"),
            "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.0/8",
        }
    )


def _add_feeds(manifest: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from db import repo
    from flows import context

    context.reset()
    context.ensure_schema()
    specs = [repo.FeedSpec(f["url"], f["name"], f["language"]) for f in manifest["feeds"]]
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))


def profile_flow(
    html: Path | None, rerun: bool, pages: bool
) -> tuple[Any, float, dict[str, object]]:
    """(pyinstrument session, wall seconds, counts) of one pass (feed-only unless ``pages``);
    with ``rerun``, of a second pass over unchanged feeds (the first runs unprofiled)."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
    from pyinstrument.session import Session

    from flows.monitor import monitor_feeds, run_monitor

    kwargs: dict[str, Any] = {"due_only": False}
    if "fetch_pages" in inspect.signature(monitor_feeds.fn).parameters:
        kwargs["fetch_pages"] = pages  # the setting defaults to fetching them
    elif pages:
        raise SystemExit("monitor_feeds has no fetch_pages parameter: no page stage to profile")
    if rerun:
        asyncio.run(run_monitor(**kwargs))
    # Sampling the plain stack (async_mode="disabled") charges time spent waiting for
    # sockets to the event loop's select(), which is what it is.
    profiler = Profiler(interval=0.001, async_mode="disabled")
    started = time.perf_counter()
    with _profiling_store_threads() as store_sessions:
        profiler.start()
        counts = asyncio.run(run_monitor(**kwargs))
        profiler.stop()
    wall = time.perf_counter() - started
    session = profiler.last_session
    for store_session in store_sessions:
        session = Session.combine(session, store_session)
    if html is not None:
        html.write_text(HTMLRenderer().render(session))
        html.with_suffix(".txt").write_text(ConsoleRenderer(show_all=False).render(session))
    return session, wall, counts


@contextmanager
def _profiling_store_threads() -> Iterator[list[Any]]:
    """Profile each feed's store run in a thread, and each document a small pass reads in
    its own process (``CpuPool.taking_turns``, in a thread too), which pyinstrument's sampler
    of the main thread does not see; yields the list their sessions are added to."""
    from pyinstrument import Profiler

    from flows import monitor
    from flows.cpu import CpuPool

    sessions: list[Any] = []
    originals = {name: getattr(monitor, name) for name in ("_store_isolated", "_record_polls")}
    read_here = CpuPool.taking_turns
    # A store run goes through ``taking_turns`` too: one profiler a thread at a time.
    profiled_thread = threading.local()

    def profiling(store: Any) -> Any:
        def profiled(*args: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                return store(*args)  # stored inline (polls only): the main profile has it
            if getattr(profiled_thread, "busy", False):
                return store(*args)
            profiler = Profiler(interval=0.001, async_mode="disabled")
            profiled_thread.busy = True
            profiler.start()
            try:
                return store(*args)
            finally:
                sessions.append(profiler.stop())
                profiled_thread.busy = False

        return profiled

    for name, store in originals.items():
        setattr(monitor, name, profiling(store))
    CpuPool.taking_turns = profiling(read_here)  # type: ignore[method-assign]
    try:
        yield sessions
    finally:
        for name, store in originals.items():
            setattr(monitor, name, store)
        CpuPool.taking_turns = read_here  # type: ignore[method-assign]


def _frames(frame: Any) -> Iterator[Any]:
    stack = [frame]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def own_times(root: Any) -> dict[tuple[str, str, int], float]:
    """Own time per (function, file, line), synthetic frames folded into their parent."""
    totals: dict[tuple[str, str, int], float] = defaultdict(float)
    for frame in _frames(root):
        if frame.is_synthetic:
            continue
        key = (frame.function, frame.file_path_short or "?", frame.line_no or 0)
        totals[key] += frame.total_self_time
    return totals


def _package(path: str) -> str:
    parts = Path(path).parts
    for marker in ("site-packages", "lib"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            if rest and not rest[0].startswith("python3"):
                return rest[0].removesuffix(".py")
    return parts[0].removesuffix(".py") if parts else "?"


def by_package(own: dict[tuple[str, str, int], float]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for (_, path, _), seconds in own.items():
        totals[_package(path)] += seconds
    return totals


def step_times(root: Any) -> dict[str, float]:
    """Inclusive time of each of ``STEPS`` (outermost calls only, so recursion counts once)."""
    totals: dict[str, float] = defaultdict(float)

    def walk(frame: Any, active: frozenset[str]) -> None:
        name = frame.function
        counted = name in STEPS and name not in active
        if counted:
            totals[name] += frame.time
        for child in frame.children:
            walk(child, active | {name} if counted else active)

    walk(root, frozenset())
    return totals


def report(session: Any, wall: float, counts: dict[str, object], top: int) -> None:
    root = session.root_frame()
    own = own_times(root)
    total = sum(own.values())
    sampled = "main thread + store and read threads"
    print(f"\nthe pass: {wall:.2f} s wall, {total:.2f} s sampled ({sampled})")
    print(f"counts: {counts}\n")
    print(f"top {top} by own time")
    print(f"{'own s':>8} {'%':>6}  function  (file:line)")
    for (function, path, line), seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{seconds:8.2f} {100 * seconds / total:6.1f}  {function}  ({path}:{line})")
    print("\nown time by package")
    for package, seconds in sorted(by_package(own).items(), key=lambda kv: -kv[1])[:12]:
        print(f"{seconds:8.2f} {100 * seconds / total:6.1f}  {package}")
    print("\ninclusive time of Vigie's steps")
    for name, seconds in sorted(step_times(root).items(), key=lambda kv: -kv[1]):
        print(f"{seconds:8.2f} {100 * seconds / total:6.1f}  {name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile Vigie's feed-only pass.")
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    parser.add_argument(
        "--rerun", action="store_true", help="profile a second pass with nothing changed"
    )
    parser.add_argument("--pages", action="store_true", help="profile the full pipeline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vigie-profile-") as tmp_name:
        tmp = Path(tmp_name)
        hosts = loopback_hosts(len(OUTLETS))
        port = free_port(hosts[0])
        spec = CorpusSpec(args.feeds, args.items, args.seed, port, tuple(hosts))
        manifest = write(build(spec), tmp / "corpus", pages=args.pages)
        with (
            served_corpus(tmp / "corpus", hosts, port),
            prefect_server(tmp / "prefect-server", tmp / "prefect-server.log") as server,
        ):
            print(f"prefect server up in {server.start_seconds:.1f} s")
            _set_environment(tmp, server.api_url)
            _add_feeds(manifest)
            session, wall, counts = profile_flow(args.html, args.rerun, args.pages)
    report(session, wall, counts, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
