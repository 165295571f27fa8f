"""End to end on a real Prefect server, the way an operator runs Vigie.

    vigie server (prefect server start, own PREFECT_HOME)       -- module fixture `stack`
    prefect work-pool create local --type process
    prefect --no-prompt deploy --all --prefect-file deploy/prefect.yaml   (from the repo root)
    prefect deployment run 'monitor-feeds/monitor-feeds' -p ...   -> loopback feeds
    prefect worker start --pool local --run-once               -- runs it from another directory
    REST: the run is COMPLETED; its artifacts match the database; feed text stays inert
    headless Chromium: the run page and the summary page show the numbers and a title
    vigie serve: every deployment registered with its schedule; SIGTERM stops and pauses it

The tests share one server and run in file order (serve re-registers the deployments, so it
comes last). Every process runs with a deadline; the server is stopped after `serve`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from db import repo
from db.models import Alert, Article
from flows import context
from flows.deployments import ANCHOR, DEPLOYMENTS, TIMEZONE
from tests.inert_markdown import (
    HOSTILE_FEED_NAME,
    HOSTILE_TITLE,
    assert_inert,
    render,
    visible_text,
)
from tests.loopback import LoopbackServer, Response, serving

pytestmark = pytest.mark.prefect_server

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-output"
#: Where the README's screenshot lives; refreshed only when VIGIE_TEST_UPDATE_SCREENSHOT=1,
#: so that test runs leave the working tree clean.
README_SCREENSHOT = ROOT / "docs" / "ui-run-summary.png"
MONITOR = DEPLOYMENTS[0]
#: A relevant story with a plain title, to look for in the UI's pages.
PLAIN_TITLE = "Hausse du nombre de demandeurs d'asile au Québec"


# --- processes -------------------------------------------------------------------------------


@dataclass
class Stack:
    """A running Prefect server and the environment every process of the test shares."""

    env: dict[str, str]
    base_url: str
    work: Path
    server: subprocess.Popen[bytes]

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return _http(f"{self.api_url}{path}", body)

    def run(
        self, *args: str, timeout: float = 90, cwd: Path = ROOT, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """``python -m <args>`` with the stack's environment; fails the test on an error."""
        done = subprocess.run(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def start(self, *args: str, log: str, cwd: Path, **env: str) -> subprocess.Popen[bytes]:
        """``python -m <args>`` in the background, its output in a log file."""
        with (self.work / log).open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=cwd,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def _http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(work: Path, api_url: str) -> dict[str, str]:
    # Nothing from the developer's own Prefect profile or Vigie settings leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VIGIE_"))}
    env.update(
        PREFECT_HOME=str(work / "prefect-home"),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # No scheduled runs: the worker must find only the run the test creates.
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        # INFO, so that the run page shows the flow's own log lines.
        PREFECT_LOGGING_LEVEL="INFO",
        VIGIE_DATABASE_URL=f"sqlite:///{work / 'vigie.db'}",
        VIGIE_DATA_DIR=str(work / "data"),
        VIGIE_FETCH_ALLOW_HOSTS="127.0.0.1",
    )
    return env


def _wait_until(check: Any, what: str, timeout: float, process: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode}")
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what}: not done after {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> int:
    """Stop a process with ``sig``, a second one if it lingers (Prefect may need two), then
    SIGKILL; its exit code."""
    for _ in range(2):
        if process.poll() is not None:
            return process.returncode
        process.send_signal(sig)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    return process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``vigie server`` on a free port, with its own PREFECT_HOME, until the module ends."""
    work = tmp_path_factory.mktemp("deploy-e2e")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _environment(work, f"{base_url}/api")
    with (work / "server.log").open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "cli.app", "server", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(env, base_url, work, server)
    try:
        # A fresh PREFECT_HOME migrates its database first: ~35 s on a busy 2-core machine.
        _wait_until(lambda: _http(f"{stack.api_url}/health"), "server health", 120, server)
        yield stack
    finally:
        _stop(server)


# --- feeds and database ----------------------------------------------------------------------


def _rss(server: LoopbackServer) -> bytes:
    items = [
        (HOSTILE_TITLE, "/a/1", "Quebec asks Ottawa to share the load of asylum seekers and "
         "refugee claimants who crossed at Lacolle; the premier says shelters are full."),
        (PLAIN_TITLE, "/a/2", "Le Québec demande à Ottawa de mieux répartir les demandeurs "
         "d'asile, car les refuges débordent et l'immigration temporaire augmente."),
        ("Canadiens win in overtime", "/a/3", "The Montreal Canadiens beat Toronto 3-2."),
    ]  # fmt: skip
    # Titles are escaped twice: the hostile one's *text* contains "<script>" (as an article
    # about web security might); escaped once it would be markup, which the parser strips.
    entries = "".join(
        f"<item><title>{escape(escape(title))}</title><link>{server.url(path)}</link>"
        f"<guid>{path}</guid><description><![CDATA[{text}]]></description></item>"
        for title, path, text in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Loopback</title><link>{server.base_url}</link>{entries}</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def feeds(stack: Stack) -> Iterator[LoopbackServer]:
    """Two loopback feeds in the stack's database: one with three items, one gone (404)."""
    with serving() as server, pytest.MonkeyPatch.context() as patch:
        server.routes["/vigie.rss"] = Response(
            _rss(server), headers={"Content-Type": "application/rss+xml"}
        )
        for name in ("VIGIE_DATABASE_URL", "VIGIE_DATA_DIR", "VIGIE_FETCH_ALLOW_HOSTS"):
            patch.setenv(name, stack.env[name])
        context.reset()
        context.ensure_schema()
        specs = [
            repo.FeedSpec(server.url("/vigie.rss"), "Loopback news"),
            repo.FeedSpec(server.url("/gone.rss"), HOSTILE_FEED_NAME),
        ]
        with context.sessions().begin() as session:
            repo.add_feeds(session, specs, ANCHOR)
        yield server
        context.reset()


@pytest.fixture(scope="module")
def monitor_run(stack: Stack, feeds: LoopbackServer) -> str:
    """The id of a monitor-feeds run, deployed from prefect.yaml and run by a worker."""
    stack.run("prefect", "work-pool", "create", "local", "--type", "process")
    # Deployed without FLOW_CODE_DIR, so the pull step keeps the template and each worker
    # fills in its own directory when a run starts.
    stack.run("prefect", "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml")
    created = stack.run(
        "prefect", "deployment", "run", f"{MONITOR.flow_name}/{MONITOR.name}",
        "-p", "due_only=false", "-p", "fetch_pages=false", "-p", "batch_size=1",
    )  # fmt: skip
    match = re.search(r"UUID: ([0-9a-f-]{36})", created.stdout)
    assert match, created.stdout
    # From elsewhere than the repository: the pull step must find the code by itself.
    worker = stack.start(
        "prefect", "worker", "start", "--pool", "local", "--run-once",
        log="worker.log", cwd=stack.work, FLOW_CODE_DIR=str(ROOT),
    )  # fmt: skip
    try:
        worker.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker did not finish its run within 120 s")
    finally:
        _stop(worker)
    return match.group(1)


# --- the run, read back through the REST API ------------------------------------------------


def _flow_run(stack: Stack, run_id: str) -> dict[str, Any]:
    (run,) = stack.post("/flow_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
    return dict(run)


def _artifacts(stack: Stack, run_id: str) -> dict[str, dict[str, Any]]:
    body = {"artifacts": {"flow_run_id": {"any_": [run_id]}}}
    return {a["key"]: a for a in stack.post("/artifacts/filter", body) if a["key"]}


def _totals(markdown: str) -> dict[str, str]:
    rows = (line.strip("|").split("|") for line in markdown.splitlines() if line.count("|") == 3)
    return {label.strip(): value.strip() for label, value in rows}


def _count(model: type, *where: Any) -> int:
    with context.sessions().begin() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _relevant_titles() -> list[str]:
    with context.sessions().begin() as session:
        return [row.title for row in repo.list_articles(session, relevant_only=True)]


def test_the_deployment_keeps_the_code_directory_for_the_worker(
    stack: Stack, monitor_run: str
) -> None:
    deployment = _deployments(stack)[MONITOR.name]
    step = deployment["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]
    assert step == {"directory": "{{ $FLOW_CODE_DIR }}"}


def test_the_worker_completes_the_run_with_a_name_that_says_what_it_found(
    stack: Stack, monitor_run: str
) -> None:
    run = _flow_run(stack, monitor_run)
    assert run["state_type"] == "COMPLETED", (stack.work / "worker.log").read_text()
    # Renamed when it ended; its state message names the feed that failed.
    assert re.fullmatch(
        r"monitor \d\d:\d\d:\d\d · 3 new · 2 relevant · 1 of 2 feeds failed", run["name"]
    )
    assert run["state"]["message"].startswith("1 of 2 feeds failed: ")
    assert "HTTP 404" in run["state"]["message"]
    assert set(run["tags"]) >= set(MONITOR.tags)
    assert run["parameters"] == {"due_only": False, "fetch_pages": False, "batch_size": 1}


def _stories(markdown: str) -> list[tuple[str, list[str]]]:
    """(title, links) of each story the rendered summary lists."""
    items = re.findall(r"<li><strong>(.*?)</strong>(.*?)</li>", render(markdown))
    return [(visible_text(title), re.findall(r'href="([^"]*)"', rest)) for title, rest in items]


def test_one_summary_holds_the_counts_the_stories_and_the_failures(
    stack: Stack, monitor_run: str
) -> None:
    artifacts = _artifacts(stack, monitor_run)
    # A progress bar only if the pass outlasted ``PROGRESS_AFTER_SECONDS``; it ends full.
    assert set(artifacts) - {"monitor-progress"} == {"monitor-summary"}
    assert artifacts.get("monitor-progress", {"data": 100.0})["data"] == 100.0
    summary = artifacts["monitor-summary"]["data"]
    totals = _totals(summary)
    relevant = _relevant_titles()

    assert int(totals["new articles"]) == _count(Article) == 3
    assert int(totals["new relevant articles"]) == len(relevant) == 2
    # A feed's first pass is a backfill: its stories are stored without alerts.
    assert int(totals["alerts created"]) == _count(Alert)
    assert (totals["feeds polled"], totals["feeds failed"]) == ("2", "1")
    assert totals["feed health changes"] == "1"
    # Each relevant story with its link; sections come in the order a reader needs.
    stories = _stories(summary)
    assert sorted(title for title, _ in stories) == sorted(relevant)
    assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+/a/[12]", href) for _, (href,) in stories)
    order = [summary.index(f"## {name}") for name in ("New relevant", "Feeds that failed",
                                                      "Feed health changes", "Counts")]  # fmt: skip
    assert order == sorted(order)
    assert "healthy → degraded" in visible_text(render(summary))
    assert "Asylum seekers and refugees" in visible_text(render(summary))  # labels, not keys


def test_feed_text_is_inert_in_the_artifacts(stack: Stack, monitor_run: str) -> None:
    summary = _artifacts(stack, monitor_run)["monitor-summary"]["data"]
    assert_inert(summary, HOSTILE_TITLE, HOSTILE_FEED_NAME)


# --- the UI, in headless Chromium ------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (Debian/Ubuntu: apt-get install -y chromium)")
    return found


def _chromium_args(browser: str, profile: str, height: int) -> list[str]:
    return [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--window-size=1280,{height}",
        "--virtual-time-budget=15000",
    ]  # fmt: skip


def _page(browser: str, url: str, screenshot: Path, height: int = 1000) -> tuple[str, str]:
    """The page's visible text and DOM once its scripts have run, and a screenshot
    ``height`` high."""
    with tempfile.TemporaryDirectory() as dom_profile, tempfile.TemporaryDirectory() as shot:
        # Two browsers at once (the page is rendered twice, but in the time of one).
        dom = subprocess.Popen(
            [*_chromium_args(browser, dom_profile, height), "--dump-dom", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        subprocess.run(
            [*_chromium_args(browser, shot, height), f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=90,
            check=True,
        )
        out, _ = dom.communicate(timeout=90)
    page = out.decode("utf-8", "replace")
    return visible_text(page), page


def test_the_ui_shows_the_run_and_its_summary(stack: Stack, monitor_run: str) -> None:
    browser = _chromium()
    SCREENSHOTS.mkdir(exist_ok=True)
    summary = _artifacts(stack, monitor_run)["monitor-summary"]
    totals = _totals(summary["data"])
    run_name = _flow_run(stack, monitor_run)["name"]

    run_page, _ = _page(
        browser, f"{stack.base_url}/runs/flow-run/{monitor_run}", SCREENSHOTS / "ui-flow-run.png"
    )
    summary_page, summary_dom = _page(
        browser,
        f"{stack.base_url}/artifacts/artifact/{summary['id']}",
        SCREENSHOTS / "ui-run-summary.png",
        height=1600,  # the whole summary, down to its time per stage
    )

    # The run page opens on its logs: state, name, the flow's count line and top stories.
    assert run_name in run_page and "Completed" in run_page
    assert "1 of 2 feeds failed" in run_page
    assert f"{totals['new articles']} new articles" in run_page
    assert PLAIN_TITLE in run_page
    # The summary page renders the markdown: its table of totals and the titles.
    assert f"new articles {totals['new articles']}" in summary_page
    assert f"feeds failed {totals['feeds failed']}" in summary_page
    (SCREENSHOTS / "ui-run-summary.txt").write_text(summary_page)  # what a reader sees
    (SCREENSHOTS / "ui-run-summary.html").write_text(summary_dom)
    assert PLAIN_TITLE in summary_page and HOSTILE_TITLE in summary_page
    # At 1,280 px each story's line, link included, wraps within the page: no table to
    # scroll sideways. Titles show as written, the hostile one's escapes not shown.
    assert f"{PLAIN_TITLE} · Loopback news · " in summary_page
    opens = re.findall(r'<a [^>]*href="(http://127\.0\.0\.1:\d+/a/\d)"[^>]*>open</a>', summary_dom)
    assert len(opens) == 2
    assert "\\<script" not in summary_page and "\\*\\*bold" not in summary_page
    assert (SCREENSHOTS / "ui-flow-run.png").stat().st_size > 10_000
    if os.environ.get("VIGIE_TEST_UPDATE_SCREENSHOT") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(SCREENSHOTS / "ui-run-summary.png", README_SCREENSHOT)


# --- vigie serve -----------------------------------------------------------------------------


def _deployments(stack: Stack) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in stack.post("/deployments/filter", {})}


def _served(stack: Stack) -> dict[str, dict[str, Any]] | None:
    # Served deployments use module entrypoints (flows.monitor.monitor_feeds), not file paths.
    deployments = _deployments(stack)
    names = {spec.name for spec in DEPLOYMENTS}
    done = names <= {n for n, d in deployments.items() if ":" not in (d["entrypoint"] or ":")}
    return deployments if done else None


def _check_schedule(spec: Any, schedules: list[dict[str, Any]]) -> None:
    if spec.cron is None and spec.interval_seconds is None:
        assert schedules == [], spec.name
        return
    ((schedule, active),) = [(s["schedule"], s["active"]) for s in schedules]
    assert active and schedule["timezone"] == TIMEZONE, spec.name
    if spec.cron is not None:
        assert schedule["cron"] == spec.cron
    else:
        assert timedelta(seconds=schedule["interval"]) == timedelta(seconds=spec.interval_seconds)
        assert schedule["anchor_date"].startswith("2026-01-01T00:00:00-05:00")


def test_vigie_serve_registers_every_schedule_then_stops_on_sigterm(stack: Stack) -> None:
    serve = stack.start("cli.app", "serve", log="serve.log", cwd=stack.work)
    try:
        deployments = _wait_until(lambda: _served(stack), "serve registration", 90, serve)
    finally:
        code = _stop(serve, signal.SIGTERM)
    output = (stack.work / "serve.log").read_text()

    for spec in DEPLOYMENTS:
        deployment = deployments[spec.name]
        _check_schedule(spec, deployment["schedules"])
        assert deployment["tags"] == list(spec.tags)
        limit = (deployment.get("global_concurrency_limit") or {}).get("limit")
        assert limit == spec.concurrency_limit, spec.name
    assert f"{stack.base_url}/runs" in output and "Ctrl-C" in output
    assert "the schedules are paused" in output
    assert "Traceback" not in output and "Warning" not in output, output
    assert code == 0, output
    # Stopping pauses the schedules, so nothing piles up while no one serves them.
    assert all(_deployments(stack)[spec.name]["paused"] for spec in DEPLOYMENTS)


# --- vigie serve runs its flow runs in its own process ----------------------------------------


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = {int(c) for c in (task / "children").read_text().split()}
                todo.extend(children - found)
                found |= children
    return found


def _settled_descendants(pid: int, quiet: float = 1.5, timeout: float = 30) -> set[int]:
    """``_descendants(pid)`` once it has stayed the same for ``quiet`` seconds: kept workers
    start in the background with a run's first document, and may come up after that run
    has ended."""
    found, since = _descendants(pid), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = _descendants(pid)
        if now != found:
            found, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return found
    raise AssertionError(f"the processes under {pid} kept changing for {timeout:g} s")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _items_feed(server: LoopbackServer, paths: list[str]) -> Response:
    entries = "".join(
        f"<item><title>Refugee claimants at Lacolle, part {p}</title><link>{server.url(p)}</link>"
        f"<guid>{p}</guid><description>Shelters for asylum seekers are full ({p}).</description>"
        "</item>"
        for p in paths
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Warm</title>'
        f"<link>{server.base_url}</link>{entries}</channel></rss>"
    ).encode()
    return Response(body, headers={"Content-Type": "application/rss+xml"})


def _created(stack: Stack, path: str, body: dict[str, Any]) -> Any:
    try:
        return stack.post(path, body)
    except urllib.error.HTTPError as exc:
        if exc.code == 503:
            return None
        raise


def _create_run(stack: Stack, deployment_id: str) -> str:
    """Create a monitor run of the served deployment; its id."""
    parameters = {"due_only": False, "fetch_pages": False}
    path = f"/deployments/{deployment_id}/create_flow_run"
    # The server's SQLite answers 503 while another writer holds it (seen under load).
    run = _wait_until(lambda: _created(stack, path, {"parameters": parameters}), "run", 30)
    return str(run["id"])


def _state_once(
    stack: Stack, run_id: str, types: tuple[str, ...], serve: subprocess.Popen[bytes]
) -> str:
    def reached() -> str | None:
        state = _flow_run(stack, run_id)["state"]
        return state["type"] if state["type"] in types else None

    return str(_wait_until(reached, f"a served run in {types}", 90, serve))


def _run_to_the_end(stack: Stack, deployment_id: str, serve: subprocess.Popen[bytes]) -> str:
    """Create a monitor run of the served deployment; its final state type, once served."""
    run_id = _create_run(stack, deployment_id)
    return _state_once(stack, run_id, ("COMPLETED", "FAILED", "CRASHED"), serve)


def test_vigie_serve_runs_flow_runs_in_its_own_process_keeping_workers_and_connections(
    stack: Stack,
) -> None:
    """Two runs through one `vigie serve`: both Completed, the second parsed by the same
    worker processes (still children of serve) and fetched over the same connection; then
    a run whose only feed fails ends Failed, and serve goes on; SIGTERM while a run waits
    on a slow feed: that run ends Crashed, the workers stop, the schedules are paused."""
    env = {
        "VIGIE_DATABASE_URL": f"sqlite:///{stack.work / 'serve.db'}",
        "VIGIE_DATA_DIR": str(stack.work / "serve-data"),
        "VIGIE_CPU_WORKERS": "1",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    with (
        serving(keep_alive=True) as server,
        serving() as slow_server,
        pytest.MonkeyPatch.context() as patch,
    ):
        server.routes["/warm.rss"] = _items_feed(server, ["/w/1", "/w/2"])
        for name, value in {**env, "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.1"}.items():
            patch.setenv(name, value)
        context.reset()
        context.ensure_schema()
        with context.sessions().begin() as session:
            repo.add_feeds(session, [repo.FeedSpec(server.url("/warm.rss"), "Warm")], ANCHOR)
        context.reset()

        serve = stack.start("cli.app", "serve", log="serve-warm.log", cwd=stack.work, **env)
        try:
            deployments = _wait_until(lambda: _served(stack), "serve registration", 90, serve)
            monitor = deployments[MONITOR.name]["id"]
            assert _run_to_the_end(stack, monitor, serve) == "COMPLETED"
            # The fork server and the worker outlive the first run, as children of serve
            # itself: a run in a process of its own would have taken them along.
            workers = _settled_descendants(serve.pid)
            assert len(workers) >= 2
            server.routes["/warm.rss"] = _items_feed(server, ["/w/3", "/w/4", "/w/5"])
            assert _run_to_the_end(stack, monitor, serve) == "COMPLETED"
            assert _descendants(serve.pid) == workers  # they parsed the second run's items
            server.routes.pop("/warm.rss")  # 404: every feed of the next pass fails
            assert _run_to_the_end(stack, monitor, serve) == "FAILED"
            endless = iter(lambda: b" ", b"")  # a feed that never ends: the run waits on it
            slow_server.routes["/slow.rss"] = Response(chunks=endless, chunk_delay=5)
            with context.sessions().begin() as session:
                repo.add_feeds(session, [repo.FeedSpec(slow_server.url("/slow.rss"), "S")], ANCHOR)
            in_flight = _create_run(stack, monitor)
            _state_once(stack, in_flight, ("RUNNING",), serve)
            _wait_until(lambda: slow_server.requests_to("/slow.rss"), "the slow fetch", 30, serve)
        finally:
            code = _stop(serve, signal.SIGTERM)
        articles = _count(Article)
        context.reset()
    output = (stack.work / "serve-warm.log").read_text()

    assert _flow_run(stack, in_flight)["state"]["type"] == "CRASHED"
    _wait_until(lambda: not any(_alive(pid) for pid in workers), "the workers' end", 30)
    assert all(_deployments(stack)[spec.name]["paused"] for spec in DEPLOYMENTS)

    feed_requests = server.requests_to("/warm.rss")
    assert len(feed_requests) >= 3
    assert feed_requests[0].client_port == feed_requests[1].client_port  # one connection
    assert articles == 5
    assert code == 0 and "Traceback" not in output, output
    # Serve said it stopped once the cancelled run had recorded its crash, not before, and
    # the run's crash is in its log in the UI.
    assert output.rindex("Finished in state Crashed") < output.index("Stopped;"), output
    logs = stack.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [in_flight]}}})
    assert any("Crash detected!" in log["message"] for log in logs), logs
