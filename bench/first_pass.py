"""What a first pass pays that a warm one does not, phase by phase, in CPU seconds.

    python bench/first_pass.py [--feeds 40 --items 25] [--rounds 3] [--root CHECKOUT ...]

One corpus served on loopback and one ``prefect server`` for the whole run, warmed up by two
empty flows first (its CPU for each is printed: a fresh server's first requests cost it more
than a long-running server's); each round is a
fresh process per checkout given (``--root``, several alternate: A, B, A, B ...; each runs
with its own ``.venv``), which measures in order, each on a fresh SQLite database:

- its imports (``flows.monitor``, ``db.repo``), and the schema's creation (Alembic);
- the schema on a second new database: what a process that already imported Alembic pays;
- with ``--noop``, two empty Prefect flows first: the first flow run of a process against
  the second (the run's process and the Prefect server);
- the first pass (``run_monitor`` in its own ``asyncio.run``, workers kept, as
  ``bench/run.py``'s first pass), then the warm pass (two passes in ``context.warm_loop`` on
  fresh databases, the second measured, as ``bench/run.py``'s second pass);
- for both passes: CPU of the process, of its worker processes, of the Prefect server, and
  every request sent to the Prefect API, by method and path.

Phases inside the first pass are timed where they run on one thread: the heap's freeze,
the tagger's build in this process, the worker pool's start (its CPU is the workers').
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


# --- the child: one process, measured -------------------------------------------------------


class ApiRequests:
    """Requests sent to the Prefect API from this process (asynchronous and synchronous
    httpx clients), by method and path with ids folded."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.counts: Counter[str] = Counter()

    def install(self) -> None:
        import httpx

        original_async, original_sync = httpx.AsyncClient.send, httpx.Client.send
        requests = self

        async def send_async(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            requests.seen(request)
            return await original_async(client, request, *args, **kwargs)

        def send_sync(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            requests.seen(request)
            return original_sync(client, request, *args, **kwargs)

        httpx.AsyncClient.send = send_async  # type: ignore[method-assign]
        httpx.Client.send = send_sync  # type: ignore[method-assign]

    def seen(self, request: Any) -> None:
        url = str(request.url)
        if not url.startswith(self.api_url):
            return
        path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", url[len(self.api_url) :])
        self.counts[f"{request.method} {path.split('?')[0]}"] += 1

    def since(self, before: Counter[str]) -> dict[str, int]:
        return dict(sorted((self.counts - before).items()))


@contextmanager
def _timed_calls(owner: Any, name: str, into: list[float]) -> Iterator[None]:
    """Add the CPU seconds of the calling thread in each call of ``owner.name`` to ``into``."""
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.thread_time() - started)

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


def warm_server(server_pid: int) -> dict[str, float]:
    """An empty flow with a parameter, twice, before any round: the fresh server's first
    requests cost it more than later ones (each round should meet the server as a
    long-running one is); the server's CPU for each is returned."""
    from prefect import flow

    from bench.harness import tree_cpu_seconds

    @flow(name="bench-warm-up", persist_result=False)
    async def warm_up(number: int) -> int:
        return number

    seconds = {}
    for name in ("server_first_flow", "server_second_flow"):
        before = tree_cpu_seconds(server_pid) or 0.0
        asyncio.run(warm_up(1))
        time.sleep(1)  # what the server does once the run has ended (events) counts too
        seconds[name] = (tree_cpu_seconds(server_pid) or 0.0) - before - _idle(server_pid)
    return seconds


def _idle(server_pid: int, seconds: float = 1.0) -> float:
    """The server's CPU over ``seconds`` of doing nothing for us (its own loops)."""
    from bench.harness import tree_cpu_seconds

    before = tree_cpu_seconds(server_pid) or 0.0
    time.sleep(seconds)
    return (tree_cpu_seconds(server_pid) or 0.0) - before


def child(corpus: Path, server_pid: int, api_url: str, noop: bool) -> dict[str, Any]:
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
    out: dict[str, Any] = {}
    cpu = _cpu()
    from bench.harness import DescendantSampler, tree_cpu_seconds
    from db import repo
    from flows import context
    from flows.monitor import run_monitor

    out["imports"] = _cpu() - cpu
    # What the server spends per second on its own loops, whoever uses it: part of any
    # pass's server CPU, in proportion to its wall time.
    out["server_idle_per_s"] = _idle(server_pid, 2.0) / 2.0
    requests = ApiRequests(api_url)
    requests.install()
    os.environ["VIGIE_KEEP_WORKERS"] = "1"
    context.reset()

    def fresh_database(name: str) -> float:
        """CPU seconds of the schema's creation on a new database ``name``."""
        os.environ["VIGIE_DATABASE_URL"] = "sqlite:///" + str(Path.cwd() / name)
        context.forget_database()
        started = _cpu()
        context.ensure_schema()
        return _cpu() - started

    from datetime import UTC, datetime

    feeds = json.loads((corpus / "manifest.json").read_text())["feeds"]
    specs = [repo.FeedSpec(f["url"], f["name"], f["language"]) for f in feeds]
    out["schema_first"] = fresh_database("first.db")
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))

    def measured(call: Callable[[], Any]) -> dict[str, Any]:
        before_requests = Counter(requests.counts)
        server = tree_cpu_seconds(server_pid) or 0.0
        with DescendantSampler() as workers:
            started, wall = _cpu(), time.perf_counter()
            call()
            wall, cpu = time.perf_counter() - wall, _cpu() - started
        return {
            "wall": wall,
            "process": cpu,
            "workers": workers.cpu_seconds,
            "server": (tree_cpu_seconds(server_pid) or 0.0) - server,
            "requests": requests.since(before_requests),
        }

    if noop:
        from prefect import flow

        @flow(name="bench-noop", persist_result=False)
        async def noop_flow() -> None:
            return None

        async def one_noop() -> None:
            async with context.prefect_clients():
                await noop_flow()

        out["noop_first"] = measured(lambda: asyncio.run(one_noop()))
        out["noop_second"] = measured(lambda: asyncio.run(one_noop()))

    from flows import cpu as cpu_module

    freeze: list[float] = []
    tagger: list[float] = []
    turns: Counter[str] = Counter()
    turn_counts: Counter[str] = Counter()
    taking_turns = cpu_module.CpuPool.taking_turns

    def timed_turn(pool: Any, function: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return taking_turns(pool, function, *args, **kwargs)
        finally:
            turns[function.__name__] += time.thread_time() - started
            turn_counts[function.__name__] += 1

    def first_pass() -> None:
        started = time.thread_time()
        asyncio.run(run_monitor(due_only=False, fetch_pages=False))
        out["first_main_thread"] = time.thread_time() - started

    cpu_module.CpuPool.taking_turns = timed_turn  # type: ignore[method-assign]
    with (
        _timed_calls(context, "freeze_startup_heap", freeze),
        _timed_calls(context, "_tagger_for", tagger),
    ):
        out["first"] = measured(first_pass)
    out["first_phases"] = {"freeze": sum(freeze), "tagger": sum(tagger), **turns}
    out["first_turns"] = dict(turn_counts)
    turns.clear()
    turn_counts.clear()

    async def warm() -> dict[str, Any]:
        async with context.warm_loop():
            await _warm_one("warm-1.db", specs, fresh_database)
            loop_result: dict[str, Any] = {}
            await _warm_one("warm-2.db", specs, fresh_database, measured_async(loop_result))
            return loop_result

    def measured_async(into: dict[str, Any]) -> Callable[[Any], Any]:
        async def run(coro_factory: Any) -> None:
            before_requests = Counter(requests.counts)
            server = tree_cpu_seconds(server_pid) or 0.0
            with DescendantSampler() as workers:
                turns.clear()
                turn_counts.clear()
                started, wall = _cpu(), time.perf_counter()
                main = time.thread_time()
                await coro_factory()
                into["main_thread"] = time.thread_time() - main
                wall, cpu = time.perf_counter() - wall, _cpu() - started
            into.update(
                wall=wall,
                process=cpu,
                workers=workers.cpu_seconds,
                server=(tree_cpu_seconds(server_pid) or 0.0) - server,
                requests=requests.since(before_requests),
            )

        return run

    out["warm"] = asyncio.run(warm())
    out["warm_phases"] = dict(turns)
    out["warm_turns"] = dict(turn_counts)
    out["schema_again"] = out.pop("_schema_again", None)
    context.reset()
    return out


async def _warm_one(
    name: str,
    specs: list[Any],
    fresh_database: Callable[[str], float],
    measure: Callable[[Any], Any] | None = None,
) -> None:
    from datetime import UTC, datetime

    from db import repo
    from flows import context
    from flows.monitor import monitor_feeds

    schema = fresh_database(name)
    if name == "warm-1.db":
        context_schema_again.append(schema)
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))
    if measure is None:
        await monitor_feeds(due_only=False, fetch_pages=False)
    else:
        await measure(lambda: monitor_feeds(due_only=False, fetch_pages=False))


#: The schema's creation on a new database by a process that has made one already.
context_schema_again: list[float] = []


# --- the parent: servers, rounds, report ----------------------------------------------------


def _round(root: Path, corpus: Path, server: Any, tmp: Path, noop: bool) -> dict[str, Any]:
    from bench.harness import clean_env

    workdir = Path(tempfile.mkdtemp(dir=tmp))
    python = root / ".venv" / "bin" / "python"
    env = clean_env(
        {
            "PYTHONPATH": str(root),
            "VIGIE_DATA_DIR": str(workdir / "data"),
            "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.0/8",
            "PREFECT_API_URL": server.api_url,
            "PREFECT_HOME": str(tmp / "prefect-client"),
        }
    )
    command = [str(python), str(Path(__file__).resolve()), "--child", str(corpus)]
    command += ["--server-pid", str(server.pid), "--api-url", server.api_url]
    command += ["--noop"] if noop else []
    done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-4000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _warm_up(root: Path, server: Any, tmp: Path) -> dict[str, float]:
    from bench.harness import clean_env

    env = clean_env(
        {"PYTHONPATH": str(root), "PREFECT_API_URL": server.api_url}
        | {"PREFECT_HOME": str(tmp / "prefect-client")}
    )
    command = [str(root / ".venv" / "bin" / "python"), str(Path(__file__).resolve())]
    command += ["--warm-server", "--server-pid", str(server.pid)]
    done = subprocess.run(command, env=env, cwd=tmp, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-4000:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _flat(result: dict[str, Any]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in result.items():
        if isinstance(value, dict):
            for inner, number in value.items():
                if isinstance(number, int | float):
                    flat[f"{key}.{inner}"] = number
                elif inner == "requests":
                    flat[f"{key}.api_requests"] = sum(number.values())
        elif isinstance(value, int | float):
            flat[key] = value
    return flat


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--noop", action="store_true", help="two empty flows before the pass")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warm_server:
        print(json.dumps(warm_server(args.server_pid)))
        return 0
    if args.child:
        result = child(args.child, args.server_pid, args.api_url, args.noop)
        result["schema_again"] = context_schema_again[0] if context_schema_again else None
        print(json.dumps(result))
        return 0

    sys.path.insert(0, str(ROOT))
    from bench.corpus import CorpusSpec, build, write
    from bench.corpus_text import OUTLETS
    from bench.harness import free_port, load_average, loopback_hosts, prefect_server, served_corpus

    roots = [r.resolve() for r in args.root or [ROOT]]
    results: dict[str, list[dict[str, float]]] = {str(r): [] for r in roots}
    with tempfile.TemporaryDirectory(prefix="vigie-first-pass-") as tmp_name:
        tmp = Path(tmp_name)
        hosts = loopback_hosts(len(OUTLETS))
        port = free_port(hosts[0])
        spec = CorpusSpec(args.feeds, args.items, 1, port, tuple(hosts))
        write(build(spec), tmp / "corpus")
        with (
            served_corpus(tmp / "corpus", hosts, port),
            prefect_server(tmp / "prefect-server", tmp / "prefect-server.log") as server,
        ):
            print("the server's first flows:", _warm_up(roots[0], server, tmp))
            for number in range(args.rounds):
                for root in roots:
                    load = load_average()
                    result = _round(root, tmp / "corpus", server, tmp, args.noop)
                    flat = _flat(result)
                    results[str(root)].append(flat)
                    print(f"round {number + 1} {root.name} (load {load}):")
                    print(json.dumps(result, indent=1))
    print("\nmedians (CPU seconds unless named)")
    keys = list(next(iter(results.values()))[0])
    header = "".join(f"{Path(r).name[:18]:>20}" for r in results)
    print(f"{'':34}{header}")
    for key in keys:
        cells = "".join(
            f"{statistics.median(run.get(key, float('nan')) for run in runs):20.3f}"
            for runs in results.values()
        )
        print(f"{key:34}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
