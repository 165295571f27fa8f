"""Served flow runs, run in the serving process itself: what keeps ``vigie serve`` warm.

Prefect's ``serve`` starts every flow run in a new process (``python -m prefect.engine``),
which imports Prefect, SQLAlchemy and the parsers again, builds the tagger, starts worker
processes and opens its HTTP and Prefect clients, then throws all of it away when the run
ends. Prefect 3.8.8's runner cannot run a flow run in the runner's own process: each of its
starters (``DirectSubprocessStarter``, ``EngineCommandStarter``, the bundle one) spawns a
process for the run, and the runner cancels a run by signalling that process.

``InProcessServer`` does the runner's part itself, on one event loop that lives as long as
the process:

- registers the deployments (``RunnerDeployment.aapply``, as the runner does);
- every ``poll_seconds``, asks the API for the scheduled runs of those deployments that are
  due, and proposes each one Pending; the server's rules give or refuse it a slot of its
  deployment's concurrency limit, and a refused run waits for a later poll;
- runs the accepted ones with Prefect's flow engine in this process (``run_flow``), at
  most ``limit`` at once; the engine sets Running, then Completed, Failed or Crashed as a
  subprocess's engine would, runs the flow's state hooks and keeps the concurrency lease;
- cancels a run the UI or CLI marked Cancelling by cancelling its task: the engine then
  records it Cancelled (and runs no crash hook), as it does for a cancelled subprocess;
- when stopped, cancels the runs in flight: the engine records each Crashed (and this
  module a run the engine had not taken yet, rather than leave it Pending).

Runs of this process share ``flows.context``'s process-wide resources (engine, tagger, kept
worker processes) and, through ``context.warm_loop``, one Prefect client and one fetcher.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio
import anyio.abc
from prefect._internal import control_listener
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import Abort, TerminationSignal
from prefect.flow_engine import run_flow
from prefect.logging import get_logger
from prefect.settings import get_current_settings
from prefect.states import Crashed, Pending
from prefect.utilities.engine import propose_state

from flows import context

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

#: Runs due this soon are taken already, as Prefect's runner does (the engine waits for the
#: scheduled time before it sets Running).
PREFETCH_SECONDS = 10.0

_log = get_logger("vigie.serve")


@dataclass(frozen=True)
class Served:
    """A deployment and the flow its runs run."""

    deployment: RunnerDeployment
    flow: Flow[..., Any]


class InProcessServer:
    """Runs the flow runs of ``served`` deployments in this process as they come due.

    ``await server.run()`` runs until cancelled; ``serve_in_thread`` runs it on an event loop
    of its own thread, so that signals stay with the main thread.
    """

    def __init__(
        self,
        served: Sequence[Served],
        *,
        limit: int,
        poll_seconds: float | None = None,
        prefetch_seconds: float = PREFETCH_SECONDS,
    ) -> None:
        self.served = list(served)
        self.limit = limit
        #: Seconds between two looks for due runs and cancelled ones: by default Prefect's
        #: runner's (PREFECT_RUNNER_POLL_FREQUENCY, 10 s).
        self.poll_seconds = poll_seconds or get_current_settings().runner.poll_frequency
        self.prefetch_seconds = prefetch_seconds
        #: The flow of each registered deployment, by deployment id.
        self.flows: dict[UUID, Flow[..., Any]] = {}
        #: The runs in flight, by flow run id: what cancels each.
        self._running: dict[UUID, anyio.CancelScope] = {}
        #: Runs this process cancelled because the API asked it to.
        self._cancelled: set[UUID] = set()
        #: Set once every deployment is registered.
        self.registered = threading.Event()

    async def run(self) -> None:
        """Register the deployments, then run their due runs until cancelled."""
        async with context.warm_loop(), anyio.create_task_group() as runs:
            client = get_client()  # warm_loop's: one client for every poll and run
            for each in self.served:
                self.flows[await each.deployment.aapply()] = each.flow
            self.registered.set()
            while True:
                try:
                    await self._cancel_requested(client)
                    await self._start_due(client, runs)
                except Exception as exc:  # the API may be away a moment: try next poll
                    _log.warning("could not poll the Prefect API: %r", exc)
                await anyio.sleep(self.poll_seconds)

    async def _start_due(self, client: PrefectClient, runs: anyio.abc.TaskGroup) -> None:
        if len(self._running) >= self.limit:
            return
        due = await client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=list(self.flows),
            scheduled_before=datetime.now(UTC) + timedelta(seconds=self.prefetch_seconds),
        )
        due.sort(key=lambda run: run.next_scheduled_start_time or datetime.max.replace(tzinfo=UTC))
        for flow_run in due:
            if len(self._running) >= self.limit:
                return
            if flow_run.id not in self._running:  # a slot of ``limit``, until it is refused
                scope = self._running[flow_run.id] = anyio.CancelScope()
                runs.start_soon(self._execute, client, flow_run, scope)

    async def _execute(
        self, client: PrefectClient, flow_run: FlowRun, scope: anyio.CancelScope
    ) -> None:
        assert flow_run.deployment_id is not None, "only deployments' runs are polled"
        flow = self.flows[flow_run.deployment_id]
        try:
            # Claimed here, in the run's own task, and shielded: a stop cannot come between
            # the server's yes and the run being this task's to finish.
            with anyio.CancelScope(shield=True):
                if not await _claimed(client, flow_run):
                    return
            with scope:
                # The engine turns the flow's errors into a Failed state and an interruption
                # into Crashed; what it returns is the final state, already recorded.
                outcome = run_flow(flow, flow_run=flow_run, return_type="state")
                if inspect.isawaitable(outcome):  # every Vigie flow is async
                    await outcome
        except TerminationSignal:
            # The engine's answer to a cancellation this process asked for: the run is
            # recorded Cancelled already.
            if flow_run.id not in self._cancelled:
                raise
        except anyio.get_cancelled_exc_class():
            # Stopping. The engine recorded Crashed, unless the stop came before it had
            # taken the run: a run left Pending would stay so in the UI for good.
            await _crash_if_pending(flow_run, "serve stopped before the run started")
            raise
        except Exception as exc:  # the engine could not even start: say so in the UI
            _log.exception("flow run %s could not run", flow_run.id)
            await _record_crash(flow_run, f"Flow run could not start: {exc!r}")
        finally:
            del self._running[flow_run.id]
            if flow_run.id in self._cancelled:
                self._cancelled.discard(flow_run.id)
                if not self._cancelled:
                    control_listener.clear_intent()

    async def _cancel_requested(self, client: PrefectClient) -> None:
        """Cancel the runs in flight that the API marked Cancelling."""
        if not self._running:
            return
        cancelling = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=list(self._running)),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CANCELLING])),
            )
        )
        for flow_run in cancelling:
            scope = self._running.get(flow_run.id)
            if scope is None or flow_run.id in self._cancelled:
                continue
            _log.info("cancelling flow run %s, as asked", flow_run.id)
            self._cancelled.add(flow_run.id)
            # The engine reads this (process-wide) intent when its run is interrupted, to
            # tell a cancellation (state Cancelled, cancellation hooks) from a crash. A
            # subprocess gets it from its runner; here it is set while a cancellation this
            # process asked for is under way, and cleared when the last one ends.
            control_listener._set_intent("cancel")
            scope.cancel()

    def serve_in_thread(self) -> ServingThread:
        """Start ``run`` on an event loop in a thread of its own; see ``ServingThread``."""
        serving = ServingThread(self)
        serving.start()
        return serving


async def _claimed(client: PrefectClient, flow_run: FlowRun) -> bool:
    """Propose Pending for a due run: True when this process may run it.

    The server refuses when another runner took it, or when its deployment's concurrency
    limit has no slot left (the run then waits, Scheduled, for a later poll).
    """
    try:
        state = await propose_state(client, Pending(), flow_run_id=flow_run.id)
    except Abort:
        return False
    return state.is_pending()


async def _crash_if_pending(flow_run: FlowRun, message: str) -> None:
    with anyio.CancelScope(shield=True):
        try:
            state = (await get_client().read_flow_run(flow_run.id)).state
        except Exception:  # the API is away: nothing more to do while stopping
            return
    if state is not None and state.is_pending():
        await _record_crash(flow_run, message)


async def _record_crash(flow_run: FlowRun, message: str) -> None:
    with anyio.CancelScope(shield=True):
        try:
            await propose_state(get_client(), Crashed(message=message), flow_run_id=flow_run.id)
        except Exception:  # already final, or the API is away: the log has the reason
            _log.warning("could not record flow run %s as crashed", flow_run.id)


class ServingThread(threading.Thread):
    """An ``InProcessServer`` running on the event loop of its own (daemon) thread.

    Signals are delivered to the main thread, which stays free to catch Ctrl-C and SIGTERM
    and then call ``stop``. Prefect's engine also leaves signal handlers alone outside the
    main thread, so one run's SIGTERM bridge never meets another's.

    The main thread waits for it with ``wait``, never ``join``: on CPython 3.11, a ``join``
    that a signal handler's exception interrupts marks the thread stopped while it still
    runs (``Thread._wait_for_tstate_lock`` releases the running thread's lock; CPython
    issue 90882), and every later ``join`` and ``is_alive`` believe it. ``stop`` then
    returned at once, and the process could exit while a run was recording its crash.
    """

    def __init__(self, server: InProcessServer) -> None:
        super().__init__(name="vigie-serve", daemon=True)
        self.server = server
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        #: Set when the server has ended: its runs recorded, its clients closed.
        self._ended = threading.Event()
        # A thread starts with empty context variables: take the starter's, Prefect's
        # settings context (its API URL) among them.
        self._context = contextvars.copy_context()

    def run(self) -> None:
        try:
            self._context.run(asyncio.run, self._serve())
        except asyncio.CancelledError:
            pass  # stopped
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc
        finally:
            self._ready.set()
            self._ended.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self._ready.set()
        await self.server.run()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the server to end; False if it had not within ``timeout`` seconds.

        Safe to interrupt, unlike ``join`` (see the class): an exception that a signal
        handler raises in it leaves the thread's state as it was.
        """
        return self._ended.wait(timeout)

    def stop(self, timeout: float) -> bool:
        """Cancel the server (its runs in flight end Crashed) and wait for it to record them
        and close its clients; False if it did not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        self._ready.wait(timeout)
        loop, main = self._loop, self._main
        if loop is not None and main is not None and not loop.is_closed():
            with suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(main.cancel)
        if not self.wait(max(deadline - time.monotonic(), 0.0)):
            return False
        self.join()  # all that is left of it is returning from ``run``
        return True
