"""The child side of crash and concurrency trials: one Vigie pass in a process of its own.

A pass is the flows a scheduled deployment runs, in order: ``monitor_feeds`` (feeds, pages,
store), ``recheck_articles`` (pages again, versions), and a delivery pass over the outbox
(``deliver_due``, as the monitor flow's end of pass does). Each runs for real, against a
Prefect server, a database and loopback sites; the parent kills the process with SIGKILL
whenever it likes, or starts several at once.

Processes come from a ``forkserver`` that has already imported Vigie and Prefect
(``worker_context``): importing them costs seconds of CPU, which would otherwise decide where
the random kill lands and how far apart "simultaneous" runs really start.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

#: Imported once by the fork server, so that every worker starts warm.
PRELOAD = ["flows.monitor", "flows.recheck", "flows.alerts", "flows.channels", "bench.chaos_worker"]
#: The steps a pass may run, in this order.
STEPS = ("monitor", "recheck", "deliver")


@dataclass(frozen=True)
class Job:
    """What one worker process does."""

    #: ``VIGIE_*`` settings for the pass (database, allow-list, alert URLs...).
    env: Mapping[str, str]
    #: The Prefect API the flows report to.
    api_url: str
    #: Where the process writes its stdout and stderr (Prefect's logs included).
    log: str
    #: Where it writes its phase as it goes, then its results as JSON.
    status: str
    #: Working directory: Vigie reads a ``.env`` from it, so it must be the trial's own.
    cwd: str
    steps: tuple[str, ...] = STEPS
    #: The delivery pass pretends to run this much later: after a crash, a takeover needs
    #: the dead run's claims to have expired (``alert_claim_timeout_seconds``).
    deliver_later_s: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)


def worker_context() -> ForkServerContext:
    """A multiprocessing context whose processes fork from a warm, Vigie-importing server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def run_job(job: Job, start: Any = None) -> None:
    """Entry point of a worker process: wait at ``start`` (a Barrier), then run the pass."""
    _redirect_output(job.log)
    os.chdir(job.cwd)
    # The fork server copied the parent's environment; a stray VIGIE_* there would be refused
    # as an unknown setting or, worse, silently change the trial.
    for name in [n for n in os.environ if n.startswith("VIGIE_")]:
        del os.environ[name]
    os.environ.update(job.env)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows import context

    context.reset()
    results: dict[str, Any] = {"pid": os.getpid()}
    with temporary_settings({PREFECT_API_URL: job.api_url}):
        if start is not None:
            start.wait(timeout=120)
        results["started"] = time.time()
        for step in job.steps:
            _phase(job, step)
            began = time.perf_counter()
            results[step] = _run_step(step, job)
            results[f"{step}_seconds"] = round(time.perf_counter() - began, 3)
    results["finished"] = time.time()
    _write(job.status, {"phase": "done", **results})


def _redirect_output(path: str) -> None:
    # The fork server's descriptors are the parent's terminal; a trial's noise goes to a file.
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _phase(job: Job, step: str) -> None:
    _write(job.status, {"phase": step, "at": time.time()})


def _write(path: str, data: dict[str, Any]) -> None:
    # Write then rename: a kill between the two leaves the previous status whole.
    temporary = f"{path}.tmp"
    Path(temporary).write_text(json.dumps(data, default=str))
    os.replace(temporary, path)


def _run_step(step: str, job: Job) -> Any:
    if step == "monitor":
        from flows.monitor import run_monitor

        return asyncio.run(run_monitor(due_only=False))
    if step == "recheck":
        from flows.recheck import recheck_articles

        return asyncio.run(recheck_articles(due_only=False))
    if step == "deliver":
        return _deliver(job.deliver_later_s)
    raise ValueError(f"unknown step {step!r}")


def _deliver(later_s: float) -> dict[str, int]:
    from flows import context
    from flows.alerts import deliver_due

    context.ensure_schema()
    now = datetime.now(UTC) + timedelta(seconds=later_s)
    # Events are copies for automations; a trial has none listening.
    report = deliver_due(context.sessions(), now, emit=lambda _alert, _status: None)
    return report.as_counts()


def read_status(path: str | Path) -> dict[str, Any]:
    """What a worker wrote last: its phase while running, its results once done."""
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {"phase": "starting"}
    return data
