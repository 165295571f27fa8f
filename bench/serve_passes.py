"""Passes through a real ``vigie serve``: what a served run costs after the first.

    python bench/serve_passes.py [--root CHECKOUT] [--runs N] [--result FILE]

On the quick corpus (40 feeds x 25 items, served on loopback) and a ``prefect server`` of its
own, starts ``vigie serve`` from ``--root`` (default: this checkout; another checkout
measures its ``serve`` the same way) with a poll every second, then creates monitor runs of
the served deployment one after another:

    run 1: the first 20 feeds are in the database: 500 items, the first run of serve
    (the other 20 feeds are added)
    run 2: their 500 new items, and 20 unchanged feeds
    runs 3..N: every feed unchanged (304)

For each run: seconds from its creation to its final state (poll wait included), its
Running time as the API recorded it, and the CPU seconds of serve and every process below it
(finished children included once reaped; the Prefect server's are not counted).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from bench.corpus import CorpusSpec, build, write
from bench.corpus_text import OUTLETS
from bench.harness import (
    free_port,
    loopback_hosts,
    prefect_server,
    served_corpus,
    vigie_env,
)

ROOT = Path(__file__).resolve().parent.parent
FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid``, its reaped children, and every live process below it,
    whichever of its threads started them (Linux /proc)."""
    total, pending, seen = 0.0, [pid], {pid}
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS
        if current == pid:
            total += (int(fields[13]) + int(fields[14])) / _TICKS  # reaped children
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            pending.extend(children - seen)
            seen |= children
    return total


def _http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    for _ in range(60):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code != 503:  # the server's SQLite is busy: ask again
                raise
            time.sleep(0.5)
    raise TimeoutError(f"{url} answered 503 for 30 s")


def _add_feeds(env: dict[str, str], root: Path, feeds: list[dict[str, Any]]) -> None:
    """Add ``feeds`` to the database, in a process of the measured checkout."""
    code = (
        "import json, sys\n"
        "from datetime import UTC, datetime\n"
        "from db import repo\n"
        "from flows import context\n"
        "context.ensure_schema()\n"
        "specs = [repo.FeedSpec(f['url'], f['name'], f['language']) for f in json.loads(sys.argv[1])]\n"  # noqa: E501
        "with context.sessions().begin() as session:\n"
        "    repo.add_feeds(session, specs, datetime.now(UTC))\n"
    )
    subprocess.run([sys.executable, "-c", code, json.dumps(feeds)], env=env, cwd=root, check=True)


def _monitor_deployment(api: str, serve: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise RuntimeError(f"vigie serve exited with {serve.returncode}")
        named = {d["name"]: d for d in _http(f"{api}/deployments/filter", {})}
        if "monitor-feeds" in named and "reprocess" in named:  # the first and the last
            return str(named["monitor-feeds"]["id"])
        time.sleep(0.5)
    raise TimeoutError("vigie serve did not register its deployments")


def _one_run(api: str, deployment: str, serve: subprocess.Popen[bytes]) -> dict[str, Any]:
    cpu, started = tree_cpu_seconds(serve.pid), time.perf_counter()
    parameters = {"due_only": False, "fetch_pages": False}
    run = _http(f"{api}/deployments/{deployment}/create_flow_run", {"parameters": parameters})
    while (flow_run := _http(f"{api}/flow_runs/{run['id']}"))["state"]["type"] not in FINAL:
        time.sleep(0.1)
    wall = time.perf_counter() - started
    time.sleep(1.5)  # a run in a process of its own is reaped, its CPU then counted
    began, ended = (datetime.fromisoformat(flow_run[k]) for k in ("start_time", "end_time"))
    return {
        "state": flow_run["state"]["type"],
        "created_to_final_seconds": wall,
        "running_seconds": (ended - began).total_seconds(),
        "serve_tree_cpu_seconds": tree_cpu_seconds(serve.pid) - cpu,
        "load_average": os.getloadavg()[0],
    }


def measure(root: Path, runs: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        hosts = loopback_hosts(len(OUTLETS))
        port = free_port(hosts[0])
        write(build(CorpusSpec(40, 25, 1, port, tuple(hosts))), tmp / "corpus")
        feeds = json.loads((tmp / "corpus" / "manifest.json").read_text())["feeds"]
        with (
            served_corpus(tmp / "corpus", hosts, port),
            prefect_server(tmp / "prefect-server", tmp / "prefect-server.log") as server,
        ):
            env = vigie_env(
                tmp,
                server.api_url,
                tmp / "prefect-client",
                {"PREFECT_RUNNER_POLL_FREQUENCY": "1", "PYTHONPATH": str(root)},
            )
            _add_feeds(env, root, feeds[:20])
            with (tmp / "serve.log").open("wb") as log:
                serve = subprocess.Popen(
                    [sys.executable, "-m", "cli.app", "serve"],
                    env=env,
                    cwd=root,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                deployment = _monitor_deployment(server.api_url, serve)
                results = []
                for number in range(1, runs + 1):
                    if number == 2:
                        _add_feeds(env, root, feeds[20:])
                    results.append({"run": number, **_one_run(server.api_url, deployment, serve)})
                    print(json.dumps(results[-1]), flush=True)
            finally:
                serve.send_signal(signal.SIGTERM)
                serve.wait(60)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Runs through a real `vigie serve`.")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose serve runs")
    parser.add_argument("--runs", type=int, default=4, help="runs (at least 2)")
    parser.add_argument("--result", type=Path, help="write the runs' numbers here (JSON)")
    args = parser.parse_args(argv)
    results = measure(args.root.resolve(), max(2, args.runs))
    if args.result:
        args.result.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
