"""Per-host politeness across workers: Prefect global concurrency limits, on a real server.

``vigie feeds limits`` creates one limit per feed host; with ``VIGIE_HOST_LIMIT_PREFIX`` set,
the fetcher holds a slot of it around each request, and a missing limit is an error.
Each test uses its own prefix, since the Prefect server lives for the whole session.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from prefect import get_client
from typer.testing import CliRunner

from cli.app import app
from db import repo
from fetching.fetcher import Fetcher, FetchPolicy, FetchResult, _HeldSlot, host_limit_name
from flows import context
from flows.monitor import run_monitor
from parsers.exceptions import FetchError
from tests.loopback import LoopbackServer, Response
from tests.test_fetch import POLICY as FETCH_POLICY
from tests.test_fetch import RSS

pytestmark = pytest.mark.usefixtures("prefect_server")
runner = CliRunner()

# Waiting for a slot of a Prefect limit takes longer than a loopback fetch.
POLICY = replace(FETCH_POLICY, read_timeout=5.0, total_timeout=20.0)


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}-host-"


async def _limit(name: str) -> Any:
    async with get_client() as client:
        return await client.read_global_concurrency_limit_by_name(name)


async def _create_limit(name: str, limit: int) -> None:
    async with get_client() as client:
        await client.upsert_global_concurrency_limit_by_name(name, limit)


async def _fetch_all(policy: FetchPolicy, *urls: str) -> list[FetchResult]:
    async with Fetcher(policy) as fetcher:
        return list(await asyncio.gather(*(fetcher.fetch(url) for url in urls)))


def _add_feeds(*urls: str) -> None:
    context.ensure_schema()
    specs = [repo.FeedSpec(url, url.rsplit("/", 1)[-1], None) for url in urls]
    with context.sessions().begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://WWW.CBC.ca:443/webfeed/rss", "vigie-host-www-cbc-ca"),
        ("http://127.0.0.1:8080/feed", "vigie-host-127-0-0-1"),
        ("http://[2001:db8::1]/feed", "vigie-host-2001-db8--1"),
        ("https://québec.example/rss", "vigie-host-xn--qubec-csa-example"),
    ],
)
def test_limit_names_are_per_host_in_prefect_friendly_characters(url: str, name: str) -> None:
    assert host_limit_name("vigie-host-", url) == name


def test_feeds_limits_creates_then_updates_one_limit_per_host(
    vigie_env: pytest.MonkeyPatch, prefix: str, http_server: LoopbackServer
) -> None:
    vigie_env.setenv("VIGIE_HOST_LIMIT_PREFIX", prefix)
    vigie_env.setenv("VIGIE_PER_HOST_CONCURRENCY", "3")
    context.reset()
    _add_feeds(
        http_server.url("/a.rss"),
        http_server.url("/b.rss"),
        "https://www.cbc.ca/webfeed/rss/rss-canada",
    )

    created = runner.invoke(app, ["feeds", "limits"])
    unchanged = runner.invoke(app, ["feeds", "limits"])
    vigie_env.setenv("VIGIE_PER_HOST_CONCURRENCY", "1")
    context.reset()
    updated = runner.invoke(app, ["feeds", "limits"])

    assert created.exit_code == 0, created.output
    assert "2 hosts: 2 created, 0 updated, 0 unchanged." in created.stdout
    assert f"{prefix}127-0-0-1" in created.stdout and f"{prefix}www-cbc-ca" in created.stdout
    assert "2 hosts: 0 created, 0 updated, 2 unchanged." in unchanged.stdout
    assert "2 hosts: 0 created, 2 updated, 0 unchanged." in updated.stdout
    loopback = asyncio.run(_limit(f"{prefix}127-0-0-1"))
    assert (loopback.limit, loopback.slot_decay_per_second, loopback.active) == (1, 0.0, True)


def test_feeds_limits_without_a_prefix_setting_says_how_to_turn_them_on(
    vigie_env: pytest.MonkeyPatch,
) -> None:
    _add_feeds("https://limits-note.example/rss")
    result = runner.invoke(app, ["feeds", "limits"])
    assert result.exit_code == 0, result.output
    assert "vigie-host-limits-note-example" in result.stdout
    assert "once VIGIE_HOST_LIMIT_PREFIX=vigie-host- is set" in result.stdout


def test_a_fetch_under_an_existing_limit_works_and_gives_its_slot_back(
    http_server: LoopbackServer, prefix: str
) -> None:
    http_server.routes["/feed"] = Response(RSS)
    asyncio.run(_create_limit(f"{prefix}127-0-0-1", 2))
    policy = replace(POLICY, host_limit_prefix=prefix)

    [result] = asyncio.run(_fetch_all(policy, http_server.url("/feed")))

    assert (result.status, result.content) == (200, RSS)
    assert asyncio.run(_limit(f"{prefix}127-0-0-1")).active_slots == 0


def test_a_slot_given_back_as_the_pass_is_cancelled_is_still_released(prefix: str) -> None:
    name = f"{prefix}127-0-0-1"
    asyncio.run(_create_limit(name, 1))

    async def cancelled_while_giving_back() -> None:
        slot = await _HeldSlot.take(name, "127.0.0.1", POLICY)
        giving_back = asyncio.create_task(slot.give_back())
        await asyncio.sleep(0.01)  # the release request is under way
        giving_back.cancel()  # the pass's deadline
        with suppress(asyncio.CancelledError):
            await giving_back
        for _ in range(200):  # the release goes on in its own task
            if (await _limit(name)).active_slots == 0:
                return
            await asyncio.sleep(0.05)

    asyncio.run(cancelled_while_giving_back())
    assert asyncio.run(_limit(name)).active_slots == 0


def test_the_limit_holds_across_fetchers(http_server: LoopbackServer, prefix: str) -> None:
    """Two fetchers stand for two workers: each would allow 2 requests, the limit allows 1."""
    in_flight, peak, lock = 0, 0, threading.Lock()

    def slow(handler: BaseHTTPRequestHandler) -> Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.3)
        with lock:
            in_flight -= 1
        return Response(RSS)

    http_server.routes["/slow"] = slow
    asyncio.run(_create_limit(f"{prefix}127-0-0-1", 1))
    policy = replace(POLICY, host_limit_prefix=prefix)

    async def two_workers() -> list[list[FetchResult]]:
        url = http_server.url("/slow")
        return list(await asyncio.gather(_fetch_all(policy, url), _fetch_all(policy, url)))

    results = asyncio.run(two_workers())

    assert [r.status for batch in results for r in batch] == [200, 200]
    assert peak == 1
    unlimited = replace(POLICY, host_limit_prefix="")
    asyncio.run(_fetch_all(unlimited, http_server.url("/slow"), http_server.url("/slow")))
    assert peak == 2  # without the shared limit, the local cap of 2 is all there is


def test_a_limit_of_two_keeps_two_requests_in_flight_and_frees_its_slots_after(
    http_server: LoopbackServer, prefix: str
) -> None:
    """The fetcher holds its slots for the host's whole batch: a limit of N gives N requests
    in flight, not one at a time while released slots come back, and none stays taken."""
    in_flight, peak, lock = 0, 0, threading.Lock()

    def slow(handler: BaseHTTPRequestHandler) -> Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        # Long enough that the batch outlasts a take of the second slot that waits out the
        # Prefect client's 2 s retry (a busy SQLite server answers 503): meanwhile the batch
        # goes on with its first slot, and the second joins when it comes.
        time.sleep(0.25)
        with lock:
            in_flight -= 1
        return Response(RSS)

    urls = []
    for i in range(12):
        http_server.routes[f"/slow{i}"] = slow
        urls.append(http_server.url(f"/slow{i}"))
    name = f"{prefix}127-0-0-1"
    asyncio.run(_create_limit(name, 2))
    policy = replace(POLICY, host_limit_prefix=prefix)

    results = asyncio.run(_fetch_all(policy, *urls))

    assert [r.status for r in results] == [200] * 12
    assert peak == 2
    assert asyncio.run(_limit(name)).active_slots == 0


def test_a_missing_limit_is_a_clear_hard_error_and_nothing_is_sent(
    http_server: LoopbackServer, prefix: str
) -> None:
    http_server.routes["/feed"] = Response(RSS)
    policy = replace(POLICY, host_limit_prefix=prefix)

    with pytest.raises(FetchError) as caught:
        asyncio.run(_fetch_all(policy, http_server.url("/feed")))

    error = caught.value
    assert str(error) == (
        f"Prefect concurrency limit '{prefix}127-0-0-1' does not exist; create the per-host "
        "limits with `vigie feeds limits`, or empty VIGIE_HOST_LIMIT_PREFIX to turn them off"
    )
    assert not error.transient
    assert http_server.requests == []


def test_pages_and_redirect_targets_need_no_limit_of_their_own(
    http_server: LoopbackServer, prefix: str
) -> None:
    """Only feed hosts have limits: a page's host, or a CDN a feed redirects to, may not."""
    # feeds.test is a name for the loopback server (as in tests/test_fetch.py) and has a
    # limit; 127.0.0.1, where its feed redirects and where the page is, has none.
    port = http_server.base_url.rsplit(":", 1)[1]
    feed_url = f"http://feeds.test:{port}/moved"
    http_server.routes["/moved"] = Response(
        status=301, headers={"Location": http_server.url("/feed")}
    )
    http_server.routes["/feed"] = Response(RSS)
    http_server.routes["/page"] = Response(b"<html><body><p>Hello</p></body></html>")
    asyncio.run(_create_limit(host_limit_name(prefix, feed_url), 1))
    policy = replace(POLICY, host_limit_prefix=prefix, allow=("feeds.test", "127.0.0.1"))

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def go() -> tuple[FetchResult, FetchResult]:
        async with Fetcher(policy, resolver=resolve) as fetcher:
            page = await fetcher.fetch(http_server.url("/page"), kind="page")
            return page, await fetcher.fetch(feed_url)

    page, feed = asyncio.run(go())

    assert page.status == 200 and (feed.status, feed.content) == (200, RSS)
    assert feed.final_url == http_server.url("/feed")


def test_the_monitor_flow_records_a_missing_limit_on_the_feed(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, prefix: str
) -> None:
    http_server.routes["/feed.rss"] = Response(RSS)
    vigie_env.setenv("VIGIE_HOST_LIMIT_PREFIX", prefix)
    context.reset()
    _add_feeds(http_server.url("/feed.rss"))

    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=False))

    assert counts["feeds_failed"] == 1
    [feed] = json.loads(runner.invoke(app, ["feeds", "list", "--format", "json"]).stdout)
    assert "does not exist" in feed["last_error"] and "vigie feeds limits" in feed["last_error"]
    assert http_server.requests == []  # and no retry storm: a missing limit is not transient

    assert runner.invoke(app, ["feeds", "limits"]).exit_code == 0
    counts = asyncio.run(run_monitor(due_only=False, fetch_pages=False))
    assert counts["feeds_fetched"] == 1 and len(http_server.requests_to("/feed.rss")) == 1


def test_a_request_waiting_for_a_slot_is_served_by_one_its_fetcher_frees(
    http_server: LoopbackServer, prefix: str
) -> None:
    """While another worker holds one of the two slots, the fetcher's batch goes through
    the slot it got: the request whose own slot is not granted takes the first one freed
    instead of waiting out the other worker (or a slow acquisition), and the slot it asked
    for is released once granted."""
    for i in range(12):
        http_server.routes[f"/feed{i}"] = Response(RSS)
    urls = [http_server.url(f"/feed{i}") for i in range(12)]
    name = f"{prefix}127-0-0-1"
    asyncio.run(_create_limit(name, 2))
    policy = replace(POLICY, host_limit_prefix=prefix)
    # Long enough that half of it also covers one acquisition that meets a busy server: the
    # test's Prefect server on SQLite answers 503 then, and its client retries 2 s later.
    # Waiting out the other worker takes the whole of it.
    other_holds_for = 10.0

    async def beside_another_worker() -> tuple[list[FetchResult], float]:
        from prefect.concurrency.asyncio import concurrency

        held, done = asyncio.Event(), asyncio.Event()

        async def other_worker() -> None:
            async with concurrency(name, strict=True, lease_duration=60):
                held.set()
                with suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), other_holds_for)

        other = asyncio.create_task(other_worker())
        await held.wait()
        started = time.perf_counter()
        results = await _fetch_all(policy, *urls)
        elapsed = time.perf_counter() - started
        done.set()
        await other
        return results, elapsed

    results, elapsed = asyncio.run(beside_another_worker())

    assert [r.status for r in results] == [200] * 12
    assert elapsed < other_holds_for / 2
    deadline = time.monotonic() + 15
    while asyncio.run(_limit(name)).active_slots and time.monotonic() < deadline:
        time.sleep(0.2)
    assert asyncio.run(_limit(name)).active_slots == 0
