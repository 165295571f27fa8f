"""How fast does the command line answer? Start-up of ``vigie --help`` and every reading command.

    python bench/cli_startup.py [--runs 9] [--json FILE]

1. Builds a small SQLite database in a temporary directory with the real executable: three
   article files imported (one of them imported again, edited, so that it has two versions
   for ``diff``) and two feeds added.
2. Runs each command ``--runs`` times as a person would (the installed ``vigie`` script, a
   new process each time, output to a pipe) and keeps the median wall time and the median
   CPU time (user + system) of the process.
3. Runs a peer the same way: ``python -m reader --help`` (lemon24/reader's command line, in
   the bench extra), else ``prefect --help``, and a bare ``python -c pass`` for the floor.

Prints one line per command with its ratio to the peer. The CPU time is the steadier figure
on a shared machine: the wall time grows with the load, the CPU time hardly does. The goal
(issue 25) is under 0.5 s wall on 2 cores for each reading command.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from bench.harness import clean_env

BIN = Path(sys.executable).parent
VIGIE = str(BIN / "vigie")

#: The commands measured: ``--help`` and each command that only reads the database (or, for
#: ``watch list``, the rules file).
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("articles",),
    ("show", "1"),
    ("diff", "1"),
    ("feeds", "list"),
    ("alerts", "list"),
    ("clusters",),
    ("figures",),
    ("search", "Ottawa"),
    ("watch", "list"),
)

_ARTICLE = """---
title: {title}
url: https://news.example.org/{slug}
date: 2026-11-{day:02d}
language: en
source: Example News
---
{body}
"""

_BODIES = (
    "Ottawa raised the permanent resident target to 395,000 for next year.\n\n"
    "Employers said the change would help fill jobs in health care.",
    "Quebec will cap temporary foreign workers in Montreal for another six months.\n\n"
    "The province said the pause applies to low-wage positions only.",
    "Study permit applications fell by a third after the national cap took effect.\n\n"
    "Colleges in Ontario reported the steepest drop.",
)


def build_database(workdir: Path, env: dict[str, str]) -> None:
    """The small database every reading command then reads."""
    files = workdir / "articles"
    files.mkdir()
    for n, body in enumerate(_BODIES, start=1):
        text = _ARTICLE.format(title=f"Article {n}", slug=f"a{n}", day=n, body=body)
        (files / f"a{n}.md").write_text(text, encoding="utf-8")
    _vigie(env, workdir, "init", "--no-curated")
    _vigie(env, workdir, "import", str(files))
    edited = _BODIES[0].replace("395,000", "485,000") + "\n\nThe minister confirmed the figure."
    (files / "a1.md").write_text(
        _ARTICLE.format(title="Article 1", slug="a1", day=1, body=edited), encoding="utf-8"
    )
    _vigie(env, workdir, "import", str(files / "a1.md"))
    for host in ("one", "two"):
        _vigie(env, workdir, "feeds", "add", f"https://{host}.example.org/feed.xml")


def _vigie(env: dict[str, str], cwd: Path, *args: str) -> None:
    done = subprocess.run([VIGIE, *args], env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"vigie {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")


def measure(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> dict[str, float]:
    """Median wall and CPU seconds of ``argv`` over ``runs`` runs (after one warm-up run)."""
    walls: list[float] = []
    cpus: list[float] = []
    for attempt in range(runs + 1):
        before = os.times()
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True)
        wall = time.perf_counter() - start
        after = os.times()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr!r}")
        if attempt == 0:
            continue  # the first run reads the files from disk into the page cache
        walls.append(wall)
        cpus.append(
            (after.children_user - before.children_user)
            + (after.children_system - before.children_system)
        )
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


def peer() -> tuple[str, list[str]]:
    """lemon24/reader's command line if installed (the bench extra), else Prefect's."""
    if importlib.util.find_spec("reader") is not None:
        return "python -m reader --help", [sys.executable, "-m", "reader", "--help"]
    return "prefect --help", [str(BIN / "prefect"), "--help"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command (median)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vigie-cli-bench-") as tmp:
        workdir = Path(tmp)
        env = clean_env({"VIGIE_DATABASE_URL": f"sqlite:///{workdir / 'vigie.db'}"})
        env.pop("PYTHONPATH")  # the installed script, as a person runs it
        build_database(workdir, env)
        peer_name, peer_argv = peer()
        results: dict[str, Any] = {
            "runs": args.runs,
            "load_average": os.getloadavg(),
            "python -c pass": measure([sys.executable, "-c", "pass"], env, workdir, args.runs),
            peer_name: measure(peer_argv, env, workdir, args.runs),
            "commands": {},
        }
        for command in COMMANDS:
            name = "vigie " + " ".join(command)
            results["commands"][name] = measure([VIGIE, *command], env, workdir, args.runs)
        results["load_average_after"] = os.getloadavg()

    reference = results[peer_name]
    print(f"median of {args.runs} runs; load average {results['load_average'][0]:.1f}")
    print(f"{'command':<24} {'wall s':>7} {'cpu s':>7} {'wall vs peer':>13}")
    rows = [
        ("python -c pass", results["python -c pass"]),
        (peer_name, reference),
        *results["commands"].items(),
    ]
    for name, figures in rows:
        ratio = figures["wall_s"] / reference["wall_s"]
        print(f"{name:<24} {figures['wall_s']:>7.3f} {figures['cpu_s']:>7.3f} {ratio:>12.2f}×")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
