"""The in-process server behind ``vigie serve`` (flows/serving.py), on a real Prefect server.

Small flows of this module stand for Vigie's: they record what ran where, sleep until
cancelled, or raise. The monitor flow itself is served end to end in test_deploy_e2e.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from prefect import Flow, flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.states import Cancelling
from prefect.types.entrypoint import EntrypointType

from cli.interrupt import Interrupted
from flows.serving import InProcessServer, Served, ServingThread

pytestmark = pytest.mark.prefect_server

#: What the flows below saw, by name: process ids, hooks that ran, runs at once.
seen: dict[str, list[Any]] = {"pids": [], "hooks": [], "at_once": [], "now": [0]}


def _record_hook(name: str) -> Callable[..., None]:
    def hook(flow: Any, flow_run: Any, state: Any) -> None:
        seen["hooks"].append((name, state.type.value))

    return hook


@flow(name="serving-test-quick")
async def quick_flow(pause: float = 0.0) -> int:
    seen["now"][0] += 1
    seen["at_once"].append(seen["now"][0])
    await asyncio.sleep(pause)
    seen["now"][0] -= 1
    seen["pids"].append(os.getpid())
    return os.getpid()


@flow(
    name="serving-test-slow",
    on_crashed=[_record_hook("crashed")],
    on_cancellation=[_record_hook("cancellation")],
)
async def slow_flow() -> None:
    await asyncio.sleep(120)


@flow(name="serving-test-broken", on_failure=[_record_hook("failure")])
async def broken_flow() -> None:
    raise ValueError("a flow that raises")


def _served(each: Flow[..., Any], concurrency_limit: int | None = None) -> Served:
    deployment = each.to_deployment(
        name=f"serving-test-{uuid4().hex[:8]}",
        entrypoint_type=EntrypointType.MODULE_PATH,
        concurrency_limit=concurrency_limit,
    )
    return Served(deployment, each)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _forget_what_was_seen() -> None:
    for values in seen.values():
        values.clear()
    seen["now"].append(0)


@pytest.fixture
def serve(prefect_server: None) -> Iterator[Callable[..., ServingThread]]:
    """Starts an in-process server on its thread; stops it when the test ends."""
    started: list[ServingThread] = []

    def start(
        *flows: Flow[..., Any], limit: int = 4, concurrency_limit: int | None = None
    ) -> ServingThread:
        served = [_served(f, concurrency_limit) for f in flows]
        server = InProcessServer(served, limit=limit, poll_seconds=0.2)
        thread = server.serve_in_thread()
        started.append(thread)
        assert server.registered.wait(60), thread.error
        return thread

    yield start
    for thread in started:
        assert thread.stop(30)


def _run(thread: ServingThread, flow: Flow[..., Any], **parameters: Any) -> UUID:
    """A new run of the served deployment of ``flow``."""
    deployment_id = next(i for i, f in thread.server.flows.items() if f is flow)

    async def create() -> FlowRun:
        async with get_client() as client:
            return await client.create_flow_run_from_deployment(
                deployment_id, parameters=parameters
            )

    return asyncio.run(create()).id


def _state(run_id: UUID) -> FlowRun:
    async def read() -> FlowRun:
        async with get_client() as client:
            return await client.read_flow_run(run_id)

    return asyncio.run(read())


def _wait_for(run_id: UUID, types: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(run_id).state
        if state is not None and state.type.value in types:
            return state.type.value
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} not in {types} after {timeout} s: {state}")


FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def test_runs_run_in_this_process_one_at_a_time_under_a_limit_of_one(
    serve: Callable[..., ServingThread],
) -> None:
    thread = serve(quick_flow, limit=1)
    runs = [_run(thread, quick_flow, pause=0.5) for _ in range(3)]

    assert [_wait_for(run, FINAL) for run in runs] == ["COMPLETED"] * 3
    assert seen["pids"] == [os.getpid()] * 3
    assert max(seen["at_once"]) == 1


def test_a_deployments_concurrency_limit_holds_under_a_larger_process_limit(
    serve: Callable[..., ServingThread],
) -> None:
    """The server refuses Pending to a run whose deployment has no slot left (monitor-feeds
    has a limit of one): it waits, and runs once the first is done."""
    thread = serve(quick_flow, limit=4, concurrency_limit=1)
    runs = [_run(thread, quick_flow, pause=1.0) for _ in range(2)]

    assert [_wait_for(run, FINAL, timeout=120) for run in runs] == ["COMPLETED"] * 2
    assert max(seen["at_once"]) == 1


def test_a_run_that_raises_is_failed_and_the_next_run_still_runs(
    serve: Callable[..., ServingThread],
) -> None:
    thread = serve(broken_flow, quick_flow)
    broken = _run(thread, broken_flow)
    assert _wait_for(broken, FINAL) == "FAILED"
    assert "a flow that raises" in str(_state(broken).state.message)  # type: ignore[union-attr]
    assert seen["hooks"] == [("failure", "FAILED")]
    assert _wait_for(_run(thread, quick_flow), FINAL) == "COMPLETED"


def test_a_run_cancelled_from_the_api_ends_cancelled_not_crashed(
    serve: Callable[..., ServingThread],
) -> None:
    thread = serve(slow_flow, quick_flow)
    slow = _run(thread, slow_flow)
    _wait_for(slow, {"RUNNING"})

    async def cancel() -> None:
        async with get_client() as client:
            await client.set_flow_run_state(slow, Cancelling(), force=True)

    asyncio.run(cancel())
    assert _wait_for(slow, FINAL) == "CANCELLED"
    assert seen["hooks"] == [("cancellation", "CANCELLING")]
    # Serving goes on, and a later run crashes as crashes do (the intent is cleared).
    assert _wait_for(_run(thread, quick_flow), FINAL) == "COMPLETED"


def test_stopping_the_server_crashes_the_runs_in_flight(
    serve: Callable[..., ServingThread],
) -> None:
    thread = serve(slow_flow)
    slow = _run(thread, slow_flow)
    _wait_for(slow, {"RUNNING"})

    assert thread.stop(30)
    assert _state(slow).state.type.value == "CRASHED"  # type: ignore[union-attr]
    assert seen["hooks"] == [("crashed", "CRASHED")]
    assert thread.error is None and not any(t.name == "vigie-serve" for t in threading.enumerate())


def test_a_stop_after_a_signal_interrupted_the_wait_still_waits_for_the_runs_in_flight(
    serve: Callable[..., ServingThread],
) -> None:
    """``vigie serve``'s main thread waits on the serving thread until SIGTERM's (or Ctrl-C's)
    handler raises in that wait, then stops it. The interruption must leave the thread as it
    was, so that the stop waits for the run to record its crash: after a ``join`` interrupted
    so, CPython 3.11 took the thread for stopped, ``stop`` returned at once and the process
    could exit while the run was still logging its crash."""
    thread = serve(slow_flow)
    slow = _run(thread, slow_flow)
    _wait_for(slow, {"RUNNING"})

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted  # as serve's SIGTERM handler does

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Interrupted):
            while not thread.wait(timeout=1.0):
                pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert thread.is_alive()
    assert thread.stop(30)
    # All done before stop returned: the process may exit right after it.
    assert seen["hooks"] == [("crashed", "CRASHED")]
    assert _state(slow).state.type.value == "CRASHED"  # type: ignore[union-attr]
    assert not any(t.name == "vigie-serve" for t in threading.enumerate())


def test_warm_loop_keeps_one_fetcher_and_one_prefect_client_of_each_kind_for_its_runs(
    prefect_server: None, vigie_env: pytest.MonkeyPatch
) -> None:
    """Inside ``warm_loop`` every run gets the same fetcher (its HTTP clients open) and
    Prefect clients, the synchronous one the engine reads the result storage with included;
    all are closed when it ends. Outside, each run has its own fetcher and clients."""
    from fetching.fetcher import FetchPolicy
    from flows import context
    from flows.settings import get_settings

    policy = FetchPolicy.from_settings(get_settings())

    async def scenario() -> dict[str, bool]:
        async with context.warm_loop():
            async with context.fetcher(policy) as first:
                http = first._client_for("news.example")
            async with context.fetcher(policy) as second:
                open_between_runs = not http.is_closed
            same_client = get_client() is get_client()
            sync = get_client(sync_client=True)
            same_sync_client = sync is get_client(sync_client=True)
        async with context.fetcher(policy) as own:
            pass
        return {
            "same fetcher": second is first,
            "open between runs": open_between_runs,
            "same client": same_client,
            "same sync client": same_sync_client,
            "closed at the end": http.is_closed,
            "own fetcher outside": own is not first,
            "own sync client outside": get_client(sync_client=True) is not sync,
        }

    kept = asyncio.run(scenario())
    assert kept == dict.fromkeys(kept, True)


def test_a_run_claimed_but_stopped_before_the_engine_took_it_is_not_left_pending(
    prefect_server: None,
) -> None:
    """What serving does for a run it set Pending when a stop comes before Prefect's engine
    has the run (which would otherwise show Pending for good)."""
    from prefect.states import Pending

    from flows.serving import _crash_if_pending

    deployment_id = _served(quick_flow).deployment.apply()

    async def claimed_then_stopped() -> FlowRun:
        async with get_client() as client:
            run = await client.create_flow_run_from_deployment(deployment_id)
            await client.set_flow_run_state(run.id, Pending())
            await _crash_if_pending(run, "serve stopped before the run started")
            return await client.read_flow_run(run.id)

    state = asyncio.run(claimed_then_stopped()).state
    assert state is not None and state.type.value == "CRASHED"
    assert state.message == "serve stopped before the run started"
