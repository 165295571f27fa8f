"""``vigie server`` and ``vigie serve``: Vigie's schedules running on one machine.

``vigie server`` starts a Prefect server (API and UI) in the foreground. ``vigie serve``, in
another terminal, registers every deployment of ``flows/deployments.py`` with its schedule and
runs the flows in its own process as they come due (``flows.serving``): its database engine,
tagger, worker processes, HTTP and Prefect clients serve one run after another. Stopping
``serve`` pauses the schedules; serving again resumes them. To run on many machines instead,
see ``deploy/README.md``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from cli.interrupt import Interrupted
from cli.output import err, fail, line, out

if TYPE_CHECKING:  # Prefect comes with the deployments: only `serve` loads them
    from flows.deployments import DeploymentSpec
    from flows.serving import ServingThread

DEFAULT_PORT = 4200
#: How long stopping ``serve`` waits for the server to pause the schedules.
PAUSE_TIMEOUT_SECONDS = 30
#: Seconds before a SIGTERM received during startup is delivered again (see ``_interrupt``).
SIGNAL_RETRY_SECONDS = 2.0
#: How long stopping ``serve`` waits for the runs in flight to record that they stopped.
STOP_TIMEOUT_SECONDS = 30


def register(app: typer.Typer) -> None:
    """Add ``server`` and ``serve`` to ``app``."""
    app.command("server")(server_command)
    app.command("serve")(serve_command)


# --- vigie server ----------------------------------------------------------------------------


def server_command(
    port: Annotated[int, typer.Option(help="Port of the API and UI.", min=1, max=65535)] = (
        DEFAULT_PORT
    ),
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes it to the network.")
    ] = "127.0.0.1",
) -> None:
    """Start a Prefect server (API and UI) in the foreground; Ctrl-C stops it."""
    api_url = f"http://{_browsable(host)}:{port}/api"
    out.print(
        f"Prefect UI at http://{_browsable(host)}:{port}; stop with Ctrl-C.\n"
        f"In other terminals: export PREFECT_API_URL={api_url}  (then `vigie serve`)."
    )
    sys.stdout.flush()  # exec replaces this process: unflushed output would be lost
    _exec(server_argv(host, port), server_env(os.environ))


def server_argv(host: str, port: int) -> list[str]:
    """The ``prefect server start`` command, run by this interpreter (this virtualenv)."""
    return [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        host,
        "--port",
        str(port),
        "--analytics-off",
    ]


def server_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: analytics off, and server warnings shown.

    Analytics on makes Prefect's server log "database is locked" tracebacks. The CLI quiets
    the temporary server to CRITICAL when no PREFECT_API_URL is set; a server someone runs
    on purpose should show its warnings again.
    """
    env = dict(environ)
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    if "PREFECT_API_URL" not in env and env.get("PREFECT_SERVER_LOGGING_LEVEL") == "CRITICAL":
        env["PREFECT_SERVER_LOGGING_LEVEL"] = "WARNING"
    return env


def _browsable(host: str) -> str:
    # A server listening on every address is reached locally through the loopback one.
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _exec(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    # exec, not a child process: Ctrl-C and SIGTERM reach the server itself, with no parent
    # left to forward them or to outlive it.
    os.execvpe(argv[0], list(argv), dict(env))


# --- vigie serve -----------------------------------------------------------------------------


def serve_command(
    limit: Annotated[
        int, typer.Option(help="Flow runs this process runs at once, at most.", min=1)
    ] = 4,
) -> None:
    """Register every deployment with its schedule and run them here until stopped."""
    import asyncio  # here, as Prefect: no other command needs an event loop

    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    from flows.deployments import DEPLOYMENTS

    api_url = PREFECT_API_URL.value()
    if not api_url:
        fail(
            "no Prefect server configured. Start one with `vigie server` in another terminal, "
            f"then export PREFECT_API_URL=http://127.0.0.1:{DEFAULT_PORT}/api"
        )
    problem = asyncio.run(_health_problem())
    if problem is not None:
        fail(f"the Prefect server at {api_url} does not answer: {problem}")
    # Until the serving loop runs, SIGTERM stops serve like Ctrl-C would, instead of killing
    # it halfway through loading the flows or registering the deployments.
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C as a KeyboardInterrupt: the executable's handler ends the process at once when
    # Ctrl-C lands in an import, and serve must always get to pause the schedules.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    serving: ServingThread | None = None
    try:
        serving = _start_serving(limit)
        _print_serving(PREFECT_UI_URL.value() or api_url, DEPLOYMENTS)
        # ``wait``, not ``join``: the interruption lands in it (see ``ServingThread``). A
        # wait with a timeout lets Ctrl-C through.
        while not serving.wait(timeout=1.0):
            pass
    except KeyboardInterrupt:
        pass  # Ctrl-C or SIGTERM: the normal way to stop
    finally:
        # Stopping already: a further SIGTERM must not cut the pausing short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_serving(serving)
        _pause_schedules(DEPLOYMENTS)
    if serving is not None and serving.error is not None:
        fail(f"serving stopped: {serving.error!r}")


def _start_serving(limit: int) -> ServingThread:
    """Load the flows, then register and serve them in this process, on a thread of its own."""
    from flows.deployments import served_deployments
    from flows.serving import InProcessServer
    from flows.settings import get_settings

    # Runs come and go in this process: their worker processes stay for the next run, unless
    # whoever started serve said otherwise.
    os.environ.setdefault("VIGIE_KEEP_WORKERS", "true")
    get_settings.cache_clear()
    return InProcessServer(served_deployments(), limit=limit).serve_in_thread()


def _stop_serving(serving: ServingThread | None) -> None:
    """Cancel the runs in flight (they end Crashed), close the clients, stop the workers."""
    from flows import context

    if serving is not None and not serving.stop(STOP_TIMEOUT_SECONDS):
        err.print(
            line(("warning:", "yellow"), f" runs still stopping after {STOP_TIMEOUT_SECONDS} s")
        )
    context.stop_kept_workers()


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    # Python drops an exception raised by a signal handler that lands in a weakref callback,
    # which happens while serve starts up (measured): signal again in a moment, until the
    # interruption takes or the handler is replaced.
    again = threading.Timer(SIGNAL_RETRY_SECONDS, os.kill, (os.getpid(), signum))
    again.daemon = True
    again.start()
    raise Interrupted  # not a bare KeyboardInterrupt: see its docstring


def _pause_schedules(specs: Sequence[DeploymentSpec]) -> None:
    import asyncio

    try:
        asyncio.run(asyncio.wait_for(_pause(specs), timeout=PAUSE_TIMEOUT_SECONDS))
    except Exception as exc:  # the server may be gone already: say so, never a traceback
        err.print(line(("warning:", "yellow"), f" could not pause the schedules: {exc!r}"))
        return
    out.print("Stopped; the schedules are paused until `vigie serve` runs again.")


async def _pause(specs: Sequence[DeploymentSpec]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        for spec in specs:
            try:
                deployment = await client.read_deployment_by_name(f"{spec.flow_name}/{spec.name}")
            except ObjectNotFound:
                continue  # stopped before registering it: nothing to pause
            await client.pause_deployment(deployment.id)


async def _health_problem() -> str | None:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        error = await client.api_healthcheck()
    return None if error is None else str(error)


def _print_serving(ui_url: str, specs: Sequence[DeploymentSpec]) -> None:
    from flows.deployments import TIMEZONE

    out.print(f"Serving {len(specs)} deployments; times are in {TIMEZONE}:")
    for spec in specs:
        out.print(f"  {spec.flow_name}/{spec.name}: {schedule_text(spec)}")
    out.print(
        f"Runs, logs and run summaries: {ui_url}/runs\n"
        f"Run one now: prefect deployment run '{specs[0].flow_name}/{specs[0].name}'\n"
        "Stop with Ctrl-C (or SIGTERM); that pauses the schedules until serving again."
    )


def schedule_text(spec: DeploymentSpec) -> str:
    """A deployment's schedule in words, for people."""
    if spec.cron is not None:
        return f"cron {spec.cron}"
    if spec.interval_seconds is not None:
        minutes, seconds = divmod(spec.interval_seconds, 60)
        return f"every {minutes} min" if not seconds else f"every {spec.interval_seconds} s"
    return "by hand only"
