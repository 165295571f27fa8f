"""What starting the worker processes costs: the CPU seconds of the fork server (the parsers'
imports, the language model, the tagger) and of the workers, until every worker answered.

Each round runs in a fresh interpreter, as a run's first use of the pool does
(``CpuPool.start``), and prints the CPU of this process's descendants and the wall time.

    python bench/worker_start.py --rounds 5
    python bench/worker_start.py --rounds 3 --cold   # no cached language model yet
    python bench/worker_start.py --feeds-only        # for a run that reads no pages

``--cold`` gives each round an empty cache directory (``XDG_CACHE_HOME``): the first start
on a machine, which decompresses the packaged language model and caches it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one_start(workers: int, feeds_only: bool = False) -> tuple[float, float]:
    """(CPU seconds of the fork server and workers, wall seconds) of one start."""
    from bench.harness import tree_cpu_seconds
    from flows.cpu import CpuPool

    pool = CpuPool(workers, ROOT / "seeds" / "taxonomy.toml", keep=True)
    if feeds_only:
        pool.start_when_worth_it(pages=False)
    started = time.perf_counter()
    asyncio.run(pool.start())
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    tree = tree_cpu_seconds(os.getpid())
    pool.close()
    if tree is None:
        raise SystemExit("needs /proc")
    return tree - (usage.ru_utime + usage.ru_stime), wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="an empty cache each round")
    parser.add_argument(
        "--feeds-only", action="store_true", help="as a run that reads feeds only starts them"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        cpu, wall = one_start(args.workers, args.feeds_only)
        print(f"{cpu:.3f} {wall:.3f}")
        return 0
    cpus, walls = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache} if args.cold else None
            command = [sys.executable, __file__, "--one", "--workers", str(args.workers)]
            command += ["--feeds-only"] if args.feeds_only else []
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        cpu, wall = map(float, out.stdout.split())
        cpus.append(cpu)
        walls.append(wall)
        print(f"workers' start: {cpu:.3f} CPU-s, {wall:.2f} s wall")
    print(
        f"median of {args.rounds}: {statistics.median(cpus):.3f} CPU-s "
        f"({min(cpus):.3f}-{max(cpus):.3f}), {statistics.median(walls):.2f} s wall"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
