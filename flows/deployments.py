"""Vigie's deployments: which flows run on which schedule, in one list.

``vigie serve`` builds its deployments from ``DEPLOYMENTS``; ``deploy/prefect.yaml`` (for
workers) repeats them in YAML, and a test keeps the two in agreement. Change a schedule here
and in the YAML together.

Every schedule is in America/Toronto time, so "07:00" stays 07:00 for the analysts across
daylight-saving changes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from prefect.schedules import Cron, Interval, Schedule

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

    from flows.serving import Served

TIMEZONE = "America/Toronto"
#: Interval schedules count from this instant, so runs land on round times (:00, :15, ...)
#: instead of on whenever the deployment happened to be registered.
ANCHOR = datetime(2026, 1, 1, tzinfo=ZoneInfo(TIMEZONE))
#: The process work pool that ``deploy/prefect.yaml`` deploys to.
WORK_POOL = "local"


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: a flow, its schedule (if any) and how many runs may overlap."""

    #: Deployment name; ``prefect deployment run '<flow>/<name>'`` starts it by hand.
    name: str
    #: ``path/to/file.py:function``, relative to the repository root.
    entrypoint: str
    #: What the deployment is for, shown in the UI.
    description: str
    #: Cron expression in ``TIMEZONE``; exclusive with ``interval_seconds``.
    cron: str | None = None
    #: Seconds between runs, counted from ``ANCHOR``; exclusive with ``cron``.
    interval_seconds: int | None = None
    #: Runs of this deployment allowed at once (None: no limit).
    concurrency_limit: int | None = None
    #: Tags given to the deployment and to every run it creates (filters in the UI).
    tags: tuple[str, ...] = ()
    #: Parameters every run gets, unless the run overrides them.
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def flow_name(self) -> str:
        """The flow's name, read from its ``@flow`` decorator."""
        return load_flow(self.entrypoint).name

    def schedule(self) -> Schedule | None:
        """The Prefect schedule, or None for a deployment that is only run by hand."""
        if self.cron is not None:
            return Cron(self.cron, timezone=TIMEZONE)
        if self.interval_seconds is not None:
            return Interval(self.interval_seconds, anchor_date=ANCHOR, timezone=TIMEZONE)
        return None


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="monitor-feeds",
        entrypoint="flows/monitor.py:monitor_feeds",
        description="Poll the feeds that are due; store new articles and versions.",
        interval_seconds=15 * 60,
        # A pass that overruns its 15 minutes must not be joined by the next one polling the
        # same feeds: both would fetch and store the same entries.
        concurrency_limit=1,
        tags=("vigie", "monitor"),
    ),
    DeploymentSpec(
        name="recheck-articles",
        entrypoint="flows/recheck.py:recheck_articles",
        description="Fetch watched article pages again; record what publishers edited.",
        # Hourly, at 7 past: away from the monitor pass that starts on the hour.
        cron="7 * * * *",
        concurrency_limit=1,
        tags=("vigie", "recheck"),
    ),
    DeploymentSpec(
        name="deliver-alerts",
        entrypoint="flows/alerts.py:deliver_alerts",
        description="Send the alerts that are due through their channels.",
        interval_seconds=5 * 60,
        # Delivery claims alerts, so overlap is safe, but a second run would only wait.
        concurrency_limit=1,
        tags=("vigie", "alerts"),
    ),
    DeploymentSpec(
        name="daily-digest",
        entrypoint="flows/digest.py:daily_digest",
        description="Send the morning digest of the last day's news.",
        cron="0 7 * * *",
        concurrency_limit=1,
        tags=("vigie", "digest"),
    ),
    DeploymentSpec(
        name="ingest-seeds",
        entrypoint="flows/seeds.py:ingest_seeds",
        description="Store the seed articles (idempotent). Run by hand.",
        tags=("vigie", "seeds"),
    ),
    DeploymentSpec(
        name="reprocess",
        entrypoint="flows/reprocess.py:reprocess",
        description="Re-extract and re-tag stored articles from archived bytes. Run by hand.",
        concurrency_limit=1,
        tags=("vigie", "reprocess"),
    ),
)


def load_flow(entrypoint: str) -> Flow[..., Any]:
    """The flow an entrypoint names, imported as a module of this package (not by file path,
    which would load a second copy of the module)."""
    from prefect import Flow

    path, _, function = entrypoint.partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, function)
    if not isinstance(flow, Flow):
        raise TypeError(f"{entrypoint} is not a Prefect flow")
    return flow


def runner_deployment(spec: DeploymentSpec) -> RunnerDeployment:
    """The deployment ``vigie serve`` registers and runs for ``spec``.

    Its entrypoint is a module path (``flows.monitor.monitor_feeds``): the installed package
    is imported wherever ``vigie serve`` was started, whereas a file path would be resolved
    from the directory each run starts in.
    """
    from prefect.types.entrypoint import EntrypointType

    deployment = load_flow(spec.entrypoint).to_deployment(
        name=spec.name,
        schedule=spec.schedule(),
        entrypoint_type=EntrypointType.MODULE_PATH,
        concurrency_limit=spec.concurrency_limit,
        description=spec.description,
        tags=list(spec.tags),
        parameters=dict(spec.parameters),
    )
    # Called from synchronous code, to_deployment returns the deployment, not a coroutine.
    return cast("RunnerDeployment", deployment)


def served_deployments() -> list[Served]:
    """Every deployment with its flow, ready for ``vigie serve`` (``flows.serving``)."""
    from flows.serving import Served

    return [Served(runner_deployment(spec), load_flow(spec.entrypoint)) for spec in DEPLOYMENTS]
